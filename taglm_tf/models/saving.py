"""Save and load a trained tagger: Keras model, vocabularies and the run's config together."""

from __future__ import annotations

import importlib.metadata
import json
import os
import zipfile
from typing import NamedTuple

import tensorflow as tf

import taglm_tf.layers  # noqa: F401  (registers the custom layers for deserialisation)
from taglm_tf.data.resources import Resources
from taglm_tf.data.vocab import load_vocabularies, save_vocabularies
from taglm_tf.run_dir import MODEL_FILE, VOCAB_FILE, check_tagger_dir, read_config
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path


class LoadedTagger(NamedTuple):
    """What :func:`load_tagger` returns: the Keras model (not compiled), its vocabularies (no
    word vectors), the run's ``config.json`` dict and the directory."""

    model: tf.keras.Model
    resources: Resources
    config: dict
    model_dir: str = ""  # where it was loaded from (its LMs are looked up relative to it too)


def save_vocab(model_dir: str, resources: Resources) -> None:
    """Write the word, char and tag vocabularies to ``model_dir/vocab.json`` (made if needed)."""
    os.makedirs(model_dir, exist_ok=True)
    save_vocabularies(os.path.join(model_dir, VOCAB_FILE), resources.vocabularies())


def load_vocab(model_dir: str) -> Resources:
    """The :class:`Resources` of ``model_dir/vocab.json`` (no word vectors); an
    :class:`InputError` if it cannot be read."""
    v = load_vocabularies(os.path.join(model_dir, VOCAB_FILE))
    return Resources(v["words"], v["chars"], v["tags"])


def save_model(model_dir: str, model: tf.keras.Model) -> None:
    """Save ``model`` as ``model_dir/model.keras``; the file appears complete or not at all."""
    with atomic_path(os.path.join(model_dir, MODEL_FILE)) as tmp:
        model.save(tmp)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


def running_keras_version() -> str:
    """The Keras 2 that ``tf.keras`` is here: ``tf_keras`` on the current stack (TF >= 2.16 with
    ``TF_USE_LEGACY_KERAS=1``), the built-in ``keras`` 2.15 on the card's stack."""
    legacy = os.environ.get("TF_USE_LEGACY_KERAS") == "1"
    return importlib.metadata.version("tf_keras" if legacy else "keras")


def saved_keras_version(path: str) -> str:
    """The Keras version a ``.keras`` file records in its ``metadata.json`` ("" if none)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return str(json.loads(archive.read("metadata.json")).get("keras_version", ""))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return ""


@tf.autograph.experimental.do_not_convert  # as build_tagger: no source conversion of the layers
def load_model_file(path: str) -> tf.keras.Model:
    """``model.keras`` as a Keras model. A model saved by a newer Keras than this stack's (the
    current stack's tf_keras 2.21 read by the card's 2.15) is refused in one line: Keras does not
    read files of later versions. Older files load (2.15 files on 2.21 are tested).

    Raises:
        InputError: naming ``path``: not a ``.keras`` archive (damaged, or another file under
            that name, which Keras would try as HDF5), saved by a newer Keras, or refused by
            Keras or found damaged while read (its first line).
    """
    if not zipfile.is_zipfile(path):
        raise InputError("not a Keras model archive (a .keras file is a zip): damaged, or not a model", path)
    saved, running = saved_keras_version(path), running_keras_version()
    if saved and _version(saved) > _version(running):
        raise InputError(
            f"saved by Keras {saved}, newer than this stack's Keras {running}; "
            "load it on the stack it was trained on (make STACK=current)",
            path,
        )
    try:
        return tf.keras.models.load_model(path, compile=False)
    except (ValueError, TypeError, KeyError, OSError, zipfile.BadZipFile, tf.errors.OpError) as e:
        raise InputError(
            f"cannot be loaded by Keras {running} (saved by {saved or 'an unknown version'}): "
            f"{str(e).splitlines()[0] if str(e) else type(e).__name__}",
            path,
        ) from None


def load_tagger(model_dir: str) -> LoadedTagger:
    """Load what :func:`save_model`, :func:`save_vocab` and :func:`taglm_tf.run_dir.write_config` wrote."""
    check_tagger_dir(model_dir)
    config = read_config(model_dir)
    model = load_model_file(os.path.join(model_dir, MODEL_FILE))
    return LoadedTagger(model, load_vocab(model_dir), config, model_dir)
