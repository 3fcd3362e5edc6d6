"""lm_1b (or an lm_1b-shaped LM) as tagger features: its top LSTM layer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.lm.frozen.embedder import SentenceEmbedder
from taglm_tf.lm.lm1b.model import LM1BModel


class LM1BEmbedder(SentenceEmbedder):
    """The lm_1b output used by TagLM: the top LSTM layer (``lstm/lstm_1/control_dependency``),
    with lm_1b_eval's ``<S>`` rule and the model's direction.

    Args:
        model: a loaded :class:`~taglm_tf.lm.lm1b.model.LM1BModel` with its char encoding.
        fingerprint: identifies its weights and direction.
        name: a label for reports.
    """

    def __init__(self, model: LM1BModel, fingerprint: str, name: str = "lm1b"):
        super().__init__(name, model.projection_dim, fingerprint)
        self.model = model

    def embed_sentences(self, sentences: Sequence[Sequence[str]], batch_size: int = 32) -> list[np.ndarray]:
        """The last row of :meth:`LM1BModel.embed_sentences` (the top LSTM layer): one float32
        ``[n_i, P]`` array per sentence, in input order."""
        return [layers[-1] for layers in self.model.embed_sentences(sentences, batch_size)]

    def embed_tokens(self, tokens: tf.Tensor) -> tf.Tensor:
        """:meth:`LM1BModel.embed_tokens`: ``[B, T]`` ``tf.string`` -> ``[B, T, P]`` float32."""
        return self.model.embed_tokens(tokens)

    @property
    def trackables(self) -> list:
        """The model's weights (its char encoding is built from constants in the graph)."""
        return list(self.model.weights)
