"""taglm_tf.memory: with glibc's mmap threshold fixed, freed large blocks go back to the system;
with its default dynamic threshold they stay resident (the RSS creep of issue 12)."""
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = r"""
import ctypes, sys
from taglm_tf.memory import fix_mmap_threshold
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
# a freed mmapped block: glibc's dynamic threshold rises to 8 MiB, as it does while TensorFlow
# is imported
libc.free(libc.malloc(8 << 20))
applied = fix_mmap_threshold() if sys.argv[1] == "fixed" else None
large, small = [], []
for _ in range(100):
    block = libc.malloc(1 << 20)
    ctypes.memset(block, 1, 1 << 20)
    large.append(block)
    small.append(libc.malloc(64))  # live small blocks between the large ones
before = rss()
for block in large:
    libc.free(block)
print(applied, (before - rss()) / (1 << 20))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.exists("/proc/self/statm"),
                    reason="glibc and /proc only")
def test_fixed_threshold_returns_freed_large_blocks_to_the_system():
    def released(mode, **env):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | env
        out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=REPO, env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        return out[0], float(out[1])

    applied, mib = released("fixed")
    assert applied == "True" and mib > 90  # all 100 MiB returned
    applied, mib = released("dynamic")
    assert applied == "None" and mib < 10  # glibc's default: held in the heap
    applied, mib = released("fixed", MALLOC_MMAP_THRESHOLD_="131072")
    assert applied == "False" and mib > 90  # the user's environment setting is left alone, and works
