"""Where a result came from: the code commit and the platform recorded in run configs, results
and benchmarks, and how a commit or an LM fingerprint is shown."""

from __future__ import annotations

import os
import platform as _platform
import subprocess
import sys

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


def platform() -> dict:
    """What ran a result, beside its commit: ``cpus`` (the CPUs this process may run on,
    ``os.sched_getaffinity``; ``os.cpu_count`` where there is none), ``machine`` (the
    architecture, ``x86_64``), ``cpu_model`` (``/proc/cpuinfo``'s model name, ``None`` elsewhere),
    ``cpu_flags`` (its sorted ``avx512*`` and ``amx*`` flags: empty, none; ``None``, not Linux),
    ``python`` and ``tensorflow`` (its version, ``None`` if this process has not imported it).

    The same code and seed train other weights on another kind of CPU (oneDNN picks its kernels
    by these flags), and the same 2-core machine type tagged about 3x faster with AVX-512, so
    trained weights compare bit for bit, and speeds at all, only on equal ``cpu_model`` and
    ``cpu_flags``."""
    tf, cpuinfo = sys.modules.get("tensorflow"), _cpuinfo()
    return {
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "machine": _platform.machine(),
        "cpu_model": cpuinfo.get("model name") if cpuinfo else None,
        "cpu_flags": None
        if cpuinfo is None
        else sorted(f for f in cpuinfo.get("flags", "").split() if f.startswith(("avx512", "amx"))),
        "python": _platform.python_version(),
        "tensorflow": getattr(tf, "__version__", None),
    }


def _cpuinfo() -> dict | None:
    """``/proc/cpuinfo``'s fields of its first processor, or ``None`` where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            first = f.read().split("\n\n", 1)[0]
    except OSError:
        return None
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in first.splitlines())}
