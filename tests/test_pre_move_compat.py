"""Run directories and exports written before the package split still load and give the same
outputs (fixtures and their provenance: tests/fixtures/pre_move/README.md)."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tools.lm1b.make_synthetic import write_synthetic_release
from taglm_tf.lm.frozen.loading import load_embedder

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "pre_move")
SENTENCES = [s.split() for s in ["Anna Novak of Kestrel Bank met EU officials in Paris on Monday .",
                                 "Peace talks resumed ."]]


@pytest.fixture
def moved(tmp_path, monkeypatch):
    """A copy of the fixture folder as the working directory (its LM specs are relative)."""
    root = tmp_path / "pre_move"
    shutil.copytree(FIXTURE, root)
    monkeypatch.chdir(root)
    return root


def test_lstm_lms_load_with_same_embeddings_and_fingerprints(moved):
    expected = np.load(moved / "expected_lm_embeddings.npz")
    for direction in ("forward", "backward"):
        lm = load_embedder(f"lstm_lm:lms/{direction}")
        assert lm.fingerprint == str(expected[f"fingerprint_{direction}"])
        np.testing.assert_allclose(lm.embed_sentences(SENTENCES)[0], expected[direction], rtol=1e-6, atol=1e-7)


def test_taglm_run_tags_as_before(moved):
    with open(moved / "sentences.txt", "w") as f:
        f.write("\n".join(" ".join(s) for s in SENTENCES) + "\n")
    out = subprocess.run([sys.executable, "-m", "taglm_tf.tag", "--model_dir=taglm_run",
                          "--input=sentences.txt", "--input_format=text", "--format=json"], capture_output=True, text=True,
                         cwd=moved, env={**os.environ, "PYTHONPATH": REPO})
    assert out.returncode == 0, out.stderr
    got = [json.loads(line) for line in out.stdout.splitlines()]
    want = [json.loads(line) for line in (moved / "expected_tags.jsonl").read_text().splitlines()]
    assert got == want


def test_lm1b_export_loads_with_same_outputs(moved):
    from taglm_tf.lm.lm1b.saving import load_lm1b
    expected = np.load(moved / "expected_lm1b_embeddings.npz")
    outputs = load_lm1b(str(moved / "lm1b_export")).embed_sentences(SENTENCES)
    for i, layers in enumerate(outputs):
        for j, array in enumerate(layers):  # the loader's standard: 1e-5 of each output's largest value
            want = expected[f"s{i}_l{j}"]
            np.testing.assert_allclose(array, want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_lm1b_export_matches_a_fresh_export_of_the_same_release(moved, tmp_path):
    from taglm_tf.lm.lm1b.saving import export_lm1b, load_lm1b
    release = tmp_path / "release"
    write_synthetic_release(str(release), "tiny", 0, include_softmax=True)
    vocab = next(p for p in os.listdir(release) if p.startswith("vocab"))
    export_lm1b(str(release / "ckpt-*"), str(release / vocab), str(tmp_path / "fresh"))
    old, new = load_lm1b(str(moved / "lm1b_export")), load_lm1b(str(tmp_path / "fresh"))
    assert old.source_fingerprint == new.source_fingerprint
    for a, b in zip(old.embed_sentences(SENTENCES), new.embed_sentences(SENTENCES)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_a_model_from_a_newer_keras_is_refused_in_one_line(moved, monkeypatch):
    """Cross-stack loading: files of the card's stack (Keras 2.15) load on both stacks (the tests
    above run on both in CI); a file saved by a later Keras than this stack's is one clear error."""
    import zipfile

    from taglm_tf.errors import InputError
    from taglm_tf.models import saving

    path = moved / "taglm_run" / "model.keras"
    assert saving.saved_keras_version(str(path)) == "2.15.0"
    newer = moved / "newer.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(newer, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data.replace(b'"2.15.0"', b'"9.1.0"') if name == "metadata.json" else data)
    with pytest.raises(InputError) as info:
        saving.load_model_file(str(newer))
    assert str(info.value) == (f"{newer}: saved by Keras 9.1.0, newer than this stack's Keras "
                               f"{saving.running_keras_version()}; load it on the stack it was trained "
                               "on (make STACK=current)")
    assert "\n" not in str(info.value)
