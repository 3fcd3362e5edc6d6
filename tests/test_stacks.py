"""The two TensorFlow stacks: the Makefile's choice of Python and stack, Keras 2 on both, no CUDA
wheel in a CPU install of the current stack."""
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CURRENT_STACK = importlib.util.find_spec("tf_keras") is not None
MAKE = shutil.which("make")


def fake_python(directory: Path, name: str, version: str) -> Path:
    """An executable that answers any ``-c`` snippet by printing ``version`` (the Makefile asks
    only for ``import venv`` to succeed and for ``major.minor``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def make_print_stack(path_dirs, *args):
    env = {"PATH": os.pathsep.join(str(d) for d in path_dirs), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([MAKE, "-s", "-C", str(REPO), *args], env=env, capture_output=True, text=True)


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
@pytest.mark.parametrize("on_path,args,expected", [
    ({"python3.11": "3.11", "python3.13": "3.13"}, [],
     "stack=card python=python3.11 venv=.venv extras=cpu,test"),
    ({"python3.12": "3.12", "python3.13": "3.13"}, [],
     "stack=current python=python3.13 venv=.venv-current extras=current,test"),
    ({"python3.11": "3.11", "python3.12": "3.12"}, ["STACK=current"],
     "stack=current python=python3.12 venv=.venv-current extras=current,test"),
    ({"python3.11": "3.11"}, ["STACK=current"],
     "stack=current python=python3.11 venv=.venv-current extras=current,test"),
])
def test_makefile_picks_stack_and_python_from_path(tmp_path, on_path, args, expected):
    for name, version in on_path.items():
        fake_python(tmp_path / "bin", name, version)
    result = make_print_stack([tmp_path / "bin"], "print-stack", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_makefile_python_override_decides_the_stack(tmp_path):
    fake_python(tmp_path / "bin", "python3.11", "3.11")
    elsewhere = fake_python(tmp_path / "other", "python3", "3.12")
    result = make_print_stack([tmp_path / "bin"], "print-stack", f"PYTHON={elsewhere}")
    assert result.stdout.strip() == f"stack=current python={elsewhere} venv=.venv-current extras=current,test"
    card = fake_python(tmp_path / "other", "py311", "3.11")
    result = make_print_stack([tmp_path / "bin"], "print-stack", f"PYTHON={card}")
    assert result.stdout.strip() == f"stack=card python={card} venv=.venv extras=cpu,test"


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_makefile_without_usable_python_says_what_to_install(tmp_path):
    broken = tmp_path / "bin" / "python3.12"  # like a pyenv shim of a version that is not active
    fake_python(tmp_path / "bin", "python3.12", "3.12")
    broken.write_text("#!/bin/sh\nexit 127\n")
    result = make_print_stack([tmp_path / "bin"], "test")
    assert result.returncode != 0
    assert result.stdout.strip() == ("No usable Python for the current stack (TF 2.21 + tf_keras): install "
                                     "python3.11, python3.12 or python3.13 (with venv), or pass "
                                     "PYTHON=/path/to/python3.1x.")
    result = make_print_stack([tmp_path / "bin"], "test", "STACK=card")
    assert result.returncode != 0 and "install python3.11 (with venv)" in result.stdout


@pytest.mark.parametrize("package", ["experiments", "lm_1b_export", "benchmarks", "taglm_tf.tag"])
def test_entry_points_select_keras_2_before_tensorflow(package):
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    code = (f"import sys, os; import {package}; "
            "print('tensorflow' in sys.modules, os.environ.get('TF_USE_LEGACY_KERAS'))")
    if package == "taglm_tf.tag":  # a CLI module imports TensorFlow itself: Keras must be 2 there
        code = f"import {package}, tensorflow as tf; print(tf.keras.Model.__module__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    if package == "taglm_tf.tag":  # Keras 3 would give keras.src.models.model
        assert out == ["tf_keras.src.engine.training" if CURRENT_STACK else "keras.src.engine.training"]
    else:
        assert out == ["False", "1" if CURRENT_STACK else "None"]


@pytest.mark.skipif(not CURRENT_STACK, reason="the card's stack (TF 2.15) has no tf_keras")
def test_current_stack_cpu_install_has_no_cuda_wheel():
    names = {d.metadata["Name"].lower().replace("_", "-")
             for d in importlib.metadata.distributions()}
    assert "tensorflow-cpu" in names and "tf-keras" in names and "tensorboard" in names
    assert "tensorflow" not in names, "the full TensorFlow build (CUDA) was installed"
    assert not sorted(n for n in names if n.startswith("nvidia-"))


def test_a_cli_run_writes_only_the_projects_messages_to_stderr(tmp_path):
    """A tiny LM pretraining run (tf.data generator, checkpoints, TensorBoard) with the user's
    environment, i.e. without the tests' TF_CPP_MIN_LOG_LEVEL: nothing on stderr on either stack
    (TensorFlow's notices are off by default, taglm_tf/__init__.py and taglm_tf/cli.py)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_USE_LEGACY_KERAS")}
    sample = REPO / "taglm_tf" / "resources" / "lm_sample.txt"
    result = subprocess.run(
        [sys.executable, "-m", "experiments.pretrain_lm", f"--model_dir={tmp_path / 'lm'}",
         f"--train_files={sample}", "--batch_size=4", "--num_steps=5", "--embedding_dim=8",
         "--num_cells=12", "--projection_dim=6", "--num_sampled=5", "--train_steps=10",
         "--checkpoint_every=5"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "step 10" in result.stdout
