"""Run directories and exports written by older versions (fixtures and their provenance:
tests/fixtures/pre_move/README.md) are refused in one line each, naming the file and what to
do; and a tagger file of the card's Keras loads on this stack, while one of a newer Keras is
refused."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from data_paths import REPO
from taglm_tf.lm.frozen.loading import load_embedder
from taglm_tf.lm.lm1b.saving import load_lm1b
from taglm_tf.lm.pretraining.config import PretrainConfig
from taglm_tf.models import saving
from taglm_tf.utils.errors import InputError

FIXTURE = os.path.join(REPO, "tests", "fixtures", "pre_move")


@pytest.fixture
def moved(tmp_path, monkeypatch):
    """A copy of the fixture folder as the working directory (its LM specs are relative)."""
    root = tmp_path / "pre_move"
    shutil.copytree(FIXTURE, root)
    monkeypatch.chdir(root)
    return root


def one_line(error: InputError) -> str:
    text = str(error)
    assert "\n" not in text
    return text


def test_an_older_taglm_run_is_refused_by_the_tagger(moved):
    (moved / "sentences.txt").write_text("Peace talks resumed .\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "taglm_tf.tag",
            "--model_dir=taglm_run",
            "--input=sentences.txt",
            "--input_format=text",
        ],
        capture_output=True,
        text=True,
        cwd=moved,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "error: taglm_run: written by an older taglm_tf (config.json has no lm_specs_relative_to_model_dir); "
        "train it again"
    ]


def test_older_lm_runs_are_refused(moved):
    for direction in ("forward", "backward"):
        config = moved / "lms" / direction / "config.json"
        with pytest.raises(InputError) as loading:
            load_embedder(f"lstm_lm:lms/{direction}")
        assert one_line(loading.value) == (
            f"lms/{direction}/config.json: written by an older taglm_tf "
            "(its model has no kind); train the LM again"
        )
        with pytest.raises(InputError) as resuming:
            PretrainConfig.from_dict(json.loads(config.read_text()), str(config))
        assert one_line(resuming.value) == (
            f"{config}: written by an older taglm_tf (its training config has no interleave); start a new run"
        )


def test_an_older_lm1b_export_is_refused(moved):
    with pytest.raises(InputError) as error:
        load_lm1b(str(moved / "lm1b_export"))
    assert one_line(error.value) == (
        f"{moved / 'lm1b_export' / 'weights.h5'}: no weight 025/kernel_0: exported by "
        "an older taglm_tf or another model; export the lm_1b release again"
    )


def test_a_tagger_of_the_cards_keras_loads_on_this_stack(moved):
    path = moved / "taglm_run" / "model.keras"
    assert saving.saved_keras_version(str(path)) == "2.15.0"
    model = saving.load_model_file(str(path))
    assert "features" in model.input_names  # a TagLM model: the LM features are an input


def test_a_model_from_a_newer_keras_is_refused_in_one_line(moved, monkeypatch):
    """Cross-stack loading: files of the card's stack (Keras 2.15) load on both stacks (the tests
    above run on both in CI); a file saved by a later Keras than this stack's is one clear error."""
    import zipfile

    from taglm_tf.models import saving
    from taglm_tf.utils.errors import InputError

    path = moved / "taglm_run" / "model.keras"
    assert saving.saved_keras_version(str(path)) == "2.15.0"
    newer = moved / "newer.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(newer, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data.replace(b'"2.15.0"', b'"9.1.0"') if name == "metadata.json" else data)
    with pytest.raises(InputError) as info:
        saving.load_model_file(str(newer))
    assert str(info.value) == (
        f"{newer}: saved by Keras 9.1.0, newer than this stack's Keras "
        f"{saving.running_keras_version()}; load it on the stack it was trained "
        "on (make STACK=current)"
    )
    assert "\n" not in str(info.value)
    truncated = moved / "truncated.keras"
    truncated.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(
        InputError, match=r"truncated.keras: not a Keras model archive \(a .keras file is a zip\)"
    ):
        saving.load_model_file(str(truncated))
    damaged = bytearray(path.read_bytes())  # a whole archive whose stored bytes changed
    middle = len(damaged) // 2
    damaged[middle : middle + 64] = bytes(b ^ 0xFF for b in damaged[middle : middle + 64])
    (moved / "damaged.keras").write_bytes(bytes(damaged))
    with pytest.raises(InputError, match=r"damaged.keras: cannot be loaded by Keras"):
        saving.load_model_file(str(moved / "damaged.keras"))
