"""Training end to end on the shipped sample: resume after a kill, TensorBoard, save/load."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from conftest import tiny_config
from taglm_tf.data import conll
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.errors import InputError
from taglm_tf.evaluation import Predictor
from taglm_tf.experiment import run_experiment
from taglm_tf.models import saving
from taglm_tf.tasks import sample_paths

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    config = tiny_config(tmp_path_factory.mktemp("full") / "run")
    return config, run_experiment(config)


def test_schedule_runs_to_the_end(finished_run):
    config, results = finished_run
    history = results["history"]
    lrs = [h["lr"] for h in history]
    assert history[-1]["action"] == "stop"
    assert lrs[-2:] == pytest.approx([1e-4, 1e-5])
    assert results["epochs"] == len(history) == [h["epoch"] for h in history][-1]
    for name in ("model.keras", "vocab.json", "config.json", "results.json",
                 "dev_predictions.txt", "test_predictions.txt"):
        assert os.path.exists(os.path.join(config.model_dir, name)), name
    assert json.load(open(os.path.join(config.model_dir, "config.json")))["task"] == "ner"


def test_dev_f1_scalars_read_back_from_tensorboard(finished_run):
    config, results = finished_run
    acc = event_accumulator.EventAccumulator(
        os.path.join(config.model_dir, "tensorboard"), size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
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


def _wait_for_epochs(state_path, epochs, process, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"training exited early: {process.stderr.read()}")
        if os.path.exists(state_path):
            with open(state_path) as f:
                if len(json.load(f)["history"]) >= epochs:
                    return
        time.sleep(0.2)
    raise AssertionError("training made no progress")


def test_resume_after_kill_matches_an_uninterrupted_run(tmp_path, finished_run):
    """SIGKILL a real training process after epoch 2, resume it, and compare with a clean run."""
    _, reference = finished_run
    model_dir = tmp_path / "killed"
    cmd = [sys.executable, "-m", "experiments.ner", f"--model_dir={model_dir}", "--data_dir=/nonexistent",
           *(f"--{k}_file={v}" for k, v in sample_paths().items()),
           "--char_dim=4", "--char_units=4", "--word_dim=8", "--rnn_units=8", "--char_dropout=0",
           "--rnn_input_dropout=0", "--batch_size=16", "--patience=1", "--max_constant_epochs=3",
           "--anneal_epochs=1", "--anneal_steps=2", "--seed=3", "--verbose=0"]
    process = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_epochs(model_dir / "state.json", 2, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = json.load(open(model_dir / "state.json"))["history"]
    assert not (model_dir / "results.json").exists()
    resumed = subprocess.run(cmd + ["--resume"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    history = json.load(open(model_dir / "results.json"))["history"]
    assert history[:len(before)] == before
    # No dropout and a seeded data order per epoch: the resumed run equals an uninterrupted one.
    assert [h["dev_f1"] for h in history] == pytest.approx([h["dev_f1"] for h in reference["history"]])
    assert [h["loss"] for h in history] == pytest.approx([h["loss"] for h in reference["history"]], rel=1e-5)
