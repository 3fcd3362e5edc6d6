"""The console scripts of setup.py: each resolves to a callable that runs one ``python -m`` entry
point of the project, as ``python -m`` runs it (process settings before TensorFlow, --help)."""

import ast
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import taglm_tf
from taglm_tf.utils import console_scripts, memory

REPO = Path(__file__).resolve().parents[1]
# The variables the process settings set, unset as in a user's fresh shell.
SETTINGS = ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "TF_USE_LEGACY_KERAS", memory.ENV_VARIABLE)


def setup_console_scripts() -> dict[str, str]:
    """``{script name: "module:function"}`` from setup.py's ``entry_points``."""
    tree = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "entry_points":
            lines = ast.literal_eval(node.value)["console_scripts"]
            return dict(tuple(part.strip() for part in line.split("=")) for line in lines)
    raise AssertionError("setup.py has no entry_points")


SCRIPTS = setup_console_scripts()


def resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def test_the_user_facing_commands_have_scripts():
    assert {
        "taglm-tag",
        "taglm-export",
        "taglm-conlleval",
        "taglm-train",
        "taglm-pretrain-lm",
        "taglm-eval-lm",
        "taglm-lm1b-export",
    } <= set(SCRIPTS)
    # The prefix tells taglm_tf's import that one of its own commands is running.
    assert all(name.startswith("taglm-") for name in SCRIPTS)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_console_script_runs_a_python_m_entry_point(name, monkeypatch):
    function = resolve(SCRIPTS[name])
    assert callable(function)
    ran = []
    monkeypatch.setattr(console_scripts.runpy, "run_module", lambda module, **kw: ran.append((module, kw)))
    function()
    [(module, kw)] = ran
    assert kw == {"run_name": "__main__", "alter_sys": True}
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    source = Path(spec.origin).read_text(encoding="utf-8")
    assert 'if __name__ == "__main__":' in source, f"{module} is not a python -m entry point"


def test_a_console_script_passes_on_the_exit_status(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["taglm-conlleval", "-x"])
    with pytest.raises(SystemExit) as exited:
        resolve(SCRIPTS["taglm-conlleval"])()
    assert exited.value.code == 1
    assert capsys.readouterr().err.startswith("conlleval: unknown argument -x (usage: ")
    assert sys.argv == ["taglm-conlleval", "-x"]  # restored after the run


# Runs the taglm-tag script's function as its installed wrapper does, recording the
# environment at the moment TensorFlow is first imported.
PROBE = r"""
import importlib.abc, json, os, sys
at_import = {}

class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" and not at_import:
            at_import.update({k: os.environ.get(k) for k in ("TF_CPP_MIN_LOG_LEVEL",)})
        return None

sys.meta_path.insert(0, Spy())
sys.argv = [os.path.join("venv", "bin", "taglm-tag"), *sys.argv[1:]]
from taglm_tf.utils.console_scripts import tag
try:
    tag()
    code = None
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "at_import": at_import}))
"""


def _probe(*args: str) -> tuple[dict, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    *lines, last = done.stdout.splitlines()
    return json.loads(last), "\n".join(lines), done.stderr


def test_a_console_script_shows_help_without_tensorflow():
    result, help_text, _ = _probe("--help")
    assert result == {"code": 0, "at_import": {}}
    assert "Tag text with a trained model" in help_text and "--model_dir" in help_text


def test_a_console_script_makes_the_process_settings_before_tensorflow(tmp_path):
    for name in ("model.keras", "vocab.json", "config.json"):  # found, but not a model: read with TensorFlow
        (tmp_path / name).write_text("{}")
    result, _, stderr = _probe(f"--model_dir={tmp_path}")
    assert result == {"code": 1, "at_import": {"TF_CPP_MIN_LOG_LEVEL": "2"}}
    assert stderr.strip().splitlines()[-1].startswith("error: ")


@pytest.mark.parametrize("argv0,expected", [("/venv/bin/taglm-tag", True), ("/venv/bin/python", False)])
def test_importing_taglm_tf_knows_its_own_console_scripts(monkeypatch, argv0, expected):
    monkeypatch.setattr(sys, "argv", [argv0, "--help"])
    assert taglm_tf._running_own_entry_point() == expected
