"""Frozen LMs behind one interface: token lists in, one vector per token out.

A :class:`SentenceEmbedder` has ``name``, ``dim``, ``fingerprint`` (identifies the weights, for
caches) and ``embed_sentences(token_lists, batch_size)`` returning one ``[n_i, dim]`` float32
array per sentence, each sentence embedded from a zero state; those that can run inside a
SavedModel also have ``embed_tokens`` and ``trackables``. :mod:`taglm_tf.lm.frozen.loading` builds them
from specs.
"""
from __future__ import annotations

from typing import List, Protocol, Sequence

import numpy as np
import tensorflow as tf



class SentenceEmbedder(Protocol):
    """What a frozen LM provides so that its vectors can be tagger features
    (:mod:`taglm_tf.lm.frozen.features`).

    Attributes:
        name: a label for reports.
        dim: D, the size of each token's vector.
        fingerprint: identifies the weights; LM feature caches are keyed by it.
    """

    name: str
    dim: int
    fingerprint: str

    def embed_sentences(self, sentences: Sequence[Sequence[str]], batch_size: int = 32) -> List[np.ndarray]:
        """One float32 ``[n_i, dim]`` array per sentence, in input order (n_i: its tokens).

        Each sentence is read from a zero LM state, independently of the others in its batch.

        Args:
            sentences: token lists (no token may be empty).
            batch_size: sentences per LM forward pass.
        """
        ...


class LM1BTopLayer:
    """The lm_1b output used by TagLM: the top LSTM layer (``lstm/lstm_1/control_dependency``).

    Args:
        embedder: a loaded :class:`~taglm_tf.lm.lm1b.model.LM1BEmbedder`.
        fingerprint: identifies its weights.
        name: a label for reports.
    """

    def __init__(self, embedder, fingerprint: str, name: str = "lm1b"):
        self.embedder, self.fingerprint, self.name = embedder, fingerprint, name
        self.dim = embedder.projection_dim

    def embed_sentences(self, sentences: Sequence[Sequence[str]], batch_size: int = 32) -> List[np.ndarray]:
        """The last row of :meth:`LM1BEmbedder.embed_sentences` (the top LSTM layer): one float32
        ``[n_i, P]`` array per sentence, in input order, with its ``<S>`` rule and direction."""
        return [layers[-1] for layers in self.embedder.embed_sentences(sentences, batch_size)]

    def embed_tokens(self, tokens: tf.Tensor) -> tf.Tensor:
        """In-graph: right-padded ``tokens`` ``[B, T]`` (``""`` = padding) -> ``[B, T, P]``, zeros
        at padding; the same char ids, layers and direction as :meth:`embed_sentences`."""
        return self.embedder.embed_tokens(tokens)

    @property
    def trackables(self) -> list:
        """What a SavedModel must hold to run :meth:`embed_tokens`."""
        return list(self.embedder.weights)
