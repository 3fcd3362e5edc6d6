"""Highway (lm_1b gate convention) against the NumPy formula; frozen/trainable initialisation."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers.highway import HIGHWAY_GATE_OFFSET, Highway
from taglm_tf.lm.lm1b.checkpoint import HighwayWeights

W = 5


def random_weights(num_layers, seed=0):
    rng = np.random.default_rng(seed)
    return [
        HighwayWeights(*(rng.normal(size=s).astype(np.float32) for s in ((W, W), (W,), (W, W), (W,))))
        for _ in range(num_layers)
    ]


def reference(x, weights, gate_offset):
    x = x.astype(np.float64)
    for hw in weights:
        t = 1.0 / (1.0 + np.exp(-(x @ hw.gate_kernel + hw.gate_bias + gate_offset)))
        x = t * np.maximum(x @ hw.transform_kernel + hw.transform_bias, 0.0) + (1.0 - t) * x
    return x


@pytest.mark.parametrize(
    "num_layers,gate_offset,shape", [(1, None, (4, W)), (2, None, (2, 3, W)), (2, 0.7, (3, W))]
)
def test_matches_numpy(num_layers, gate_offset, shape):
    layer = Highway(num_layers, **({} if gate_offset is None else {"gate_offset": gate_offset}))
    weights = random_weights(num_layers)
    layer.build((None, W))
    layer.set_lm1b_weights(weights)
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    out = layer(tf.constant(x)).numpy()
    assert out.shape == shape and out.dtype == np.float32
    expected = reference(x, weights, -2.0 if gate_offset is None else gate_offset)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_frozen_zero_initialised_by_default():
    assert HIGHWAY_GATE_OFFSET == -2.0
    assert Highway(1, dtype="float64")(tf.zeros((1, W), tf.float64)).dtype == tf.float64
    layer = Highway(2)
    x = np.random.default_rng(2).normal(size=(3, W)).astype(np.float32)
    out = layer(tf.constant(x)).numpy()
    assert not layer.trainable and layer.trainable_weights == [] and len(layer.non_trainable_weights) == 8
    assert all((w.numpy() == 0).all() for w in layer.weights)
    carry = 1.0 - 1.0 / (1.0 + np.exp(2.0))  # zero weights: t = sigmoid(-2), relu(0) = 0
    np.testing.assert_allclose(out, carry**2 * x, rtol=1e-6)


def trainable_highway(width):
    keras.utils.set_random_seed(3)
    (layer := Highway(2, trainable=True)).build((None, width))
    return layer


def test_trainable_normal_kernels_zero_biases():
    layer = trainable_highway(64)
    assert len(layer.trainable_weights) == 8 and layer.non_trainable_weights == []
    for gate_kernel, gate_bias, transform_kernel, transform_bias in layer.layer_weights:
        assert (gate_bias.numpy() == 0).all() and (transform_bias.numpy() == 0).all()
        for kernel in (gate_kernel, transform_kernel):  # normal(0, sqrt(1 / 64))
            assert kernel.shape == (64, 64) and abs(kernel.numpy().std() - 0.125) < 0.01


def test_trainable_kernels_are_independent():
    kernels = [w.numpy() for w in trainable_highway(8).weights if w.name.endswith("kernel:0")]
    assert len(kernels) == 4
    assert all(not np.allclose(a, b) for i, a in enumerate(kernels) for b in kernels[i + 1 :])


def test_config_round_trip():
    layer = Highway(2, gate_offset=-1.5, name="hw")
    x = tf.constant(np.random.default_rng(4).normal(size=(3, W)).astype(np.float32))
    layer.build((None, W))
    layer.set_lm1b_weights(random_weights(2, seed=5))
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is Highway and clone.get_config() == layer.get_config()
    assert (clone.num_layers, clone.gate_offset, clone.trainable) == (2, -1.5, False)
    assert clone.built  # rebuilt from the serialised build config
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


def test_weights_for_another_number_of_layers_are_refused():
    layer = Highway(2)
    layer.build((None, W))
    with pytest.raises(ValueError, match="highway layers: the layer has 2, the weights have 1"):
        layer.set_lm1b_weights(random_weights(1))
