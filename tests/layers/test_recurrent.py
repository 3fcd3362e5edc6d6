"""taglm_tf's GRU/LSTM against Keras' own: equal outputs and gradients, no cuDNN kernel traced."""

import importlib

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers import GRU, LSTM, recurrent

pytestmark = pytest.mark.skipif(
    bool(tf.config.list_logical_devices("GPU")), reason="with a GPU the layers are Keras' unchanged"
)
PAIRS = [(GRU, keras.layers.GRU), (LSTM, keras.layers.LSTM)]
X = tf.random.stateless_normal([3, 6, 5], seed=[4, 2])
MASK = tf.sequence_mask([6, 2, 4], 6)  # right-padded, as the tagger's batches


def twin(ours, theirs, **kwargs):
    a, b = ours(7, **kwargs), theirs(7, **kwargs)
    a.build(X.shape), b.build(X.shape)
    b.set_weights([np.random.default_rng(i).normal(size=w.shape) for i, w in enumerate(a.get_weights())])
    a.set_weights(b.get_weights())
    return a, b


def graph_run(layer):
    @tf.function
    def run(x, mask):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, mask=mask, training=True)
            loss = tf.reduce_sum(y * y)
        return y, tape.gradient(loss, [x] + layer.trainable_weights)

    return run


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize("kwargs", [dict(return_sequences=True), dict(go_backwards=True)])
def test_same_outputs_and_gradients_as_keras(ours, theirs, kwargs):
    a, b = twin(ours, theirs, **kwargs)
    np.testing.assert_array_equal(a(X, mask=MASK).numpy(), b(X, mask=MASK).numpy())  # eager
    (ya, ga), (yb, gb) = graph_run(a)(X, MASK), graph_run(b)(X, MASK)
    np.testing.assert_allclose(ya.numpy(), yb.numpy(), rtol=1e-6, atol=1e-6)
    for g, h in zip(ga, gb):
        np.testing.assert_allclose(g.numpy(), h.numpy(), rtol=1e-5, atol=1e-5)
    masked = a(X, mask=MASK).numpy()
    assert not np.allclose(masked, a(X).numpy())  # the mask reaches the layer


def gpu_functions(layer):
    graph = graph_run(layer).get_concrete_function(X, MASK).graph.as_graph_def()
    return [f.signature.name for f in graph.library.function if f.attr["api_preferred_device"].s == b"GPU"]


@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_no_cudnn_kernel_in_the_graph(ours, theirs):
    a, b = twin(ours, theirs, return_sequences=True)
    assert gpu_functions(b), "Keras registers its cuDNN kernel (the cost these layers avoid)"
    assert gpu_functions(a) == []


def test_keras_registers_its_cudnn_kernel_through_the_patched_name(monkeypatch):
    """Fails when Keras renames, moves or stops calling the private function the layers patch:
    the patch would then do nothing, silently."""
    utils = recurrent.cudnn_registration_module()
    assert utils is not None, f"no {recurrent.PATCHED_NAME} in {keras.layers.GRU.__module__}"
    assert utils is importlib.import_module(keras.layers.LSTM.__module__).gru_lstm_utils
    original, registered = utils.function_register, []

    def spy(func, *args, **kwargs):
        registered.append(func)
        return original(func, *args, **kwargs)

    monkeypatch.setattr(utils, "function_register", spy)
    graph_run(keras.layers.GRU(7))(X, MASK)
    by_keras_gru = len(registered)
    graph_run(keras.layers.LSTM(7))(X, MASK)
    assert by_keras_gru > 0 and len(registered) > by_keras_gru  # (once per trace)
    by_keras = len(registered)
    graph_run(GRU(7))(X, MASK)
    graph_run(LSTM(7))(X, MASK)
    assert len(registered) == by_keras and utils.function_register is spy  # skipped, then restored


def test_registration_restored_after_call_and_error():
    utils = recurrent.cudnn_registration_module()
    original = utils.function_register
    layer = GRU(3)
    graph_run(layer)(X, MASK)
    assert utils.function_register is original
    with pytest.raises(ValueError):  # raised inside the kernel: the state has 5 units, not 3
        tf.function(lambda x: layer(x, initial_state=[tf.zeros([3, 5])]))(tf.zeros([3, 4, 2]))
    assert utils.function_register is original


@pytest.mark.parametrize("ours", [GRU, LSTM])
def test_saved_model_round_trip(ours, tmp_path):
    inputs = keras.Input((None, 5))
    model = keras.Model(inputs, keras.layers.Bidirectional(ours(4, return_sequences=True))(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[1].forward_layer) is ours and type(loaded.layers[1].backward_layer) is ours
    np.testing.assert_array_equal(loaded(X).numpy(), model(X).numpy())
    assert ours(4).get_config()["units"] == 4
