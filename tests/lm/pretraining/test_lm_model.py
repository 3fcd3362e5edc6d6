"""LSTMLanguageModel and LMSoftmax; LSTMPLayer's training options."""

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.layers.lstmp import LSTMPLayer
from taglm_tf.lm.pretraining import config as lm_config
from taglm_tf.lm.pretraining import lm_kinds
from taglm_tf.lm.pretraining.lstm_lm import LMSoftmax, LSTMLanguageModel, log_uniform_candidates

V = 23


@pytest.fixture(scope="module")
def model():
    tf.keras.utils.set_random_seed(0)
    lm = LSTMLanguageModel(V, embedding_dim=6, num_cells=10, projection_dim=5, num_layers=2, num_sampled=7)
    lm.build()
    return lm


def test_trainable_lstmp_options():
    frozen = LSTMPLayer(4, 3)
    frozen.build((None, None, 2))
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 7
    assert not any(v.trainable for v in frozen.weights)
    assert all((v.numpy() == 0).all() for v in frozen.weights)
    plain = LSTMPLayer(4, 3, use_peepholes=False, trainable=True, kernel_initializer="glorot_uniform")
    plain.build((None, None, 2))
    assert [w.name.split("/")[-1] for w in plain.trainable_weights] == [
        "input_kernel:0",
        "recurrent_kernel:0",
        "bias:0",
        "projection:0",
    ]
    assert not np.allclose(plain.input_kernel.numpy()[:2, :2], plain.recurrent_kernel.numpy()[:2, :2])
    # without peepholes == with zero peephole weights
    peep = LSTMPLayer(4, 3, trainable=True)
    peep.build((None, None, 2))
    for name in ("input_kernel", "recurrent_kernel", "bias", "projection"):
        getattr(peep, name).assign(getattr(plain, name))
    x = tf.random.normal([2, 5, 2])
    np.testing.assert_allclose(plain(x).numpy(), peep(x).numpy(), rtol=1e-6, atol=1e-7)
    assert LSTMPLayer.from_config(plain.get_config()).get_config() == plain.get_config()


def test_full_xent_matches_softmax_and_chunks(model):
    h = tf.random.normal([3, 4, 5])
    targets = tf.constant(np.random.default_rng(0).integers(0, V, (3, 4)))
    expected = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, model.softmax(h)).numpy()
    np.testing.assert_allclose(model.softmax.full_xent(h, targets).numpy(), expected, rtol=1e-5, atol=1e-5)
    chunked = LMSoftmax(V, 7, chunk_size=5)
    chunked.build((None, 5))
    chunked.set_weights(model.softmax.get_weights())
    np.testing.assert_allclose(chunked.full_xent(h, targets).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_state_carries_across_windows(model):
    ids = tf.constant(np.random.default_rng(1).integers(0, V, (3, 10)), tf.int32)
    whole, _ = model(ids)
    first, state = model(ids[:, :4])
    rest, _ = model(ids[:, 4:], initial_state=state)
    np.testing.assert_allclose(np.concatenate([first, rest], 1), whole.numpy(), rtol=1e-5, atol=1e-6)


def test_masked_steps_keep_the_state(model):
    ids = tf.constant(np.random.default_rng(2).integers(0, V, (2, 6)), tf.int32)
    mask = tf.constant([[True] * 6, [True, True, True, False, False, False]])
    outputs, state = model(ids, mask=mask)
    _, short_state = model(ids[1:, :3])
    assert (outputs.numpy()[1, 3:] == 0).all()
    for (c, h), (c_short, h_short) in zip(state, short_state):
        np.testing.assert_allclose(c.numpy()[1], c_short.numpy()[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h.numpy()[1], h_short.numpy()[0], rtol=1e-5, atol=1e-6)


def test_sampled_loss_has_sparse_gradients(model):
    ids = tf.constant(np.random.default_rng(3).integers(0, V, (2, 5)), tf.int32)
    with tf.GradientTape() as tape:
        outputs, _ = model(ids, training=True)
        loss = tf.reduce_sum(model.token_losses(outputs, ids, step=0))
    grads = dict(
        zip([v.name for v in model.trainable_variables], tape.gradient(loss, model.trainable_variables))
    )
    assert np.isfinite(loss.numpy()) and loss.numpy() > 0
    assert isinstance(grads["softmax/kernel:0"], tf.IndexedSlices)
    assert isinstance(grads["embedding/embeddings:0"], tf.IndexedSlices)


def test_config_round_trip_and_validation(model):
    clone = LSTMLanguageModel.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    with pytest.raises(ValueError, match="num_sampled"):
        LSTMLanguageModel(10, num_sampled=10)


def test_stateless_sampler_matches_tf_log_uniform_sampler():
    labels = tf.constant([[0], [5], [999]], tf.int64)
    draws = [
        log_uniform_candidates(labels, 50, 1000, tf.constant([7, step], tf.int64)) for step in range(200)
    ]
    first, again = draws[0], log_uniform_candidates(labels, 50, 1000, tf.constant([7, 0], tf.int64))
    np.testing.assert_array_equal(first[0].numpy(), again[0].numpy())
    assert not np.array_equal(first[0].numpy(), draws[1][0].numpy())
    for sampled, _, _ in draws:
        ids = sampled.numpy()
        assert len(set(ids)) == 50 and ids.min() >= 0 and ids.max() < 1000
    reference = [
        tf.random.log_uniform_candidate_sampler(labels, 1, 50, True, 1000, seed=i) for i in range(200)
    ]
    ours_true = np.mean([d[1].numpy() for d in draws], axis=0)
    tf_true = np.mean([r.true_expected_count.numpy() for r in reference], axis=0)
    np.testing.assert_allclose(ours_true, tf_true, rtol=0.05)
    # an id is drawn about as often as its expected count says
    hits_of_5 = np.mean([5 in d[0].numpy() for d in draws])
    assert abs(hits_of_5 - ours_true[1, 0]) < 0.1
    # in a graph, with several rounds of draws (59 of 60 ids take more than one block)
    sampled, _, expected = tf.function(log_uniform_candidates, reduce_retracing=True)(
        labels % 60, 59, 60, tf.constant([1, 2], tf.int64)
    )
    assert sorted(sampled.numpy().tolist()) == sorted(set(sampled.numpy().tolist())) and len(sampled) == 59
    assert (expected.numpy() > 0.5).all() and (expected.numpy() <= 1.0).all()


def test_reset_at_sentence_start():
    tf.keras.utils.set_random_seed(1)
    lm = LSTMLanguageModel(V, embedding_dim=6, num_cells=10, projection_dim=5, num_sampled=7, reset_id=0)
    lm.build()
    first, second = [0, 5, 6, 7, 1], [0, 8, 9]
    packed = tf.constant([first[:-1] + second + [0, 0]])  # inputs of two packed sentences, padded
    mask = tf.constant([[True] * 7 + [False] * 2])
    _, warm = lm(tf.constant([[4, 4, 4]]))  # some state carried in from an earlier window
    outputs, state = lm(packed, mask=mask, initial_state=warm)
    alone, alone_state = lm(tf.constant([second]))
    np.testing.assert_allclose(outputs.numpy()[0, 4:7], alone.numpy()[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state[0][0].numpy(), alone_state[0][0].numpy(), rtol=1e-5, atol=1e-6)
    carried = LSTMLanguageModel.from_config({**lm.get_config(), "reset_id": -1})
    carried.build()
    carried.set_weights(lm.get_weights())
    assert not np.allclose(
        carried(packed, mask=mask, initial_state=warm)[0].numpy()[0, 4:7], alone.numpy()[0]
    )


def test_every_lm_kind_has_a_config_and_a_model():
    """The two registries (configs without TensorFlow, models with it) name the same kinds, and
    each config records its own kind."""
    assert list(lm_config.CONFIGS) == list(lm_kinds.MODELS) == list(lm_config.LM_KINDS)
    assert all(cls().kind == kind for kind, cls in lm_config.CONFIGS.items())
