"""A tiny TagLM run end to end: its model card as ``experiment.finish`` writes it, and the Python
API on it (LMs loaded with the model) giving the CLI's tags and the pre-API code path's tags."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tiny_lms
from conftest import tiny_config
from taglm_tf.data import conll
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.lm.frozen.features import OnTheFlyFeatures
from taglm_tf.lm.frozen.loading import load_lms
from taglm_tf.models.evaluation import Predictor
from taglm_tf.models.saving import load_tagger
from taglm_tf.reports import model_card
from taglm_tf.run_dir import read_config as load_config
from taglm_tf.serving.api import Tagger
from taglm_tf.tasks import sample_paths
from taglm_tf.training.experiment import run_experiment

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

REPO = Path(__file__).resolve().parents[2]
RAW = (
    "Anna Novak said on Monday that Kestrel Bank would open an office in Norvia. "
    "Police in Qualen said 20 people were hurt.\n\nVelmora"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("taglm_api")
    text = [" ".join(s.tokens) for s in conll.read_conll(sample_paths()["train"], conll.CONLL2003)]
    lms = tiny_lms.pretrain_pair(root, text[:200], batch_size=4, num_steps=5)
    config = dataclasses.replace(
        tiny_config(root / "tagger", max_constant_epochs=2, anneal_steps=1),
        forward_lm=f"lstm_lm:{lms['forward']}",
        backward_lm=f"lstm_lm:{lms['backward']}",
        lm_cache_dir=str(root / "cache"),
    )
    results = run_experiment(config)
    return str(root / "tagger"), results


def test_finish_writes_the_model_card(run):
    model_dir, results = run
    card = json.loads(Path(model_dir, model_card.CARD_JSON).read_text())
    assert model_card.read_card(model_dir) == card
    config = load_config(model_dir)
    assert card["task"] == "ner" and card["model_type"].startswith("TagLM")
    assert card["scores"]["test"]["f1"] == pytest.approx(results["test_f1"])
    assert card["scores"]["dev"]["f1"] == pytest.approx(results["dev_f1"])
    assert card["scores"]["test"]["per_type"] == pytest.approx(results["scores"]["test"]["per_type"])
    assert set(card["scores"]["test"]["per_type"]) == {"LOC", "MISC", "ORG", "PER"}
    assert [lm["fingerprint"] for lm in card["lms"]] == [
        config["lm_fingerprints"]["forward_lm"],
        config["lm_fingerprints"]["backward_lm"],
    ]
    assert [lm["spec"] for lm in card["lms"]] == [config["forward_lm"], config["backward_lm"]]
    perplexity = results["lm_perplexity"] or {}
    assert [lm["perplexity"] for lm in card["lms"]] == [perplexity.get("forward"), perplexity.get("backward")]
    assert card["seed"] == 3 and card["epochs"] == results["epochs"] == len(results["history"])
    assert card["training_seconds"] == pytest.approx(results["wall_seconds"]) and card["training_seconds"] > 0
    assert card["git_commit"] == results["git_commit"] and card["data"]["setting"] == "train"
    markdown = Path(model_dir, model_card.CARD_MARKDOWN).read_text()
    assert markdown == model_card.render_markdown(card)
    assert f"| test | {results['test_f1']:.2f} |" in markdown


def test_api_on_taglm_matches_reference_and_cli(run, tmp_path):
    model_dir, _ = run
    (tmp_path / "raw.txt").write_text(RAW, encoding="utf-8")
    cmd = [sys.executable, "-m", "taglm_tf.tag", f"--model_dir={model_dir}"]
    procs = [
        subprocess.Popen(cmd + args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for args in ([f"--input={tmp_path / 'raw.txt'}", "--input_format=raw", "--format=json"], ["--info"])
    ]

    tagger = Tagger.load(model_dir)
    assert len(tagger.lms) == 2
    out = tagger.predict(RAW, batch_size=2)
    assert [s.tokens[-1] for s in out] == [".", ".", "Velmora"]
    loaded = load_tagger(model_dir)
    lms = load_lms(loaded.config)
    tokens = [s.tokens for s in out]
    data = TaggingData(
        [conll.Sentence(t, ("O",) * len(t)) for t in tokens],
        loaded.resources.featurizer(),
        features=OnTheFlyFeatures(lms, tokens),
    )
    assert [list(s.tags) for s in out] == Predictor(loaded.model, loaded.resources.tags).predict(data, "iob1")

    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=400)
        assert proc.returncode == 0, stderr.decode()
        results.append(stdout.decode("utf-8"))
    assert [json.loads(line) for line in results[0].splitlines()] == [s.to_dict() for s in out]
    assert results[1] == Path(model_dir, model_card.CARD_MARKDOWN).read_text()


def test_api_cli_and_savedmodel_tag_eng_testa_alike(run, tmp_path):
    from data_paths import require_real_file
    from one_path_check import check_one_path

    path = str(require_real_file("conll2003", "eng.testa"))
    assert check_one_path(run[0], path, str(tmp_path / "export"), limit=400) > 5_000
