"""Runs started together (``run_seeds --parallel``) build a missing LM feature cache once: the
first takes the lock and builds, the others wait and read it. Also ``fileio.exclusive_lock``
itself, with three processes counting under it."""

import json
import os
import subprocess
import sys
import textwrap

from data_paths import REPO

CHILD = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import taglm_tf  # noqa: F401  (Keras selection before TensorFlow)
    from taglm_tf.lm.frozen.features import CachedFeatures

    cache_dir, log = sys.argv[1], sys.argv[2]

    class SlowLM:
        fingerprint, dim = "f" * 64, 3
        def embed_sentences(self, batch, batch_size):
            with open(log, "a") as f:
                f.write(f"{len(batch)}\\n")
            time.sleep(2.0)  # long enough for the other process to reach the lock
            return [np.full((len(s), 3), len(s[0]), np.float32) for s in batch]

    sentences = [("a",), ("bb", "c"), ("ddd", "e", "f")]
    features = CachedFeatures([SlowLM()], sentences, cache_dir, "float32", verbose=False)
    print(json.dumps(features(np.arange(3), 3).tolist()))
""")


def test_two_processes_build_the_cache_once(tmp_path):
    cache_dir, log = tmp_path / "cache", tmp_path / "embed_calls.txt"
    repo = str(REPO)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(cache_dir), str(log)],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=300) for child in children]
    assert [child.returncode for child in children] == [0, 0], [err for _, err in outputs]
    assert log.read_text().split() == ["3"]  # one embed call over the 3 sentences, by one process
    expected = [[[1.0] * 3, [0.0] * 3, [0.0] * 3], [[2.0] * 3] * 2 + [[0.0] * 3], [[3.0] * 3] * 3]
    assert [json.loads(out) for out, _ in outputs] == [expected, expected]
    assert len(os.listdir(cache_dir)) == 1  # the cache; no temporary file or lock left


LOCKED_COUNT = textwrap.dedent("""
    import sys, time
    from taglm_tf.utils.fileio import exclusive_lock
    path = sys.argv[1]
    for _ in range(20):
        with exclusive_lock(path):
            with open(path) as f:
                n = int(f.read())
            time.sleep(0.005)  # widen the read-modify-write window
            with open(path, "w") as f:
                f.write(str(n + 1))
""")


def test_exclusive_lock_serialises_processes_and_leaves_no_lock_file(tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    repo = str(REPO)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", LOCKED_COUNT, str(counter)], cwd=repo, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], errors
    assert counter.read_text() == "60"  # no increment lost
    assert sorted(os.listdir(tmp_path)) == ["counter"]
