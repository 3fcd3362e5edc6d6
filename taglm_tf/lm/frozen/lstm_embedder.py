"""A pretrained LM of :mod:`taglm_tf.lm.pretraining` (word-level
:class:`~taglm_tf.lm.pretraining.lstm_lm.LSTMLanguageModel` or char-aware
:class:`~taglm_tf.lm.pretraining.cnn_lstm_lm.CNNLSTMLanguageModel`) as tagger features
(:class:`~taglm_tf.lm.frozen.embedder.SentenceEmbedder`).

Alignment, for a sentence ``w1 .. wn`` and 1-based position ``k``: each sentence is read from a
zero state, with no ``</S>``.

* forward LM: it reads ``<S> w1 .. wn``; the vector at ``k`` is its top-layer output just after
  reading ``wk``, so it has seen ``<S> w1 .. wk`` (and predicts ``w(k+1)``), as lm_1b's
  ``dump_lstm_emb`` without its ``<S>`` step.
* backward LM: it reads ``<S> wn .. w1``; the vector at ``k`` is its top-layer output just after
  reading ``wk``, so it has seen ``<S> wn .. wk`` (and predicts ``w(k-1)``). The outputs are
  reversed back, so row ``k`` of the result belongs to token ``k`` of the input.

So at every position both directions have seen the token itself, plus its left (forward) or
right (backward) context. Outputs do not depend on the batch size or on the other sentences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.data.batching import batches_by_length
from taglm_tf.data.featurizer import normalize_words
from taglm_tf.lm.frozen.embedder import SentenceEmbedder
from taglm_tf.lm.pretraining.lm_kinds import char_encoder_of
from taglm_tf.lm.pretraining.lstm_lm import LSTMPStackLM
from taglm_tf.lm.pretraining.saving import load_lm, run_fingerprint
from taglm_tf.lm.pretraining.trainer import model_inputs
from taglm_tf.lm.vocab import BOS, LMVocabulary
from taglm_tf.utils.tracing import EagerThenTraced


class PretrainedLMEmbedder(SentenceEmbedder):
    """Frozen forward or backward LM: token lists -> top-layer vectors (module docstring).

    Args:
        model: a built LM (its variables are not trained here).
        vocab: its vocabulary.
        direction: ``forward`` or ``backward``, as it was trained.
        fingerprint: identifies the weights, for :mod:`taglm_tf.lm.frozen.cache`.
        name: a label for reports.
        normalize: read each token lowercased, digits as 0, as an LM trained with
            ``normalize_words`` read its text (padding stays ``""``).
    """

    def __init__(
        self,
        model: LSTMPStackLM,
        vocab: LMVocabulary,
        direction: str,
        fingerprint: str,
        name: str = "",
        normalize: bool = False,
    ):
        super().__init__(name or f"{direction} LM", model.projection_dim, fingerprint)
        self.model, self.vocab, self.direction, self.normalize = model, vocab, direction, normalize
        self.layer = f"{direction}_lstm_{model.num_layers - 1}"
        self.table = tf.lookup.StaticHashTable(  # exact word match, else <UNK>, as LMVocabulary.encode
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(vocab.words), tf.range(vocab.size, dtype=tf.int32)
            ),
            default_value=vocab.unk,
        )
        self.chars = char_encoder_of(model, vocab)  # None for a word-level LM
        self._embed = EagerThenTraced(self.embed_tokens, [tf.TensorSpec([None, None], tf.string)])

    def embed_tokens(self, tokens: tf.Tensor) -> tf.Tensor:
        """In-graph: right-padded ``tokens`` ``[B, T]`` (``tf.string``, ``""`` = padding) ->
        ``[B, T, P]`` float32, zeros at padding. The one implementation behind
        :meth:`embed_sentences` and the exported SavedModel."""
        present = tf.not_equal(tokens, "")
        lengths = tf.reduce_sum(tf.cast(present, tf.int32), axis=1)
        if self.normalize:
            tokens = normalize_words(tokens)
        if self.direction == "backward":
            tokens = tf.reverse_sequence(tokens, lengths, seq_axis=1, batch_axis=0)
        words = tf.concat([tf.fill([tf.shape(tokens)[0], 1], BOS), tokens], axis=1)
        window = {"inputs": self.table.lookup(words)}
        if self.chars is not None:  # <S> spelled, as in training (taglm_tf.lm.pretraining.corpus)
            window["input_chars"] = self.chars.encode_words_in_graph(words)
        top = self.model(
            *model_inputs(self.model, window), mask=tf.sequence_mask(lengths + 1, tf.shape(words)[1])
        )[0][:, 1:]
        if self.direction == "backward":
            top = tf.reverse_sequence(top, lengths, seq_axis=1, batch_axis=0)
        return top * tf.cast(present, top.dtype)[:, :, None]

    @classmethod
    def from_model_dir(cls, model_dir: str, checkpoint: str | None = None) -> PretrainedLMEmbedder:
        """Load a :func:`~taglm_tf.lm.pretraining.run.pretrain` output (latest checkpoint by
        default); an :class:`~taglm_tf.utils.errors.InputError` if it cannot be loaded."""
        model, vocab, config, checkpoint = load_lm(model_dir, checkpoint)
        return cls(
            model,
            vocab,
            config["direction"],
            run_fingerprint(checkpoint, config, vocab),
            name=model_dir,
            normalize=config.get("normalize_words", False),
        )

    @property
    def trackables(self) -> list:
        """What a SavedModel must hold to run :meth:`embed_tokens`."""
        return list(self.model.variables) + [self.table]

    def embed_sentences(self, sentences: Sequence[Sequence[str]], batch_size: int = 32) -> list[np.ndarray]:
        """One float32 ``[n_i, P]`` array per sentence, in input order; batches by length."""
        results: list[np.ndarray | None] = [None] * len(sentences)
        for batch in batches_by_length([len(s) for s in sentences], batch_size):
            width = max(len(sentences[i]) for i in batch)
            tokens = np.full((len(batch), max(width, 1)), "", dtype=object)
            for row, i in enumerate(batch):
                tokens[row, : len(sentences[i])] = sentences[i]
            vectors = self._embed(tf.constant(tokens, tf.string)).numpy()
            for row, i in enumerate(batch):
                results[i] = vectors[row, : len(sentences[i])].copy()
        return results
