"""TagLM end to end on tiny synthetic LMs: caches are built once, and cached and on-the-fly LM
features give the same tagger outputs."""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from conftest import tiny_config
from taglm_tf.data import conll
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.lm.frozen.features import CachedFeatures, OnTheFlyFeatures
from taglm_tf.lm.frozen.loading import load_lms
from taglm_tf.models import saving
from taglm_tf.models.config import TaggerConfig
from taglm_tf.models.evaluation import Predictor
from taglm_tf.models.tagger import build_tagger
from taglm_tf.serving import export
from taglm_tf.tasks import sample_paths
from taglm_tf.training.experiment import run_experiment
from tools.lm1b import make_synthetic as ms

pytestmark = pytest.mark.slow  # see conftest.pytest_collection_modifyitems


@pytest.fixture(scope="module")
def lm_specs(tmp_path_factory):
    specs = []
    for seed in (5, 6):  # two different random "LMs" stand in for forward and backward
        out = str(tmp_path_factory.mktemp(f"lm{seed}"))
        ms.write_synthetic_release(out, size="tiny", seed=seed, include_softmax=False)
        specs.append(f"lm1b:{out}/ckpt-*,{out}/{ms.VOCAB_NAME}")
    return specs


@pytest.fixture(scope="module")
def taglm_run(tmp_path_factory, lm_specs):
    root = tmp_path_factory.mktemp("taglm")
    config = tiny_config(root / "run", max_constant_epochs=1, anneal_steps=1)
    config = dataclasses.replace(
        config,
        forward_lm=lm_specs[0],
        backward_lm=lm_specs[1],
        lm_cache_dir=str(root / "cache"),
        lm_cache_dtype="float32",
    )
    return config, run_experiment(config)


def test_run_uses_both_lms_and_caches_each_split_once(taglm_run):
    config, results = taglm_run
    assert results["config"]["model"]["extra_dim"] == 32  # 16 (forward) + 16 (backward)
    assert len(os.listdir(config.lm_cache_dir)) == 3 * 2  # train/dev/test x 2 LMs
    mtimes = {
        p: os.path.getmtime(os.path.join(config.lm_cache_dir, p)) for p in os.listdir(config.lm_cache_dir)
    }
    dev = conll.read_conll(sample_paths()["dev"], conll.CONLL2003)
    CachedFeatures(load_lms(results["config"]), [s.tokens for s in dev], config.lm_cache_dir, "float32")
    assert {p: os.path.getmtime(os.path.join(config.lm_cache_dir, p)) for p in mtimes} == mtimes


def test_cached_and_on_the_fly_features_give_identical_outputs(taglm_run):
    config, results = taglm_run
    loaded = saving.load_tagger(config.model_dir)
    lms = load_lms(loaded.config)
    test = conll.read_conll(sample_paths()["test"], conll.CONLL2003)
    tokens = [s.tokens for s in test]
    sources = {
        "cached": CachedFeatures(lms, tokens, config.lm_cache_dir, "float32"),
        "on_the_fly": OnTheFlyFeatures(lms, tokens),
    }
    batch = np.arange(len(test))[:40]
    np.testing.assert_allclose(
        sources["cached"](batch, 30), sources["on_the_fly"](batch, 30), rtol=1e-5, atol=1e-6
    )
    predictor = Predictor(loaded.model, loaded.resources.tags)
    featurizer = loaded.resources.featurizer()
    tags = {
        name: predictor.predict(TaggingData(test, featurizer, features=source), "iob1")
        for name, source in sources.items()
    }
    assert tags["cached"] == tags["on_the_fly"]
    written = open(os.path.join(config.model_dir, "test_predictions.txt")).read()
    assert conll.format_predictions(test, tags["cached"]) == written


def test_no_task_rnn_ablation_is_lm_dense_crf():
    config = TaggerConfig(extra_dim=6, task_rnn=False)
    model = build_tagger(config, 10, 5, 4)
    assert model.count_params() == 6 * 4 + 4 + 4 * 4
    with pytest.raises(ValueError, match="needs LM features"):
        build_tagger(TaggerConfig(task_rnn=False), 10, 5, 4)


def test_exported_lm1b_taglm_tags_as_the_python_tagger(taglm_run, tmp_path):
    config, _ = taglm_run
    out = export.export_tagger(config.model_dir, str(tmp_path / "out"))
    serve = tf.saved_model.load(out).signatures["serving_default"]
    loaded = saving.load_tagger(config.model_dir)
    test = conll.read_conll(sample_paths()["test"], conll.CONLL2003)[:30]
    test.append(conll.Sentence(("Zürich", "x" * 60, "naïve"), ("O",) * 3))  # non-ASCII, > 48 bytes
    features = OnTheFlyFeatures(load_lms(loaded.config), [s.tokens for s in test])
    expected = Predictor(loaded.model, loaded.resources.tags).predict(
        TaggingData(test, loaded.resources.featurizer(), features=features), "iob1"
    )
    width = max(len(s.tokens) for s in test) + 3
    tokens = tf.constant([list(s.tokens) + [""] * (width - len(s.tokens)) for s in test])
    got = serve(tokens=tokens)["tags"].numpy().astype(str)
    assert [list(row[: len(s.tokens)]) for row, s in zip(got, test)] == expected
    for lm in load_lms(loaded.config):  # the in-graph LM path is the Python path's math, padding zeroed
        in_graph = lm.embed_tokens(tokens).numpy()
        for row, (sentence, vectors) in enumerate(zip(test, lm.embed_sentences([s.tokens for s in test]))):
            np.testing.assert_allclose(in_graph[row, : len(sentence.tokens)], vectors, rtol=1e-5, atol=1e-6)
            assert not in_graph[row, len(sentence.tokens) :].any()


def test_a_resume_takes_the_runs_lms_reached_through_a_link_and_refuses_other_lms(taglm_run, tmp_path):
    """A worktree that links the folder holding the LMs names them by another path: the same files,
    so the run resumes; another LM is refused, naming the flag."""
    from taglm_tf.training.experiment import check_resume_settings
    from taglm_tf.utils.errors import InputError

    config, _ = taglm_run
    release = os.path.dirname(config.forward_lm.split(":", 1)[1].split(",")[0])
    os.symlink(release, tmp_path / "linked")
    linked = config.forward_lm.replace(release, str(tmp_path / "linked"))
    assert linked != config.forward_lm
    check_resume_settings(dataclasses.replace(config, forward_lm=linked))
    with pytest.raises(InputError, match=r"--resume with settings other than the run's: --forward_lm"):
        check_resume_settings(dataclasses.replace(config, forward_lm=config.backward_lm))
