"""The words of CoNLL tagging files as LM training text (paper §5, Table 6).

The paper's LSTM-512-256* was trained on the CoNLL-2003 training text. Here the sentences of
CoNLL files (first column: the word; blank and ``-DOCSTART-`` lines end a sentence; tags and
other columns ignored) are written one per line, space-separated, to
``<model_dir>/conll_text/<file name>.txt``, and join the run's training files. The files are
rewritten from their sources on every start, atomically, so a resumed run reads the same text.

Each file is read as the tagger's training reads its family (:func:`corpus_format`), so a line
that training refuses, such as a comment ``# id 7f3a domain=en`` (no valid tag in its last
column), is refused here too instead of becoming LM text.

A test set never joins: the CoNLL-2003 test files (``eng.testb``, ``deu.testb``) and CoNLL-2000's
``test.txt`` are refused, compressed or not. ``eng.testa`` (dev) is the user's choice: add it
only when the tagger trains on train+dev.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from taglm_tf.data import conll
from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path

TEST_FILES = ("eng.testb", "deu.testb", "test.txt")
TEXT_DIR = "conll_text"
# The files of each family as the shared tasks (and the data directory, and --conll_train_files)
# name them, and the data directory's folder of each.
FAMILIES = (
    (
        conll.CONLL2003,
        ("eng.train", "eng.testa", "eng.testb", "deu.train", "deu.testa", "deu.testb"),
        "conll2003",
    ),
    (conll.CONLL2000, ("train.txt", "test.txt"), "conll2000"),
)


def _plain_name(path: str) -> str:
    """The file name of ``path`` without a compression suffix."""
    name = os.path.basename(path)
    stem, suffix = os.path.splitext(name)
    return stem if suffix in textio.COMPRESSED_SUFFIXES else name


def is_test_file(path: str) -> bool:
    """Whether ``path`` names a CoNLL-2003 or CoNLL-2000 test file (compressed or not)."""
    return _plain_name(path) in TEST_FILES


def corpus_format(path: str) -> conll.CorpusFormat | None:
    """The CoNLL family of ``path``, whose columns and tags the tagger's training reader checks:
    CoNLL-2003 (``word POS chunk NER``, IOB1) or CoNLL-2000 (``word POS chunk``, IOB2).

    Told by the file's name as the shared tasks name their files (``eng.train``, ``deu.testa``...:
    CoNLL-2003; ``train.txt``, ``test.txt``: CoNLL-2000; compressed or not), else by the data
    directory's folder it lies in (``conll2003/``, ``conll2000/``), else by the number of columns
    of its first line that is neither blank nor ``-DOCSTART-``: 4 for CoNLL-2003, 3 for
    CoNLL-2000. ``None`` for any other file: then only the column count is checked
    (:func:`~taglm_tf.data.conll.read_unlabeled_conll`)."""
    name, folder = _plain_name(path), os.path.basename(os.path.dirname(os.path.abspath(path)))
    for fmt, names, _ in FAMILIES:
        if name in names:
            return fmt
    for fmt, _, family_folder in FAMILIES:
        if folder == family_folder:
            return fmt
    for _, line in textio.read_lines(path):
        fields = textio.split_fields(line)
        if fields and fields[0] != conll.DOCSTART:
            return next((fmt for fmt, _, _ in FAMILIES if fmt.num_columns == len(fields)), None)
    return None


def write_conll_text(conll_files: Sequence[str], model_dir: str) -> list[str]:
    """Write each CoNLL file's sentences as LM text; returns the written paths, in order.

    Args:
        conll_files: CoNLL-format files (plain, ``.gz``, ``.bz2`` or ``.xz``).
        model_dir: the run's directory; the text goes to ``model_dir/conll_text/``.

    Raises:
        InputError: a test file, a missing file, a file without sentences, invalid UTF-8 or a
            line its family's training reader refuses (naming the file and line), or two files
            of one name.
    """
    out_dir = os.path.join(model_dir, TEXT_DIR)
    os.makedirs(out_dir, exist_ok=True)
    written: list[str] = []
    for path in conll_files:
        if is_test_file(path):
            raise InputError("is a test set: its text must not train an LM that tags it", path)
        target = os.path.join(out_dir, os.path.basename(path) + ".txt")
        if target in written:
            raise InputError(f"two CoNLL files are named {os.path.basename(path)}; rename one", path)
        fmt = corpus_format(path)
        with textio.open_binary(path) as source, atomic_path(target) as tmp:
            with open(tmp, "w", encoding="utf-8") as out:
                sentences = 0
                for sentence in conll.read_unlabeled_conll(source, path, fmt):
                    out.write(" ".join(sentence.tokens) + "\n")
                    sentences += 1
            if not sentences:
                raise InputError("no sentences found (empty file?)", path)
        written.append(target)
    return written
