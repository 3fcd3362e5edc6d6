"""LM training, for each LM kind (word-level LSTM and char-aware CNN-LSTM): MirroredStrategy on
two logical CPUs equals one device; sampled-softmax training lowers full-softmax perplexity; a
backward LM reads reversed text and learns to predict the previous word; the overhead benchmark
runs."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.lm.pretraining import corpus as lm_data
from taglm_tf.lm.pretraining.cnn_lstm_lm import CNNLSTMLanguageModel
from taglm_tf.lm.pretraining.config import LMTrainConfig
from taglm_tf.lm.pretraining.lm_kinds import char_encoder_of
from taglm_tf.lm.pretraining.lstm_lm import LSTMLanguageModel
from taglm_tf.lm.pretraining.trainer import LMTrainer, evaluate_perplexity, model_inputs
from taglm_tf.lm.vocab import LMVocabulary

WORDS = [f"w{i}" for i in range(8)]
VOCAB = LMVocabulary(["<S>", "</S>", "<UNK>"] + WORDS)
KINDS = ["lstm", "cnn_lstm"]


def make_lm(kind, reset_id, dropout=0.0):
    """A tiny model of ``kind``; the CNN-LSTM sees the words only through their chars."""
    if kind == "lstm":
        return LSTMLanguageModel(VOCAB.size, 8, 12, 6, num_sampled=5, reset_id=reset_id, dropout=dropout)
    return CNNLSTMLanguageModel(
        VOCAB.size,
        char_dim=4,
        conv_widths=(1, 2),
        conv_filters=(4, 6),
        num_highway=1,
        max_word_length=6,
        num_cells=12,
        projection_dim=6,
        num_layers=1,
        num_sampled=5,
        reset_id=reset_id,
        dropout=dropout,
    )


def make_corpus(kind, files, direction="forward", **kwargs):
    return lm_data.LMCorpus(
        files, VOCAB, direction, chars=char_encoder_of(make_lm(kind, -1), VOCAB), **kwargs
    )


def read(model, corpus, words):
    """``model``'s top outputs ``[1, T, P]`` after reading ``words`` (with their chars if it needs them)."""
    window = {"inputs": tf.constant([VOCAB.encode(words)])}
    if corpus.chars is not None:
        window["input_chars"] = tf.constant([corpus.chars.encode_words(words)])
    return model(*model_inputs(model, window))[0]


def write_sentences(path, sentences):
    path.write_text("".join(" ".join(s) + "\n" for s in sentences))
    return str(path)


def cycle_sentences(n, seed):
    """Runs of 3-6 consecutive words of the cycle w0 w1 .. w7 w0 ..: the next word is the
    successor, the previous word the predecessor."""
    rng = np.random.default_rng(seed)
    return [
        [WORDS[(start + k) % 8] for k in range(length)]
        for start, length in zip(rng.integers(0, 8, n), rng.integers(3, 7, n))
    ]


def trainer(kind, strategy, model_dir, batch_size, num_steps=5, reset_id=VOCAB.bos, dropout=0.0, **overrides):
    config = dict(
        batch_size=batch_size,
        num_steps=num_steps,
        train_steps=10**6,
        optimizer="adagrad",
        learning_rate=0.2,
        gradient_scale=float(num_steps),
        clip_norm=10.0,
        log_every=10**6,
        checkpoint_every=10**6,
    )
    config.update(overrides)
    tf.keras.utils.set_random_seed(0)
    return LMTrainer(
        strategy,
        lambda: make_lm(kind, reset_id, dropout),
        LMTrainConfig(**config),
        str(model_dir),
        log=lambda line: None,
    )


def train_epoch(lm, corpus):
    losses, states = [], lm.zero_states()
    for batch in lm_data.distributed_dataset(lm.strategy, corpus, lm.config.batch_size, lm.config.num_steps):
        loss_sum, count, states = lm.train_step(batch, states)
        losses.append(float(loss_sum) / float(count))
    return losses


@pytest.fixture(scope="module")
def two_devices():
    """One MirroredStrategy over two logical CPUs, or GPUs with ``TAGLM_TEST_GPUS`` set (see
    tests/conftest.py), for the module: two strategies in one process reuse collective keys."""
    kind = "GPU" if os.environ.get("TAGLM_TEST_GPUS") else "CPU"
    devices = tf.config.list_logical_devices(kind)
    if len(devices) < 2:
        pytest.skip(f"needs two logical {kind}s (tests/conftest.py)")
    return tf.distribute.MirroredStrategy([d.name for d in devices[:2]])


@pytest.mark.parametrize("kind", KINDS)
def test_mirrored_two_replicas_equal_one_device(tmp_path, kind, two_devices):
    path = write_sentences(tmp_path / "train.txt", cycle_sentences(23, seed=0))
    corpus = make_corpus(kind, [path], num_epochs=1)
    windows = list(lm_data.window_dataset(corpus, 4, 5).as_numpy_iterator())
    per_replica = [[w["weights"][:2].sum(), w["weights"][2:].sum()] for w in windows]
    assert len(windows) >= 6
    assert any(a != b for a, b in per_replica) and any(0 < a + b < 20 for a, b in per_replica)

    # clip_norm 1.0 binds: the clipped norm must be that of the summed gradient on both sides;
    # the state runs on across sentences (reset_id -1), so every row's state matters
    single = trainer(
        kind, tf.distribute.get_strategy(), tmp_path / "single", batch_size=4, clip_norm=1.0, reset_id=-1
    )
    mirrored = trainer(kind, two_devices, tmp_path / "mirrored", batch_size=2, clip_norm=1.0, reset_id=-1)
    for a, b in zip(single.model.weights, mirrored.model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    single_losses, mirrored_losses = train_epoch(single, corpus), train_epoch(mirrored, corpus)
    assert len(single_losses) == len(windows)
    np.testing.assert_allclose(mirrored_losses, single_losses, atol=1e-5, rtol=0)
    assert single_losses[-1] < single_losses[0]
    for a, b in zip(
        single.model.weights + single.optimizer.variables,
        mirrored.model.weights + mirrored.optimizer.variables,
    ):
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=1e-5, rtol=0)
    assert single.step == mirrored.step == len(windows)
    assert (
        single._step_fn.experimental_get_tracing_count()
        == mirrored._step_fn.experimental_get_tracing_count()
        == 1
    )


@pytest.mark.parametrize("kind", KINDS)
def test_sampled_softmax_training_lowers_heldout_perplexity(tmp_path, kind):
    train = make_corpus(
        kind,
        [write_sentences(tmp_path / "train.txt", cycle_sentences(300, seed=1))],
        shuffle=True,
        num_epochs=None,
    )
    heldout = make_corpus(kind, [write_sentences(tmp_path / "heldout.txt", cycle_sentences(40, seed=2))])
    lm = trainer(
        kind, tf.distribute.get_strategy(), tmp_path / "run", batch_size=8, num_steps=10, train_steps=120
    )
    before = evaluate_perplexity(lm.model, heldout, 8, 10)
    lm.fit(lm_data.distributed_dataset(lm.strategy, train, 8, 10))
    after = evaluate_perplexity(lm.model, heldout, 8, 10)
    assert before["tokens"] == after["tokens"] == sum(len(s) + 1 for s in cycle_sentences(40, seed=2))
    assert before["perplexity"] > 8 and after["perplexity"] < 0.5 * before["perplexity"]
    # sentences start from a zero state, so the packing does not matter
    assert abs(evaluate_perplexity(lm.model, heldout, 3, 7)["perplexity"] - after["perplexity"]) < 1e-3


@pytest.mark.parametrize("kind", KINDS)
def test_backward_lm_predicts_the_previous_word(tmp_path, kind):
    path = write_sentences(tmp_path / "train.txt", cycle_sentences(300, seed=3))
    train = make_corpus(kind, [path], "backward", shuffle=True, num_epochs=None)
    first = next(iter(lm_data.window_dataset(train, 1, 3)))
    ids, *_ = next(train.sentences())
    assert [VOCAB.id_to_word(i) for i in ids[1:-1]] == [
        WORDS[(WORDS.index(VOCAB.id_to_word(ids[1])) - k) % 8] for k in range(len(ids) - 2)
    ]  # descending run
    assert first["inputs"].numpy()[0, 0] == VOCAB.bos
    if kind == "cnn_lstm":  # the chars it reads are those of the reversed words, after <S> spelled
        words = [VOCAB.id_to_word(i) for i in first["inputs"].numpy()[0]]
        np.testing.assert_array_equal(first["input_chars"].numpy()[0], train.chars.encode_words(words))
        assert words[0] == "<S>" and words[2] == WORDS[(WORDS.index(words[1]) - 1) % 8]
    lm = trainer(
        kind, tf.distribute.get_strategy(), tmp_path / "run", batch_size=8, num_steps=10, train_steps=200
    )
    lm.fit(lm_data.distributed_dataset(lm.strategy, train, 8, 10))
    hits = 0
    for k in range(8):  # having read "<S> w(k+1) w(k)" backwards, the next word is w(k-1)
        outputs = read(lm.model, train, ["<S>", WORDS[(k + 1) % 8], WORDS[k]])
        hits += int(np.argmax(lm.model.softmax(outputs[0, -1:]).numpy())) == VOCAB.word_to_id(
            WORDS[(k - 1) % 8]
        )
    assert hits >= 7


def test_strategy_overhead_benchmark_runs():
    from benchmarks.lm_strategy_overhead import measure

    model_args = dict(embedding_dim=8, num_cells=12, projection_dim=6, num_sampled=5)
    result = measure(
        LMTrainConfig(batch_size=4, num_steps=5),
        model_args,
        vocab_size=50,
        device="/cpu:0",
        steps=2,
        warmup=1,
        rounds=1,
    )
    assert result["plain_seconds_per_step"] > 0 and result["mirrored_seconds_per_step"] > 0
    assert len(result["rounds"]["plain"]) == len(result["rounds"]["mirrored"]) == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_computes_the_same_model_and_trains(tmp_path, kind, precision):
    train = make_corpus(
        kind,
        [write_sentences(tmp_path / "train.txt", cycle_sentences(300, seed=1))],
        shuffle=True,
        num_epochs=None,
    )
    heldout = make_corpus(kind, [write_sentences(tmp_path / "heldout.txt", cycle_sentences(40, seed=2))])
    reference = trainer(kind, tf.distribute.get_strategy(), tmp_path / "f32", batch_size=8, num_steps=10)
    lm = trainer(
        kind,
        tf.distribute.get_strategy(),
        tmp_path / "run",
        batch_size=8,
        num_steps=10,
        train_steps=120,
        precision=precision,
    )
    assert tf.keras.mixed_precision.global_policy().name == "float32"  # restored after the build
    compute = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}[precision]
    assert {layer.compute_dtype for layer in lm.model.lstm_layers} == {compute}
    assert lm.model.softmax.compute_dtype == "float32"
    assert {v.dtype for v in lm.model.weights} == {tf.float32}
    assert isinstance(lm.optimizer, tf.keras.mixed_precision.LossScaleOptimizer) == (
        precision == "mixed_float16"
    )
    for a, b in zip(reference.model.weights, lm.model.weights):  # same seed, same initial weights
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    f32, mixed = (
        evaluate_perplexity(reference.model, heldout, 8, 10),
        evaluate_perplexity(lm.model, heldout, 8, 10),
    )
    assert mixed["loss"] == pytest.approx(f32["loss"], rel=1e-2)  # the same model, rounded
    lm.fit(lm_data.distributed_dataset(lm.strategy, train, 8, 10))
    assert lm.step == 120
    assert evaluate_perplexity(lm.model, heldout, 8, 10)["perplexity"] < 0.5 * f32["perplexity"]


def test_tf_config_is_checked(monkeypatch):
    from taglm_tf.lm.pretraining.trainer import tf_config_cluster
    from taglm_tf.utils.errors import InputError

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert tf_config_cluster() == {}
    cluster = {"worker": ["localhost:1", "localhost:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert tf_config_cluster() == cluster
    for bad, message in (
        ("{", "not JSON"),
        ("[1]", "must be a JSON object"),
        ('{"cluster": []}', "must be a JSON object"),
    ):
        monkeypatch.setenv("TF_CONFIG", bad)
        with pytest.raises(InputError, match=message):
            tf_config_cluster()


def test_saved_config_with_an_unknown_training_field_is_refused():
    from taglm_tf.lm.pretraining.config import PretrainConfig
    from taglm_tf.utils.errors import InputError

    with pytest.raises(InputError, match="training config has unknown fields: warmup_steps"):
        PretrainConfig.from_dict({"model_dir": "m", "train": {"warmup_steps": 10}})
