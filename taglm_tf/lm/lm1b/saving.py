"""A Keras-native copy of the lm_1b release: loadable without TF1 checkpoint machinery.

``export_lm1b`` writes a directory with ``config.json`` (layer config, source fingerprint),
``weights.h5`` (one dataset per model weight, keyed ``NNN/name`` by its position and name),
``vocab.txt`` (the release vocabulary, byte for byte) and ``chars.json`` (the special char ids
derived from it). ``load_lm1b`` rebuilds the frozen :class:`LM1BModel` from it.
"""

from __future__ import annotations

import json
import os
import shutil

import h5py

from taglm_tf.lm.lm1b.model import LM1BModel, assign_rows
from taglm_tf.lm.lm1b.vocab import LM1BCharEncoder, read_vocab
from taglm_tf.lm.lm1b.writing import release_fingerprint
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path

CONFIG, WEIGHTS, VOCAB, CHARS = "config.json", "weights.h5", "vocab.txt", "chars.json"


def _char_table(chars: LM1BCharEncoder) -> dict:
    return {
        "bos": chars.bos_char,
        "eos": chars.eos_char,
        "bow": chars.bow_char,
        "eow": chars.eow_char,
        "pad": chars.pad_char,
        "max_word_length": chars.max_word_length,
    }


def _keyed(embedder: LM1BModel):
    """(unique key, variable) pairs: weight names repeat across sublayers, so number them."""
    return [(f"{i:03d}/{w.name.replace(':', '_')}", w) for i, w in enumerate(embedder.weights)]


def export_lm1b(ckpt_pattern: str, vocab_path: str, output_dir: str, include_softmax: bool = False) -> None:
    """Convert the release (``ckpt-*`` files and vocabulary) into ``output_dir``, atomically."""
    embedder = LM1BModel.from_checkpoint(ckpt_pattern, vocab_path, include_softmax=include_softmax)
    config = {
        "layer": embedder.get_config(),
        "source_fingerprint": release_fingerprint(ckpt_pattern),
        "format": "taglm_tf.lm1b/1",
    }
    with atomic_path(output_dir) as tmp:
        os.makedirs(tmp)
        with h5py.File(os.path.join(tmp, WEIGHTS), "w") as f:
            for key, weight in _keyed(embedder):
                f.create_dataset(key, data=weight.numpy())
        shutil.copyfile(vocab_path, os.path.join(tmp, VOCAB))
        with open(os.path.join(tmp, CHARS), "w") as f:
            json.dump(_char_table(embedder.chars), f, indent=1)
        with open(os.path.join(tmp, CONFIG), "w") as f:
            json.dump(config, f, indent=1)


def load_lm1b(export_dir: str) -> LM1BModel:
    """The frozen lm_1b model saved by :func:`export_lm1b` (with its softmax if one was exported)."""
    paths = {name: os.path.join(export_dir, name) for name in (CONFIG, WEIGHTS, VOCAB, CHARS)}
    for path in paths.values():
        if not os.path.exists(path):
            raise InputError("missing from the lm_1b export", path)
    with open(paths[CONFIG]) as f:
        config = json.load(f)
    chars = LM1BCharEncoder(read_vocab(paths[VOCAB]).words, config["layer"]["max_word_length"], paths[VOCAB])
    with open(paths[CHARS]) as f:
        if json.load(f) != _char_table(chars):
            raise InputError(
                "special chars differ from those the vocabulary gives; was vocab.txt changed?", paths[CHARS]
            )
    embedder = LM1BModel.from_config(config["layer"])
    embedder.build((None, None, embedder.max_word_length))
    with h5py.File(paths[WEIGHTS], "r") as f:
        for key, weight in _keyed(embedder):
            value = f.get(key)
            if not isinstance(value, h5py.Dataset):
                raise InputError(
                    f"no weight {key}: exported by an older taglm_tf or another model; "
                    "export the lm_1b release again",
                    paths[WEIGHTS],
                )
            if value.shape != tuple(weight.shape):
                raise InputError(
                    f"weight {key} has shape {value.shape}, expected {tuple(weight.shape)}", paths[WEIGHTS]
                )
            if value.ndim == 0:
                weight.assign(value[()])
            else:
                assign_rows(weight, value[:])  # in place: no second copy of the 3.2 GB softmax
    embedder.chars = chars
    embedder.source_fingerprint = config["source_fingerprint"]
    return embedder
