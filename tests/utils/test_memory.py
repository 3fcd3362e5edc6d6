"""taglm_tf.utils.memory: with glibc's mmap threshold fixed, freed large blocks go back to the system;
with its default dynamic threshold they stay resident (the RSS then creeps up with every batch)."""

import os
import subprocess
import sys

import pytest

from taglm_tf.utils.memory import DEFAULT_THRESHOLD

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The probe imports nothing before its allocations, and taglm_tf only in "fixed" mode, just
# before fixing the threshold: what a process did before (imports included) shapes glibc's heap,
# and with it whether freed blocks go back under the dynamic threshold.
PROBE = r"""
import ctypes, sys
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
# a freed mmapped block: glibc's dynamic threshold rises to 16 MiB, as it does while TensorFlow
# is imported
libc.free(libc.malloc(16 << 20))
SIZE = 2 * int(sys.argv[2])  # large blocks: above the fixed threshold, below the risen one
applied = None
if sys.argv[1] == "fixed":
    from taglm_tf.utils.memory import fix_mmap_threshold
    applied = fix_mmap_threshold()
large, small = [], []
for _ in range(100):
    block = libc.malloc(SIZE)
    ctypes.memset(block, 1, SIZE)
    large.append(block)
    small.append(libc.malloc(64))  # live small blocks between the large ones
before = rss()
for block in large:
    libc.free(block)
print(applied, (before - rss()) / SIZE)
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.path.exists("/proc/self/statm"),
    reason="glibc and /proc only",
)
def test_fixed_threshold_returns_freed_large_blocks_to_the_system():
    def released(mode, **env):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | env
        out = subprocess.run(
            [sys.executable, "-c", PROBE, mode, str(DEFAULT_THRESHOLD)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return out[0], float(out[1])  # blocks' worth of memory returned

    applied, blocks = released("fixed")
    assert applied == "True" and blocks > 90  # all 100 blocks returned
    applied, blocks = released("dynamic")
    assert applied == "None" and blocks < 10  # glibc's default: held in the heap
    applied, blocks = released("fixed", MALLOC_MMAP_THRESHOLD_="131072")
    assert applied == "False" and blocks > 90  # the user's environment setting is left alone, and works


def test_default_threshold_keeps_per_step_recurrent_tensors_on_the_heap():
    # batch 128 x 300 GRU units x float32: one step's tensor of the NER tagger
    assert 128 * 300 * 4 < DEFAULT_THRESHOLD <= 32 << 20  # glibc's ceiling for the threshold
