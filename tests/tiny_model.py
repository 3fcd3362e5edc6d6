"""A tiny NER tagger saved like a finished training run, for tests that need a model dir.

Built from a few in-memory sentences with random weights (no training, no data files):
predictions are arbitrary but deterministic, which is all equality tests need, and the
sharpened random scores yield plenty of chunks, including malformed IOBES sequences.
"""

from __future__ import annotations

import dataclasses
import os

import tensorflow as tf

from taglm_tf import run_dir
from taglm_tf.data import conll
from taglm_tf.data.resources import build_resources
from taglm_tf.models import saving
from taglm_tf.models.config import TaggerConfig
from taglm_tf.models.tagger import build_tagger

CONFIG = TaggerConfig(char_dim=4, char_units=4, word_dim=8, rnn_units=8)

# Training scheme (IOBES), as the experiments store the tag vocabulary.
TRAIN = [
    ("John Smith lives in New York .", "B-PER E-PER O O B-LOC E-LOC O"),
    ("EU rejects German call to boycott British lamb .", "S-ORG O S-MISC O O O S-MISC O O"),
    ("Peter Blackburn", "B-PER E-PER"),
    ("BRUSSELS 1996-08-22", "S-LOC O"),
    ("The European Commission said on Thursday it disagreed .", "O B-ORG E-ORG O O O O O O"),
    ("New York Stock Exchange", "B-ORG I-ORG I-ORG E-ORG"),
    ("Juan Carlos de Borbon", "B-PER I-PER I-PER E-PER"),
]


def train_sentences():
    return [
        conll.Sentence(tuple(words.split()), tuple(tags.split()), line=i + 1)
        for i, (words, tags) in enumerate(TRAIN)
    ]


def sharpen(model: tf.keras.Model) -> None:
    """Sharpen a random tagger's scores so that its tags vary from token to token."""
    potentials = model.get_layer("potentials").kernel
    potentials.assign(potentials * 30.0)
    transitions = model.get_layer("crf").transitions
    transitions.assign(transitions * 0.2)


def build_tiny_model(model_dir: str, seed: int = 0) -> str:
    """Write ``model.keras``, ``vocab.json`` and ``config.json`` (task "ner") into ``model_dir``."""
    tf.keras.utils.set_random_seed(seed)
    resources = build_resources(train_sentences(), word_dim=CONFIG.word_dim, seed=seed)
    model = build_tagger(CONFIG, len(resources.words), len(resources.chars), len(resources.tags))
    sharpen(model)
    model_dir = os.fspath(model_dir)
    saving.save_vocab(model_dir, resources)
    run_dir.write_config(model_dir, {"task": "ner", "model": dataclasses.asdict(CONFIG)})
    saving.save_model(model_dir, model)
    return model_dir


_SHARED = {}


def shared_model_dir(tmp_path_factory) -> str:
    """One tiny model per test session, shared by every test module that asks for it."""
    if "dir" not in _SHARED:
        _SHARED["dir"] = build_tiny_model(str(tmp_path_factory.mktemp("tiny_ner")))
    return _SHARED["dir"]
