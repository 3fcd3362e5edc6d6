"""A trained tagger's :class:`~taglm_tf.serving.module.TaggerModule` written as a SavedModel,
with ``taglm_export.json`` and the run's model card beside it (:func:`export_tagger`). The
command ``python -m taglm_tf.export`` runs it; its docstring (``--help``) describes the
``serving_default`` signature and the files."""

from __future__ import annotations

import json
import os

import tensorflow as tf

from taglm_tf.lm.frozen.loading import (
    RELATIVE_KEY,
    load_lms,
    locate_lms,
)
from taglm_tf.lm.frozen.overrides import LM_KEYS
from taglm_tf.models.saving import load_tagger
from taglm_tf.reports.model_card import write_export_card
from taglm_tf.serving.module import TaggerModule
from taglm_tf.tasks import task_named
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path

EXPORT_INFO = "taglm_export.json"


def export_tagger(model_dir: str, export_dir: str, lms: dict | None = None) -> str:
    """Write the SavedModel and ``taglm_export.json``; returns ``export_dir``. ``lms``: LM
    overrides (see :func:`~taglm_tf.lm.frozen.loading.locate_lms`)."""
    export_dir = os.path.abspath(export_dir)
    if os.path.exists(export_dir):
        raise InputError("already exists; choose a new --export_dir", export_dir)
    tagger = load_tagger(model_dir)
    task = task_named(tagger.config.get("task"), model_dir)
    located = locate_lms(tagger.config, model_dir, lms)
    lms = load_lms({**tagger.config, **located})
    module = TaggerModule(tagger, task.labels.scheme, lms)
    config = {k: v for k, v in tagger.config.items() if k != RELATIVE_KEY}  # no relative LM paths
    config.update(located)  # the LMs exported, as absolute specs
    info = {
        "task": task.name,
        "tag_scheme": task.labels.scheme,
        "tag_ids_scheme": task.labels.train_scheme,
        "tag_vocabulary": module.items,
        "config": config,
        "lms": [located[k] for k in LM_KEYS if k in located],
    }
    os.makedirs(os.path.dirname(export_dir), exist_ok=True)
    with atomic_path(export_dir) as tmp:
        tf.saved_model.save(module, tmp, signatures={"serving_default": module.serve})
        with open(os.path.join(tmp, EXPORT_INFO), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=1, sort_keys=True)
        write_export_card(
            model_dir, tmp, {"exported_from": os.path.abspath(model_dir), "signature": "serving_default"}
        )
    return export_dir
