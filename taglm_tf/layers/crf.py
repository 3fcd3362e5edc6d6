"""Linear-chain conditional random field on top of per-token tag scores."""
from __future__ import annotations

import os
import warnings

import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers import crf_ops

IMPL_ENV = "TAGLM_CRF_IMPL"
IMPLEMENTATIONS = ("auto", "own", "tfa")
OPS = ("log_likelihood", "decode")
# What "auto" picks for each op when tfa is importable: the faster in benchmarks/crf_ops.py on the
# TF 2.15 stack (at batch 128): tfa's log-likelihood + gradient, our decoding.
AUTO_WITH_TFA = {"log_likelihood": "tfa", "decode": "own"}


def import_tfa():
    """Import tensorflow-addons without its end-of-life notice.

    Returns:
        the ``tensorflow_addons`` module.

    Raises:
        ImportError: when it is not installed (the current-TF stack has no tfa).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow_addons as tfa
    return tfa


def crf_implementation(op: str, name: str | None = None) -> str:
    """Resolve which implementation runs a CRF op: ``"own"`` (``taglm_tf.layers.crf_ops``) or ``"tfa"``.

    Args:
        op: ``"log_likelihood"`` or ``"decode"``.
        name: ``"auto"``, ``"own"`` or ``"tfa"``; default: ``$TAGLM_CRF_IMPL``, else ``"auto"``.
            ``"auto"`` is ``AUTO_WITH_TFA[op]`` when tfa is importable, else ``"own"``.

    Returns:
        ``"own"`` or ``"tfa"``.

    Raises:
        ValueError: for another op or name. ImportError: ``"tfa"`` asked for but not importable.
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    name = name or os.environ.get(IMPL_ENV) or "auto"
    if name not in IMPLEMENTATIONS:
        raise ValueError(f"{IMPL_ENV} must be one of {', '.join(IMPLEMENTATIONS)}, got {name!r}")
    if name == "own":
        return "own"
    try:
        import_tfa()
    except ImportError:
        if name == "tfa":
            raise ImportError(f"{IMPL_ENV}=tfa but tensorflow-addons is not importable "
                              "(it exists only for TensorFlow <= 2.15 on Python <= 3.11)") from None
        return "own"
    return "tfa" if name == "tfa" else AUTO_WITH_TFA[op]


def _op(op: str, implementation: str):
    if implementation == "own":
        return getattr(crf_ops, f"crf_{op}")
    return getattr(import_tfa().text, f"crf_{op}")


@keras.saving.register_keras_serializable(package="taglm_tf")
class CRF(keras.layers.Layer):
    """Linear-chain CRF: one transition score per tag bigram, Viterbi decoding in ``call``.

    The layer owns the ``[num_tags, num_tags]`` transition matrix (``transitions[i, j]`` scores
    tag ``j`` following tag ``i``). ``call`` returns the Viterbi path; training uses
    :meth:`log_likelihood` (forward algorithm).

    Two implementations give the same results (tested to 1e-6): the project's own TF ops
    (``taglm_tf.layers.crf_ops``) and tensorflow-addons' (only on the TF 2.15 stack). The
    environment variable ``TAGLM_CRF_IMPL`` = ``auto`` (default) | ``own`` | ``tfa``, read when the
    layer is created, picks one for both ops; ``auto`` takes, per op, the faster where both exist
    (see :func:`crf_implementation`; ``implementations`` tells what was chosen). The choice is not
    part of the layer's config, so a model saved with one implementation loads with the other.

    Args:
        num_tags: number of tags K (including the padding tag 0, which is never gold).
        **kwargs: standard Keras layer arguments.

    Call arguments:
        potentials: ``[B, T, K]`` unary scores.
        mask: optional ``[B, T]`` boolean; the sequence length is its row sum (right padding).

    Returns:
        ``[B, T]`` int32 best tag sequence (zeros past each length).
    """

    def __init__(self, num_tags: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tags = num_tags
        self.supports_masking = True
        self.implementations = {op: crf_implementation(op) for op in OPS}
        self._log_likelihood_op = _op("log_likelihood", self.implementations["log_likelihood"])
        self._decode_op = _op("decode", self.implementations["decode"])

    def build(self, input_shape):
        self.transitions = self.add_weight(
            name="transitions", shape=(self.num_tags, self.num_tags),
            initializer="glorot_uniform", trainable=True)
        super().build(input_shape)

    @staticmethod
    def lengths(potentials, mask=None):
        """``[B]`` int32 sequence lengths: the number of True steps in each row of ``mask``
        ``[B, T]`` (right padding assumed), or T for every row of ``potentials`` ``[B, T, K]``
        without a mask."""
        if mask is None:
            batch, steps = tf.shape(potentials)[0], tf.shape(potentials)[1]
            return tf.fill([batch], steps)
        return tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)

    def call(self, potentials, mask=None):
        lengths = self.lengths(potentials, mask)
        tags, _ = self._decode_op(potentials, tf.cast(self.transitions, potentials.dtype), lengths)
        return tf.where(tf.sequence_mask(lengths, tf.shape(potentials)[1]), tags, 0)

    def log_likelihood(self, potentials, tags, mask=None):
        """``[B]`` log p(tags | potentials) under the CRF."""
        lengths = self.lengths(potentials, mask)
        ll, _ = self._log_likelihood_op(
            tf.cast(potentials, tf.float32), tags, lengths, self.transitions)
        return ll

    def compute_mask(self, inputs, mask=None):
        """The input ``[B, T]`` mask, unchanged: the tags have the same steps."""
        return mask

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags}
