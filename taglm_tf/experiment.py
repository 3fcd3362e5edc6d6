"""One training run of a task end to end: data -> vocabularies -> model -> schedule -> scores.

Writes into ``model_dir``: ``config.json``, ``vocab.json``, checkpoints and TensorBoard logs
(see :mod:`taglm_tf.training.trainer`), ``model.keras``, ``{dev,test}_predictions.txt`` in
conlleval format, ``results.json`` and the model card (:mod:`taglm_tf.model_card`).
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Callable, Optional

import tensorflow as tf

from taglm_tf.data import conll
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.data.resources import build_resources
from taglm_tf.errors import InputError
from taglm_tf.evaluation import Predictor, evaluate
from taglm_tf.fileio import write_text_atomic
from taglm_tf.lm.features import CachedFeatures
from taglm_tf.lm.loading import lm_fingerprints, lm_perplexities, load_lm_embedders
from taglm_tf.model_card import write_run_card
from taglm_tf.models import saving
from taglm_tf.models.tagger import TaggerConfig, build_tagger
from taglm_tf.provenance import git_commit
from taglm_tf.tasks import TASKS, load_splits, task_paths
from taglm_tf.training.trainer import TrainConfig, Trainer, check_resume

TRAIN_SCHEME = "iobes"  # paper §3


@dataclasses.dataclass(kw_only=True, frozen=True)
class ExperimentConfig:
    """Everything that defines a run; saved as ``config.json`` beside the model. Built with
    keywords and never changed in place (derive variants with ``dataclasses.replace``)."""

    task: str
    data_dir: str
    model_dir: str
    embeddings: Optional[str] = None
    train_with_dev: bool = False
    dev_seed: int = 0
    train_fraction: float = 1.0
    files: dict = dataclasses.field(default_factory=dict)  # split -> file, overriding the task's
    forward_lm: Optional[str] = None   # LM specs (taglm_tf.lm.embedders.load_embedder)
    backward_lm: Optional[str] = None
    lm_cache_dir: str = "runs/lm_cache"
    lm_cache_dtype: str = "float16"
    model: TaggerConfig = dataclasses.field(default_factory=TaggerConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def lm_feature_sources(config: ExperimentConfig, embedders, splits) -> dict:
    """One cached ``FeatureSource`` per split name, or ``{}`` for a baseline run."""
    if not embedders:
        return {}
    return {name: CachedFeatures(embedders, [s.tokens for s in sentences], config.lm_cache_dir,
                                 config.lm_cache_dtype, verbose=config.train.verbose == 1)
            for name, sentences in splits._asdict().items()}


def run_experiment(config: ExperimentConfig, resume: bool = False,
                   on_epoch_end: Optional[Callable[[dict], None]] = None) -> dict:
    """Train and evaluate; returns the results dict (also written to ``results.json``)."""
    task = TASKS[config.task]
    state_exists = check_resume(config.model_dir, resume)
    tf.keras.utils.set_random_seed(config.train.seed)
    splits = load_splits(task, config.data_dir, config.train_with_dev, config.dev_seed,
                         config.train_fraction, config.train.seed, config.files)
    train, dev = (conll.convert_tags(s, TRAIN_SCHEME) for s in (splits.train, splits.dev))
    trained_with = saving.load_config(config.model_dir).get("lm_fingerprints") if state_exists else None
    lms = load_lm_embedders(config.to_dict(), expected_fingerprints=trained_with)
    features = lm_feature_sources(config, lms, splits)
    if features:
        config = dataclasses.replace(
            config, model=dataclasses.replace(config.model, extra_dim=features["train"].dim))
    if state_exists:
        resources = saving.load_vocab(config.model_dir)
    else:
        resources = build_resources(train, splits.dev + splits.test, config.embeddings,
                                    config.model.word_dim, config.train.seed)
        saving.save_vocab(config.model_dir, resources)
        saving.save_config(config.model_dir, {**config.to_dict(), "git_commit": git_commit(),
                                              "lm_fingerprints": lm_fingerprints(config.to_dict(), lms)})
    featurizer = resources.featurizer()
    model = build_tagger(config.model, len(resources.words), len(resources.chars),
                         len(resources.tags), resources.word_vectors)
    predictor = Predictor(model, resources.tags, config.train.eval_batch_size)
    trainer = Trainer(model, predictor, config.train, config.model_dir, task.fmt.tag_scheme)
    paths = task_paths(task, config.data_dir, config.files)
    train_data = TaggingData(train, featurizer, resources.tags, features.get("train"), paths["train"])
    dev_data = TaggingData(dev, featurizer, resources.tags, features.get("dev"),
                           paths.get("dev", paths["train"]))
    history = trainer.train(train_data, dev_data, splits.dev, resume=resume, on_epoch_end=on_epoch_end)
    return finish(config, model, predictor, featurizer, splits, history, features)


def _started_at_commit(model_dir: str) -> str:
    return saving.load_config(model_dir).get("git_commit", "unknown")


def _best_constant_epoch(history, base_lr):
    constant = [h for h in history if h["lr"] == base_lr]
    return max(constant, key=lambda h: h["dev_f1"])["epoch"] if constant else None


def finish(config, model, predictor, featurizer, splits, history, features) -> dict:
    """Score the final model on dev and test, save it, and write ``results.json``."""
    task = TASKS[config.task]
    scores = {}
    for name, gold in (("dev", splits.dev), ("test", splits.test)):
        data = TaggingData(gold, featurizer, features=features.get(name))
        ev = evaluate(predictor, data, gold, task.fmt.tag_scheme)
        write_text_atomic(os.path.join(config.model_dir, f"{name}_predictions.txt"), ev.predictions)
        scores[name] = {"f1": ev.f1, "precision": ev.result.overall.precision,
                        "recall": ev.result.overall.recall,
                        "per_type": {t: c.f1 for t, c in ev.result.per_type.items()},
                        "tokens_per_sec": ev.tokens_per_sec}
    saving.save_model(config.model_dir, model)
    results = {
        "task": config.task, "dev_f1": scores["dev"]["f1"], "test_f1": scores["test"]["f1"],
        "scores": scores, "epochs": len(history),
        "best_dev_epoch_before_annealing": _best_constant_epoch(history, config.train.learning_rate),
        "wall_seconds": sum(h.get("seconds", 0.0) for h in history),
        "train_sentences": len(splits.train), "train_with_dev": config.train_with_dev,
        "embeddings": config.embeddings, "seed": config.train.seed,
        "lm_perplexity": lm_perplexities(config.to_dict()),
        "config": config.to_dict(), "history": history,
        "git_commit": _started_at_commit(config.model_dir), "git_commit_at_finish": git_commit(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_text_atomic(os.path.join(config.model_dir, "results.json"), json.dumps(results, indent=1))
    write_run_card(config.model_dir, results)
    return results
