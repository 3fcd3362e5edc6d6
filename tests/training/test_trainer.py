"""Training end to end on the shipped sample: the schedule, TensorBoard, save/load (resume after
an interruption: test_run_lifecycle.py)."""
import json
import os

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

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems


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
