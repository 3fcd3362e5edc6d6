"""Synchronous data-parallel LM training under a ``tf.distribute`` strategy.

One step: every replica runs its rows of the window from its carried LSTM state, computes the
summed sampled-softmax loss of its real targets, and divides it by the *global* number of real
targets (an all-reduce), so the sum of the replicas' gradients (another all-reduce) is the
gradient of the global token mean, whatever the padding and the replica count. The summed
gradient (sparse rows merged) is clipped to ``clip_norm`` by its global norm, then Adagrad or
Adam updates the variables.

The loop around the steps is :class:`~taglm_tf.utils.training_loop.TrainingLoop`'s, one unit per
``checkpoint_every`` steps, each committed by its checkpoint (the loop's docstring says how, also
under ``MultiWorkerMirroredStrategy``); Ctrl-C or SIGTERM within
:func:`~taglm_tf.utils.training_loop.interruptible` (as
:func:`~taglm_tf.lm.pretraining.run.pretrain` runs :meth:`LMTrainer.fit`) ends the unit after the
running step and commits it; with several workers, a signal to any of them ends every worker after
the same step (they agree on it with a collective after each step and before each unit). A
checkpoint holds the model, the optimizer (its ``iterations`` is the step), the carried LSTM state
of every row and the data stream's state (the window packer's,
:mod:`taglm_tf.lm.pretraining.corpus` "Position"). Dropout masks and sampled-softmax candidates are
drawn from stateless seeds made of the step, so a resumed run continues exactly as the
uninterrupted one would have. A run resumed with another global batch size (rows x replicas)
restarts its LSTM states from zeros and its data at the chunk of the newest sentence read, as do
checkpoints written before the states were saved.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import tensorflow as tf

from taglm_tf.lm.pretraining import corpus as lm_corpus
from taglm_tf.lm.pretraining.config import OPTIMIZERS, PRECISIONS, STRATEGIES, LMTrainConfig
from taglm_tf.lm.pretraining.lstm_lm import LSTMPStackLM
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.training_loop import TrainingLoop

SUM = tf.distribute.ReduceOp.SUM


def make_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """``auto``: MultiWorkerMirroredStrategy if ``TF_CONFIG`` names a cluster, MirroredStrategy
    with two or more GPUs, else the default (single-device) strategy. Call before any TF op."""
    if name not in STRATEGIES:
        raise InputError(f"--strategy must be one of {', '.join(STRATEGIES)}, not {name!r}")
    if name == "auto":
        gpus = tf.config.list_physical_devices("GPU")  # does not initialise the runtime
        name = "multi_worker" if tf_config_cluster() else "mirrored" if len(gpus) > 1 else "default"
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def tf_config_cluster() -> dict:
    """The ``cluster`` entry of the ``TF_CONFIG`` environment variable; ``{}`` if it is unset or
    has none.

    Raises:
        InputError: ``TF_CONFIG`` is not a JSON object, or its ``cluster`` is not one.
    """
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except json.JSONDecodeError as e:
        raise InputError(f"TF_CONFIG is not JSON ({e})") from None
    cluster = config.get("cluster", {}) if isinstance(config, dict) else None
    if not isinstance(cluster, dict):
        raise InputError(
            'TF_CONFIG must be a JSON object whose "cluster" maps task types to address '
            'lists, e.g. {"cluster": {"worker": ["host1:2222", "host2:2222"]}, '
            '"task": {"type": "worker", "index": 0}}'
        )
    return cluster


def worker_role(strategy: tf.distribute.Strategy):
    """``(is_chief, task_id)``: worker 0 is the chief unless the cluster has a ``chief`` task."""
    if not _multi_worker(strategy):
        return True, 0
    resolver = strategy.cluster_resolver
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    chief = resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief
    )
    return chief, resolver.task_id


def _multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """Whether the run has a process per worker (a cluster with a task type)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return resolver is not None and bool(resolver.task_type)


@contextlib.contextmanager
def precision_policy(precision: str):
    """Layers made within the block compute in ``precision``'s dtype (float32, bfloat16 or
    float16) and keep float32 variables (Keras mixed precision); the softmax and the losses stay
    float32 (:class:`~taglm_tf.lm.pretraining.lstm_lm.LMSoftmax`), as does the carried LSTM state.
    The global policy is restored after the block."""
    if precision not in PRECISIONS:
        raise InputError(f"--precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(precision)
    try:
        yield
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)


def make_optimizer(config: LMTrainConfig) -> tf.keras.optimizers.Optimizer:
    """Adagrad or Adam without clipping of its own (:class:`LMTrainer` clips the summed gradient);
    under ``mixed_float16`` wrapped in a dynamic ``LossScaleOptimizer`` (float16 gradients
    underflow without loss scaling; bfloat16 has float32's range and needs none)."""
    if config.optimizer == "adagrad":
        optimizer = tf.keras.optimizers.Adagrad(config.learning_rate, config.initial_accumulator_value)
    elif config.optimizer == "adam":
        optimizer = tf.keras.optimizers.Adam(config.learning_rate)
    else:
        raise InputError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, not {config.optimizer!r}")
    if config.precision == "mixed_float16":
        optimizer = tf.keras.mixed_precision.LossScaleOptimizer(optimizer)
    return optimizer


def summed_gradients(grads):
    """All-reduce (sum) per-replica gradients; merge the duplicate rows of sparse ones.

    Keras' own aggregation all-gathers ``IndexedSlices`` and clips before merging duplicate rows,
    so its global norm counts a row once per replica and position that touched it, which
    depends on the replica count. Merging first gives the norm of the dense summed gradient.
    """
    return [merge_duplicate_rows(g) if isinstance(g, tf.IndexedSlices) else g for g in all_reduce_sum(grads)]


def all_reduce_sum(values):
    """Sum over the replicas in sync; no collective op when there is only one."""
    context = tf.distribute.get_replica_context()
    return values if context.num_replicas_in_sync == 1 else context.all_reduce(SUM, values)


def window_step(model: LSTMPStackLM, optimizer, config: LMTrainConfig, batch, states):
    """One replica's update on one window: (summed token loss, token count, new states).

    The loss is the replica's summed token loss over the *global* token count, times
    ``config.gradient_scale``; gradients are summed over replicas, clipped by global norm and
    applied once. Without a distribution strategy (one replica) this is plain training.
    """
    weights = batch["weights"]
    loss_scaled = isinstance(optimizer, tf.keras.mixed_precision.LossScaleOptimizer)  # mixed_float16
    replica = tf.distribute.get_replica_context().replica_id_in_sync_group
    dropout_seed = tf.random.experimental.stateless_fold_in(
        tf.stack([tf.constant(config.seed, tf.int64), tf.cast(optimizer.iterations, tf.int64)]), replica
    )
    with tf.GradientTape() as tape:
        outputs, new_states = model(
            *model_inputs(model, batch),
            mask=weights > 0,
            initial_state=states,
            training=True,
            dropout_seed=dropout_seed,
        )
        losses = model.token_losses(outputs, batch["targets"], step=optimizer.iterations)
        loss_sum, count = tf.reduce_sum(losses * weights), tf.reduce_sum(weights)
        objective = loss_sum / tf.maximum(all_reduce_sum(count), 1.0) * config.gradient_scale
        if loss_scaled:
            objective = optimizer.get_scaled_loss(objective)
    variables = model.trainable_variables
    grads = tape.gradient(objective, variables)
    if loss_scaled:
        grads = optimizer.get_unscaled_gradients(grads)
    grads = summed_gradients(grads)
    if config.clip_norm > 0:
        grads, _ = tf.clip_by_global_norm(grads, config.clip_norm)
    optimizer.apply_gradients(zip(grads, variables), skip_gradients_aggregation=True)
    return loss_sum, count, tf.nest.map_structure(tf.stop_gradient, new_states)


def model_inputs(model: LSTMPStackLM, window: dict) -> list:
    """The window arrays ``model`` reads, in call order (``model.input_keys``)."""
    return [window[key] for key in model.input_keys]


def merge_duplicate_rows(grad: tf.IndexedSlices) -> tf.IndexedSlices:
    """The same sparse gradient with one row per distinct index (in order of first appearance),
    the values of repeated indices summed; ``dense_shape`` is kept."""
    unique, index = tf.unique(grad.indices)
    values = tf.math.unsorted_segment_sum(grad.values, index, tf.shape(unique)[0])
    return tf.IndexedSlices(values, unique, grad.dense_shape)


class LMTrainer:
    """Trains an :class:`LSTMPStackLM` with carried state, checkpoints and TensorBoard.

    Args:
        strategy: the distribution strategy (variables are created in its scope).
        build_model: returns a new, unbuilt model.
        config: optimisation settings.
        model_dir: ``checkpoints/`` and ``tensorboard/`` go here.
        log: called with each log line (chief only); ``None`` prints.
    """

    def __init__(
        self,
        strategy: tf.distribute.Strategy,
        build_model: Callable[[], LSTMPStackLM],
        config: LMTrainConfig,
        model_dir: str,
        log: Callable[[str], None] | None = None,
    ):
        self.strategy, self.config, self.model_dir = strategy, config, model_dir
        self.is_chief, self.task_id = worker_role(strategy)
        self.log = (log or (lambda line: print(line, flush=True))) if self.is_chief else (lambda line: None)
        with strategy.scope():
            with precision_policy(config.precision):
                self.model = build_model()
                self.model.build()
            self.optimizer = make_optimizer(config)
            self.optimizer.build(self.model.trainable_variables)
        self.data_position = tf.Variable(np.zeros(3, np.int64), trainable=False, name="data_position")
        # Shapes follow the global batch, which a resumed run may change: unknown-shape variables.
        self.data_state = tf.Variable(
            np.zeros((0, lm_corpus.RESUME_FIELDS), np.int64),
            trainable=False,
            shape=tf.TensorShape(None),
            name="data_state",
        )
        self.lstm_state = [
            tf.Variable(
                np.zeros((0, 0), np.float32),
                trainable=False,
                shape=tf.TensorShape(None),
                name=f"lstm_state_{i}",
            )
            for i in range(len(tf.nest.flatten(self.model.zero_state(1))))
        ]
        self.checkpoint = tf.train.Checkpoint(
            model=self.model,
            optimizer=self.optimizer,
            data_position=self.data_position,
            data_state=self.data_state,
            lstm_state=self.lstm_state,
        )
        self.loop = TrainingLoop(
            self.checkpoint,
            model_dir,
            config.keep_checkpoints,
            worker=None if self.is_chief else self.task_id,
            stop_between_steps=True,
            agree_to_stop=self._any_worker_asked if _multi_worker(strategy) else None,
        )
        self._sum_over_replicas = tf.function(
            lambda x: strategy.reduce(SUM, strategy.run(lambda: tf.identity(x)), axis=None)
        )
        self._step_fn = tf.function(self._distributed_step)

    def _any_worker_asked(self, asked: bool) -> bool:
        """Whether any worker was asked to stop: each worker's flag, once per replica, summed over
        all replicas of all workers (a collective; :class:`TrainingLoop` calls it at the same
        points on every worker, so all of them get the same answer after the same step, and
        once more as the run ends, done or stopped; the loop ignores the failure of that last
        check, when a worker that got its answer first has already exited)."""
        return float(self._sum_over_replicas(tf.constant(float(asked)))) != 0.0

    @property
    def step(self) -> int:
        """Training steps done: the optimizer's ``iterations`` (restored with a checkpoint)."""
        return int(self.optimizer.iterations.numpy())

    @property
    def global_batch_size(self) -> int:
        """Rows per step over all replicas: ``config.batch_size`` x replicas in sync."""
        return self.config.batch_size * self.strategy.num_replicas_in_sync

    # -- one step ----------------------------------------------------------------------------
    def _replica_step(self, batch, states):
        return window_step(self.model, self.optimizer, self.config, batch, states)

    def _distributed_step(self, batch, states):
        loss_sums, counts, states = self.strategy.run(self._replica_step, args=(batch, states))
        return (
            self.strategy.reduce(SUM, loss_sums, axis=None),
            self.strategy.reduce(SUM, counts, axis=None),
            states,
        )

    def train_step(self, batch, states):
        """One synchronous step on a distributed window; returns (loss sum, token count, states)."""
        return self._step_fn(batch, states)

    def zero_states(self):
        """Per-replica zero LSTM states for ``config.batch_size`` rows."""
        return self.strategy.experimental_distribute_values_from_function(
            lambda _: self.model.zero_state(self.config.batch_size)
        )

    @property
    def exact_resume(self) -> bool:
        """Whether the restored checkpoint holds this run's global rows of state and data."""
        rows = self.global_batch_size
        shapes = [tuple(v.value().shape) for v in self.lstm_state]  # the values': unknown-shape variables
        return tuple(self.data_state.value().shape) == (rows + 1, lm_corpus.RESUME_FIELDS) and all(
            len(shape) == 2 and shape[0] == rows for shape in shapes
        )

    def start_states(self):
        """Per-replica LSTM states to start from: the checkpoint's rows when :attr:`exact_resume`
        (replica r gets global rows ``[r * b, (r + 1) * b)``, as the data), else zeros."""
        if not self.exact_resume:
            return self.zero_states()
        b, template = self.config.batch_size, self.model.zero_state(1)
        values = [v.numpy() for v in self.lstm_state]

        def rows(context):
            first = context.replica_id_in_sync_group * b
            return tf.nest.pack_sequence_as(template, [tf.constant(v[first : first + b]) for v in values])

        return self.strategy.experimental_distribute_values_from_function(rows)

    # -- checkpoints -------------------------------------------------------------------------
    def restore(self) -> str | None:
        """Restore the chief's latest checkpoint, if any; returns its path."""
        record = self.loop.restore()
        return record["checkpoint"] if record else None

    @property
    def start_position(self) -> lm_corpus.Position | np.ndarray:
        """Where the data stream starts: the saved packer state when :attr:`exact_resume`, else
        the chunk of the newest sentence read (``(0, 0, 0)`` for a new run)."""
        if self.exact_resume:
            return self.data_state.numpy()
        return lm_corpus.Position(*(int(v) for v in self.data_position.numpy()))

    # -- loop --------------------------------------------------------------------------------
    def fit(self, dataset, evaluate: Callable[[LSTMPStackLM], dict[str, float]] | None = None) -> dict:
        """Train on a distributed window dataset up to ``config.train_steps`` (or its end), one
        unit of :class:`TrainingLoop` per ``checkpoint_every`` steps: a checkpoint at every
        multiple of it, at ``train_steps``, at the end of the data and at the step where Ctrl-C
        or SIGTERM stops the run (:func:`~taglm_tf.utils.training_loop.interruptible`).

        Args:
            dataset: from :func:`lm_corpus.distributed_dataset` with this strategy and batch size.
            evaluate: run on the chief after each checkpoint; its metrics go to TensorBoard under
                ``heldout/``.

        Returns:
            The last logged metrics.
        """
        c = self.config
        run = _Run(iter(dataset), self.start_states())
        self.loop.run(
            lambda: self.step >= c.train_steps or run.ended,
            lambda: min((self.step // c.checkpoint_every + 1) * c.checkpoint_every, c.train_steps),
            lambda: self._unit(run, evaluate),
        )
        meter = run.meter
        return {
            **run.metrics,
            "run_tokens": meter.run_tokens,
            "run_tokens_per_sec": meter.run_tokens / max(time.perf_counter() - meter.run_start, 1e-9),
        }

    def _unit(self, run: _Run, evaluate) -> None:
        """Train up to the step the unit is named by (:attr:`TrainingLoop.running`), the end of
        the data or a requested stop (after the current step), logging every ``log_every`` steps
        (and where it ends early); then commit the steps trained, if any, and evaluate (not when
        a stop ended it early)."""
        c, trained = self.config, False
        while self.step < self.loop.running and not self.loop.should_stop():
            try:
                batch = next(run.batches)
            except (StopIteration, tf.errors.OutOfRangeError):
                run.ended = True
                break
            loss_sum, count, run.states = self.train_step(batch, run.states)
            self.data_position.assign(self.strategy.experimental_local_results(batch["position"])[0])
            self.data_state.assign(self.strategy.experimental_local_results(batch["resume"])[0])
            run.meter.add(loss_sum, count)
            trained, step = True, self.step
            if step % c.log_every == 0 or step == c.train_steps:
                run.metrics = self._log(step, run.meter.flush())
        stopped_early = self.step < self.loop.running and not run.ended
        if (run.ended or stopped_early) and run.meter.steps:
            run.metrics = self._log(self.step, run.meter.flush())
        if trained:
            # a unit that reached its step is evaluated even when a stop came during its last
            # step: its checkpoint comes first, and its held-out point would be missing for good
            self._checkpoint(None if stopped_early else evaluate, run.states)

    def _checkpoint(self, evaluate, states) -> None:
        """Commit: the carried LSTM states (all rows, in replica order) into their variables, then
        the checkpoint; then the held-out evaluation (chief only)."""
        for variable, value in zip(self.lstm_state, tf.nest.flatten(states)):
            variable.assign(self.strategy.gather(value, axis=0))
        self.loop.commit(self.step)
        if evaluate is not None and self.is_chief:
            heldout = evaluate(self.model)
            self.loop.log_scalars(self.step, {f"heldout/{name}": value for name, value in heldout.items()})
            self.log(
                f"step {self.step}: held-out perplexity {heldout['perplexity']:.2f} "
                f"({heldout['tokens']:,.0f} tokens)"
            )

    def _log(self, step: int, window: dict) -> dict:
        loss = window["loss_sum"] / max(window["tokens"], 1.0)
        metrics = {
            "loss": loss,
            "perplexity": math.exp(min(loss, 50.0)),
            "tokens_per_sec": window["tokens"] / max(window["seconds"], 1e-9),
            "learning_rate": float(self.optimizer.learning_rate.numpy()),
            "data_epoch": float(self.data_position.numpy()[0]),
        }
        self.loop.log_scalars(step, {f"train/{name}": value for name, value in metrics.items()})
        self.log(
            f"step {step}: loss {loss:.4f} (sampled-softmax ppl {metrics['perplexity']:.1f}) "
            f"{metrics['tokens_per_sec']:,.0f} tokens/s lr {metrics['learning_rate']:g} "
            f"epoch {metrics['data_epoch']:.0f}"
        )
        return metrics


class _Meter:
    """Sums loss and real tokens between log lines, reading device values only when flushed;
    ``run_tokens`` counts the tokens of every flushed interval since creation."""

    def __init__(self):
        self.start, self.loss_sum, self.tokens, self.steps = time.perf_counter(), 0.0, 0.0, 0
        self.run_start, self.run_tokens = self.start, 0.0

    def add(self, loss_sum, count):
        self.loss_sum, self.tokens, self.steps = self.loss_sum + loss_sum, self.tokens + count, self.steps + 1

    def flush(self) -> dict:
        now = time.perf_counter()
        out = {
            "loss_sum": float(self.loss_sum),
            "tokens": float(self.tokens),
            "seconds": now - self.start,
            "steps": self.steps,
        }
        self.run_tokens += out["tokens"]
        self.start, self.loss_sum, self.tokens, self.steps = now, 0.0, 0.0, 0
        return out


@dataclasses.dataclass
class _Run:
    """What :meth:`LMTrainer.fit` carries from one unit to the next."""

    batches: Iterator
    states: Any  # per-replica LSTM states
    meter: _Meter = dataclasses.field(default_factory=_Meter)
    metrics: dict = dataclasses.field(default_factory=dict)  # the last logged
    ended: bool = False  # the data ran out


def evaluate_perplexity(
    model: LSTMPStackLM, corpus: lm_corpus.LMCorpus, batch_size: int = 32, num_steps: int = 20
) -> dict[str, float]:
    """Full-softmax perplexity of ``corpus`` (read once, in order, packed as in training).

    Every target counts: the words and each sentence's ``</S>`` (``<S>`` is never a target);
    ``<UNK>`` targets count too, as one word. The state is carried row by row across windows,
    and across sentences unless the model resets it at ``<S>`` (``reset_id``), as in training.

    Returns:
        ``perplexity``, ``loss`` (mean nats per target), ``tokens`` (targets counted),
        ``sentences``, ``unk_tokens`` (targets that are ``<UNK>``).
    """
    spec = lm_corpus.window_spec(batch_size, num_steps, corpus.max_word_length)
    state_spec = tf.nest.map_structure(
        lambda t: tf.TensorSpec(t.shape, t.dtype), model.zero_state(batch_size)
    )

    @tf.function(input_signature=[spec, state_spec])
    def eval_step(window, state):
        weights = window["weights"]
        outputs, state = model(*model_inputs(model, window), mask=weights > 0, initial_state=state)
        losses = model.token_losses(outputs, window["targets"])

        def count_of(word_id):
            return tf.reduce_sum(tf.cast(tf.equal(window["targets"], word_id), tf.float32) * weights)

        return (
            tf.reduce_sum(losses * weights),
            tf.reduce_sum(weights),
            count_of(corpus.vocab.eos),
            count_of(corpus.vocab.unk),
            state,
        )

    totals, state = np.zeros(4), model.zero_state(batch_size)
    for window in lm_corpus.window_dataset(corpus, batch_size, num_steps).prefetch(2):
        *sums, state = eval_step(window, state)
        totals += [float(s) for s in sums]
    loss_sum, tokens, sentences, unk = totals
    if tokens == 0:
        raise InputError("no held-out tokens to evaluate", corpus.files[0])
    loss = loss_sum / tokens
    return {
        "perplexity": math.exp(loss),
        "loss": loss,
        "tokens": tokens,
        "sentences": sentences,
        "unk_tokens": unk,
    }
