"""benchmarks.gru_variants: the hoisted GRU computes Keras' GRU (so its timing compares like
with like), in both directions, with and without sequences, on masked batches."""

import numpy as np
import pytest
import tensorflow as tf

from benchmarks.gru_variants import hoisted_gru
from taglm_tf.layers.recurrent import GRU


@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("sequences", [False, True])
def test_hoisted_gru_equals_keras(backwards, sequences):
    rng = np.random.default_rng(1)
    layer = GRU(6, return_sequences=sequences, go_backwards=backwards)
    inputs = tf.constant(rng.standard_normal((5, 7, 4)).astype("float32"))
    mask = tf.constant(np.arange(7)[None] < np.array([7, 3, 1, 5, 6])[:, None])
    expected = layer(inputs, mask=mask).numpy()
    np.testing.assert_allclose(hoisted_gru(inputs, mask, layer).numpy(), expected, rtol=1e-5, atol=1e-6)
