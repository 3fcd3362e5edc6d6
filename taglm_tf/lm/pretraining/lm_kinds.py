"""The kinds of LM this package trains, and their typed configs.

* ``lstm``: word embedding -> LSTMP layers (:class:`~taglm_tf.lm.pretraining.lstm_lm.LSTMLanguageModel`,
  config :class:`~taglm_tf.lm.pretraining.lstm_lm.LSTMLMConfig`);
* ``cnn_lstm``: lm_1b's char CNN -> LSTMP layers
  (:class:`~taglm_tf.lm.pretraining.cnn_lstm_lm.CNNLSTMLanguageModel`, config
  :class:`~taglm_tf.lm.pretraining.cnn_lstm_lm.CNNLSTMLMConfig`).

A run's ``config.json`` stores the config as a dict with its ``kind``, and ``model_args``, the
model's constructor arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from tensorflow import keras

from taglm_tf.lm.lm1b.vocab import LM1BCharEncoder
from taglm_tf.lm.pretraining.cnn_lstm_lm import CNNLSTMLanguageModel, CNNLSTMLMConfig
from taglm_tf.lm.pretraining.lstm_lm import LSTMLanguageModel, LSTMLMConfig, LSTMPStackLM
from taglm_tf.lm.vocab import LMVocabulary
from taglm_tf.utils.errors import InputError

ModelConfig = LSTMLMConfig | CNNLSTMLMConfig
CONFIGS = {"lstm": LSTMLMConfig, "cnn_lstm": CNNLSTMLMConfig}
MODELS = {"lstm": LSTMLanguageModel, "cnn_lstm": CNNLSTMLanguageModel}
LM_KINDS = tuple(CONFIGS)


def model_config_from_dict(data: Mapping, source: str | None = None) -> ModelConfig:
    """The typed config of a ``config.json`` ``model`` dict (missing fields take their defaults).

    Args:
        data: the dict.
        source: the file it was read from, for error messages.

    Raises:
        InputError: no ``kind`` (a run written by an older taglm_tf, which did not record it),
            an unknown ``kind`` or an unknown field.
    """
    if "kind" not in data:
        raise InputError("written by an older taglm_tf (its model has no kind); train the LM again", source)
    kind = data["kind"]
    if kind not in CONFIGS:
        raise InputError(f"unknown LM kind {kind!r}; expected one of {', '.join(LM_KINDS)}", source)
    cls = CONFIGS[kind]
    unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise InputError(f"{kind} LM config has unknown fields: {', '.join(sorted(unknown))}", source)
    return cls(**data)


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
