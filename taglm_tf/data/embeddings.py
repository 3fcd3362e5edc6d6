"""Pre-trained word embeddings in GloVe/word2vec text or Senna (two-file) format.

Files may be plain, ``.gz`` or ``.xz``. Only the words asked for are kept, so loading the
400k-word GloVe file for a CoNLL vocabulary takes seconds and little memory.
"""
from __future__ import annotations

import gzip
import lzma
import os
import zlib
from typing import Dict, Iterable, Iterator, Optional, Set, Tuple

import numpy as np

from taglm_tf.errors import InputError


def _open_binary(path: str):
    opener = {".gz": gzip.open, ".xz": lzma.open}.get(os.path.splitext(path)[1], open)
    return opener(path, "rb")


def _numbered_lines(path: str) -> Iterator[Tuple[int, str]]:
    """Decoded lines with their 1-based numbers; decoding per line keeps error lines exact."""
    if not os.path.isfile(path):
        raise InputError("embedding file not found", path)
    number = 0
    try:
        with _open_binary(path) as f:
            for number, raw in enumerate(f, start=1):
                yield number, raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 (byte {e.start})", path, number) from None
    except (EOFError, lzma.LZMAError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise InputError(f"cannot read embedding file (corrupt or truncated?): {e}", path,
                         number + 1) from None


def _parse_vector(fields, dim: Optional[int], path: str, number: int) -> np.ndarray:
    try:
        vector = np.asarray(fields, dtype=np.float32)
    except ValueError:
        raise InputError("non-numeric value in embedding vector", path, number) from None
    if dim is not None and vector.shape[0] != dim:
        raise InputError(f"vector has {vector.shape[0]} values, expected {dim}", path, number)
    if not np.all(np.isfinite(vector)):
        raise InputError("embedding vector contains inf or nan", path, number)
    return vector


def load_embeddings(path: str, wanted: Optional[Iterable[str]] = None,
                    words_path: Optional[str] = None) -> Dict[str, np.ndarray]:
    """Read ``word -> vector`` for the words in ``wanted`` (all words when ``None``).

    Args:
        path: GloVe/word2vec text (``word v1 ... vD`` per line, an optional ``N D`` header), or
            Senna's ``embeddings.txt`` (vectors only) when ``words_path`` is given.
        wanted: words to keep; others are skipped without parsing.
        words_path: Senna's ``words.lst``, one word per line, aligned with ``path``.
    """
    keep: Optional[Set[str]] = None if wanted is None else set(wanted)
    words = None
    if words_path is not None:
        words = [line.strip() for _, line in _numbered_lines(words_path)]
    table: Dict[str, np.ndarray] = {}
    dim: Optional[int] = None
    for number, line in _numbered_lines(path):
        fields = line.rstrip().split(" ")
        if words is None and number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
            continue  # word2vec header "count dim"
        if words is not None:
            if number > len(words):
                raise InputError(f"more vectors than the {len(words)} words in {words_path}", path, number)
            word, values = words[number - 1], fields
        else:
            word, values = fields[0], fields[1:]
        if not values or values == [""]:
            raise InputError("line has a word but no vector", path, number)
        if dim is None:
            dim = _parse_vector(values, None, path, number).shape[0]
        if keep is None or word in keep:
            table[word] = _parse_vector(values, dim, path, number)
    if dim is None:
        raise InputError("embedding file is empty", path)
    if words is not None and number != len(words):
        raise InputError(f"{number} vectors for {len(words)} words in {words_path}", path)
    return table


def embedding_matrix(words, table: Dict[str, np.ndarray], dim: int, seed: int = 0,
                     reserved: int = 2) -> Tuple[np.ndarray, int]:
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
