"""A trained tagger as a SavedModel for serving (the command is ``python -m taglm_tf.export``).

The ``serving_default`` signature maps ``tokens`` (``tf.string [batch, time]``, ``""`` = right
padding) to ``tags`` (``tf.string [batch, time]``, in the task's gold scheme: IOB1 for NER,
IOB2 for chunking; ``""`` at padding) and ``tag_ids`` (``int32 [batch, time]``, the model's
Viterbi path over its training tag vocabulary, IOBES; 0 at padding). Featurization runs
in-graph with the same :class:`~taglm_tf.data.featurizer.Featurizer` as training. A TagLM
model's LMs (lm_1b or LSTM LMs) are exported with it: their frozen weights (and vocabularies)
go into the SavedModel and ``[h_fwd; h_bwd]`` is computed in-graph by each LM's
``embed_tokens``, the code that embedded the training data.
``OUT/taglm_export.json`` records the run's config, the LMs and the tag schemes;
``OUT/MODEL_CARD.md`` and ``model_card.json`` are the run's model card.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from taglm_tf.lm.frozen.loading import (
    LM_KEYS,
    RELATIVE_KEY,
    load_lms,
    locate_lms,
)
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
