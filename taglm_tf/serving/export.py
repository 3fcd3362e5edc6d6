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
from collections.abc import Sequence

import tensorflow as tf

from taglm_tf.data import tag_schemes
from taglm_tf.lm.frozen.features import join_lm_features
from taglm_tf.lm.frozen.loading import (
    LM_KEYS,
    RELATIVE_KEY,
    load_lms,
    locate_lms,
)
from taglm_tf.models.saving import LoadedTagger, load_tagger
from taglm_tf.reports.model_card import write_export_card
from taglm_tf.tasks import task_named
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import atomic_path

EXPORT_INFO = "taglm_export.json"
_O, _B, _I, _E, _S = range(5)  # tag prefix codes
_PREFIX_CODES = {"O": _O, "B": _B, "I": _I, "E": _E, "S": _S}


def convert_ids(
    tag_ids: tf.Tensor, present: tf.Tensor, items: Sequence[str], scheme: str | None
) -> tf.Tensor:
    """Tag ids (any scheme, e.g. IOBES) -> tag strings in ``scheme``, ``""`` where not ``present``.
    ``scheme=None`` (token labels, :class:`taglm_tf.tasks.TokenLabels`): the labels themselves.

    The span rules of :func:`tag_schemes.convert`, vectorised: a chunk begins at a non-``O``
    token unless it continues the previous token's chunk (same type, previous not ``E``/``S``/
    ``O``, current not ``B``/``S``); it ends where the next token does not continue it. Id 0
    (padding) reads as ``O``. Assumes right padding.
    """
    if scheme is None:
        return tf.where(present, tf.gather(tf.constant(["O", *items[1:]]), tag_ids), "")
    tag_schemes.check_scheme(scheme)
    split = [tag_schemes.split_tag(t) if i else ("O", "") for i, t in enumerate(items)]
    types = sorted({t for p, t in split if p != "O"})
    prefix = tf.gather(tf.constant([_PREFIX_CODES.get(p, _O) for p, _ in split]), tag_ids)
    kind = tf.gather(tf.constant([types.index(t) + 1 if p != "O" else 0 for p, t in split]), tag_ids)
    prefix = tf.where(present, prefix, _O)

    def before(x):  # x[:, t - 1], 0 (= O) at t = 0
        return tf.pad(x[:, :-1], [[0, 0], [1, 0]])

    def after(x):  # x[:, t + 1], 0 (= O) at the end
        return tf.pad(x[:, 1:], [[0, 0], [0, 1]])

    def begins(prev, prev_kind, cur, cur_kind):
        opens = (
            (prev == _O) | (prev == _E) | (prev == _S) | (cur == _B) | (cur == _S) | (prev_kind != cur_kind)
        )
        return (cur != _O) & opens

    inside = prefix != _O
    begin = begins(before(prefix), before(kind), prefix, kind)
    end = inside & ((after(prefix) == _O) | begins(prefix, kind, after(prefix), after(kind)))
    if scheme == "iob2":
        letter = tf.where(begin, "B-", "I-")
    elif scheme == "iob1":  # B- only where a chunk directly follows one of its own type
        letter = tf.where(begin & (before(prefix) != _O) & (before(kind) == kind), "B-", "I-")
    else:
        letter = tf.where(begin, tf.where(end, "S-", "B-"), tf.where(end, "E-", "I-"))
    tags = tf.where(inside, letter + tf.gather(tf.constant([""] + types), kind), "O")
    return tf.where(present, tags, "")


class ServingTagger(tf.Module):
    """tokens -> featurizer -> Keras model's Viterbi ``tags`` -> tag strings.

    Only the model's variables are tracked (not the Keras model itself), so the SavedModel
    holds the serving function alone, without Keras' per-layer traces.
    """

    def __init__(self, tagger: LoadedTagger, scheme: str | None, lms: Sequence = ()):
        super().__init__()
        self.featurizer = tagger.resources.featurizer()
        self.model_variables = list(tagger.model.variables)
        self.lm_trackables = [t for lm in lms for t in lm.trackables]  # frozen LM weights, vocab tables
        self.scheme, self.items = scheme, list(tagger.resources.tags.items)
        model, items, lms = tagger.model, self.items, list(lms)

        def model_inputs(tokens):
            inputs = self.featurizer(tokens)
            if lms:  # h_LM = [h_fwd; h_bwd], computed in-graph by the frozen LMs
                inputs["features"] = join_lm_features([lm.embed_tokens(tokens) for lm in lms])
            return inputs

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string, name="tokens")])
        def serve(tokens):
            """Tag right-padded ``tokens`` ([batch, time] string, "" = padding).

            The padding contract: each row is its tokens, then "" to the batch's width; "" is
            never a token. A row with "" before one of its tokens (left padding, or a sentence
            split on single spaces) is refused with an InvalidArgumentError, as the Python API
            refuses an empty token, instead of being decoded as a shorter sentence. So is a
            token holding an ASCII space, tab or line break, which the API refuses too (no
            reader of the project can make one). Tokens are looked up as given: the API and the
            CLI normalize text to Unicode NFC first, so give NFC tokens here for the same tags.

            Returns ``tags`` (string [batch, time], the task's gold scheme or its token labels,
            "" at padding) and ``tag_ids`` (int32 [batch, time], ids of the training vocabulary,
            IOBES for chunks, 0 at padding).
            """
            present = tf.not_equal(tokens, "")
            inner_gap = tf.reduce_any(tf.logical_and(tf.logical_not(present[:, :-1]), present[:, 1:]))
            tf.debugging.assert_equal(
                inner_gap,
                False,
                message=(
                    "tokens: an empty string before a token in a row; empty strings are only right padding"
                ),
            )
            tf.debugging.assert_equal(
                tf.reduce_all(tf.strings.regex_full_match(tokens, "[^ \t\r\n]*")),
                True,
                message="tokens: a token holds a space, tab or line break; split tokens at them",
            )
            tag_ids = tf.cond(  # the char RNN cannot run on a batch without any token
                tf.reduce_any(present),
                lambda: tf.cast(model(model_inputs(tokens), training=False)["tags"], tf.int32),
                lambda: tf.zeros_like(tokens, tf.int32),
            )
            return {"tags": convert_ids(tag_ids, present, items, scheme), "tag_ids": tag_ids}

        self.serve = serve


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
    if ("features" in tagger.model.input_names) != bool(lms):
        raise InputError("the model's LM-feature input does not match the LMs in its config.json", model_dir)
    module = ServingTagger(tagger, task.labels.scheme, lms)
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
