"""A pretrained LM of :mod:`taglm_tf.lm.pretraining` (word-level
:class:`~taglm_tf.lm.pretraining.lstm_lm.LSTMLanguageModel` or char-aware
:class:`~taglm_tf.lm.pretraining.cnn_lstm_lm.CNNLSTMLanguageModel`) as a frozen token embedder for
the tagger, with the interface of the lm_1b embedder and the embedding cache (``EmbedFn``).

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

import hashlib
import json
from typing import List, Optional, Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.data.batching import batches_by_length
from taglm_tf.fingerprints import hash_tensors
from taglm_tf.lm.pretraining.lm_kinds import char_encoder_of
from taglm_tf.lm.pretraining.lstm_lm import LSTMPStackLM
from taglm_tf.lm.pretraining.saving import load_lm
from taglm_tf.lm.pretraining.trainer import model_inputs
from taglm_tf.lm.vocab import BOS, LMVocabulary
from taglm_tf.tracing import EagerThenTraced

def lm_fingerprint(checkpoint: str, config: dict, vocab: LMVocabulary) -> str:
    """sha256 of what determines the embeddings: direction, model config, vocabulary, and the
    model variables of ``checkpoint`` (names and shapes, plus the values of those with at most
    :data:`~taglm_tf.fingerprints.FINGERPRINT_MAX_ELEMENTS` elements: biases, peepholes, small
    matrices)."""
    digest = hashlib.sha256(b"taglm_tf lstm lm fingerprint v1\n")
    digest.update(json.dumps({"direction": config["direction"], "model": config["model_args"]},
                             sort_keys=True).encode("utf-8"))
    digest.update("\n".join(vocab.words).encode("utf-8"))
    reader = tf.train.load_checkpoint(checkpoint)
    hash_tensors(digest, [(name, shape) for name, shape in sorted(tf.train.list_variables(checkpoint))
                          if name.startswith("model/") and ".OPTIMIZER_SLOT" not in name],
                 lambda name, shape: f"\n{name}\0{shape}",
                 lambda name: np.ascontiguousarray(reader.get_tensor(name), "<f4").tobytes())
    return digest.hexdigest()


class LMEmbedder:
    """Frozen forward or backward LM: token lists -> top-layer vectors (module docstring).

    Args:
        model: a built LM (its variables are not trained here).
        vocab: its vocabulary.
        direction: ``forward`` or ``backward``, as it was trained.
        fingerprint: identifies the weights, for :mod:`taglm_tf.lm.frozen.cache`.
        name: a label for reports.
    """

    def __init__(self, model: LSTMPStackLM, vocab: LMVocabulary, direction: str, fingerprint: str,
                 name: str = ""):
        self.model, self.vocab, self.direction, self.fingerprint = model, vocab, direction, fingerprint
        self.name = name or f"{direction} LM"
        self.dim = model.projection_dim
        self.layer = f"{direction}_lstm_{model.num_layers - 1}"
        self.table = tf.lookup.StaticHashTable(  # exact word match, else <UNK>, as LMVocabulary.encode
            tf.lookup.KeyValueTensorInitializer(tf.constant(vocab.words), tf.range(vocab.size, dtype=tf.int32)),
            default_value=vocab.unk)
        self.char_encoder = char_encoder_of(model, vocab)  # None for a word-level LM
        self._embed = EagerThenTraced(self.embed_tokens, [tf.TensorSpec([None, None], tf.string)])

    def embed_tokens(self, tokens: tf.Tensor) -> tf.Tensor:
        """In-graph: right-padded ``tokens`` ``[B, T]`` (``tf.string``, ``""`` = padding) ->
        ``[B, T, P]`` float32, zeros at padding. The one implementation behind
        :meth:`embed_sentences` and the exported SavedModel."""
        present = tf.not_equal(tokens, "")
        lengths = tf.reduce_sum(tf.cast(present, tf.int32), axis=1)
        if self.direction == "backward":
            tokens = tf.reverse_sequence(tokens, lengths, seq_axis=1, batch_axis=0)
        words = tf.concat([tf.fill([tf.shape(tokens)[0], 1], BOS), tokens], axis=1)
        window = {"inputs": self.table.lookup(words)}
        if self.char_encoder is not None:  # <S> spelled, as in training (taglm_tf.lm.pretraining.corpus)
            window["input_chars"] = self.char_encoder.encode_words_in_graph(words)
        top = self.model(*model_inputs(self.model, window),
                         mask=tf.sequence_mask(lengths + 1, tf.shape(words)[1]))[0][:, 1:]
        if self.direction == "backward":
            top = tf.reverse_sequence(top, lengths, seq_axis=1, batch_axis=0)
        return top * tf.cast(present, top.dtype)[:, :, None]

    @classmethod
    def from_model_dir(cls, model_dir: str, checkpoint: Optional[str] = None) -> "LMEmbedder":
        """Load a :func:`~taglm_tf.lm.pretraining.run.pretrain` output (latest checkpoint by default)."""
        model, vocab, config, checkpoint = load_lm(model_dir, checkpoint)
        fingerprint = lm_fingerprint(checkpoint, config, vocab)
        return cls(model, vocab, config["direction"], fingerprint, name=model_dir)

    @property
    def trackables(self) -> list:
        """What a SavedModel must hold to run :meth:`embed_tokens`."""
        return list(self.model.variables) + [self.table]

    def embed_sentences(self, sentences: Sequence[Sequence[str]], batch_size: int = 32) -> List[np.ndarray]:
        """One float32 ``[n_i, P]`` array per sentence, in input order; batches by length."""
        results: List[Optional[np.ndarray]] = [None] * len(sentences)
        for batch in batches_by_length([len(s) for s in sentences], batch_size):
            width = max(len(sentences[i]) for i in batch)
            tokens = np.full((len(batch), max(width, 1)), "", dtype=object)
            for row, i in enumerate(batch):
                tokens[row, :len(sentences[i])] = sentences[i]
            vectors = self._embed(tf.constant(tokens, tf.string)).numpy()
            for row, i in enumerate(batch):
                results[i] = vectors[row, :len(sentences[i])].copy()
        return results

    def __call__(self, sentences: Sequence[Sequence[str]]) -> List[np.ndarray]:
        return self.embed_sentences(sentences)
