"""The kinds of LM this package trains: the model of each kind, built from its typed config
(the configs and the registry of kinds, ``CONFIGS``: :mod:`~taglm_tf.lm.pretraining.config`).

* ``lstm``: word embedding -> LSTMP layers (:class:`~taglm_tf.lm.pretraining.lstm_lm.LSTMLanguageModel`,
  config :class:`~taglm_tf.lm.pretraining.config.LSTMLMConfig`);
* ``cnn_lstm``: lm_1b's char CNN -> LSTMP layers
  (:class:`~taglm_tf.lm.pretraining.cnn_lstm_lm.CNNLSTMLanguageModel`, config
  :class:`~taglm_tf.lm.pretraining.config.CNNLSTMLMConfig`).

A run's ``config.json`` stores the config as a dict with its ``kind``, and ``model_args``, the
model's constructor arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from tensorflow import keras

from taglm_tf.lm.lm1b.vocab import LM1BCharEncoder
from taglm_tf.lm.pretraining.cnn_lstm_lm import CNNLSTMLanguageModel
from taglm_tf.lm.pretraining.config import LM_KINDS, ModelConfig
from taglm_tf.lm.pretraining.lstm_lm import LSTMLanguageModel, LSTMPStackLM
from taglm_tf.lm.vocab import LMVocabulary
from taglm_tf.utils.errors import InputError

MODELS = {"lstm": LSTMLanguageModel, "cnn_lstm": CNNLSTMLanguageModel}


def model_args(config: ModelConfig, reset_id: int) -> dict:
    """The JSON-able constructor arguments of the config's model (``vocab_size`` aside)."""
    args = {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in dataclasses.asdict(config).items()
        if k != "kind"
    }
    return {**args, "reset_id": reset_id}


def build_lm(kind: str, vocab_size: int, args: Mapping) -> LSTMPStackLM:
    """A new, unbuilt model of ``kind`` with constructor arguments ``args`` (:func:`model_args`)."""
    if kind not in MODELS:
        raise InputError(f"unknown LM kind {kind!r}; expected one of {', '.join(LM_KINDS)}")
    return MODELS[kind](vocab_size, **args)


def char_encoder_of(model: ModelConfig | keras.Model, vocab: LMVocabulary) -> LM1BCharEncoder | None:
    """The lm_1b char encoding a char-aware model reads ``vocab``'s text with (its special
    chars are the five smallest bytes in no word of ``vocab``, as the lm_1b loader derives them
    from the written vocabulary file); ``None`` for a word-level model."""
    if not hasattr(model, "max_word_length"):
        return None
    return LM1BCharEncoder(vocab.words, model.max_word_length, path=vocab.path)
