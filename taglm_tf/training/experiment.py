"""One training run of a task end to end: data -> vocabularies -> model -> schedule -> scores.

Writes into ``model_dir``: ``config.json``, ``vocab.json``, checkpoints and TensorBoard logs
(see :mod:`taglm_tf.training.trainer`), ``model.keras``, ``{dev,test}_predictions.txt`` in
conlleval format, the model card (:mod:`taglm_tf.reports.model_card`) and ``results.json`` (written last:
a run with it has finished).

Lifecycle (README, "What resume guarantees"): ``config.json`` and ``vocab.json`` are written
once data, vocabularies and model are ready, and a run that fails before its first epoch is
saved removes what it created; ``--resume`` checks the flags against ``config.json``
(:func:`check_resume_settings`) and leaves a finished run alone; Ctrl-C and SIGTERM become
:class:`~taglm_tf.utils.errors.Interrupted` with one line saying where to continue
(:func:`~taglm_tf.utils.training_loop.interruptible`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable

import tensorflow as tf

from taglm_tf import run_dir
from taglm_tf.data.featurizer import Featurizer
from taglm_tf.data.paths import resolve_data_path
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.data.resources import build_resources
from taglm_tf.lm.frozen.features import CachedFeatures
from taglm_tf.lm.frozen.loading import (
    RELATIVE_KEY,
    lm_fingerprints,
    lm_keys,
    lm_perplexities,
    load_lm_embedders,
    names_recorded_lm,
    resolve_lm_spec,
    specs_relative_to,
)
from taglm_tf.models import saving
from taglm_tf.models.evaluation import Predictor, evaluate
from taglm_tf.models.tagger import build_tagger
from taglm_tf.reports import chunk_outcomes
from taglm_tf.reports.model_card import write_run_card
from taglm_tf.tasks import TASKS, Splits, load_splits, task_paths
from taglm_tf.training.config import SAFE_TO_CHANGE, ExperimentConfig
from taglm_tf.training.trainer import Trainer, check_resume, verbosity
from taglm_tf.utils.fileio import discard_on_failure, write_text_atomic
from taglm_tf.utils.provenance import git_commit, platform
from taglm_tf.utils.training_loop import interruptible


def lm_feature_sources(config: ExperimentConfig, embedders, splits) -> dict:
    """One cached ``FeatureSource`` per split name, or ``{}`` for a baseline run."""
    if not embedders:
        return {}
    return {
        name: CachedFeatures(
            embedders,
            [s.tokens for s in sentences],
            config.lm_cache_dir,
            config.lm_cache_dtype,
            verbose=verbosity(config.train.verbose) == 1,
        )
        for name, sentences in splits._asdict().items()
    }


def run_hparams(config: ExperimentConfig) -> dict:
    """The run's settings for TensorBoard's HParams plugin, to compare runs in its table: task,
    data setting, word vectors and LMs (file names, ``"none"``), the tagger's architecture and the
    optimisation settings; the settings a resume may change (:data:`SAFE_TO_CHANGE`) left out.
    Values are bool, int, float or str."""
    model = dataclasses.asdict(config.model)
    model["rnn2_units"] = config.model.rnn2_units or config.model.rnn_units  # one type per hparam
    train = {k: v for k, v in dataclasses.asdict(config.train).items() if k not in SAFE_TO_CHANGE}
    name = lambda path: os.path.basename(os.path.normpath(path)) if path else "none"  # noqa: E731
    return {
        "task": config.task,
        "train_with_dev": config.train_with_dev,
        "train_fraction": config.train_fraction,
        "embeddings": name(config.embeddings),
        "forward_lm": config.forward_lm or "none",
        "backward_lm": config.backward_lm or "none",
        **model,
        **train,
    }


def with_absolute_paths(config: ExperimentConfig) -> ExperimentConfig:
    """``config`` with its data directory, data files, embeddings and LMs as absolute paths, so
    that ``config.json`` means the same from any working directory."""
    data_dir = os.path.abspath(config.data_dir)
    absolute = lambda p: os.path.abspath(resolve_data_path(p, config.data_dir)) if p else p  # noqa: E731
    lm = lambda s: resolve_lm_spec(s, config.data_dir) if s else s  # noqa: E731
    return dataclasses.replace(
        config,
        data_dir=data_dir,
        embeddings=absolute(config.embeddings),
        files={k: absolute(v) for k, v in config.files.items()},
        forward_lm=lm(config.forward_lm),
        backward_lm=lm(config.backward_lm),
    )


def resume_settings(config: dict) -> dict:
    """``{flag: value}`` of a run's settings that a resume must not change (see
    :data:`SAFE_TO_CHANGE`); ``config`` is a saved ``config.json`` or ``ExperimentConfig.to_dict()``."""
    settings = {k: v for k, v in config.items() if not isinstance(v, dict)}
    for key in ("model", "train"):
        settings.update(config.get(key) or {})
    settings.pop("extra_dim", None)  # derived from the LMs
    if settings.get("embeddings"):
        settings["embeddings"] = os.path.abspath(settings["embeddings"])
    for key in ("model_dir", "git_commit", "files", *SAFE_TO_CHANGE):
        settings.pop(key, None)
    task = TASKS.get(config.get("task"))
    if task is not None:  # the data files, wherever --data_dir or --*_file put them
        paths = task_paths(task, config.get("data_dir") or ".", config.get("files"))
        settings.update(
            {
                f"{split}_file": os.path.abspath(paths.get(split)) if paths.get(split) else None
                for split in ("train", "dev", "test")
            }
        )
    return settings


def check_resume_settings(config: ExperimentConfig) -> None:
    """Refuse to resume the run in ``config.model_dir`` with settings that matter changed."""
    saved = run_dir.read_config(config.model_dir)
    recorded = resume_settings(saved)
    given = resume_settings(config.to_dict())
    for key in lm_keys(saved):  # the run's own LM files, however the given spec reaches them
        if given.get(key) and names_recorded_lm(saved, config.model_dir, key, given[key]):
            recorded[key] = given[key]
    run_dir.refuse_changed_settings(recorded, given, config.model_dir)


def run_experiment(
    config: ExperimentConfig, resume: bool = False, on_epoch_end: Callable[[dict], None] | None = None
) -> dict:
    """Train and evaluate; returns the results dict (also written to ``results.json``).

    With ``resume``, continue the run in ``config.model_dir`` (after checking that the settings
    that matter are the saved ones); a finished run is returned as it is, with
    ``"already_finished": True``. Ctrl-C or SIGTERM raises :class:`Interrupted` with a one-line
    message. A run that fails or is interrupted before its first epoch is saved leaves nothing in
    ``model_dir``.
    """
    config = with_absolute_paths(config)
    state_exists = check_resume(config.model_dir, resume)
    if state_exists:
        check_resume_settings(config)
        done = run_dir.read_results(config.model_dir)
        if done is not None:
            return {**done, "already_finished": True}
    run: PreparedRun | None = None  # the handler reads it when a signal comes
    with interruptible(lambda: _interrupted_at(config.model_dir, run.trainer if run else None)):
        with discard_on_failure(config.model_dir, run_dir.STATE):
            run = _prepare(config, state_exists)
            history = run.trainer.train(
                run.train_data, run.dev_data, run.splits.dev, resume=state_exists, on_epoch_end=on_epoch_end
            )
            return finish(run, history)


def _interrupted_at(model_dir: str, trainer: Trainer | None) -> str:
    """Where a run stopped on Ctrl-C or SIGTERM, and what ``--resume`` will do."""
    if not os.path.exists(os.path.join(model_dir, run_dir.STATE)):
        where = (
            f"in epoch {trainer.epoch_running}" if trainer and trainer.epoch_running else "before training"
        )
        return f"interrupted {where}, before any epoch was saved; nothing was kept in {model_dir}"
    if trainer is None:
        return run_dir.interrupted("before training resumed", "continue")
    if trainer.finished:
        return run_dir.interrupted("while writing the final results", "finish")
    done = trainer.loop.last_commit()
    where = f"in epoch {trainer.epoch_running}" if trainer.epoch_running else f"after epoch {done}"
    return run_dir.interrupted(where, f"continue from the end of epoch {done}")


def experiment_splits(config: ExperimentConfig):
    """The run's train/dev/test sentences. The ``--train_fraction`` subset is drawn with the
    run's seed and nothing else, so a baseline and a TagLM run of one seed train on the same
    sentences, and their per-seed differences pair (the report's paired t-test)."""
    return load_splits(
        TASKS[config.task],
        config.data_dir,
        config.train_with_dev,
        config.dev_seed,
        config.train_fraction,
        config.train.seed,
        config.files,
    )


@dataclasses.dataclass(frozen=True)
class PreparedRun:
    """A run ready to train: its settings (``extra_dim`` set from the LMs), model, trainer, data
    and LM features, as :func:`finish` needs them after training."""

    config: ExperimentConfig
    model: tf.keras.Model
    predictor: Predictor
    trainer: Trainer
    featurizer: Featurizer
    splits: Splits
    features: dict
    train_data: TaggingData
    dev_data: TaggingData


def _prepare(config: ExperimentConfig, state_exists: bool) -> PreparedRun:
    """Prepare data, vocabularies, LM features, model and trainer; a new run's settings and
    vocabularies are saved beside it."""
    task = TASKS[config.task]
    tf.keras.utils.set_random_seed(config.train.seed)
    splits = experiment_splits(config)
    train = [s.with_tags(task.labels.for_training(s.tags)) for s in splits.train]
    trained_with = run_dir.read_config(config.model_dir).get("lm_fingerprints") if state_exists else None
    lms = load_lm_embedders(config.to_dict(), expected_fingerprints=trained_with)
    features = lm_feature_sources(config, lms, splits)
    if features:
        config = dataclasses.replace(
            config, model=dataclasses.replace(config.model, extra_dim=features["train"].dim)
        )
    if state_exists:
        resources = saving.load_vocab(config.model_dir)
    else:
        resources = build_resources(
            train, splits.dev + splits.test, config.embeddings, config.model.word_dim, config.train.seed
        )
    featurizer = resources.featurizer()
    model = build_tagger(
        config.model, len(resources.words), len(resources.chars), len(resources.tags), resources.word_vectors
    )
    predictor = Predictor(model, resources.tags, config.train.eval_batch_size)
    paths = task_paths(task, config.data_dir, config.files)
    train_data = TaggingData(train, featurizer, resources.tags, features.get("train"), paths["train"])
    # Dev gold tags are only scored (the task's scorer, file scheme), never encoded: a type or
    # label that the training data lacks is an error of the model, not of the data.
    dev_data = TaggingData(splits.dev, featurizer, features=features.get("dev"))
    if not state_exists:  # the run really starts: its settings go beside it
        saving.save_vocab(config.model_dir, resources)
        run_dir.write_config(
            config.model_dir,
            {
                **config.to_dict(),
                "lm_fingerprints": lm_fingerprints(config.to_dict(), lms),
                **(
                    {RELATIVE_KEY: relative}
                    if (relative := specs_relative_to(config.to_dict(), config.model_dir))
                    else {}
                ),
            },
        )
    trainer = Trainer(model, predictor, config.train, config.model_dir, task, run_hparams(config))
    return PreparedRun(config, model, predictor, trainer, featurizer, splits, features, train_data, dev_data)


def finish(run: PreparedRun, history: list[dict]) -> dict:
    """Score the final model on dev and test, log the scores to TensorBoard
    (:meth:`Trainer.log_final_scores`), save the model, write what the test chunks became (a
    chunk task's :data:`taglm_tf.run_dir.CHUNK_OUTCOMES`), and write ``results.json``."""
    config, splits = run.config, run.splits
    task = TASKS[config.task]
    final, scores = {}, {}
    for name, gold in (("dev", splits.dev), ("test", splits.test)):
        data = TaggingData(gold, run.featurizer, features=run.features.get(name))
        ev = evaluate(run.predictor, data, gold, task)
        write_text_atomic(
            os.path.join(config.model_dir, run_dir.PREDICTIONS.format(split=name)), ev.predictions
        )
        if name == "test" and task.scheme is not None:
            outcomes = chunk_outcomes.file_outcomes(os.path.join(config.model_dir, run_dir.TEST_PREDICTIONS))
            write_text_atomic(
                os.path.join(config.model_dir, run_dir.CHUNK_OUTCOMES), chunk_outcomes.to_json(outcomes)
            )
        final[name] = ev.scores
        scores[name] = {
            **ev.scores.details,
            "per_type": dict(ev.scores.per_type),
            "tokens_per_sec": ev.tokens_per_sec,
        }
    run.trainer.log_final_scores(final, len(history))
    saving.save_model(config.model_dir, run.model)
    results = {
        "task": config.task,
        **{task.result_key(name): final[name].value for name in ("dev", "test")},
        "scores": scores,
        "epochs": len(history),
        "best_dev_epoch_before_annealing": (run_dir.best_constant_epoch(history, task.metric) or {}).get(
            "epoch"
        ),
        "wall_seconds": sum(h.get("seconds", 0.0) for h in history),
        "train_sentences": len(splits.train),
        "train_with_dev": config.train_with_dev,
        "embeddings": config.embeddings,
        "seed": config.train.seed,
        "lm_perplexity": lm_perplexities(config.to_dict()),
        "config": config.to_dict(),
        "history": history,
        "git_commit": run_dir.started_at_commit(config.model_dir),
        "git_commit_at_finish": git_commit(),
        "platform_at_finish": platform(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_run_card(config.model_dir, results)
    return run_dir.write_results(config.model_dir, results)
