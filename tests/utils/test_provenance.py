"""The commit recorded with every run: ``-dirty`` for changed code, never for the records and
reports the project writes into its own checkout; and the platform recorded beside it."""

import json
import os
import subprocess
import sys

import pytest

from taglm_tf.utils.provenance import git_commit, short_commit


def git(repo, *args):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture(autouse=True)
def plain_git(monkeypatch, tmp_path):
    """git as on a plain machine, whatever runs the tests: no repository or index named by the
    environment (a hook's GIT_DIR would receive the fixture's commit), no pathspec or signing
    settings, no repository found above ``tmp_path``."""
    for name in (
        *("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY"),
        *("GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT"),  # a hook's `git -c` settings
        *("GIT_LITERAL_PATHSPECS", "GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS"),
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


@pytest.fixture
def checkout(tmp_path):
    """A checkout laid out as this repository is: code, run records, benchmark results."""
    repo = tmp_path / "repo"
    files = {
        "taglm_tf/model.py": "x = 1\n",
        "results/runs/ner/seed_1/results.json": "{}\n",
        "results/REPORT.md": "# report\n",
        "benchmarks/results/speed.json": "{}\n",
        "benchmarks/speed.py": "y = 2\n",
        "taglm_tf/results/tables.py": "z = 3\n",  # code in a folder named like an output folder
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "start")
    return repo, git(repo, "rev-parse", "HEAD")


def test_records_reports_and_benchmark_results_leave_the_commit_clean(checkout):
    repo, head = checkout
    (repo / "results/runs/ner/seed_1/results.json").write_text('{"f1": 90}\n')
    (repo / "results/REPORT.md").write_text("# report, rebuilt\n")
    (repo / "benchmarks/results/speed.json").write_text('{"tokens_per_sec": 1}\n')
    (repo / "results/runs/ner/seed_2").mkdir()
    (repo / "results/runs/ner/seed_2/results.json").write_text("{}\n")  # untracked
    (repo / "notes.txt").write_text("untracked\n")
    assert git_commit(str(repo / "taglm_tf")) == head  # asked from a subfolder, as the package asks
    assert git_commit(str(repo)) == head


def test_a_pinned_worktree_that_recorded_its_runs_is_clean(checkout):
    """As ``make report-runs`` runs: from a ``git worktree add`` checkout, writing records there."""
    repo, head = checkout
    git(repo, "worktree", "add", "-q", "--detach", str(repo.parent / "pinned"), "HEAD")
    pinned = repo.parent / "pinned"
    (pinned / "results/runs/ner/seed_1/results.json").write_text('{"f1": 91}\n')
    assert git_commit(str(pinned / "taglm_tf")) == head
    (pinned / "taglm_tf/model.py").write_text("x = 2\n")
    assert git_commit(str(pinned / "taglm_tf")) == f"{head}-dirty"


@pytest.mark.parametrize(
    "changed", ["taglm_tf/model.py", "benchmarks/speed.py", "taglm_tf/results/tables.py"]
)
@pytest.mark.parametrize("literal_pathspecs", [False, True])
def test_changed_code_is_dirty(checkout, changed, literal_pathspecs, monkeypatch):
    repo, head = checkout
    if literal_pathspecs:  # turns pathspec magic off unless git is told otherwise
        monkeypatch.setenv("GIT_LITERAL_PATHSPECS", "1")
    (repo / changed).write_text("changed = True\n")
    assert git_commit(str(repo / "taglm_tf")) == f"{head}-dirty"


def test_a_staged_deletion_is_dirty(checkout):
    repo, head = checkout
    git(repo, "rm", "-q", "benchmarks/speed.py")
    assert git_commit(str(repo / "taglm_tf")) == f"{head}-dirty"


def test_outside_a_checkout(tmp_path):
    assert git_commit(str(tmp_path)) == "unknown"


def test_a_status_git_cannot_read_is_unknown_not_clean(checkout):
    repo, _ = checkout
    (repo / ".git" / "index").write_bytes(b"not an index")
    assert git_commit(str(repo / "taglm_tf")) == "unknown"


def test_the_checkout_asked_about_whatever_git_dir_names(checkout, tmp_path, monkeypatch):
    repo, head = checkout
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    (other / "f").write_text("f\n")
    git(other, "add", "f")
    git(other, "commit", "-q", "-m", "other")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))  # as in a hook of the other repository
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert git_commit(str(repo / "taglm_tf")) == head


def test_a_commit_is_shown_in_12_digits_with_its_dirty_mark():
    head = "0123456789abcdef0123456789abcdef01234567"
    assert short_commit(head) == "0123456789ab"
    assert short_commit(f"{head}-dirty") == "0123456789ab-dirty"
    assert short_commit("unknown") == "unknown"


def test_platform_names_the_cpu_and_tensorflow_only_once_imported():
    probe = "import json; from taglm_tf.utils import provenance as p; print(json.dumps(p.platform()))"
    found = json.loads(
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    )
    assert found["tensorflow"] is None  # a record made before TensorFlow loads does not import it
    assert 1 <= found["cpus"] <= os.cpu_count() and found["machine"]
    probe = "import json, tensorflow as tf; from taglm_tf.utils import provenance as p; print(json.dumps(p.platform()))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(loaded.splitlines()[-1])["tensorflow"]  # recorded once TensorFlow is loaded
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
        assert found["cpu_flags"] == sorted(f for f in flags if f.startswith(("avx512", "amx")))
