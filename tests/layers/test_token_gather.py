"""TokenGather: out[b, t] = type_vectors[index[b, t]], incl. the padding word's row; no mask."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers import TokenGather

TYPES = np.arange(1, 13, dtype=np.float32).reshape(4, 3) * np.array([1.0, -1.0, 0.5], np.float32)
TYPES[2] = 0.0  # the padding word "" (no characters) encodes to zeros and is gathered like any row
INDEX = np.array([[0, 3, 1, 2, 2], [1, 1, 2, 2, 2]], np.int32)


def test_gathers_type_rows():
    out = TokenGather()([tf.constant(TYPES), tf.constant(INDEX)]).numpy()
    assert out.shape == (2, 5, 3) and out.dtype == np.float32
    for b in range(2):
        for t in range(5):
            np.testing.assert_array_equal(out[b, t], TYPES[INDEX[b, t]])
    assert (out[0, 3:] == 0).all() and (out[1, 2:] == 0).all()


def test_in_functional_model_with_unknown_sizes_and_no_mask():
    types = keras.Input((3,))
    index = keras.Input((None,), dtype="int32")
    masked = keras.layers.Masking(0.0)(types)  # an upstream mask must not leak onto the tokens
    gathered = TokenGather()([masked, index])
    assert gathered.shape.as_list() == [None, None, 3]
    assert getattr(gathered, "_keras_mask", None) is None
    model = keras.Model([types, index], gathered)
    out = model([TYPES, INDEX[:1, :3]]).numpy()
    np.testing.assert_array_equal(out[0], TYPES[[0, 3, 1]])


def test_out_of_range_index_is_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError):
        TokenGather()([tf.constant(TYPES), tf.constant([[0, 4]])])


def test_config_round_trip():
    layer = TokenGather(name="char_gather")
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is TokenGather and clone.get_config() == layer.get_config()
    assert clone.name == "char_gather" and clone.weights == []
    inputs = [tf.constant(TYPES), tf.constant(INDEX)]
    np.testing.assert_array_equal(clone(inputs).numpy(), layer(inputs).numpy())
