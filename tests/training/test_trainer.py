"""Training end to end on the shipped sample: the schedule, progress output, TensorBoard, save/load
(resume after an interruption: test_run_lifecycle.py)."""

import contextlib
import io
import json
import os

import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata

from conftest import tiny_config
from taglm_tf.data import conll
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.models import saving
from taglm_tf.models.evaluation import Predictor
from taglm_tf.tasks import SpanLabels, sample_paths
from taglm_tf.training.config import TrainConfig
from taglm_tf.training.experiment import run_experiment
from taglm_tf.training.trainer import Trainer, verbosity
from taglm_tf.utils.errors import InputError

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems


@pytest.fixture(scope="module")
def finished_run_and_stdout(tmp_path_factory):
    """The one training run of this file, with the default verbosity and its stdout (a file, as
    in a log: not a terminal) captured, and a TensorBoard loss point every 10 steps."""
    config = tiny_config(tmp_path_factory.mktemp("full") / "run", verbose=None, log_every_steps=10)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        results = run_experiment(config)
    return config, results, stdout.getvalue()


@pytest.fixture(scope="module")
def finished_run(finished_run_and_stdout):
    return finished_run_and_stdout[:2]


def test_a_finished_run_records_what_its_test_chunks_became(finished_run):
    """Written with the predictions, before results.json: the counts of its test predictions,
    whose per-type correct, gold and guessed chunks are conlleval's."""
    from taglm_tf import run_dir
    from taglm_tf.reports import chunk_outcomes
    from taglm_tf.scoring import conlleval

    config, _ = finished_run
    predictions = os.path.join(config.model_dir, run_dir.TEST_PREDICTIONS)
    recorded = chunk_outcomes.read_outcomes(os.path.join(config.model_dir, run_dir.CHUNK_OUTCOMES))
    assert recorded == chunk_outcomes.file_outcomes(predictions)
    scored = conlleval.evaluate_file(predictions).per_type
    assert sum(c.found_gold for c in scored.values()) == sum(o.total for o in recorded.gold.values()) > 0
    for type_, counts in scored.items():
        gold = recorded.gold.get(type_, chunk_outcomes.TypeOutcomes())
        assert (gold.correct, gold.total) == (counts.correct, counts.found_gold)


def _accumulator(model_dir):
    acc = event_accumulator.EventAccumulator(
        os.path.join(model_dir, "tensorboard"), size_guidance={event_accumulator.TENSORS: 0}
    )
    acc.Reload()
    return acc


def _values(acc, tag):
    return [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]


def _train_data(featurizer, tags):
    train = conll.convert_tags(conll.read_conll(sample_paths()["train"], conll.CONLL2003), "iobes")
    return TaggingData(train, featurizer, tags)


def test_schedule_runs_to_the_end(finished_run):
    config, results = finished_run
    history = results["history"]
    lrs = [h["lr"] for h in history]
    assert history[-1]["action"] == "stop"
    assert lrs[-2:] == pytest.approx([1e-4, 1e-5])
    assert results["epochs"] == len(history) == [h["epoch"] for h in history][-1]
    for name in (
        "model.keras",
        "vocab.json",
        "config.json",
        "results.json",
        "dev_predictions.txt",
        "test_predictions.txt",
    ):
        assert os.path.exists(os.path.join(config.model_dir, name)), name
    assert json.load(open(os.path.join(config.model_dir, "config.json")))["task"] == "ner"


def test_dev_f1_scalars_read_back_from_tensorboard(finished_run):
    config, results = finished_run
    acc = _accumulator(config.model_dir)
    events = acc.Tensors("dev/f1")
    assert [e.step for e in events] == [h["epoch"] for h in results["history"]]
    logged = [float(tf.make_ndarray(e.tensor_proto)) for e in events]
    assert logged == pytest.approx([h["dev_f1"] for h in results["history"]], abs=1e-4)
    for tag in ("train/loss", "train/learning_rate", "train/tokens_per_sec", "dev/f1_PER"):
        assert len(acc.Tensors(tag)) == len(results["history"]), tag


def test_saved_model_reloads_with_identical_predictions(finished_run):
    config, _ = finished_run
    loaded = saving.load_tagger(config.model_dir)
    dev = conll.read_conll(sample_paths()["dev"], conll.CONLL2003)
    data = TaggingData(dev, loaded.resources.featurizer())
    predicted = Predictor(loaded.model, loaded.resources.tags).predict(data, "iob1")
    written = open(os.path.join(config.model_dir, "dev_predictions.txt")).read()
    assert conll.format_predictions(dev, predicted) == written
    assert loaded.model.get_layer("crf").get_config()["num_tags"] == len(loaded.resources.tags)


def test_existing_run_needs_resume(finished_run):
    config, _ = finished_run
    with pytest.raises(InputError, match="--resume"):
        run_experiment(config)


def test_step_loss_final_scores_and_hparams_in_tensorboard(finished_run):
    config, results = finished_run
    acc = _accumulator(config.model_dir)
    steps = results["epochs"] * _train_data(None, None).num_batches(config.train.batch_size, shuffle=True)
    step_loss = _values(acc, "train/step_loss")
    assert [step for step, _ in step_loss] == list(range(10, steps + 1, 10))
    assert all(loss > 0 for _, loss in step_loss)
    epochs, test = results["epochs"], results["scores"]["test"]
    assert _values(acc, "test/f1") == [(epochs, pytest.approx(results["test_f1"], abs=1e-4))]
    assert _values(acc, "dev/final_f1") == [(epochs, pytest.approx(results["dev_f1"], abs=1e-4))]
    for name, f1 in test["per_type"].items():
        assert _values(acc, f"test/f1_{name}") == [(epochs, pytest.approx(f1, abs=1e-4))], name
    content = acc.PluginTagToContent("hparams")[hparams_metadata.SESSION_START_INFO_TAG]
    hparams = hparams_metadata.parse_session_start_info_plugin_data(content).hparams
    assert hparams["task"].string_value == "ner" and hparams["embeddings"].string_value == "none"
    assert hparams["rnn_units"].number_value == config.model.rnn_units == 8
    assert hparams["learning_rate"].number_value == pytest.approx(1e-3)
    assert hparams["rnn2_units"].number_value == 8 and "verbose" not in hparams
    experiment = hparams_metadata.parse_experiment_plugin_data(
        acc.PluginTagToContent("hparams")[hparams_metadata.EXPERIMENT_TAG]
    )
    assert [m.name.tag for m in experiment.metric_infos] == ["dev/f1", "dev/final_f1", "test/f1"]
    assert {h.name for h in experiment.hparam_infos} == set(hparams)


def test_one_plain_line_per_epoch_in_a_log(finished_run_and_stdout):
    _, results, stdout = finished_run_and_stdout
    lines = stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"epoch {h['epoch']}" for h in results["history"]]
    assert "\r" not in stdout and "ETA" not in stdout and "/step" not in stdout and "/batch" not in stdout


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_bar_with_the_real_batch_count_on_a_terminal(finished_run, tmp_path):
    """An epoch of a few batches on the finished model, stdout a terminal: the bar counts to the
    epoch's real number of batches, shows an ETA, and ends its line before the epoch line."""
    config, _ = finished_run
    assert verbosity(None, FakeTerminal()) == 1 and verbosity(None, io.StringIO()) == 2
    assert verbosity(0, FakeTerminal()) == 0
    loaded = saving.load_tagger(config.model_dir)
    full = _train_data(loaded.resources.featurizer(), loaded.resources.tags)
    data = TaggingData(full.sentences[:10], full.featurizer, loaded.resources.tags)
    batches = data.num_batches(4, shuffle=True)
    assert batches == len(list(data.dataset(4, shuffle=True, seed=1, epoch=1))) == 3
    assert full.num_batches(16, shuffle=True) == len(list(full.dataset(16, shuffle=True, seed=3, epoch=2)))
    terminal = FakeTerminal()
    with contextlib.redirect_stdout(terminal):
        trainer = Trainer(
            loaded.model,
            Predictor(loaded.model, loaded.resources.tags),
            TrainConfig(batch_size=4, log_every_steps=0),
            str(tmp_path),
            SpanLabels("iob1"),
        )
        trainer._epoch(data, 1)
    shown = terminal.getvalue()
    assert "1/3" in shown and "ETA" in shown and "3/3" in shown
    assert shown.endswith("\n") and shown.count("\n") == 1  # one line rewritten in place, then ended


def test_hparams_trials_of_two_sweeps_with_the_same_run_names_stay_apart(finished_run, tmp_path):
    """Every sweep names its runs seed_k: seed_1 of two sweeps with the same settings (a rerun
    on the other stack, say), side by side under one TensorBoard logdir, are two HParams trials,
    not one row with averaged metrics; a resumed run writes its own trial id again, also after
    it was moved."""
    config, _ = finished_run
    loaded = saving.load_tagger(config.model_dir)

    def logged_trial(run_dir):
        trainer = Trainer(
            loaded.model,
            Predictor(loaded.model, loaded.resources.tags),
            TrainConfig(),
            str(run_dir),
            SpanLabels("iob1"),
            hparams={"forward_lm": "none", "seed": 1},
        )
        trainer.writer.flush()
        content = _accumulator(str(run_dir)).PluginTagToContent("hparams")[
            hparams_metadata.SESSION_START_INFO_TAG
        ]
        return hparams_metadata.parse_session_start_info_plugin_data(content).group_name

    first, second = logged_trial(tmp_path / "card" / "seed_1"), logged_trial(tmp_path / "current" / "seed_1")
    assert first != second and first.startswith("card/seed_1-") and second.startswith("current/seed_1-")
    os.rename(tmp_path / "card", tmp_path / "moved")
    assert logged_trial(tmp_path / "moved" / "seed_1") == first


def test_the_bar_shows_the_epochs_running_mean_loss(finished_run, tmp_path, monkeypatch):
    config, _ = finished_run
    loaded = saving.load_tagger(config.model_dir)
    data = TaggingData(
        _train_data(loaded.resources.featurizer(), loaded.resources.tags).sentences[:10],
        loaded.resources.featurizer(),
        loaded.resources.tags,
    )
    shown = []

    class RecordingBar:
        def __init__(self, *args, **kwargs):
            pass

        def update(self, step, values, finalize=False):
            shown.append(dict(values)["loss"])

    monkeypatch.setattr(tf.keras.utils, "Progbar", RecordingBar)
    trainer = Trainer(
        loaded.model,
        Predictor(loaded.model, loaded.resources.tags),
        TrainConfig(batch_size=4, log_every_steps=0),
        str(tmp_path),
        SpanLabels("iob1"),
    )
    losses = []
    step = trainer.train_step
    monkeypatch.setattr(trainer, "train_step", lambda batch: losses.append(float(step(batch))) or losses[-1])
    mean_loss, _ = trainer._epoch(data, 1)
    assert len(losses) == 3 and len(set(losses)) == 3
    assert shown == pytest.approx([losses[0], sum(losses[:2]) / 2, sum(losses) / 3, sum(losses) / 3])
    assert mean_loss == pytest.approx(sum(losses) / 3)
