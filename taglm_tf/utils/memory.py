"""Keep a long-running process's resident memory flat under glibc's malloc.

glibc serves allocations above its mmap threshold (128 KiB at start) with their own ``mmap``,
returned to the system when freed. Its threshold is dynamic: freeing such a block raises the
threshold to the block's size (up to 32 MiB). TensorFlow then allocates its larger tensors (of
sizes that vary from batch to batch) from the heap, where freed blocks leave holes that glibc
rarely returns, and peak RSS creeps up with the variety of shapes met, not with any live data:
tagging 1 M tokens peaked 20% above 100 k tokens. A fixed
threshold (``mallopt(M_MMAP_THRESHOLD)``, which also turns the dynamic adjustment off) keeps
large tensors on ``mmap``; peak RSS then stayed within 3%. The dynamic adjustment also raises
the heap's trim threshold to twice the mmap threshold, so a process that fixes the threshold
late (after importing TensorFlow and loading a model) resets the trim threshold too.

The fixed value is 1 MiB, not glibc's initial 128 KiB: at 128 KiB the recurrent layers'
per-step tensors (batch x units floats, about 150 KiB for the NER tagger at batch 128) each got
their own ``mmap`` and ``munmap``, with page faults and zeroing on every step, which halved the
tagging rate (300 k tokens: 67 s wall with 48 s of system time, against 35 s with 7.6 s at 1 MiB).
Per-batch tensors of varying size, the source of the
creep, are larger than 1 MiB and stay on ``mmap``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
DEFAULT_THRESHOLD = 1 << 20  # see the module docstring
ENV_VARIABLE = "MALLOC_MMAP_THRESHOLD_"  # glibc reads it at start-up; a user's setting wins


def fix_mmap_threshold(threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes for this process, and its trim
    threshold at the same value (glibc starts both at 128 KiB; see the module docstring for 1 MiB).

    Returns True if it was set; False where it does not apply: not glibc (macOS, musl), or
    ``MALLOC_MMAP_THRESHOLD_`` already in the environment (glibc applied the user's value).
    """
    if os.environ.get(ENV_VARIABLE):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, int(threshold)) == 1 and mallopt(M_TRIM_THRESHOLD, int(threshold)) == 1
