"""PaddingMask: ids != 0, as a bool tensor of the ids' shape; serialisable."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers import PaddingMask

IDS = np.array([[5, 1, 7, 0, 0], [0, 3, 0, 2, 0], [0, 0, 0, 0, 0]])
EXPECTED = np.array([[1, 1, 1, 0, 0], [0, 1, 0, 1, 0], [0, 0, 0, 0, 0]], bool)


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_mask_values(dtype):
    mask = PaddingMask()(tf.constant(IDS, dtype)).numpy()
    assert mask.dtype == np.bool_ and mask.shape == IDS.shape
    np.testing.assert_array_equal(mask, EXPECTED)


def test_unknown_id_one_is_not_padding():
    assert PaddingMask()(tf.constant([[1, 0]])).numpy().tolist() == [[True, False]]


def test_in_functional_model():
    ids = keras.Input((None,), dtype="int32")
    mask = PaddingMask(name="mask")(ids)
    assert mask.dtype == tf.bool and mask.shape.as_list() == [None, None]
    model = keras.Model(ids, mask)
    np.testing.assert_array_equal(model(IDS[:2, :4].astype(np.int32)).numpy(), EXPECTED[:2, :4])


def test_config_round_trip():
    layer = PaddingMask(name="mask")
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is PaddingMask and clone.get_config() == layer.get_config()
    assert clone.name == "mask" and clone.weights == []
    np.testing.assert_array_equal(clone(tf.constant(IDS)).numpy(), layer(tf.constant(IDS)).numpy())
