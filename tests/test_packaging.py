"""`pip install -e .` as the Makefile runs it: no packaging warnings, and the checkout's packages
(with their data files) importable from the new environment."""

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("taglm_tf", "lm_1b_export", "experiments")
# What setuptools' build backend prints when it warns (SetuptoolsWarning and its subclasses,
# shown by pip as BuildBackendWarning, inside "!!" banners).
WARNING_MARKS = (
    "BuildBackendWarning",
    "SetuptoolsWarning",
    "SetuptoolsDeprecationWarning",
    "InformationOnly",
    "!!\n",
)
# pip's messages when it cannot reach an index (the Makefile's own install needs one too).
OFFLINE_SIGNS = (
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "No matching distribution found for pip",
)


def copy_project(dest: Path) -> Path:
    """The files a source install reads, copied so the install writes nothing into the checkout."""
    dest.mkdir()
    for name in ("setup.py", "README.md", "pyproject.toml", "setup.cfg", "MANIFEST.in"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, dest / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def test_editable_install_prints_no_packaging_warning_and_imports_the_checkout(tmp_path):
    project = copy_project(tmp_path / "project")
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    # As the Makefile does: a current pip first (pip 23 did not show the build backend's warnings).
    upgrade = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if upgrade.returncode != 0 and any(sign in upgrade.stderr for sign in OFFLINE_SIGNS):
        pytest.skip(f"the package index is unreachable (the install needs it): {upgrade.stderr[-300:]}")
    assert upgrade.returncode == 0, upgrade.stderr
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(project)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = install.stdout + install.stderr
    assert install.returncode == 0, output
    assert not [mark for mark in WARNING_MARKS if mark in output], output

    # Run from elsewhere, so the import comes from the install, not the working directory.
    probe = (
        "import importlib.util, importlib.resources as r\n"
        "for name in ('taglm_tf', 'lm_1b_export', 'experiments', 'experiments.flags'):\n"
        "    print(importlib.util.find_spec(name).submodule_search_locations[0])\n"
        "print(sorted(p.name for p in r.files('experiments.flags').iterdir())[0])\n"
    )
    found = subprocess.run(
        [str(python), "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert found.returncode == 0, found.stderr
    lines = found.stdout.split()
    assert lines[:4] == [
        str(project / "taglm_tf"),
        str(project / "lm_1b_export"),
        str(project / "experiments"),
        str(project / "experiments" / "flags"),
    ]
    assert lines[4].endswith(".cfg")
