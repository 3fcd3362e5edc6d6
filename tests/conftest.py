"""Test-wide settings: the package importable from the repo root, the process set up as the
command-line tools set theirs up (quiet TF logs), two logical CPUs."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taglm_tf.utils import cli  # noqa: E402  (first: importing taglm_tf selects Keras 2 before TensorFlow)

# Before TensorFlow is imported, as in a CLI; the CLIs the tests start inherit the settings.
cli.configure_process()

import tensorflow as tf  # noqa: E402

# Two logical CPU devices, for the MirroredStrategy tests (tests/lm/pretraining/test_lm_training.py). Virtual
# devices can only be configured before the runtime starts (before any TF op), so it happens
# here, at import time, once; ops without a device still run on /cpu:0.
_cpus = tf.config.list_physical_devices("CPU")
if not tf.config.get_logical_device_configuration(_cpus[0]):
    try:
        tf.config.set_logical_device_configuration(_cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    except RuntimeError:  # the runtime already started: the two-device tests skip themselves
        pass
# TAGLM_TEST_GPUS=1 (make gpu-check): the two-device tests run on GPUs; one GPU is split in two.
_gpus = tf.config.list_physical_devices("GPU")
if os.environ.get("TAGLM_TEST_GPUS") and len(_gpus) == 1:
    tf.config.set_logical_device_configuration(
        _gpus[0], [tf.config.LogicalDeviceConfiguration(memory_limit=2048)] * 2
    )

import dataclasses  # noqa: E402

import pytest  # noqa: E402

from taglm_tf.models.config import TaggerConfig  # noqa: E402
from taglm_tf.tasks import sample_paths  # noqa: E402
from taglm_tf.training.config import ExperimentConfig, TrainConfig  # noqa: E402


def sigint_as_in_a_terminal():
    """``preexec_fn`` for a child that the test Ctrl-C's: a shell starts background jobs (``make
    test &``, CI runners) with SIGINT ignored, and Python then installs no KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: a test file that trains or runs CLIs for a minute or more; "
        "collected first so that pytest-xdist starts it first",
    )


def pytest_collection_modifyitems(config, items):
    """Files marked ``slow`` first (stable otherwise): ``--dist loadfile`` hands out files in
    collection order, and a slow file handed out last is the suite's tail on 2 workers."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


TINY_MODEL = TaggerConfig(
    char_dim=4, char_units=4, word_dim=8, rnn_units=8, char_dropout=0.0, rnn_input_dropout=0.0
)


def tiny_config(model_dir, **train_overrides) -> ExperimentConfig:
    """A seconds-long NER run on the shipped synthetic sample, without dropout (deterministic)."""
    train = dict(
        batch_size=16, patience=1, max_constant_epochs=3, anneal_epochs=1, anneal_steps=2, seed=3, verbose=0
    )
    train.update(train_overrides)
    return ExperimentConfig(
        task="ner",
        data_dir="/nonexistent",
        model_dir=str(model_dir),
        files=sample_paths(),
        model=dataclasses.replace(TINY_MODEL),
        train=TrainConfig(**train),
    )


@pytest.fixture
def tiny_experiment(tmp_path):
    return tiny_config(tmp_path / "run")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A tiny saved NER tagger (random weights), shared by the tagging and serving tests."""
    import tiny_model

    return tiny_model.shared_model_dir(tmp_path_factory)


@pytest.fixture(scope="session")
def tagger(model_dir):
    from taglm_tf.models.saving import load_tagger

    return load_tagger(model_dir)
