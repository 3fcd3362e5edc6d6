"""Pre-trained word embeddings in GloVe/word2vec text or Senna (two-file) format.

Files may be plain, ``.gz``, ``.bz2`` or ``.xz``; lines, fields, BOM and encoding follow
:mod:`taglm_tf.utils.textio`. Only the words asked for are kept, so loading the 400k-word GloVe
file for a CoNLL vocabulary takes seconds and little memory.

**Words with spaces.** GloVe 840B has entries such as ``. . . 0.5 0.4 0.3``. The vector is
always the last D fields of a line and the word is everything before them, with its original
separators (``". . ."``), except that such a word cannot end in a number: ``farah 0.5 v1 .. vD``
is a line with one value too many, refused, not the word ``"farah 0.5"``. D comes from the
``count dim`` header when there is one, else from the most common field count of the first
:data:`DIM_SAMPLE_LINES` lines (minus one, for the word).

**Senna** ships its vectors (``embeddings.txt``, numbers only) and their words (``words.lst``)
as two files in one folder: a path to an ``embeddings.txt`` with a ``words.lst`` beside it is read
as Senna's (:func:`senna_words_beside`), so ``--embeddings`` names it like any other file.

**Blank lines** (nothing but spaces and tabs) are skipped in every file, Senna's two included:
there the k-th non-blank word goes with the k-th non-blank vector.
"""

from __future__ import annotations

import collections
import itertools
import os
import re
from collections.abc import Iterable, Iterator

import numpy as np

from taglm_tf.utils import textio
from taglm_tf.utils.errors import InputError

DIM_SAMPLE_LINES = 1000

_Line = tuple[int, str]


def _parse_vector(fields, dim: int | None, path: str, number: int) -> np.ndarray:
    try:
        vector = np.asarray(fields, dtype=np.float32)
    except ValueError:
        raise InputError("non-numeric value in embedding vector", path, number) from None
    if dim is not None and vector.shape[0] != dim:
        raise InputError(f"vector has {vector.shape[0]} values, expected {dim}", path, number)
    if not np.all(np.isfinite(vector)):
        raise InputError("embedding vector contains inf or nan", path, number)
    return vector


def _is_header(line: str) -> bool:
    """word2vec's ``count dim`` first line."""
    fields = textio.split_fields(line)
    return len(fields) == 2 and all(f.isdigit() for f in fields)


def _split_entry(line: str, dim: int, path: str, number: int) -> tuple[str, list[str]]:
    """``(word, last dim fields)`` of a ``word v1 .. vD`` line; the word keeps its inner
    separators. Raises :class:`InputError` when the line has no word or fewer than ``dim`` values."""
    text = line.strip(textio.SEPARATORS)
    parts = text.rsplit(" ", dim)
    if len(parts) == dim + 1 and "\t" not in text and "" not in parts:
        word, values = parts[0], parts[1:]  # the common case, without locating every field
    else:
        spans = textio.field_spans(text)
        if len(spans) <= dim:
            raise InputError(
                "line has a word but no vector"
                if len(spans) == 1
                else f"vector has {max(len(spans) - 1, 0)} values, expected {dim}",
                path,
                number,
            )
        word, values = text[: spans[-dim - 1][1]], [text[a:b] for a, b in spans[-dim:]]
    if " " in word or "\t" in word:
        extra = list(itertools.takewhile(_NUMBER.fullmatch, reversed(textio.split_fields(word))))
        if extra:
            raise InputError(
                f"vector has {dim + len(extra)} values, expected {dim} (a word with spaces "
                "cannot end in a number)",
                path,
                number,
            )
    return word, values


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _file_dim(head: list[_Line], path: str) -> tuple[int, bool]:
    """``(D, has_header)`` from the first lines of a GloVe/word2vec file."""
    if head and _is_header(head[0][1]):
        dim = int(textio.split_fields(head[0][1])[1])
        if dim < 1:
            raise InputError(f"header gives {dim} dimensions", path, head[0][0])
        return dim, True
    counts = collections.Counter(len(textio.split_fields(line)) - 1 for _, line in head)
    counts.pop(-1, None)  # blank lines
    if not counts:
        raise InputError("embedding file is empty", path)
    return counts.most_common(1)[0][0], False


def senna_words_beside(path: str) -> str | None:
    """Senna's ``words.lst`` (compressed as ``path`` is, or plain) in the folder of ``path`` when
    ``path`` is Senna's ``embeddings.txt`` (or ``.gz``/``.bz2``/``.xz``), else ``None``."""
    folder, name = os.path.split(os.fspath(path))
    suffix = next((s for s in textio.COMPRESSED_SUFFIXES if name.endswith(s)), "")
    if name[: len(name) - len(suffix)] != "embeddings.txt":
        return None
    found = [os.path.join(folder, w) for w in (f"words.lst{suffix}", "words.lst")]
    return next((w for w in found if os.path.isfile(w)), None)


def load_embeddings(
    path: str, wanted: Iterable[str] | None = None, words_path: str | None = None
) -> dict[str, np.ndarray]:
    """Read ``word -> vector`` for the words in ``wanted`` (all words when ``None``).

    Args:
        path: GloVe/word2vec text (``word v1 ... vD`` per line, an optional ``N D`` header; a
            word may contain spaces, see the module doc), or Senna's ``embeddings.txt``
            (vectors only) when ``words_path`` is given or Senna's ``words.lst`` is beside it.
        wanted: words to keep; others are skipped without parsing their vectors.
        words_path: Senna's ``words.lst``, one word per line, aligned with ``path`` (the k-th
            word with the k-th vector; blank lines of either file are skipped and do not count).

    Returns:
        ``{word: float32 array [D]}``; a word listed twice keeps its last vector.

    Raises:
        InputError: naming the file and line, for a missing/unreadable/empty file, invalid
            UTF-8, a line with fewer than D values, non-numeric or non-finite values, or (Senna)
            vector and word counts (blank lines left out) that differ.
    """
    keep: set[str] | None = None if wanted is None else set(wanted)
    words_path = words_path or senna_words_beside(path)
    if words_path is not None:
        return _load_senna(path, words_path, keep)
    lines: Iterator[_Line] = textio.read_lines(path)
    head = list(itertools.islice(lines, DIM_SAMPLE_LINES))
    dim, header = _file_dim(head, path)
    if dim < 1:
        number, line = next((n, text) for n, text in head if len(textio.split_fields(text)) == 1)
        raise InputError("line has a word but no vector", path, number)
    table: dict[str, np.ndarray] = {}
    for number, line in itertools.chain(head[1:] if header else head, lines):
        if not line.strip(textio.SEPARATORS):
            continue
        word, values = _split_entry(line, dim, path, number)
        if keep is None or word in keep:
            table[word] = _parse_vector(values, dim, path, number)
    if not table and not any(textio.split_fields(text) for _, text in head[int(header) :]):
        raise InputError("embedding file is empty", path)
    return table


def _load_senna(path: str, words_path: str, keep: set[str] | None) -> dict[str, np.ndarray]:
    """Senna's two files, the k-th word with the k-th vector; blank lines (only spaces and tabs)
    of either file are skipped, as a GloVe file's are, and do not count."""
    words = [
        word for _, line in textio.read_lines(words_path) if (word := textio.strip_field_separators(line))
    ]
    table: dict[str, np.ndarray] = {}
    dim: int | None = None
    count = 0
    for number, line in textio.read_lines(path):
        values = textio.split_fields(line)
        if not values:
            continue
        if count == len(words):
            raise InputError(f"more vectors than the {len(words)} words in {words_path}", path, number)
        if dim is None:
            dim = _parse_vector(values, None, path, number).shape[0]
        if keep is None or words[count] in keep:
            table[words[count]] = _parse_vector(values, dim, path, number)
        count += 1
    if dim is None:
        raise InputError("embedding file is empty", path)
    if count != len(words):
        raise InputError(f"{count} vectors for {len(words)} words in {words_path}", path)
    return table


def embedding_matrix(
    words, table: dict[str, np.ndarray], dim: int, seed: int = 0, reserved: int = 2
) -> tuple[np.ndarray, int]:
    """Rows for ``words`` (id order): pre-trained vectors where known, else uniform random.

    Returns the matrix and how many rows came from the pre-trained table. The first
    ``reserved`` rows (padding, unknown) are zero and random respectively.
    """
    rng = np.random.default_rng(seed)
    scale = np.sqrt(3.0 / dim)
    matrix = rng.uniform(-scale, scale, size=(len(words), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for i, word in enumerate(words):
        if i >= reserved and word in table:
            matrix[i] = table[word]
            found += 1
    return matrix, found
