"""Exporting a TagLM model: its lstm_lm LMs run inside the SavedModel, and it tags as the Python
tagger (on-the-fly LM features) does; a model whose LM changed since training is refused."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

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
from taglm_tf.serving import export
from taglm_tf.tag import tag_input
from taglm_tf.tasks import sample_paths
from taglm_tf.training.experiment import run_experiment
from taglm_tf.utils.errors import InputError

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems

SENTENCES = [
    "Anna Novak said on Monday that Kestrel Bank would open an office in Norvia .".split(),
    ["Velmora"],
    "Police in Qualen said 20 people were hurt on Tuesday , an unseenword here".split(),
]


@pytest.fixture(scope="module")
def taglm_model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("taglm_export")
    text = [" ".join(s.tokens) for s in conll.read_conll(sample_paths()["train"], conll.CONLL2003)]
    lms = tiny_lms.pretrain_pair(root, text[:200], batch_size=4, num_steps=5)
    config = dataclasses.replace(
        tiny_config(root / "tagger", max_constant_epochs=3, anneal_steps=1, learning_rate=0.01),
        forward_lm=f"lstm_lm:{lms['forward']}",
        backward_lm=f"lstm_lm:{lms['backward']}",
        lm_cache_dir=str(root / "cache"),
    )
    run_experiment(config)
    return root / "tagger"


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
