"""A pretraining run's directory on disk, and loading the trained LM from it.

``model_dir`` layout: ``config.json`` (the run's :class:`~taglm_tf.pretraining.run.PretrainConfig`,
the model's arguments, the vocabulary size and the code commit), ``vocab.txt`` (+
``vocab.txt.counts``), ``checkpoints/ckpt-<step>``, ``tensorboard/``, ``train_result.json``
(written when the run ends) and ``perplexity.json`` (written by ``experiments.eval_lm --record``).
"""
from __future__ import annotations

import json
import os
from typing import Optional, Tuple

import tensorflow as tf

from taglm_tf.errors import InputError
from taglm_tf.pretraining.lm_kinds import build_lm
from taglm_tf.pretraining.lstm_lm import LSTMPStackLM
from taglm_tf.pretraining.vocab import LMVocabulary

CONFIG_FILE, VOCAB_FILE, RESULT_FILE = "config.json", "vocab.txt", "train_result.json"
PERPLEXITY_FILE = "perplexity.json"


def recorded_perplexity(model_dir: str) -> Optional[float]:
    """The held-out perplexity ``eval_lm --record`` stored for the LM's latest checkpoint, if any."""
    path = os.path.join(model_dir, PERPLEXITY_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        record = json.load(f)
    latest = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    same = latest and os.path.basename(record.get("checkpoint", "")) == os.path.basename(latest)
    return float(record["perplexity"]) if same else None


def load_lm(model_dir: str, checkpoint: Optional[str] = None
            ) -> Tuple[LSTMPStackLM, LMVocabulary, dict, str]:
    """A trained LM from ``model_dir``: ``(model, vocab, config dict, checkpoint path)``.

    Args:
        model_dir: a :func:`pretrain` output directory.
        checkpoint: a checkpoint prefix; default the latest in ``model_dir/checkpoints``.
    """
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        raise InputError("not an LM directory (no config.json)", model_dir)
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    vocab = LMVocabulary.load(os.path.join(model_dir, VOCAB_FILE))
    checkpoint = checkpoint or tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    if not checkpoint:
        raise InputError("has no checkpoint yet", os.path.join(model_dir, "checkpoints"))
    model = model_from_record(config, vocab.size)
    model.build()
    model.trainable = False
    tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial().assert_existing_objects_matched()
    return model, vocab, config, checkpoint


def model_from_record(config: dict, vocab_size: int) -> LSTMPStackLM:
    """A new, unbuilt model as a run's ``config.json`` (a dict) describes it; runs written before
    the CNN-LSTM have no ``model.kind`` and are word-level (``lstm``)."""
    return build_lm(config.get("model", {}).get("kind", "lstm"), vocab_size, config["model_args"])
