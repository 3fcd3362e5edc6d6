"""A tiny TagLM run end to end (lstm_lm LMs): its model card as ``experiment.finish`` writes it;
the Python API on it (LMs loaded with the model) giving the CLI's tags and the pre-API code path's
tags; the export, whose SavedModel runs the LMs inside and tags as the Python tagger (on-the-fly
LM features) does; a model whose LM changed since training is refused. One run serves all: it
pretrains two LMs and trains a tagger."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf

import tiny_lms
from conftest import tiny_config
from taglm_tf import run_dir
from taglm_tf.data import conll
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.lm.frozen.features import OnTheFlyFeatures
from taglm_tf.lm.frozen.loading import RELATIVE_KEY, lm_fingerprints, load_lms
from taglm_tf.models import saving
from taglm_tf.models.evaluation import Predictor
from taglm_tf.models.saving import load_tagger
from taglm_tf.reports import model_card
from taglm_tf.run_dir import read_config as load_config
from taglm_tf.serving import export
from taglm_tf.serving.api import Tagger
from taglm_tf.tag import tag_input
from taglm_tf.tasks import sample_paths
from taglm_tf.training.experiment import run_experiment
from taglm_tf.utils.errors import InputError

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

REPO = Path(__file__).resolve().parents[2]
RAW = (
    "Anna Novak said on Monday that Kestrel Bank would open an office in Norvia. "
    "Police in Qualen said 20 people were hurt.\n\nVelmora"
)
SENTENCES = [
    "Anna Novak said on Monday that Kestrel Bank would open an office in Norvia .".split(),
    ["Velmora"],
    "Police in Qualen said 20 people were hurt on Tuesday , an unseenword here".split(),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """``(model_dir, results)`` of the tiny TagLM run; its LMs are in the model dir's parent."""
    root = tmp_path_factory.mktemp("taglm")
    text = [" ".join(s.tokens) for s in conll.read_conll(sample_paths()["train"], conll.CONLL2003)]
    lms = tiny_lms.pretrain_pair(root, text[:200], batch_size=4, num_steps=5)
    config = dataclasses.replace(
        tiny_config(root / "tagger", max_constant_epochs=3, anneal_steps=1, learning_rate=0.01),
        forward_lm=f"lstm_lm:{lms['forward']}",
        backward_lm=f"lstm_lm:{lms['backward']}",
        lm_cache_dir=str(root / "cache"),
    )
    results = run_experiment(config)
    return str(root / "tagger"), results


@pytest.fixture(scope="module")
def taglm_model_dir(run):
    return Path(run[0])


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
    lm_vocab = Path(load_config(model_dir)["forward_lm"].split(":", 1)[1]) / "vocab.txt"
    vocab_before = lm_vocab.read_bytes()
    procs = [
        subprocess.Popen(cmd + args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for args in (
            [f"--input={tmp_path / 'raw.txt'}", "--input_format=raw", "--format=json"],
            ["--info"],
            [f"--input={tmp_path / 'raw.txt'}", f"--output={lm_vocab}"],  # a file of the model's LM
        )
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

    stdout, stderr = procs.pop().communicate(timeout=400)
    assert (
        stderr.decode()
        .strip()
        .endswith(
            f"--output is a file of an input folder ({lm_vocab.parent}): it would be overwritten; "
            "write the output elsewhere"
        )
    ), stderr.decode()
    assert lm_vocab.read_bytes() == vocab_before and len(stderr.decode().strip().splitlines()) == 1
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


@pytest.fixture(scope="module")
def served(taglm_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("saved") / "out"
    export.export_tagger(str(taglm_model_dir), str(out))
    return out, tf.saved_model.load(str(out)).signatures["serving_default"]


def padded(sentences, width=None):
    width = width or max(map(len, sentences))
    return tf.constant([s + [""] * (width - len(s)) for s in sentences])


def test_saved_config_names_the_lms_fingerprints(taglm_model_dir):
    config = run_dir.read_config(str(taglm_model_dir))
    lms = load_lms(config)
    assert config["lm_fingerprints"] == {"forward_lm": lms[0].fingerprint, "backward_lm": lms[1].fingerprint}
    assert config["model"]["extra_dim"] == 10


def test_exported_taglm_tags_as_the_python_tagger(taglm_model_dir, served):
    out_dir, serve = served
    info = json.loads((out_dir / export.EXPORT_INFO).read_text())
    assert len(info["lms"]) == 2
    tagger = saving.load_tagger(str(taglm_model_dir))
    sentences = [conll.Sentence(tuple(s), ("O",) * len(s)) for s in SENTENCES]
    features = OnTheFlyFeatures(load_lms(tagger.config), [s.tokens for s in sentences])
    data = TaggingData(sentences, tagger.resources.featurizer(), features=features)
    expected = Predictor(tagger.model, tagger.resources.tags).predict(data, "iob1")
    for tokens in (padded(SENTENCES), padded(SENTENCES, width=25)):
        result = serve(tokens=tokens)
        tags, ids = result["tags"].numpy().astype(str), result["tag_ids"].numpy()
        for row, sentence in enumerate(SENTENCES):
            assert list(tags[row, : len(sentence)]) == expected[row]
            assert set(tags[row, len(sentence) :]) <= {""} and not ids[row, len(sentence) :].any()
    assert any(t != "O" for row in expected for t in row)


def test_an_lm_changed_since_training_is_refused(taglm_model_dir, tmp_path):
    config = run_dir.read_config(str(taglm_model_dir))
    config["lm_fingerprints"]["backward_lm"] = "0" * 64
    with pytest.raises(InputError, match="backward_lm .* not the LM this model was trained with"):
        load_lms(config)
    (taglm_model_dir / run_dir.CONFIG).write_text(json.dumps(config))
    try:
        with pytest.raises(InputError, match="not the LM this model was trained with"):
            export.export_tagger(str(taglm_model_dir), str(tmp_path / "out"))
        assert not (tmp_path / "out").exists()
    finally:
        config["lm_fingerprints"]["backward_lm"] = load_lms({**config, "lm_fingerprints": None})[
            1
        ].fingerprint
        (taglm_model_dir / run_dir.CONFIG).write_text(json.dumps(config))


def test_fingerprints_follow_the_configured_lms_when_only_one_is_set():
    class Fake:
        fingerprint = "f" * 64

    assert lm_fingerprints({"forward_lm": None, "backward_lm": "lstm_lm:/b"}, [Fake()]) == {
        "backward_lm": "f" * 64
    }
    assert lm_fingerprints({"forward_lm": "lstm_lm:/f"}, [Fake()]) == {"forward_lm": "f" * 64}
    assert lm_fingerprints({}, []) == {}


def test_model_dir_moved_with_its_lms_tags_and_exports_anywhere(taglm_model_dir, tmp_path, monkeypatch):
    """config.json records each LM absolute and relative to the model dir; moved together with
    its LMs, the model still tags and exports, from any working directory."""
    root = taglm_model_dir.parent
    config = run_dir.read_config(str(taglm_model_dir))
    assert config["forward_lm"] == f"lstm_lm:{root / 'forward'}"
    assert config[RELATIVE_KEY] == {"forward_lm": "lstm_lm:../forward", "backward_lm": "lstm_lm:../backward"}
    text = "\n".join(" ".join(s) for s in SENTENCES) + "\n"
    (tmp_path / "in.txt").write_text(text)
    expected = tag_input(str(taglm_model_dir), str(tmp_path / "in.txt"))
    moved = tmp_path / "moved"
    for name in ("tagger", "forward", "backward"):
        shutil.copytree(root / name, moved / name)
    shutil.copytree(root / "tagger", tmp_path / "alone")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for name in ("forward", "backward"):  # the recorded absolute paths are gone
        os.rename(root / name, root / f"{name}.away")
    try:
        assert tag_input(str(moved / "tagger"), str(tmp_path / "in.txt")) == expected
        out = export.export_tagger(str(moved / "tagger"), str(tmp_path / "export"))
        info = json.loads((tmp_path / "export" / export.EXPORT_INFO).read_text())
        assert info["lms"] == [f"lstm_lm:{moved / 'forward'}", f"lstm_lm:{moved / 'backward'}"]
        assert [info["config"]["forward_lm"], info["config"]["backward_lm"]] == info["lms"]
        assert RELATIVE_KEY not in info["config"] and out == str(tmp_path / "export")
        with pytest.raises(InputError) as missing:  # the model dir without its LMs
            tag_input(str(tmp_path / "alone"), str(tmp_path / "in.txt"))
        assert str(missing.value) == (
            f"{tmp_path / 'alone'}: cannot find forward_lm (tried lstm_lm:{root / 'forward'}; "
            f"lstm_lm:{tmp_path / 'forward'}); pass --forward_lm to say where it is"
        )
        overrides = {
            "forward_lm": f"lstm_lm:{moved / 'forward'}",
            "backward_lm": f"lstm_lm:{moved / 'backward'}",
        }
        assert tag_input(str(tmp_path / "alone"), str(tmp_path / "in.txt"), lms=overrides) == expected
        swapped = {"forward_lm": overrides["backward_lm"], "backward_lm": overrides["forward_lm"]}
        with pytest.raises(InputError, match="forward_lm .* not the LM this model was trained with"):
            tag_input(str(tmp_path / "alone"), str(tmp_path / "in.txt"), lms=swapped)
    finally:
        for name in ("forward", "backward"):
            os.rename(root / f"{name}.away", root / name)
