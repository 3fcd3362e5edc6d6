"""The experiment CLIs on bad input: one clear error, exit status 1, nothing left behind."""

import json
import os
import subprocess
import sys

import pytest

from taglm_tf.scoring import conlleval
from taglm_tf.tasks import sample_paths

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = [
    "--char_dim=4",
    "--char_units=4",
    "--word_dim=8",
    "--rnn_units=8",
    "--max_constant_epochs=1",
    "--anneal_steps=0",
    "--verbose=0",
]


def run(args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "experiments.ner", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


def sample_args(tmp_path, **files):
    paths = {**sample_paths(), **files}
    return [
        f"--model_dir={tmp_path / 'run'}",
        "--data_dir=/nonexistent",
        *(f"--{k}_file={v}" for k, v in paths.items()),
        *TINY,
    ]


def test_missing_model_dir_flag():
    result = run([])
    assert result.returncode != 0
    assert "model_dir" in result.stderr


def test_bad_flag_value(tmp_path):
    result = run(sample_args(tmp_path) + ["--rnn_cell=transformer"])
    assert result.returncode == 1
    assert "rnn_cell" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "run").exists()


def test_missing_data_names_the_file(tmp_path):
    result = run([f"--model_dir={tmp_path / 'run'}", f"--data_dir={tmp_path}"])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {tmp_path}/conll2003/eng.train: no such train file (data directory: {tmp_path}); set "
        "$TAGLM_DATA_DIR or pass --data_dir=DIR to point at the data, or --train_file=FILE for this file"
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "content,line,message",
    [
        ("EU NNP I-NP I-ORG\nrejects VBZ I-VP\n", 2, "expected 4 columns"),
        ("EU NNP I-NP I-ORG\nrejects VBZ I-VP Q-MISC\n", 2, "invalid IOB1 tag"),
        ("EU NNP I-NP I-ORG\n\nca\xe9 NN I-NP O\n".encode("latin-1"), 3, "not valid UTF-8"),
    ],
)
def test_malformed_training_file(tmp_path, content, line, message):
    bad = tmp_path / "bad.train"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = run(sample_args(tmp_path, train=str(bad)))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {bad}:{line}: ") and message in last
    assert not (tmp_path / "run").exists()


def test_malformed_embedding_file(tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("the 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8\nof 0.1 0.2 x 0.4 0.5 0.6 0.7 0.8\n")
    result = run(sample_args(tmp_path) + [f"--embeddings={vectors}"])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {vectors}:2: ")
    assert not (tmp_path / "run" / "results.json").exists()


def test_tag_type_missing_from_training_is_scored_as_missed(tmp_path):
    """Dev/test gold tags are never encoded against the training tags: an unseen type (EVENT) is
    a missed chunk, as conlleval scores it."""
    gold = (
        "Anna NNP I-NP I-PER\nsmiled VBD I-VP O\nat IN I-PP O\nWorld NNP I-NP I-EVENT\n"
        "Cup NNP I-NP I-EVENT\n\nParis NNP I-NP I-LOC\nsleeps VBZ I-VP O\n"
    )
    dev, test = tmp_path / "dev", tmp_path / "test"
    dev.write_text(gold)
    test.write_text(gold)
    result = run(sample_args(tmp_path, dev=str(dev), test=str(test)))
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "run"
    assert "I-EVENT" not in (run_dir / "vocab.json").read_text()
    results = json.loads((run_dir / "results.json").read_text())
    # --anneal_steps=0 --max_constant_epochs=1: one epoch at the constant rate, then stop (item 11)
    assert [(h["epoch"], h["lr"], h["action"]) for h in results["history"]] == [(1, 0.001, "stop")]
    for split in ("dev", "test"):
        scored = conlleval.evaluate_lines((run_dir / f"{split}_predictions.txt").read_text().splitlines())
        event = scored.per_type["EVENT"]
        assert (event.found_gold, event.found_guessed, event.correct) == (1, 0, 0)
        assert scored.overall.found_gold == 3
        assert results["scores"][split]["per_type"]["EVENT"] == 0.0
        assert results["scores"][split]["f1"] == scored.overall.f1
