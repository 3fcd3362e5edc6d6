"""The CRF layer against brute-force enumeration of every tag sequence; saving and loading."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.layers import CRF


def sequence_score(potentials, transitions, tags):
    score = potentials[0, tags[0]]
    for t in range(1, len(tags)):
        score += transitions[tags[t - 1], tags[t]] + potentials[t, tags[t]]
    return score


def brute_force(potentials, transitions, length):
    """(log partition, best path) by enumerating all K^length sequences."""
    k = potentials.shape[1]
    paths = list(itertools.product(range(k), repeat=length))
    scores = np.array([sequence_score(potentials, transitions, p) for p in paths])
    log_z = np.log(np.sum(np.exp(scores - scores.max()))) + scores.max()
    return log_z, list(paths[int(np.argmax(scores))])


def make_crf(k, rng):
    crf = CRF(k)
    crf.build((None, None, k))
    crf.transitions.assign(rng.normal(size=(k, k)).astype(np.float32))
    return crf


@pytest.mark.parametrize("k,steps", [(2, 1), (3, 4), (4, 3), (5, 4)])
def test_log_likelihood_and_viterbi_match_enumeration(k, steps):
    rng = np.random.default_rng(k * 10 + steps)
    crf = make_crf(k, rng)
    batch = 6
    potentials = rng.normal(scale=2.0, size=(batch, steps, k)).astype(np.float32)
    lengths = np.array([steps, 1, steps, max(1, steps - 1), max(1, steps - 2), steps])
    mask = np.arange(steps)[None, :] < lengths[:, None]
    gold = rng.integers(0, k, size=(batch, steps)).astype(np.int32)
    ll = crf.log_likelihood(tf.constant(potentials), tf.constant(gold), tf.constant(mask)).numpy()
    decoded = crf(tf.constant(potentials), mask=tf.constant(mask)).numpy()
    trans = crf.transitions.numpy().astype(np.float64)
    for b in range(batch):
        n = lengths[b]
        log_z, best = brute_force(potentials[b, :n].astype(np.float64), trans, n)
        expected_ll = sequence_score(potentials[b, :n].astype(np.float64), trans, gold[b, :n]) - log_z
        assert ll[b] == pytest.approx(expected_ll, abs=1e-4)
        assert decoded[b, :n].tolist() == best
        assert (decoded[b, n:] == 0).all()


def test_probabilities_sum_to_one():
    rng = np.random.default_rng(0)
    k, steps = 3, 3
    crf = make_crf(k, rng)
    potentials = tf.constant(rng.normal(size=(1, steps, k)).astype(np.float32))
    total = 0.0
    for path in itertools.product(range(k), repeat=steps):
        total += np.exp(crf.log_likelihood(potentials, tf.constant([path], tf.int32)).numpy()[0])
    assert total == pytest.approx(1.0, abs=1e-5)


def test_gradient_reaches_transitions():
    rng = np.random.default_rng(1)
    crf = make_crf(3, rng)
    potentials = tf.constant(rng.normal(size=(2, 4, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = -tf.reduce_sum(crf.log_likelihood(potentials, tf.zeros((2, 4), tf.int32)))
    grad = tape.gradient(loss, crf.transitions)
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0


def test_get_config_round_trip():
    crf = CRF(7, name="crf")
    clone = CRF.from_config(crf.get_config())
    assert clone.num_tags == 7 and clone.name == "crf"


def tiny_crf_model(k):
    potentials = tf.keras.Input((None, k))
    mask = tf.keras.Input((None,), dtype=tf.bool)
    return tf.keras.Model([potentials, mask], CRF(k, name="crf")(potentials, mask=mask))


def test_saved_model_loads_with_the_same_transitions_and_paths(tmp_path):
    k = 5
    rng = np.random.default_rng(4)
    model = tiny_crf_model(k)
    model.get_layer("crf").transitions.assign(rng.normal(size=(k, k)).astype(np.float32))
    potentials = rng.normal(scale=2.0, size=(4, 6, k)).astype(np.float32)
    mask = np.arange(6)[None, :] < np.array([6, 3, 1, 5])[:, None]
    expected = model([potentials, mask]).numpy()
    model.save(tmp_path / "model.keras")
    loaded = tf.keras.models.load_model(tmp_path / "model.keras")
    assert type(loaded.get_layer("crf")) is CRF
    assert loaded.get_layer("crf").get_config() == model.get_layer("crf").get_config()
    np.testing.assert_array_equal(
        loaded.get_layer("crf").transitions.numpy(), model.get_layer("crf").transitions.numpy()
    )
    np.testing.assert_array_equal(loaded([potentials, mask]).numpy(), expected)
    assert (expected[1, 3:] == 0).all() and len(np.unique(expected)) > 1
