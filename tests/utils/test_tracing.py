"""EagerThenTraced: the first call eager, later calls through one trace, same values."""

import numpy as np
import tensorflow as tf

from taglm_tf.utils.tracing import WARM_UP_CALLS, EagerThenTraced


def test_first_call_is_eager_later_calls_share_one_trace():
    seen = []

    def fn(x):
        seen.append(tf.executing_eagerly())
        return tf.cumsum(x * 2.0, axis=1)

    wrapped = EagerThenTraced(fn, [tf.TensorSpec([None, None], tf.float32)])
    inputs = [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.ones((4, 5), np.float32),
        np.full((1, 2), 3.0, np.float32),
    ]
    outputs = [wrapped(tf.constant(x)).numpy() for x in inputs]
    for x, y in zip(inputs, outputs):
        np.testing.assert_array_equal(y, np.cumsum(x * 2.0, axis=1))
    # Python ran once eagerly, then once more while tracing; three shapes, one concrete function.
    assert seen == [True, False]
    assert wrapped.traced.experimental_get_tracing_count() == 1


def test_zero_eager_calls_always_traces_and_graph_calls_run_inline():
    wrapped = EagerThenTraced(lambda x: x + 1, [tf.TensorSpec([None], tf.int32)], eager_calls=0)
    assert wrapped(tf.constant([1, 2])).numpy().tolist() == [2, 3]
    assert wrapped.traced.experimental_get_tracing_count() == 1

    @tf.function
    def outer(x):
        return wrapped(x) * 10

    assert outer(tf.constant([4])).numpy().tolist() == [50]
    assert wrapped.calls == 1  # the graph call did not count as an eager one


def test_warm_up_calls_leave_only_traced_calls_to_time():
    runs = []
    wrapped = EagerThenTraced(lambda x: runs.append(1) or x * 3, [tf.TensorSpec([None], tf.float32)])
    for _ in range(WARM_UP_CALLS):
        wrapped(tf.constant([1.0]))
    warmed = len(runs)
    assert wrapped(tf.constant([2.0, 5.0])).numpy().tolist() == [6.0, 15.0]
    assert len(runs) == warmed == 2  # the eager call and the trace; the timed call runs no Python
