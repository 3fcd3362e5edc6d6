"""lm_1b export: the Keras-native copy reproduces the checkpoint-loaded layer exactly."""

import os
import subprocess
import sys

import numpy as np
import pytest

from taglm_tf.lm.lm1b.model import LM1BModel
from taglm_tf.lm.lm1b.saving import load_lm1b
from taglm_tf.utils.errors import InputError
from tools.lm1b import make_synthetic as ms

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SENTENCES = [["the", "cat", "sat"], ["東京", "zyzzyva"], ["dog"]]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("lm_1b_tiny"))
    ms.write_synthetic_release(out, size="tiny", seed=2)
    return out


def export(release, out, *extra):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lm_1b_export.export",
            f"--ckpt={release}/ckpt-*",
            f"--vocab_file={release}/{ms.VOCAB_NAME}",
            f"--output_dir={out}",
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("softmax", [False, True])
def test_exported_copy_is_identical(release, tmp_path, softmax):
    out = tmp_path / "export"
    result = export(release, out, *(["--include_softmax"] if softmax else []))
    assert result.returncode == 0, result.stderr
    loaded = load_lm1b(str(out))
    original = LM1BModel.from_checkpoint(
        f"{release}/ckpt-*", f"{release}/{ms.VOCAB_NAME}", include_softmax=softmax
    )
    assert (loaded.softmax is not None) == softmax
    assert not loaded.trainable_weights
    for a, b in zip(loaded.embed_sentences(SENTENCES), original.embed_sentences(SENTENCES)):
        np.testing.assert_array_equal(a, b)
    if softmax:
        h = np.random.default_rng(0).normal(size=(2, 16)).astype(np.float32)
        np.testing.assert_array_equal(loaded.softmax(h).numpy(), original.softmax(h).numpy())


def test_failed_export_leaves_nothing(release, tmp_path):
    out = tmp_path / "export"
    result = export(release, out, "--vocab_file=/nonexistent/vocab.txt")
    assert result.returncode == 1 and result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert list(tmp_path.iterdir()) == []


def test_tampered_vocab_is_refused(release, tmp_path):
    out = tmp_path / "export"
    assert export(release, out).returncode == 0
    with open(out / "vocab.txt", "ab") as f:
        f.write(b"\x00\x01\x02word\n")
    with pytest.raises(InputError, match="special chars"):
        load_lm1b(str(out))


def test_export_files_keep_their_format(release, tmp_path):
    """The directory's format tag and weight keys (position/name) are what loaders of it expect."""
    import json

    import h5py

    out = tmp_path / "export"
    assert export(release, out).returncode == 0
    assert json.loads((out / "config.json").read_text())["format"] == "taglm_tf.lm1b/1"
    with h5py.File(out / "weights.h5", "r") as f:
        keys = sorted(f"{group}/{name}" for group in f for name in f[group])
    assert keys[:2] == ["000/char_embedding_0", "001/cnn_0_kernel_0"]
