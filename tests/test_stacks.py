"""The two TensorFlow stacks: the Makefile's choice of Python and stack, Keras 2 on both, no CUDA
wheel in a CPU install of the current stack."""

import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CURRENT_STACK = importlib.util.find_spec("tf_keras") is not None
MAKE = shutil.which("make")
# Variables the tests' process sets (tests/conftest.py: `import taglm_tf`, then
# cli.configure_process, as a CLI does), so its children have them: unset them to see what a
# user's process does.
USER_UNSET = ("TF_CPP_MIN_LOG_LEVEL", "TF_USE_LEGACY_KERAS", "TF_ENABLE_ONEDNN_OPTS")


def fake_python(directory: Path, name: str, version: str) -> Path:
    """An executable that answers any ``-c`` snippet by printing ``version`` (the Makefile asks
    only for ``import venv, ensurepip`` to succeed and for ``major.minor``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def make_print_stack(path_dirs, *args):
    env = {"PATH": os.pathsep.join(str(d) for d in path_dirs), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([MAKE, "-s", "-C", str(REPO), *args], env=env, capture_output=True, text=True)


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
@pytest.mark.parametrize(
    "on_path,args,expected",
    [
        (
            {"python3.11": "3.11", "python3.13": "3.13"},
            [],
            "stack=card python=python3.11 venv=.venv extras=cpu,test",
        ),
        (
            {"python3.12": "3.12", "python3.13": "3.13"},
            [],
            "stack=current python=python3.13 venv=.venv-current extras=current,test",
        ),
        (
            {"python3.11": "3.11", "python3.12": "3.12"},
            ["STACK=current"],
            "stack=current python=python3.12 venv=.venv-current extras=current,test",
        ),
        (
            {"python3.11": "3.11"},
            ["STACK=current"],
            "stack=current python=python3.11 venv=.venv-current extras=current,test",
        ),
    ],
)
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
    assert result.returncode != 0 and "Illegal option" not in result.stderr
    assert result.stdout.strip() == (
        "No usable Python for the current stack (TF 2.21 + tf_keras): install "
        "python3.11, python3.12 or python3.13 (with venv), or pass "
        "PYTHON=/path/to/python3.1x."
    )
    result = make_print_stack([tmp_path / "bin"], "test", "STACK=card")
    assert result.returncode != 0 and "install python3.11 (with venv)" in result.stdout


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_makefile_refuses_a_python_the_stack_does_not_support(tmp_path):
    python312 = fake_python(tmp_path / "bin", "python3.12", "3.12")
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")  # a copy: nothing here may touch the real venvs
    (tmp_path / "setup.py").write_text("")
    result = subprocess.run(
        [MAKE, "-s", "venv", "STACK=card", f"PYTHON={python312}"],
        cwd=tmp_path,
        env={"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and not (tmp_path / ".venv").exists()
    assert result.stdout.strip().splitlines()[-1] == (
        f"PYTHON={python312} is Python 3.12; the card's stack (TF 2.15.1 + tensorflow-addons) needs python3.11."
    )


@pytest.mark.parametrize("package", ["experiments", "lm_1b_export", "benchmarks", "taglm_tf.tag"])
def test_entry_points_select_keras_2_before_tensorflow(package):
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    code = (
        f"import sys, os; import {package}; "
        "print('tensorflow' in sys.modules, os.environ.get('TF_USE_LEGACY_KERAS'))"
    )
    if package == "taglm_tf.tag":  # what tag's main imports brings TensorFlow: Keras must be 2 there
        code = f"import {package}, taglm_tf.serving.api, tensorflow as tf; print(tf.keras.Model.__module__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    if package == "taglm_tf.tag":  # Keras 3 would give keras.src.models.model
        assert out == ["tf_keras.src.engine.training" if CURRENT_STACK else "keras.src.engine.training"]
    else:
        assert out == ["False", "1" if CURRENT_STACK else "None"]


@pytest.mark.skipif(not CURRENT_STACK, reason="the card's stack (TF 2.15) has no tf_keras")
def test_current_stack_cpu_install_has_no_cuda_wheel():
    names = {d.metadata["Name"].lower().replace("_", "-") for d in importlib.metadata.distributions()}
    assert "tensorflow-cpu" in names and "tf-keras" in names and "tensorboard" in names
    assert "tensorflow" not in names, "the full TensorFlow build (CUDA) was installed"
    assert not sorted(n for n in names if n.startswith("nvidia-"))


def test_a_cli_run_writes_only_the_projects_messages_to_stderr(tmp_path):
    """A tiny LM pretraining run (tf.data generator, checkpoints, TensorBoard) with the user's
    environment, i.e. without the TensorFlow variables the tests' own process set: nothing on
    stderr on either stack (TensorFlow's notices and, on CPUs with AVX-512, TF 2.21's oneDNN
    lines are off by default, taglm_tf.utils.cli.configure_process; absl's info lines,
    taglm_tf.utils.cli.run)."""
    env = {k: v for k, v in os.environ.items() if k not in USER_UNSET}
    sample = REPO / "taglm_tf" / "resources" / "lm_sample.txt"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.pretrain_lm",
            f"--model_dir={tmp_path / 'lm'}",
            f"--train_files={sample}",
            "--batch_size=4",
            "--num_steps=5",
            "--embedding_dim=8",
            "--num_cells=12",
            "--projection_dim=6",
            "--num_sampled=5",
            "--train_steps=10",
            "--checkpoint_every=5",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "step 10" in result.stdout


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="oneDNN is an x86 default")
@pytest.mark.parametrize("setting,enabled", [(None, False), ("1", True), ("0", False)])
def test_onednn_is_off_on_the_current_stack_unless_the_user_turns_it_on(setting, enabled):
    """Whatever the CPU: on the current stack TensorFlow's oneDNN kernels (whose TF 2.21 start-up
    lines no log level hides on CPUs with AVX-512) are off in a CLI's process
    (``cli.configure_process``); the card's stack keeps TensorFlow's default (the variable stays
    unset); the user's setting wins on both."""
    env = {k: v for k, v in os.environ.items() if k not in USER_UNSET}
    if setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = setting
    code = (
        "import os; from taglm_tf.utils import cli; cli.configure_process(); "
        "from tensorflow.python.util import _pywrap_util_port as port; "
        "print(port.IsMklEnabled(), os.environ.get('TF_ENABLE_ONEDNN_OPTS'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    mkl, variable = out.stdout.split()
    if setting is None and not CURRENT_STACK:
        assert variable == "None"
    else:
        assert (mkl, variable) == (str(enabled), setting or "0")


def _installed_version(*dists):
    for dist in dists:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise AssertionError(f"none of {dists} is installed")


@pytest.mark.skipif(not CURRENT_STACK, reason="the card's stack (TF 2.15) has Keras 2 built in")
@pytest.mark.parametrize("entry_point", ["taglm_tf.tag", "experiments.ner", "lm_1b_export.export", "joined"])
def test_without_tf_keras_every_entry_point_says_what_to_install(tmp_path, entry_point):
    """The current stack installed without tf_keras (Keras 3 only): one error line naming the
    package to install, exit status 1, even for --help; a Python import gets an ImportError."""
    (tmp_path / "sitecustomize.py").write_text('import sys\nsys.modules["tf_keras"] = None\n')
    env = {
        **{k: v for k, v in os.environ.items() if k not in USER_UNSET},
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
    }
    tf_version = ".".join(_installed_version("tensorflow-cpu", "tensorflow").split(".")[:2])
    expected = (
        f"error: TagLM-TF needs Keras 2, and only Keras 3 is installed: "
        f"pip install --no-deps 'tf_keras=={tf_version}.*' (README, 'Set-up')\n"
    )
    command = ["-mtaglm_tf.tag"] if entry_point == "joined" else ["-m", entry_point]  # python -mMODULE too
    done = subprocess.run(
        [sys.executable, *command, "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, "", expected)
    imported = subprocess.run(
        [sys.executable, "-c", "import taglm_tf"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.returncode == 1 and imported.stderr.splitlines()[-1] == "ImportError: " + expected[7:-1]
    # Another package's `python -m` entry point that can do without taglm_tf gets the ImportError.
    (tmp_path / "otherpkg").mkdir()
    (tmp_path / "otherpkg" / "__init__.py").write_text(
        "try:\n    import taglm_tf\nexcept ImportError:\n    print('fallback')\n"
    )
    (tmp_path / "otherpkg" / "cli.py").write_text("print('ran')\n")
    other = subprocess.run(
        [sys.executable, "-m", "otherpkg.cli"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (other.returncode, other.stdout) == (0, "fallback\nran\n"), other.stderr


# The venv handling, on a copy of the Makefile with a PATH that holds only real Pythons of this
# machine. ``make -n`` shows what would run without installing anything.


def _real_python(name: str):
    """The interpreter behind ``name`` on this machine (resolving pyenv shims), or None."""
    if not shutil.which(name):
        return None
    try:
        done = subprocess.run(
            [name, "-c", "import sys, venv, ensurepip; print(sys.executable)"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


PYTHONS = {v: p for v in ("3.11", "3.12", "3.13") if (p := _real_python(f"python{v}"))}
THIS = "%d.%d" % sys.version_info[:2]
needs_this_python = pytest.mark.skipif(
    MAKE is None or THIS not in PYTHONS, reason=f"python{THIS} is not on PATH"
)


@pytest.fixture
def project(tmp_path):
    """A copy of the Makefile beside a setup.py, and a bin directory of python3.1x links."""
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    (tmp_path / "setup.py").write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for version, path in PYTHONS.items():
        os.symlink(path, bin_dir / f"python{version}")
    return tmp_path


def make_in(project, *args, dry_run=True, **env):
    env = {"PATH": f"{project / 'bin'}:/usr/bin:/bin", "HOME": str(project), **env}
    return subprocess.run(
        [MAKE, *(["-n"] if dry_run else []), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _venv(project, version, with_pip=True, made_by_make=True):
    """A venv as the Makefile leaves it (marked, installed after setup.py was written); pip
    stands in as a link where the test is not about pip, to save the seconds ensurepip takes."""
    venv = project / ".venv-current"
    subprocess.run([PYTHONS[version], "-m", "venv", str(venv), "--without-pip"], check=True, timeout=300)
    if with_pip:
        os.symlink("python", venv / "bin" / "pip")
    if made_by_make:
        (venv / ".made-by-make").touch()
    (venv / ".installed").touch()


@pytest.mark.skipif(MAKE is None or len(PYTHONS) < 2, reason="needs two of python3.11-3.13 on this machine")
def test_a_venv_of_another_python_than_the_one_given_is_made_anew(project):
    old, new = sorted(PYTHONS)[:2]
    _venv(project, old)
    done = make_in(project, "venv", "STACK=current", f"PYTHON=python{new}")
    assert done.returncode == 0, done.stderr
    assert f".venv-current runs Python {old}, not {new} of PYTHON=python{new}: making it anew" in done.stdout
    assert "rm -rf .venv-current\n" in done.stdout and f"python{new} -m venv .venv-current" in done.stdout
    kept = make_in(project, "venv", "STACK=current")  # no PYTHON given: a supported venv is kept
    assert kept.returncode == 0 and "making it anew" not in kept.stdout and "-m venv" not in kept.stdout


@needs_this_python
def test_a_venv_without_pip_is_made_anew_and_a_good_one_kept(project):
    _venv(project, THIS, with_pip=False)
    done = make_in(project, "venv", "STACK=current", f"PYTHON=python{THIS}")
    assert done.returncode == 0, done.stderr
    assert "has no working Python or no pip: making it anew" in done.stdout
    assert "rm -rf .venv-current\n" in done.stdout
    (project / ".venv-current" / "bin" / "pip").symlink_to("python")
    kept = make_in(project, "venv", "STACK=current", f"PYTHON=python{THIS}", PYTHON_VERSION="3.99.1")
    assert kept.returncode == 0, kept.stderr
    assert (
        "making it anew" not in kept.stdout
        and "-m venv" not in kept.stdout
        and "pip install" not in kept.stdout
    )


@needs_this_python
def test_a_venv_the_makefile_did_not_make_is_refused_not_deleted(project):
    _venv(project, THIS, with_pip=False, made_by_make=False)
    done = make_in(project, "venv", "STACK=current", f"PYTHON=python{THIS}", dry_run=False)
    assert done.returncode != 0 and done.stdout.splitlines()[-1] == (
        ".venv-current has no working Python or no pip, and this Makefile did not make it: remove it, "
        "or pass VENV=another/dir"
    )
    assert (project / ".venv-current" / "bin" / "python").exists()


@needs_this_python
def test_a_python_that_does_not_run_is_refused_before_the_venv_is_touched(project):
    _venv(project, THIS, with_pip=False)
    done = make_in(project, "venv", "STACK=current", "PYTHON=python3.99", dry_run=False)
    assert done.returncode != 0 and "No usable Python for the current stack" in done.stdout
    assert done.stderr.startswith("make: ***") and "Illegal option" not in done.stderr
    assert (project / ".venv-current" / "bin" / "python").exists()


@pytest.mark.skipif(MAKE is None, reason="needs make")
def test_make_clean_removes_only_the_venvs_it_made(project):
    for name, marked in ((".venv", True), (".venv-current", False)):
        (project / name / "bin").mkdir(parents=True)
        if marked:
            (project / name / ".made-by-make").touch()
    done = make_in(project, "clean", dry_run=False)
    assert done.returncode == 0, done.stderr
    assert "rm -rf .venv\n" in done.stdout
    assert ".venv-current: no .made-by-make marker (not made by this Makefile), kept" in done.stdout
    assert not (project / ".venv").exists() and (project / ".venv-current" / "bin").is_dir()


@pytest.mark.parametrize(
    "argv,module",
    [
        (["py", "-m", "experiments.ner"], "experiments.ner"),
        (["py", "-mtaglm_tf.tag"], "taglm_tf.tag"),
        (["py", "-Im", "x"], "x"),
        (["py", "-OOmx"], "x"),
        (["py", "-W", "ignore", "-m", "x"], "x"),
        (["py", "-Wignore", "-mx"], "x"),
        (["py", "-X", "dev", "-m", "x"], "x"),
        (["py", "-c", "import x"], ""),
        (["py", "script.py", "-m", "x"], ""),
        (["py"], ""),
    ],
)
def test_the_module_of_a_python_command_line(argv, module):
    from taglm_tf import _module_of

    assert _module_of(argv) == module
