"""Where a result came from: the code commit recorded in run configs, results and benchmarks,
and how a commit or an LM fingerprint is shown."""

from __future__ import annotations

import os
import subprocess

SHORT_DIGITS = 12


def short(digest: str) -> str:
    """A git commit or an LM fingerprint (a sha256 hex digest) as every tool and report shows it:
    its first :data:`SHORT_DIGITS` hex digits, so a fingerprint ``make cpu-lms`` prints can be
    found in the report."""
    return digest[:SHORT_DIGITS]


def git_commit() -> str:
    """The checkout's ``HEAD`` commit, with ``-dirty`` when tracked files differ from it, or
    ``"unknown"`` outside a git checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True
        ).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
