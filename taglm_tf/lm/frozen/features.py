"""Per-token LM features for the tagger: ``h_LM = [h_fwd; h_bwd]`` (paper §2.3), served from
embedding caches (computed once per dataset split and LM) or computed on the fly.

Both sources implement the tagger pipeline's ``FeatureSource``: ``(sentence indices, width) ->
[B, width, sum of LM dims]`` float32, zero-padded.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.lm.frozen.cache import EmbeddingCache, sentences_fingerprint, write_cache
from taglm_tf.lm.frozen.embedder import SentenceEmbedder
from taglm_tf.utils.fileio import exclusive_lock

LAYER = "top"


def join_lm_features(parts):
    """``h_LM = [h_fwd; h_bwd]`` (paper §2.3): the LMs' per-token vectors side by side on the last
    axis, in LM order (forward first). ``parts``: numpy arrays or tensors ``[..., d_k]``."""
    if tf.is_tensor(parts[0]):
        return tf.concat(parts, axis=-1)
    return np.concatenate(parts, axis=-1)


def _pad(per_sentence: list[np.ndarray], width: int) -> np.ndarray:
    out = np.zeros((len(per_sentence), width, per_sentence[0].shape[-1]), np.float32)
    for row, vectors in enumerate(per_sentence):
        out[row, : len(vectors)] = vectors
    return out


class CachedFeatures:
    """Features of one split read from one cache per LM (built on first use).

    Args:
        embedders: the LMs, in concatenation order (forward first, then backward).
        sentences: the split's token lists, in the order the tagger indexes them.
        cache_dir: where caches live; file names encode the split and LM fingerprints. A
            missing cache is built under a lock (``NAME.h5.lock``), so runs started together
            build it once.
        dtype: ``float16`` or ``float32`` storage.
        batch_size: sentences per LM forward pass when building.
    """

    def __init__(
        self,
        embedders: Sequence[SentenceEmbedder],
        sentences: Sequence[Sequence[str]],
        cache_dir: str,
        dtype: str = "float16",
        batch_size: int = 32,
        verbose: bool = True,
    ):
        os.makedirs(cache_dir, exist_ok=True)
        split = sentences_fingerprint(sentences)
        self.caches = []
        for lm in embedders:
            path = os.path.join(cache_dir, f"{split[:16]}-{lm.fingerprint[:16]}-{dtype}.h5")
            if not os.path.exists(path):
                with exclusive_lock(path):  # parallel seeds build it once; the others wait
                    if not os.path.exists(path):
                        if verbose:
                            print(
                                f"LM features: embedding {len(sentences):,} sentences with {lm.name} -> {path}",
                                flush=True,
                            )
                        progress = tf.keras.utils.Progbar(
                            len(sentences), verbose=int(verbose), unit_name="sentence"
                        )
                        write_cache(
                            path,
                            functools.partial(lm.embed_sentences, batch_size=batch_size),
                            sentences,
                            dim=lm.dim,
                            lm_fingerprint=lm.fingerprint,
                            layer=LAYER,
                            dtype=dtype,
                            progress=progress.update,
                        )
            self.caches.append(
                EmbeddingCache(
                    path,
                    expect={"lm_fingerprint": lm.fingerprint, "layer": LAYER, "dataset_fingerprint": split},
                )
            )
        self.dim = sum(c.dim for c in self.caches)

    def __call__(self, indices: np.ndarray, width: int) -> np.ndarray:
        return join_lm_features([c.features(indices, width) for c in self.caches])


class OnTheFlyFeatures:
    """Features computed per batch by running the LMs (no cache; used for tagging new text)."""

    def __init__(
        self, embedders: Sequence[SentenceEmbedder], sentences: Sequence[Sequence[str]], batch_size: int = 32
    ):
        self.embedders, self.sentences, self.batch_size = list(embedders), sentences, batch_size
        self.dim = sum(lm.dim for lm in self.embedders)

    def __call__(self, indices: np.ndarray, width: int) -> np.ndarray:
        batch = [self.sentences[int(i)] for i in indices]
        return join_lm_features(
            [_pad(lm.embed_sentences(batch, self.batch_size), width) for lm in self.embedders]
        )
