"""Process-wide settings belong to the command-line tools: importing the project's packages
changes nothing in the process but Keras 2's selection, and every entry point calls
``cli.configure_process`` before its imports reach TensorFlow."""

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taglm_tf.utils import cli, memory

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("taglm_tf", "experiments", "benchmarks", "lm_1b_export", "tools")
CURRENT_STACK = importlib.util.find_spec("tf_keras") is not None
# Set by the tests' own process (tests/conftest.py) or by a user: unset for a user's fresh process.
SETTINGS = ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "TF_USE_LEGACY_KERAS", memory.ENV_VARIABLE)
# Entry points that do not call it: the conlleval command imports no TensorFlow (nor
# taglm_tf.utils.cli, which it does not need); the sample-data generator is plain
# Python run as a script (python tools/make_sample_data.py) and imports no project code; so is
# flair's side of the speed comparison, run in the flair venv, where the project is not installed.
WITHOUT_SETTINGS = {"taglm_tf.conlleval", "tools.make_sample_data", "benchmarks.flair_tagger"}
# The tagger's tools split the threads between the two directions of its BiRNNs; the tagging
# CLI, a long-running process, also fixes malloc's mmap threshold.
TAGGER_TOOLS = (
    "experiments.train_tagger",
    "experiments.ner",
    "experiments.chunking",
    "benchmarks.tagger_throughput",
    "benchmarks.tagger_profile",
    "benchmarks.tag_stream",
    "benchmarks.gru_variants",
    "tools.repredict",
)
SPECIAL_SETTINGS = {
    "taglm_tf.tag": "fix_mmap_threshold=True, birnn_threads=True",
    **{module: "birnn_threads=True" for module in TAGGER_TOOLS},
}

# Imports taglm_tf, then TensorFlow (which sets variables of its own), then every module of the
# packages, recording the environment's changes and whether ctypes was asked for mallopt (how
# taglm_tf.utils.memory reaches glibc); then, as a control that the probe sees both, what
# cli.configure_process(fix_mmap_threshold=True) changes.
PROBE = r"""
import ctypes, importlib, json, os, pkgutil, sys
asked = []
for name in ("__getattr__", "__getitem__"):
    def spy(self, key, _original=getattr(ctypes.CDLL, name)):
        asked.append(key)
        return _original(self, key)
    setattr(ctypes.CDLL, name, spy)

def changes(before):
    return {k: os.environ.get(k) for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)}

before = dict(os.environ)
import taglm_tf
package = {"changed": changes(before), "tensorflow": "tensorflow" in sys.modules}
import tensorflow
before = dict(os.environ)
modules = 0
for name in sys.argv[1:]:
    path = importlib.import_module(name).__path__
    for info in pkgutil.walk_packages(path, name + "."):
        importlib.import_module(info.name)
        modules += 1
imported = {"changed": changes(before), "mallopt": "mallopt" in asked, "modules": modules}
before = dict(os.environ)
from taglm_tf.utils import cli
cli.configure_process(fix_mmap_threshold=True)
configured = {"changed": changes(before), "mallopt": "mallopt" in asked}
print(json.dumps([package, imported, configured]))
"""


def user_env(**settings):
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return {**env, **settings}


def test_importing_every_module_leaves_the_process_alone():
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *PACKAGES],
        cwd=REPO,
        env=user_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    package, imported, configured = json.loads(out.stdout.splitlines()[-1])
    assert package == {"changed": {"TF_USE_LEGACY_KERAS": "1"} if CURRENT_STACK else {}, "tensorflow": False}
    assert imported["modules"] > 100  # the walk reached every module
    assert imported["changed"] == {} and not imported["mallopt"]
    assert configured["changed"] == {
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **({"TF_ENABLE_ONEDNN_OPTS": "0"} if CURRENT_STACK else {}),
    }
    assert configured["mallopt"] == sys.platform.startswith("linux")


def test_configure_process_keeps_the_users_settings(monkeypatch):
    fixed = []
    monkeypatch.setattr(memory, "fix_mmap_threshold", lambda: fixed.append(True))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    cli.configure_process()
    assert (os.environ["TF_CPP_MIN_LOG_LEVEL"], os.environ["TF_ENABLE_ONEDNN_OPTS"]) == ("0", "1")
    assert fixed == []
    cli.configure_process(fix_mmap_threshold=True)
    assert fixed == [True]


@pytest.mark.parametrize("cpus,intra", [(2, "1"), (16, "8"), (1, "1"), (None, "1")])
def test_birnn_threads_split_the_cpus_between_the_two_directions(monkeypatch, cpus, intra):
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.delenv(name, raising=False)
    # the CPUs the process may use (a container's share of a 64-core host), else the count
    if cpus is None:
        monkeypatch.delattr(os, "sched_getaffinity", raising=False)
        monkeypatch.setattr(os, "cpu_count", lambda: None)
    else:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
        monkeypatch.setattr(os, "cpu_count", lambda: 64)
    cli.configure_process()
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ and "TF_NUM_INTEROP_THREADS" not in os.environ
    cli.configure_process(birnn_threads=True)
    assert (os.environ["TF_NUM_INTRAOP_THREADS"], os.environ["TF_NUM_INTEROP_THREADS"]) == (intra, "2")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "5")  # a user's setting stays
    cli.configure_process(birnn_threads=True)
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "5"


def entry_points():
    """(module name, path) of every module of the packages with an ``if __name__ == "__main__"``
    block."""
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(_is_main_guard(node) for node in tree.body):
                module = ".".join(path.relative_to(REPO).with_suffix("").parts)
                found.append((module, path))
    return found


def _is_main_guard(node) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"


def configure_call(path: Path):
    """The ``cli.configure_process(...)`` call the module makes before any import other than
    ``__future__`` and ``from taglm_tf.utils import cli``, as source text; None if it makes none."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    for node in body:
        if isinstance(node, ast.ImportFrom) and (
            node.module == "__future__"
            or (node.module == "taglm_tf.utils" and [a.name for a in node.names] == ["cli"])
        ):
            continue
        if _is_main_guard(node) and len(node.body) == 1:
            call = node.body[0].value if isinstance(node.body[0], ast.Expr) else None
            if isinstance(call, ast.Call) and ast.unparse(call.func) == "cli.configure_process":
                return ast.unparse(call)
        return None
    return None


def test_entry_points_are_found():
    modules = {m for m, _ in ENTRY_POINTS}
    assert {"taglm_tf.tag", "experiments.ner", "benchmarks.crf_ops", "tools.lm1b.make_synthetic"} <= modules
    assert WITHOUT_SETTINGS <= modules


ENTRY_POINTS = entry_points()


@pytest.mark.parametrize("module,path", ENTRY_POINTS, ids=[m for m, _ in ENTRY_POINTS])
def test_entry_point_configures_the_process_before_its_imports(module, path):
    call = configure_call(path)
    if module in WITHOUT_SETTINGS:
        assert call is None
        return
    expected = f"cli.configure_process({SPECIAL_SETTINGS.get(module, '')})"
    assert call == expected, f"{module} does not start with `if __name__ == '__main__': {expected}`"


def test_conlleval_imports_no_tensorflow():
    code = "import sys, taglm_tf.conlleval; print('tensorflow' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=user_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert out.stdout.split() == ["False"]
