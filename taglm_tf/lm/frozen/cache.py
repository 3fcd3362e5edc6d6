"""A file of per-token LM embeddings for a whole dataset, computed once and read by the tagger.

Layout (HDF5): ``embeddings`` ``[total_tokens, D]`` (float16 or float32, stored contiguously so
it can be memory-mapped), ``offsets`` ``[N + 1]`` (sentence ``i`` is rows
``offsets[i]:offsets[i+1]``) and attributes describing what it holds: the LM's checkpoint
fingerprint, the layer, the dtype and a fingerprint of the sentences. Opening a cache with other
expectations is refused, so a stale cache is never used silently.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence

import h5py
import numpy as np

from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path

FORMAT_VERSION = 1
# embed(list of token lists) -> list of [n_i, D] float arrays, in input order.
EmbedFn = Callable[[list[Sequence[str]]], list[np.ndarray]]


def sentences_fingerprint(sentences: Sequence[Sequence[str]]) -> str:
    """sha256 over the token sequences (order and content)."""
    digest = hashlib.sha256()
    for tokens in sentences:
        digest.update(("\x1f".join(tokens) + "\x1e").encode("utf-8"))
    return digest.hexdigest()


DTYPES = ("float16", "float32")  # storage types of a cache


def write_cache(
    path: str,
    embed: EmbedFn,
    sentences: Sequence[Sequence[str]],
    *,
    dim: int,
    lm_fingerprint: str,
    layer: str,
    dtype: str = "float16",
    chunk: int = 1024,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Embed ``sentences`` in chunks and write the cache atomically.

    Args:
        path: output ``.h5`` file.
        embed: batched embedding function (see :data:`EmbedFn`).
        sentences: token lists; sentence ``i`` is stored under index ``i``.
        dim: embedding size D.
        lm_fingerprint: identifies the LM (its ``SentenceEmbedder.fingerprint``).
        layer: which output is stored (e.g. ``"lstm_1"``).
        dtype: ``float16`` or ``float32``.
        chunk: sentences per ``embed`` call.
        progress: called with the number of sentences done.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be {' or '.join(DTYPES)}, not {dtype}")
    lengths = np.array([len(s) for s in sentences], np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            table = f.create_dataset("embeddings", (int(offsets[-1]), dim), dtype=dtype)
            f.create_dataset("offsets", data=offsets)
            for start in range(0, len(sentences), chunk):
                batch = list(sentences[start : start + chunk])
                for i, vectors in enumerate(embed(batch), start=start):
                    if vectors.shape != (lengths[i], dim):
                        raise ValueError(
                            f"sentence {i}: embedding shape {vectors.shape}, "
                            f"expected {(int(lengths[i]), dim)}"
                        )
                    table[offsets[i] : offsets[i + 1]] = vectors
                if progress is not None:
                    progress(min(start + chunk, len(sentences)))
            f.attrs.update(
                {
                    "format_version": FORMAT_VERSION,
                    "lm_fingerprint": lm_fingerprint,
                    "layer": layer,
                    "dtype": dtype,
                    "dim": dim,
                    "dataset_fingerprint": sentences_fingerprint(sentences),
                    "num_sentences": len(sentences),
                }
            )


class EmbeddingCache:
    """Read side of a cache, checked against what the caller expects.

    Args:
        path: the ``.h5`` file written by :func:`write_cache`.
        expect: attribute values that must match (e.g. ``lm_fingerprint``, ``layer``,
            ``dataset_fingerprint``); a mismatch raises :class:`InputError`.
        in_memory: load the table into RAM instead of memory-mapping it.
    """

    def __init__(self, path: str, expect: dict[str, object] | None = None, in_memory: bool = False):
        self.path = path
        if not os.path.exists(path):
            raise InputError("embedding cache not found", path)
        try:
            with h5py.File(path, "r") as f:
                self.meta = dict(f.attrs)
                self.offsets = f["offsets"][:]
                table = f["embeddings"]
                shape, dtype, file_offset = table.shape, table.dtype, table.id.get_offset()
                self._table = table[:] if in_memory or file_offset is None else None
        except (OSError, KeyError) as e:
            raise InputError(f"not a readable embedding cache: {e}", path) from None
        if self.meta.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"cache format {self.meta.get('format_version')} is not {FORMAT_VERSION}; rebuild it", path
            )
        for key, value in (expect or {}).items():
            if self.meta.get(key) != value:
                raise InputError(
                    f"stale or mismatched cache: {key} is {self.meta.get(key)!r}, "
                    f"expected {value!r}; rebuild it",
                    path,
                )
        if self._table is None:
            self._table = np.memmap(path, dtype=dtype, mode="r", offset=file_offset, shape=shape)
        self.dim = int(self.meta["dim"])

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def sentence(self, index: int) -> np.ndarray:
        """``[n_i, D]`` float32 embeddings of sentence ``index``."""
        return np.asarray(self._table[self.offsets[index] : self.offsets[index + 1]], np.float32)

    def features(self, indices: np.ndarray, width: int) -> np.ndarray:
        """``[B, width, D]`` float32, zero-padded: the tagger pipeline's ``FeatureSource``."""
        out = np.zeros((len(indices), width, self.dim), np.float32)
        for row, index in enumerate(indices):
            vectors = self.sentence(int(index))
            out[row, : len(vectors)] = vectors
        return out
