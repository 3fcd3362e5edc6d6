"""The frozen-LM protocol: token lists in, one vector per token out.

Every LM kind the tagger can read (:mod:`taglm_tf.lm.frozen.kinds`) is a :class:`SentenceEmbedder`:
its vectors become tagger features (:mod:`taglm_tf.lm.frozen.features`, cached or on the fly) and
are computed again inside an exported SavedModel (:mod:`taglm_tf.serving.export`), so it must do both.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import numpy as np
import tensorflow as tf


class SentenceEmbedder(abc.ABC):
    """A frozen LM as the tagger uses it. A subclass implements :meth:`embed_sentences`,
    :meth:`embed_tokens` and :attr:`trackables`; one that lacks any of them cannot be
    instantiated (``TypeError`` when the LM is loaded), so a new LM kind fails before a tagger is
    trained with it, not when the tagger is exported.

    Both ways of embedding read each sentence from a zero LM state, independently of the other
    sentences in the batch, and give the same vectors (up to float tolerance).

    Args:
        name: a label for reports (the LM's spec when loaded from one).
        dim: D, the size of each token's vector.
        fingerprint: sha256 hex digest of what determines the vectors (weights, and for some kinds
            the vocabulary, the model's configuration or the direction); LM feature caches are
            keyed by it and runs record it, so a changed LM is never taken for the one they used.
    """

    def __init__(self, name: str, dim: int, fingerprint: str):
        self.name, self.dim, self.fingerprint = name, dim, fingerprint

    @abc.abstractmethod
    def embed_sentences(self, sentences: Sequence[Sequence[str]], batch_size: int = 32) -> list[np.ndarray]:
        """One float32 ``[n_i, dim]`` array per sentence, in input order (n_i: its tokens).

        Args:
            sentences: token lists (no token may be empty).
            batch_size: sentences per LM forward pass (does not change the results).
        """

    @abc.abstractmethod
    def embed_tokens(self, tokens: tf.Tensor) -> tf.Tensor:
        """In-graph :meth:`embed_sentences`: right-padded ``tokens`` ``[B, T]`` (``tf.string``,
        ``""`` = padding) -> ``[B, T, dim]`` float32, zeros at padding. Traced into the exported
        SavedModel."""

    @property
    @abc.abstractmethod
    def trackables(self) -> list:
        """The variables and lookup tables a SavedModel must hold to run :meth:`embed_tokens`."""

    def __call__(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """:meth:`embed_sentences` with the default batch size (the cache's ``EmbedFn``)."""
        return self.embed_sentences(sentences)
