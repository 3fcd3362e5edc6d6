"""The one tagging computation of a trained model, built once when it loads (:class:`TaggerModule`).

Tokenization, sentence splitting, character offsets and span assembly stay in Python around it
(:mod:`taglm_tf.serving.api`); everything from tokens to tags is this traced module, which the
API, the CLI and the exported SavedModel (:mod:`taglm_tf.serving.export`) share.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from taglm_tf.data import tag_schemes
from taglm_tf.data.nfc import nfc
from taglm_tf.lm.frozen.features import join_lm_features
from taglm_tf.models.saving import LoadedTagger
from taglm_tf.utils.errors import InputError

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


class TaggerModule(tf.Module):
    """The one tagging computation: right-padded tokens -> featurizer -> frozen LMs (TagLM) ->
    tagger -> Viterbi -> tags in ``scheme``, traced once as :attr:`serve`. The Python API and
    the CLI call it through :meth:`tag`; ``taglm_tf.export`` saves it as the SavedModel's
    ``serving_default`` signature, so every entry point computes the same tags under the same
    input contract.

    Only the model's variables are tracked (not the Keras model itself), so the SavedModel
    holds the serving function alone, without Keras' per-layer traces.

    Args:
        tagger: the trained model and its vocabularies (:func:`~taglm_tf.models.saving.load_tagger`).
        scheme: the scheme of the returned tags (``iob1``, ``iob2``, ``iobes``), or ``None`` for
            token labels.
        lms: the frozen LMs the model was trained with, forward first; ``()`` for a baseline.

    Raises:
        InputError: the model has an LM-feature input but no LMs are given, or the reverse.
    """

    def __init__(self, tagger: LoadedTagger, scheme: str | None, lms: Sequence = ()):
        if ("features" in tagger.model.input_names) != bool(lms):
            raise InputError("the model's LM-feature input does not match the LMs given")
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

        # No AutoGraph: the control flow below is explicit (tf.cond, tf.while_loop), and converting
        # the source of every function and layer it calls was half of the trace.
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string, name="tokens")], autograph=False)
        def serve(tokens):
            """Tag right-padded ``tokens`` ([batch, time] string, "" = padding).

            The padding contract: each row is its tokens, then "" to the batch's width; "" is
            never a token. A row with "" before one of its tokens (left padding, or a sentence
            split on single spaces) is refused with an InvalidArgumentError, as the Python API
            refuses an empty token, instead of being decoded as a shorter sentence. So is a
            token holding an ASCII space, tab or line break, which the API refuses too (no
            reader of the project can make one). Each token is looked up in Unicode normal form
            NFC (:func:`taglm_tf.data.nfc.nfc`, in-graph), the form of the vocabularies, so
            ``Zu`` + U+0308 is read as ``Zürich``.

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
            tokens = nfc(tokens)
            tag_ids = tf.cond(  # the char RNN cannot run on a batch without any token
                tf.reduce_any(present),
                lambda: tf.cast(model(model_inputs(tokens), training=False)["tags"], tf.int32),
                lambda: tf.zeros_like(tokens, tf.int32),
            )
            return {"tags": convert_ids(tag_ids, present, items, scheme), "tag_ids": tag_ids}

        self.serve = serve

    def tag(self, token_lists: Sequence[Sequence[str]], batch_size: int = 128) -> list[list[str]]:
        """Tags for each token list (non-empty tokens), in order.
        The lists are tagged in batches of ``batch_size`` sorted by length, so a batch pads its
        rows to nearly the same width; the result does not depend on the batching."""
        tagged: list[list[str]] = [[] for _ in token_lists]
        for rows, batch in padded_batches(token_lists, batch_size):
            tags = self.serve(tokens=batch)["tags"].numpy()
            for r, i in enumerate(rows):
                tagged[i] = [t.decode("utf-8") for t in tags[r, : len(token_lists[i])]]
        return tagged


def check_positive(value, name: str) -> None:
    """Refuse a batch or chunk size that is not a positive integer (0 would tag nothing, silently).

    Raises:
        ValueError: naming ``name``.
    """
    try:
        number = operator.index(value)  # int, numpy integers
    except TypeError:
        number = None
    if isinstance(value, bool) or number is None or number < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")


def padded_batches(token_lists: Sequence[Sequence[str]], batch_size: int):
    """``(rows, tokens)`` batches of :meth:`TaggerModule.tag`: the lists' indices sorted by length,
    ``batch_size`` at a time, and their tokens as a ``[len(rows), longest]`` string tensor,
    right-padded with ``""``.

    Raises:
        ValueError: ``batch_size`` is not a positive integer.
    """
    check_positive(batch_size, "batch_size")
    order = sorted(range(len(token_lists)), key=lambda i: len(token_lists[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = np.full((len(rows), len(token_lists[rows[-1]])), "", dtype=object)
        for r, i in enumerate(rows):
            batch[r, : len(token_lists[i])] = token_lists[i]
        yield rows, tf.constant(batch, tf.string)
