"""Save and load a trained tagger: Keras model, vocabularies and the run's config together."""
from __future__ import annotations

import json
import os
from typing import NamedTuple

import tensorflow as tf

import taglm_tf.layers  # noqa: F401  (registers the custom layers for deserialisation)
from taglm_tf.data.resources import Resources
from taglm_tf.data.vocab import load_vocabularies, save_vocabularies
from taglm_tf.errors import InputError
from taglm_tf.fileio import atomic_path, write_text_atomic

MODEL_FILE, VOCAB_FILE, CONFIG_FILE = "model.keras", "vocab.json", "config.json"


class LoadedTagger(NamedTuple):
    model: tf.keras.Model
    resources: Resources
    config: dict
    model_dir: str = ""  # where it was loaded from (its LMs are looked up relative to it too)


def save_config(model_dir: str, config: dict) -> None:
    os.makedirs(model_dir, exist_ok=True)
    write_text_atomic(os.path.join(model_dir, CONFIG_FILE), json.dumps(config, indent=1, sort_keys=True))


def load_config(model_dir: str) -> dict:
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        raise InputError(f"no {CONFIG_FILE} here", model_dir)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_vocab(model_dir: str, resources: Resources) -> None:
    os.makedirs(model_dir, exist_ok=True)
    save_vocabularies(os.path.join(model_dir, VOCAB_FILE), resources.vocabularies())


def load_vocab(model_dir: str) -> Resources:
    v = load_vocabularies(os.path.join(model_dir, VOCAB_FILE))
    return Resources(v["words"], v["chars"], v["tags"])


def save_model(model_dir: str, model: tf.keras.Model) -> None:
    with atomic_path(os.path.join(model_dir, MODEL_FILE)) as tmp:
        model.save(tmp)


def load_tagger(model_dir: str) -> LoadedTagger:
    """Load what :func:`save_model`, :func:`save_vocab` and :func:`save_config` wrote."""
    for name in (MODEL_FILE, VOCAB_FILE, CONFIG_FILE):
        if not os.path.exists(os.path.join(model_dir, name)):
            raise InputError(f"no {name} here; is this a finished training run?", model_dir)
    config = load_config(model_dir)
    model = tf.keras.models.load_model(os.path.join(model_dir, MODEL_FILE), compile=False)
    return LoadedTagger(model, load_vocab(model_dir), config, model_dir)
