"""The tagger builder: LM-feature insertion points, shapes and parameter counts."""

import zipfile

import numpy as np
import pytest
from tensorflow import keras

from taglm_tf.models.config import INSERTION_POINTS, TaggerConfig
from taglm_tf.models.tagger import build_tagger

WORDS, CHARS, TAGS, EXTRA = 30, 12, 5, 6


def gru_params(inputs, units):
    return 3 * (inputs * units + units * units + 2 * units)  # Keras GRU, reset_after=True


def lstm_params(inputs, units):
    return 4 * (inputs * units + units * units + units)


def expected_params(config: TaggerConfig) -> int:
    c = config
    rnn = gru_params if c.rnn_cell == "gru" else lstm_params
    char_out = 2 * c.char_units if c.char_encoder == "rnn" else c.char_units
    chars = CHARS * c.char_dim + (
        2 * gru_params(c.char_dim, c.char_units)
        if c.char_encoder == "rnn"
        else c.char_width * c.char_dim * c.char_units + c.char_units
    )
    extra = {p: (EXTRA if c.extra_dim and c.insertion_point == p else 0) for p in INSERTION_POINTS}
    in1 = char_out + c.word_dim + extra["rnn1_input"]
    in2 = 2 * c.rnn_units + extra["rnn1_output"]
    units2 = c.rnn2_units or c.rnn_units
    out = 2 * units2 + extra["rnn2_output"]
    return (
        WORDS * c.word_dim
        + chars
        + 2 * rnn(in1, c.rnn_units)
        + 2 * rnn(in2, units2)
        + out * TAGS
        + TAGS
        + TAGS * TAGS
    )


def inputs(batch=3, steps=7, extra=False):
    rng = np.random.default_rng(0)
    word_ids = rng.integers(1, WORDS, size=(batch, steps)).astype(np.int32)
    word_ids[1, 4:] = 0
    out = {
        "word_ids": word_ids,
        "char_ids": rng.integers(0, CHARS, size=(9, 5)).astype(np.int32),
        "char_index": rng.integers(0, 9, size=(batch, steps)).astype(np.int32),
    }
    if extra:
        out["features"] = rng.normal(size=(batch, steps, EXTRA)).astype(np.float32)
    return out


CONFIGS = [
    TaggerConfig(char_units=4, char_dim=3, word_dim=5, rnn_units=6),
    TaggerConfig(
        char_encoder="cnn", char_units=4, char_dim=3, word_dim=5, rnn_cell="lstm", rnn_units=6, rnn2_units=3
    ),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_baseline_parameter_count_and_shapes(config):
    model = build_tagger(config, WORDS, CHARS, TAGS)
    assert model.count_params() == expected_params(config)
    out = model(inputs())
    assert out["potentials"].shape == (3, 7, TAGS) and out["tags"].shape == (3, 7)
    assert (out["tags"].numpy()[1, 4:] == 0).all()


@pytest.mark.parametrize("point", INSERTION_POINTS)
def test_lm_features_at_each_insertion_point(point):
    config = TaggerConfig(
        char_units=4, char_dim=3, word_dim=5, rnn_units=6, extra_dim=EXTRA, insertion_point=point
    )
    model = build_tagger(config, WORDS, CHARS, TAGS)
    assert model.count_params() == expected_params(config)
    concat = model.get_layer(f"concat_lm_{point}")
    assert concat.output_shape[-1] == concat.input_shape[0][-1] + EXTRA
    x = inputs(extra=True)
    base = model(x, training=False)["potentials"].numpy()
    x["features"] = x["features"] + 1.0
    assert not np.allclose(base, model(x, training=False)["potentials"].numpy())


def test_unknown_insertion_point_is_rejected():
    with pytest.raises(ValueError, match="insertion_point must be one of .*not 'rnn3'"):
        build_tagger(TaggerConfig(extra_dim=3, insertion_point="rnn3"), WORDS, CHARS, TAGS)


def test_pretrained_vectors_are_the_weights_but_not_in_the_saved_config(tmp_path):
    config, words = CONFIGS[0], 2000
    vectors = np.random.default_rng(0).normal(size=(words, config.word_dim))  # float64, as read
    model = build_tagger(config, words, CHARS, TAGS, word_vectors=vectors)
    np.testing.assert_allclose(model.get_layer("word_embedding").embeddings.numpy(), vectors, rtol=1e-6)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        assert z.getinfo("config.json").file_size < 50_000  # the 10,000 numbers as JSON: ~200 kB
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.get_layer("word_embedding").embeddings.numpy(), vectors, rtol=1e-6)
