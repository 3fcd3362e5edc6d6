"""Run a function eagerly on its first call and through one ``tf.function`` afterwards.

Tracing a Keras model into a graph costs 1-3 s on a CPU (its recurrent layers dominate). A
process that calls the model once, such as ``taglm_tf.tag`` on one sentence, pays that for
nothing: the eager call of a small batch takes a fraction of it. A process that calls it many
times wants the graph. So the first call runs eagerly and later calls share one trace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

EAGER_CALLS = 1  # the library's default: only the first call runs eagerly
# Calls that bring an EagerThenTraced with the default past its eager calls and its trace: what a
# benchmark must make before it times warm calls.
WARM_UP_CALLS = EAGER_CALLS + 1


class EagerThenTraced:
    """``fn`` run eagerly on the first ``eager_calls`` calls made in eager mode, then as
    ``tf.function(fn, input_signature)``.

    Args:
        fn: the function (TF ops, Keras calls); it must give the same values eagerly and traced,
            so Python control flow may depend on Python values only, not on tensors. Eager calls
            do not check ``input_signature``.
        input_signature: ``tf.TensorSpec`` structures, one per positional argument, with unknown
            dimensions where calls differ, so that every later call reuses one trace.
        eager_calls: how many first calls run eagerly (0: always traced).

    Inside a graph (a ``tf.function`` or ``tf.data`` map) every call simply runs ``fn`` in that
    graph. Not locked: two threads calling at once may make one extra eager call or one extra
    trace, nothing worse; the library never shares one instance between threads.
    """

    def __init__(self, fn: Callable, input_signature: Sequence, eager_calls: int = EAGER_CALLS):
        self.fn, self.input_signature, self.eager_calls = fn, list(input_signature), eager_calls
        self.calls = 0
        self._traced: tf.types.experimental.GenericFunction | None = None

    @property
    def traced(self) -> tf.types.experimental.GenericFunction:
        """The ``tf.function`` used after the eager calls (created on first use)."""
        if self._traced is None:
            # No AutoGraph: fn's control flow is Python's (see above), and converting every layer's
            # source is a large part of a trace.
            self._traced = tf.function(self.fn, input_signature=self.input_signature, autograph=False)
        return self._traced

    def __call__(self, *args):
        if not tf.executing_eagerly():
            return self.fn(*args)
        self.calls += 1
        if self.calls <= self.eager_calls:
            return self.fn(*args)
        return self.traced(*args)
