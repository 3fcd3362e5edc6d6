"""Where a result came from: the code commit recorded in run configs, results and benchmarks,
and how a commit or an LM fingerprint is shown."""

from __future__ import annotations

import os
import subprocess

SHORT_DIGITS = 12
DIRTY = "-dirty"  # the mark of :func:`git_commit`, as ``git describe --dirty`` writes it


def short(digest: str) -> str:
    """A git commit or an LM fingerprint (a sha256 hex digest) as every tool and report shows it:
    its first :data:`SHORT_DIGITS` hex digits, so a fingerprint ``make cpu-lms`` prints can be
    found in the report."""
    return digest[:SHORT_DIGITS]


def short_commit(commit: str) -> str:
    """A commit as :func:`git_commit` records it, shortened as :func:`short` with its
    :data:`DIRTY` mark kept."""
    return short(commit.removesuffix(DIRTY)) + (DIRTY if commit.endswith(DIRTY) else "")


# Folders of the checkout that hold what the project writes, not what it runs: run records and
# reports (``results/``), benchmark results. ``make report-runs`` records each finished seed
# into ``results/runs`` of the checkout it runs from, so counting them would mark every later
# seed of the job as trained by modified code.
OUTPUT_DIRS = ("results", "benchmarks/results")


def git_commit(directory: str | None = None) -> str:
    """The ``HEAD`` commit of the checkout holding ``directory`` (default: this package's), with
    :data:`DIRTY` when tracked files outside :data:`OUTPUT_DIRS` differ from it, or ``"unknown"``
    when git is missing, older than 2.15, or fails there (outside a checkout, a repository it
    refuses, a corrupt index). The checkout is the one holding ``directory`` even when
    ``GIT_DIR`` or ``GIT_WORK_TREE`` name another (as in a git hook)."""
    here = directory or os.path.dirname(os.path.abspath(__file__))
    # ":/": the whole checkout, named explicitly since ``here`` is usually a subfolder; "top":
    # the exclusions are relative to the checkout's root, not to ``here``.
    code = [":/", *(f":(top,exclude){d}" for d in OUTPUT_DIRS)]
    # --no-literal-pathspecs: with GIT_LITERAL_PATHSPECS=1 the magic above would match no file
    # and changed code would pass as clean; --no-optional-locks: a run's status check must not
    # take the index lock of a checkout someone is committing in.
    git = ["git", "--no-literal-pathspecs", "--no-optional-locks"]
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    try:
        head = subprocess.run(
            [*git, "rev-parse", "HEAD"], cwd=here, env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no", "--", *code],
            cwd=here,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + (DIRTY if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
