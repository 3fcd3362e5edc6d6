"""What every benchmark adds to its result: the machine, the stack and the code version."""
from __future__ import annotations

import json
import os
import platform
from typing import Optional

import tensorflow as tf

from taglm_tf.provenance import git_commit


def report(result: dict, output: Optional[str] = None) -> None:
    """Add machine, stack and commit, print the result as JSON, and write it to ``output`` if given.

    ``cpu_flags`` lists the AVX-512 flags of /proc/cpuinfo (empty: none; absent: not Linux): the
    same 2-core machine type ran the tagger ~3x faster with them (WORKSPACE_NOTES.md, issue 13).
    """
    result.update({"cpus": os.cpu_count(), "machine": platform.machine(), "cpu_flags": _avx512_flags(),
                   "python": platform.python_version(), "tensorflow": tf.__version__,
                   "git_commit": git_commit()})
    print(json.dumps(result, indent=1))
    if output:
        with open(output, "w") as f:
            json.dump(result, f, indent=1)


def _avx512_flags() -> Optional[list]:
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return None
    return sorted(f for f in flags if f.startswith("avx512"))
