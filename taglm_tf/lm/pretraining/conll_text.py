"""The words of CoNLL tagging files as LM training text (paper §5, Table 6).

The paper's LSTM-512-256* was trained on the CoNLL-2003 training text. Here the sentences of
CoNLL files (first column: the word; blank and ``-DOCSTART-`` lines end a sentence; tags and
other columns ignored) are written one per line, space-separated, to
``<model_dir>/conll_text/<file name>.txt``, and join the run's training files. The files are
rewritten from their sources on every start, atomically, so a resumed run reads the same text.

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


def is_test_file(path: str) -> bool:
    """Whether ``path`` names a CoNLL-2003 or CoNLL-2000 test file (compressed or not)."""
    name = os.path.basename(path)
    stem, suffix = os.path.splitext(name)
    return (stem if suffix in textio.COMPRESSED_SUFFIXES else name) in TEST_FILES


def write_conll_text(conll_files: Sequence[str], model_dir: str) -> list[str]:
    """Write each CoNLL file's sentences as LM text; returns the written paths, in order.

    Args:
        conll_files: CoNLL-format files (plain, ``.gz``, ``.bz2`` or ``.xz``).
        model_dir: the run's directory; the text goes to ``model_dir/conll_text/``.

    Raises:
        InputError: a test file, a missing file, a file without sentences, invalid UTF-8
            (naming the file and line), or two files of one name.
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
        with textio.open_binary(path) as source, atomic_path(target) as tmp:
            with open(tmp, "w", encoding="utf-8") as out:
                sentences = 0
                for sentence in conll.read_unlabeled_conll(source, path):
                    out.write(" ".join(sentence.tokens) + "\n")
                    sentences += 1
            if not sentences:
                raise InputError("no sentences found (empty file?)", path)
        written.append(target)
    return written
