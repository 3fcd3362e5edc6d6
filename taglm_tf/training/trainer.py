"""The tagger's trainer: its step (CRF loss, Adam with global-norm clipping), its unit (one epoch,
scored on dev, then the annealing schedule's move) and its progress and TensorBoard output. The
loop around the epochs, their checkpoints, commits and resume are
:class:`~taglm_tf.utils.training_loop.TrainingLoop`'s.

``model_dir`` layout: ``checkpoints/`` (last epochs), ``best/`` (best dev epoch of the
constant phase), ``state.json`` (schedule and per-epoch history; written last, so it is the
commit point of an epoch), ``tensorboard/`` and ``dev_predictions.txt``. ``state.json`` names
checkpoints relative to the run directory, and a run reads only its own files, so a moved or
copied run resumes from its own state; what a kill leaves after the last commit (a partial
checkpoint, a best epoch not yet committed) is removed when the run starts again.

Progress (``TrainConfig.verbose``): a bar over the epoch's batches with an ETA on a terminal,
one line per epoch in a log file (:func:`verbosity` chooses when ``verbose`` is ``None``).
TensorBoard (``tensorboard/``): ``train/step_loss`` every ``log_every_steps`` training steps
(x axis: batches trained since the run began, ``(epoch - 1) * batches per epoch + batch``, which
keeps counting when annealing goes back to the best epoch), per-epoch ``train/*`` and ``dev/*``
scalars (x axis: the epoch), the final scores (:meth:`Trainer.log_final_scores`) and the run's
hyper-parameters for the HParams plugin, with :func:`hparams_metrics` as its metrics.

Exact resume: everything random in an epoch depends only on (seed, epoch, step). The batch
order comes from (seed, epoch) (:func:`~taglm_tf.data.pipeline.batch_order`), and every
random layer (dropout) draws from its own ``tf.random.Generator``, whose state is a variable
that the traced train step reads and advances; it is reset from (seed, epoch, layer) at the
start of each epoch (:func:`reseed_random_layers`). So a run resumed from the checkpoint of
epoch N repeats epochs N+1, ... exactly as the uninterrupted run trains them.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from taglm_tf import run_dir
from taglm_tf.data.conll import Sentence
from taglm_tf.data.pipeline import TaggingData
from taglm_tf.models.evaluation import Evaluation, Predictor, evaluate, model_inputs
from taglm_tf.tasks import METRIC_TITLES, Labels, Scores, Task
from taglm_tf.training.config import TrainConfig
from taglm_tf.training.schedule import AnnealingSchedule
from taglm_tf.utils.fileio import check_run_dir, remove_partial_checkpoints, write_text_atomic
from taglm_tf.utils.training_loop import TrainingLoop


def verbosity(verbose: int | None, stream: TextIO | None = None) -> int:
    """``verbose`` if given, else 1 (a progress bar) when ``stream`` (stdout) is a terminal and 2
    (one line per epoch) when it is a file or a pipe, where a bar would fill the log."""
    if verbose is not None:
        return verbose
    stream = sys.stdout if stream is None else stream
    return 1 if stream.isatty() else 2


HParam = bool | int | float | str


def hparams_metrics(metric: str) -> tuple[str, ...]:
    """The HParams plugin's metrics (its table shows each one's last value) for a task scored by
    ``metric`` (``f1``, ``accuracy``): the dev score per epoch, and the final model's dev and
    test scores (:meth:`Trainer.log_final_scores`)."""
    return (f"dev/{metric}", f"dev/final_{metric}", f"test/{metric}")


def check_resume(model_dir: str, resume: bool) -> bool:
    """True if ``model_dir`` holds a run to resume; an error if it does and ``resume`` is off."""
    return check_run_dir(model_dir, run_dir.STATE, resume)


def random_generators(model: tf.keras.Model) -> list[tf.random.Generator]:
    """The ``tf.random.Generator`` of each random layer of ``model`` (Keras ``Dropout`` built with
    ``rng_type="stateful"``), in layer order. An error for a random layer on Keras' default
    legacy stateful ops: their kernels keep hidden state inside a traced function, so no
    reseeding would make a resumed run repeat the uninterrupted one."""
    generators = []
    for layer in model.submodules:
        rng = getattr(layer, "_random_generator", None)  # Keras' BaseRandomLayer
        if not isinstance(layer, tf.keras.layers.Layer) or rng is None:
            continue
        rates = [getattr(layer, a, None) for a in ("rate", "dropout", "recurrent_dropout")]
        rates = [r for r in rates if isinstance(r, (int, float))]
        if rates and not any(rates):  # Dropout(0), RNNs without dropout: nothing drawn
            continue
        rng._maybe_init()
        if getattr(rng, "_generator", None) is None:
            raise ValueError(
                f"layer {layer.name} draws random numbers from legacy stateful ops; "
                "build it with rng_type='stateful'"
            )
        generators.append(rng._generator)
    return generators


def reseed_random_layers(model: tf.keras.Model, seed: int, epoch: int) -> None:
    """Reset every random layer's generator from (seed, epoch, layer index)."""
    for i, generator in enumerate(random_generators(model)):
        generator.reset_from_seed(int(np.random.SeedSequence([seed, epoch, i]).generate_state(1)[0]))


def trial_id(model_dir: str) -> str:
    """The run's HParams trial id, made when its TensorBoard log starts and kept in
    ``tensorboard/trial_id`` for resumes: ``SWEEP/RUN-xxxxxxxx`` (the directory's last two names
    and 8 random hex digits). The names make TensorBoard's table readable; the random part keeps
    apart runs that share names and settings (every sweep's ``seed_1``, a rerun on the other
    stack), which the plugin would otherwise average into one row; a moved run keeps its id."""
    path = os.path.join(model_dir, "tensorboard", "trial_id")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            kept = f.read().strip()
        if kept:
            return kept
    parts = os.path.normpath(os.path.abspath(model_dir)).split(os.sep)[-2:]
    made = f"{'/'.join(parts)}-{secrets.token_hex(4)}"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_text_atomic(path, made + "\n")
    return made


class Trainer:
    """Trains a tagger to the end of the annealing schedule, resumable after a kill.

    Args:
        model: the tagger (outputs ``potentials`` and ``tags``; has a ``crf`` layer).
        predictor: decodes tags for dev evaluation.
        config: optimisation settings.
        model_dir: where checkpoints, state and logs go.
        scorer: the task (:class:`taglm_tf.tasks.Task`), or its labels alone: the scheme of
            the gold files and how dev predictions are scored.
        hparams: the run's settings for TensorBoard's HParams plugin (name -> bool, int, float or
            str), written with the first log of each process; ``None``: none.
    """

    def __init__(
        self,
        model: tf.keras.Model,
        predictor: Predictor,
        config: TrainConfig,
        model_dir: str,
        scorer: Task | Labels,
        hparams: Mapping[str, HParam] | None = None,
    ):
        self.model, self.predictor, self.config = model, predictor, config
        self.model_dir, self.scorer, self.hparams = model_dir, scorer, hparams
        self.verbose = verbosity(config.verbose)
        self.crf = model.get_layer("crf")
        self.optimizer = tf.keras.optimizers.Adam(config.learning_rate, global_clipnorm=config.clip_norm)
        # Slots made now, not inside the first traced step: a tf.function that creates variables is
        # traced twice, and the step's trace (GRU/LSTM register two kernels each) dominates short runs.
        self.optimizer.build(model.trainable_variables)
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=self.optimizer)
        self.loop = TrainingLoop(
            self.checkpoint, model_dir, 2, run_dir.STATE, on_writer=self._write_hparams if hparams else None
        )
        self.best_dir = os.path.join(model_dir, "best")
        # The best epoch's weights are written and read by path (no save counter, no index file).
        self.best_checkpoint = tf.train.Checkpoint(model=model, optimizer=self.optimizer)
        remove_partial_checkpoints(self.best_dir)  # left by a kill during a save
        self._step_fn = None
        self.finished = False  # the schedule has ended

    @property
    def writer(self):
        """The TensorBoard writer, created at the first log (with the run's hyper-parameters)."""
        return self.loop.writer

    @property
    def epoch_running(self) -> int | None:
        """The epoch being trained or evaluated and not yet committed, if any."""
        return self.loop.running

    def _write_hparams(self) -> None:
        hp.hparams_config(
            hparams=[hp.HParam(name) for name in self.hparams],
            metrics=[hp.Metric(tag) for tag in hparams_metrics(self.scorer.metric)],
        )
        hp.hparams(dict(self.hparams), trial_id=trial_id(self.model_dir))

    def train_step(self, batch: dict) -> tf.Tensor:
        """One optimisation step on a batch from :meth:`TaggingData.dataset`; returns the loss."""
        if self._step_fn is None:  # one trace with unknown batch and time dimensions
            spec = {k: tf.TensorSpec([None] * v.shape.rank, v.dtype) for k, v in batch.items()}
            # No control flow to convert (as in build_tagger), so autograph's source conversion is skipped.
            self._step_fn = tf.function(self._step, input_signature=[spec], autograph=False)
        return self._step_fn(batch)

    def _step(self, batch):
        with tf.GradientTape() as tape:
            outputs = self.model(model_inputs(batch), training=True)
            mask = tf.not_equal(batch["word_ids"], 0)
            loss = -tf.reduce_mean(self.crf.log_likelihood(outputs["potentials"], batch["tags"], mask))
        variables = self.model.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    # -- state -------------------------------------------------------------------------------
    def _load_state(self, resume: bool) -> dict:
        if not check_resume(self.model_dir, resume):
            return {"schedule": None, "history": [], "checkpoint": None}
        state = self.loop.restore()
        schedule = state["schedule"] or {}
        best = schedule.get("best_epoch")
        if best and schedule.get("phase") == 0 and not schedule.get("done"):
            self.loop.own_file(f"best/ckpt-{best}")  # annealing will need it: refused now if missing
        self._keep_only_best(best)
        return state

    def _keep_only_best(self, epoch: int | None) -> None:
        """Delete the best-epoch checkpoints other than ``best/ckpt-<epoch>``, the one
        ``state.json`` commits. The best of an epoch is written before its commit and the
        others removed after it, so a kill in between leaves one that the next start removes."""
        keep = f"ckpt-{epoch}." if epoch else None
        for name in os.listdir(self.best_dir) if os.path.isdir(self.best_dir) else ():
            if name.startswith("ckpt-") and not (keep and name.startswith(keep)):
                os.remove(os.path.join(self.best_dir, name))

    def _commit(self, schedule: AnnealingSchedule, history: list) -> None:
        """The commit point of an epoch (:meth:`TrainingLoop.commit`): the epoch's checkpoint, then
        ``state.json`` with the schedule and the history, naming the checkpoint."""
        self.loop.commit(schedule.epoch, {"schedule": dataclasses.asdict(schedule), "history": history})

    # -- loop --------------------------------------------------------------------------------
    def train(
        self,
        train: TaggingData,
        dev: TaggingData,
        dev_gold: Sequence[Sentence],
        resume: bool = False,
        on_epoch_end: Callable[[dict], None] | None = None,
    ) -> list[dict]:
        """Run (or continue) the schedule, one epoch per unit of :class:`TrainingLoop`; returns the
        per-epoch history. ``on_epoch_end`` is called with each epoch's record once it is committed."""
        os.makedirs(self.model_dir, exist_ok=True)
        state = self._load_state(resume)
        c = self.config
        schedule = (
            AnnealingSchedule.from_dict(state["schedule"])
            if state["schedule"]
            else AnnealingSchedule(
                c.learning_rate, c.patience, c.max_constant_epochs, c.anneal_epochs, c.anneal_steps
            )
        )
        history = state["history"]
        if state["checkpoint"] and self.verbose and not schedule.done:
            print(
                f"resuming {self.model_dir} after epoch {schedule.epoch}, at lr {schedule.lr:g}, "
                f"from {state['checkpoint']}",
                flush=True,
            )

        def epoch() -> None:
            record = self._train_epoch(train, dev, dev_gold, schedule, history)
            if on_epoch_end is not None:
                on_epoch_end(record)

        self.loop.run(lambda: schedule.done, lambda: schedule.epoch + 1, epoch)
        self.finished = True
        return history

    def _train_epoch(self, train, dev, dev_gold, schedule: AnnealingSchedule, history: list) -> dict:
        """One unit: train an epoch, score dev, follow the schedule (keep a new best epoch's
        weights, go back to the best one to anneal), append the epoch's record to ``history``,
        commit; returns the record."""
        lr, epoch_start = schedule.lr, time.perf_counter()
        self.optimizer.learning_rate.assign(lr)
        loss, tokens_per_sec = self._epoch(train, schedule.epoch + 1)
        dev_eval = evaluate(self.predictor, dev, dev_gold, self.scorer)
        write_text_atomic(
            os.path.join(self.model_dir, run_dir.PREDICTIONS.format(split="dev")), dev_eval.predictions
        )
        previous_best = schedule.best_epoch
        action = schedule.record(dev_eval.score)
        if schedule.best_epoch != previous_best:
            self.best_checkpoint.write(os.path.join(self.best_dir, f"ckpt-{schedule.epoch}"))
        if schedule.back_to_best(action):  # anneal (or end) from the best dev epoch
            best = self.loop.own_file(f"best/ckpt-{schedule.best_epoch}")
            self.best_checkpoint.read(best).assert_existing_objects_matched()
        record = self._record(schedule.epoch, lr, loss, tokens_per_sec, dev_eval, action)
        record["seconds"] = time.perf_counter() - epoch_start
        history.append(record)
        self._commit(schedule, history)
        self._keep_only_best(schedule.best_epoch)
        return record

    def _epoch(self, data: TaggingData, epoch: int):
        """Train one epoch; returns (mean loss per batch, training tokens per second)."""
        c = self.config
        batches = data.dataset(c.batch_size, shuffle=True, seed=c.seed, epoch=epoch)
        reseed_random_layers(self.model, c.seed, epoch)
        num_batches = data.num_batches(c.batch_size, shuffle=True)
        progress = tf.keras.utils.Progbar(
            num_batches, verbose=1 if self.verbose == 1 else 0, stateful_metrics=["loss"], unit_name="batch"
        )
        step_losses = StepLossLog(self.writer, (epoch - 1) * num_batches, c.log_every_steps)
        total_loss, steps, start = 0.0, 0, time.perf_counter()
        for batch in batches:
            loss = float(self.train_step(batch))
            total_loss, steps = total_loss + loss, steps + 1
            step_losses.add(loss)
            progress.update(steps, [("loss", total_loss / steps)], finalize=False)  # the epoch's running mean
        progress.update(steps, [("loss", total_loss / max(steps, 1))], finalize=True)  # ends the bar's line
        elapsed = time.perf_counter() - start
        return total_loss / max(steps, 1), data.num_tokens / elapsed

    def _record(self, epoch, lr, loss, tokens_per_sec, dev_eval: Evaluation, action) -> dict:
        scores = dev_eval.scores
        record = {
            "epoch": epoch,
            "lr": lr,
            "loss": loss,
            "train_tokens_per_sec": tokens_per_sec,
            f"dev_{scores.metric}": scores.value,
            f"dev_{scores.metric}_per_type": dict(scores.per_type),
            "action": action,
        }
        self.loop.log_scalars(
            epoch,
            {
                "train/loss": loss,
                "train/learning_rate": lr,
                "train/tokens_per_sec": tokens_per_sec,
                **{f"dev/{name}": value for name, value in scores.details.items()},
                **{f"dev/{scores.metric}_{name}": value for name, value in scores.per_type.items()},
            },
        )
        if self.verbose:
            print(
                f"epoch {epoch}: lr {lr:g} loss {loss:.4f} dev {METRIC_TITLES[scores.metric]} {scores.value:.2f} "
                f"({tokens_per_sec:,.0f} train tokens/s) -> {action}",
                flush=True,
            )
        return record

    def log_final_scores(self, scores: Mapping[str, Scores], epochs: int) -> None:
        """Write the final model's scores to TensorBoard at step ``epochs``: ``test/<NAME>`` for
        each overall score (``test/f1``, ``test/precision``, ``test/recall``, or
        ``test/accuracy``), ``test/<METRIC>_<TYPE>`` per type and ``dev/final_<METRIC>`` (with
        ``test/<METRIC>``, metrics of the HParams plugin: :func:`hparams_metrics`).

        Args:
            scores: ``{"dev": ..., "test": ...}``, the task's scores of the final model.
            epochs: the number of epochs trained.
        """
        test = scores["test"]
        self.loop.log_scalars(
            epochs,
            {
                f"dev/final_{test.metric}": scores["dev"].value,
                **{f"test/{name}": value for name, value in test.details.items()},
                **{f"test/{test.metric}_{name}": value for name, value in test.per_type.items()},
            },
        )


class StepLossLog:
    """Writes ``train/step_loss``, the mean training loss (CRF negative log-likelihood per
    sentence) of each ``every`` steps, at the step that ends them. Plain Python floats written
    outside the traced step, so the step itself is unchanged.

    Args:
        writer: the TensorBoard writer.
        step: the steps trained before the first ``add`` (see the module docstring).
        every: steps per point; 0 or less: none.
    """

    def __init__(self, writer, step: int, every: int):
        self.writer, self.step, self.every = writer, step, every
        self.total, self.count = 0.0, 0

    def add(self, loss: float) -> None:
        """Count one step's loss; write the mean when the step count is a multiple of ``every``."""
        self.step += 1
        self.total, self.count = self.total + loss, self.count + 1
        if self.every > 0 and self.step % self.every == 0:
            with self.writer.as_default(step=self.step):
                tf.summary.scalar("train/step_loss", self.total / self.count)
            self.total, self.count = 0.0, 0
