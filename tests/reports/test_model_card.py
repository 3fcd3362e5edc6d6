"""Model cards: built from a run's files (also for runs older than cards), copied into exports."""

import json
import os
import shutil

import pytest

from taglm_tf.reports import model_card
from taglm_tf.serving import export
from taglm_tf.utils.errors import InputError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRE_MOVE_RUN = os.path.join(REPO, "tests", "fixtures", "pre_move", "taglm_run")


def test_card_of_a_run_without_one_is_built_from_results(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(PRE_MOVE_RUN, run)
    assert not (run / model_card.CARD_JSON).exists()
    card = model_card.read_card(str(run))
    assert card["task"] == "ner" and card["seed"] == 3 and card["epochs"] == 2
    assert card["data"] == {
        "setting": "train",
        "data_dir": "/nonexistent",
        "train_fraction": 0.2,
        "train_sentences": 80,
        "files": json.loads((run / "config.json").read_text())["files"],
    }
    assert card["scores"]["test"]["f1"] == pytest.approx(0.9122006841505131)
    assert card["scores"]["dev"]["per_type"]["PER"] == pytest.approx(4.66321243523316)
    assert [(lm["direction"], lm["spec"], lm["fingerprint"][:8]) for lm in card["lms"]] == [
        ("forward", "lstm_lm:lms/forward", "74861f61"),
        ("backward", "lstm_lm:lms/backward", "7bcc74da"),
    ]
    assert card["git_commit"] == "79d4bf0b055597309deacb643259703dcefb115c"
    assert card["training_seconds"] == pytest.approx(31.513857064999968)
    assert card["schedule"]["learning_rate"] == 0.001 and card["schedule"]["anneal_steps"] == 0
    assert "synthetic demo sample" in card["limits"]
    text = model_card.render_markdown(card)
    assert "| test | 0.91 | 0.65 | 1.54 | 0.00 | 0.00 | 0.00 | 1.97 |" in text
    assert "- training time: 0.5 min" in text and "- seed: 3" in text
    assert "- trained on: unknown (not recorded)" in text  # the fixture predates platform records

    model_card.write_card(str(run), card)
    assert model_card.read_card(str(run)) == card
    assert (run / model_card.CARD_MARKDOWN).read_text() == text
    assert (
        model_card.render_markdown(model_card.read_card(str(run))) == text
    )  # same after the JSON round trip


@pytest.mark.parametrize(
    "platform, shown",
    [
        (
            {
                "cpus": 2,
                "machine": "x86_64",
                "cpu_model": "AMD EPYC",
                "cpu_flags": ["avx512f"],
                "tensorflow": "2.15.1",
            },
            "AMD EPYC, 2 CPUs, AVX-512, TensorFlow 2.15.1",
        ),
        (
            {"cpus": 4, "machine": "x86_64", "cpu_model": None, "cpu_flags": [], "tensorflow": None},
            "x86_64, 4 CPUs, no AVX-512",
        ),
        (
            {"cpus": 8, "machine": "arm64", "cpu_model": None, "cpu_flags": None, "tensorflow": "2.21.0"},
            "arm64, 8 CPUs, TensorFlow 2.21.0",
        ),
    ],
)
def test_the_card_names_the_platform_that_trained_the_run(tmp_path, platform, shown):
    run = tmp_path / "run"
    shutil.copytree(PRE_MOVE_RUN, run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "platform": platform}))
    card = model_card.read_card(str(run))
    assert card["platform"] == platform
    assert f"- trained on: {shown}\n" in model_card.render_markdown(card)


def test_directory_without_a_run(tmp_path):
    with pytest.raises(InputError, match="no model_card.json or config.json here"):
        model_card.read_card(str(tmp_path))


def test_export_carries_the_card(model_dir, tmp_path):
    out = export.export_tagger(model_dir, str(tmp_path / "exported"))
    card = model_card.read_card(out)
    assert card["task"] == "ner" and card["model_type"] == "BiRNN-CRF baseline"
    assert card["scores"] == {} and card["lms"] == []  # the tiny test model never ran experiment.finish
    assert card["export"] == {"exported_from": os.path.abspath(model_dir), "signature": "serving_default"}
    text = open(os.path.join(out, model_card.CARD_MARKDOWN), encoding="utf-8").read()
    assert "unknown: the run has no results.json" in text and "- exported_from: " in text
