"""The POS task (token labels on CoNLL-2000's POS column), end to end through the task registry:
reading, accuracy scoring, training, tagging, export, sweeps and the report."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from data_paths import require_real_file
from experiments import run_seeds, tagging_flags
from experiments.report import write_report
from flag_helpers import parse_flagfile
from taglm_tf import run_dir
from taglm_tf.data import conll
from taglm_tf.reports import sweeps
from taglm_tf.serving.api import Tagger
from taglm_tf.serving.export import export_tagger
from taglm_tf.tasks import POS, TASKS, TokenLabels, sample_paths
from taglm_tf.utils.errors import InputError

pytestmark = pytest.mark.slow  # trains a tagger in a subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS_DIR = os.path.join(REPO, "experiments", "flags")


def test_reads_the_pos_column_of_conll2000():
    path = require_real_file("conll2000", "train.txt")
    pos = conll.read_conll(path, POS.fmt)
    chunks = conll.read_conll(path, TASKS["chunking"].fmt)
    assert sum(len(s) for s in pos) == 211_727 and len(pos) == 8_936
    assert pos[0].tokens[:2] == ("Confidence", "in") and pos[0].tags[:2] == ("NN", "IN")
    # The other column is the chunk tag, so predictions files keep it.
    assert [tuple(c[0] for c in s.columns) for s in pos] == [s.tags for s in chunks]
    labels = {t for s in pos for t in s.tags}
    assert {"NN", "NNP", "VBZ", "DT", "IN", ",", "."} <= labels and not any(
        t.startswith(("B-", "I-")) for t in labels
    )


def test_token_accuracy_against_brute_force():
    rng = np.random.default_rng(0)
    labels = ["NN", "VB", "DT", "JJ"]
    gold = rng.choice(labels, 200)
    predicted = np.where(rng.random(200) < 0.7, gold, rng.choice(labels, 200))
    sentences = [
        conll.Sentence(tuple(f"w{i}" for i in range(a, b)), tuple(gold[a:b])) for a, b in ((0, 50), (50, 200))
    ]
    scores = TokenLabels().score(sentences, [predicted[:50], predicted[50:]])
    assert scores.metric == "accuracy" and scores.details == {"accuracy": scores.value}
    assert scores.value == pytest.approx(100 * np.mean(gold == predicted))
    for label in labels:
        assert scores.per_type[label] == pytest.approx(100 * np.mean(predicted[gold == label] == label))


def test_flagfiles_use_the_chunking_model_and_differ_only_in_their_lms():
    def parse(name):
        fv = parse_flagfile(
            tagging_flags.define_flags,
            os.path.join(FLAGS_DIR, name),
            "--model_dir=/tmp/x",
            "--data_dir=/data",
        )
        return tagging_flags.config_from_flags("pos", fv).to_dict()

    chunking = tagging_flags.config_from_flags(
        "chunking",
        parse_flagfile(
            tagging_flags.define_flags,
            os.path.join(FLAGS_DIR, "chunk_baseline_cpu.cfg"),
            "--model_dir=/tmp/x",
            "--data_dir=/data",
        ),
    ).to_dict()
    baseline, taglm = parse("pos_baseline_cpu.cfg"), parse("pos_taglm_cnn_word_cpu.cfg")
    assert baseline == {**chunking, "task": "pos"}
    assert {k for k in baseline if baseline[k] != taglm[k]} == {"forward_lm", "backward_lm"}
    assert parse("pos_baseline.cfg")["train"]["max_constant_epochs"] == 50


def _pos_files(directory):
    """The shipped NER sample as CoNLL-2000 files (word POS chunk): a tiny POS corpus."""
    files = {}
    for split, path in sample_paths().items():
        lines = [" ".join(line.split()[:3]) for line in open(path, encoding="utf-8").read().splitlines()]
        files[split] = os.path.join(directory, f"pos.{split}")
        with open(files[split], "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return files


class PosRun:
    """A finished tiny POS run: its directory, data files, results and the CLI's output."""

    def __init__(self, model_dir, files, results, stdout):
        self.model_dir, self.files, self.results, self.stdout = model_dir, files, results, stdout


@pytest.fixture(scope="module")
def pos_run(tmp_path_factory):
    """A tiny POS run trained by ``experiments.train_tagger --task=pos``, the command ``run_seeds``
    runs, in a sweep's ``seed_3`` directory."""
    tmp = tmp_path_factory.mktemp("pos")
    files, model_dir = _pos_files(str(tmp)), str(tmp / "sweep" / "seed_3")
    args = [f"--{split}_file={path}" for split, path in files.items()] + [
        "--task=pos",
        f"--model_dir={model_dir}",
        "--data_dir=/nonexistent",
        "--char_dim=4",
        "--char_units=4",
        "--word_dim=8",
        "--rnn_units=8",
        "--char_dropout=0",
        "--rnn_input_dropout=0",
        "--output_dropout=0",
        "--max_constant_epochs=2",
        "--anneal_epochs=1",
        "--anneal_steps=1",
        "--seed=3",
        "--verbose=0",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.train_tagger", *args],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    with open(os.path.join(model_dir, "results.json"), encoding="utf-8") as f:
        return PosRun(model_dir, files, json.load(f), proc.stdout)


def _accuracy_of(predictions_file):
    rows = [line.split() for line in open(predictions_file, encoding="utf-8") if line.strip()]
    return 100 * np.mean([r[-2] == r[-1] for r in rows])


def test_a_pos_run_is_scored_by_accuracy(pos_run):
    config, results = pos_run, pos_run.results
    assert results["task"] == "pos" and f"test accuracy {results['test_accuracy']:.2f}" in pos_run.stdout
    assert "test_f1" not in results and "dev_f1" not in results
    assert not os.path.exists(os.path.join(config.model_dir, run_dir.CHUNK_OUTCOMES))  # no chunks
    for split in ("dev", "test"):
        path = os.path.join(config.model_dir, f"{split}_predictions.txt")
        assert results[f"{split}_accuracy"] == pytest.approx(_accuracy_of(path))
        assert results["scores"][split]["accuracy"] == results[f"{split}_accuracy"]
    assert results["test_accuracy"] > 50  # the sample's POS column is nearly all NN/NNP
    assert all("dev_accuracy" in h for h in results["history"])
    card = json.load(open(os.path.join(config.model_dir, "model_card.json")))
    assert card["scores"]["test"]["accuracy"] == results["test_accuracy"]
    assert "Part-of-speech" in card["intended_use"]
    assert "## Scores (token accuracy, %)" in open(os.path.join(config.model_dir, "MODEL_CARD.md")).read()


def test_a_pos_tagger_tags_tokens_and_exports(pos_run, tmp_path):
    config = pos_run
    tagger = Tagger.load(config.model_dir)
    sentences = [["Kofi", "Quist", "scored", "twice"], ["Velmora", "United"]]
    tagged = tagger.predict(sentences)
    gold_labels = {t for s in conll.read_conll(config.files["train"], POS.fmt) for t in s.tags}
    assert all(set(t.tags) <= gold_labels and t.spans == () for t in tagged)
    assert tagged[0].to_dict(POS.entity_word) == {"tokens": sentences[0], "tags": list(tagged[0].tags)}
    with pytest.raises(InputError, match="not chunks"):
        Tagger.load(config.model_dir, output_scheme="iob2")
    with pytest.raises(InputError, match="no spans"):
        tagger.write_brat(str(tmp_path), str(tmp_path / "out"))
    export_dir = export_tagger(config.model_dir, str(tmp_path / "export"))
    info = json.load(open(os.path.join(export_dir, "taglm_export.json")))
    assert info["task"] == "pos" and info["tag_scheme"] is None and info["tag_ids_scheme"] is None
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    out = serve(tokens=tf.constant([sentences[0], sentences[1] + ["", ""]]))["tags"].numpy()
    assert [[t.decode() for t in row if t] for row in out] == [list(t.tags) for t in tagged]


def test_pos_runs_in_sweeps_and_the_report(pos_run, tmp_path):
    config, results = pos_run, pos_run.results
    sweep_dir = os.path.dirname(config.model_dir)
    run = sweeps.load_run(config.model_dir)
    assert (run.metric, run.test_score) == ("accuracy", results["test_accuracy"])
    summary = sweeps.sweep_summary(sweep_dir, "pos", "pos_baseline_cpu.cfg", "pos_baseline")
    assert summary["metric"] == "accuracy" and summary["test_accuracy"]["mean"] == results["test_accuracy"]
    assert summary["setting"]["dev_sample"] is None  # the dev file was given
    assert run_seeds.command_for(run_seeds.DEFAULT_COMMAND, "pos", "p.cfg", sweep_dir, 3, [])[2:4] == [
        "experiments.train_tagger",
        "--task=pos",
    ]
    text = write_report([f"pos_baseline={sweep_dir}"], str(tmp_path / "REPORT.md"))
    row = next(line for line in text.splitlines() if line.startswith("| `pos_baseline`"))
    assert "| accuracy |" in row and f"{results['test_accuracy']:.2f}" in row
