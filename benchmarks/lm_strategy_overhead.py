"""Time per LM training step: MirroredStrategy with one replica (the real ``LMTrainer`` step,
fed through ``distribute_datasets_from_function``) against plain single-device training of the
same model on the same batches (a ``tf.function`` step fed by the same ``tf.data`` pipeline).

    python -m benchmarks.lm_strategy_overhead [--output=FILE.json] [--steps=15] [--rounds=5]

Both steps run the same math, ``lm_training.window_step``: forward over a window from the
carried state, sampled-softmax loss, gradients, sparse rows merged, global-norm clipping,
Adagrad; only the MirroredStrategy wrapping (``strategy.run``, distributed input) differs.
Windows are random ids, packed in memory, so the data pipeline costs the same on both sides. The two variants run in
alternating rounds (plain, mirrored, plain, ...) and the per-step time of each is the median
over rounds, which damps a busy machine's noise. Overhead = mirrored / plain - 1 (target <= 10%).
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import dataclasses
import json
import os
import platform
import shutil
import statistics
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import flags

from taglm_tf.lm.pretraining import lm_kinds
from taglm_tf.lm.pretraining.config import LMTrainConfig, LSTMLMConfig
from taglm_tf.lm.pretraining.lstm_lm import LSTMLanguageModel
from taglm_tf.lm.pretraining.trainer import LMTrainer, make_optimizer, window_step
from taglm_tf.utils import config_flags
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS
# The model flags (experiments.pretrain_lm's word-LM flags) default to the LSTM-512-256 of
# experiments/flags/lm_forward_512_256_cpu.cfg, without dropout.
MODEL_DEFAULTS = LSTMLMConfig(embedding_dim=256, num_cells=512, projection_dim=256)


def define_flags(fv: flags.FlagValues = FLAGS) -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_integer(
        "vocab_size", 50000, "Vocabulary rows (the CPU corpus has ~51k at min_count 3).", flag_values=fv
    )
    config_flags.define_flags(LSTMLMConfig, fv, defaults=MODEL_DEFAULTS)
    flags.DEFINE_integer("batch_size", 64, "Rows per step.", flag_values=fv)
    flags.DEFINE_integer("num_steps", 20, "Window length.", flag_values=fv)
    flags.DEFINE_integer("steps", 15, "Timed steps per round and variant.", flag_values=fv)
    flags.DEFINE_integer(
        "warmup", 3, "Untimed steps per variant before the first round (tracing).", flag_values=fv
    )
    flags.DEFINE_integer("rounds", 5, "Alternating rounds.", flag_values=fv)
    flags.DEFINE_string(
        "device", None, "Device of both variants (default: /gpu:0 if any, else /cpu:0).", flag_values=fv
    )
    define_output_flag("output", None, "Also write the result as JSON here.", flag_values=fv)


def windows(vocab_size, batch_size, num_steps, count=8, seed=0) -> tf.data.Dataset:
    rng = np.random.default_rng(seed)
    ids = rng.integers(3, vocab_size, (count, batch_size, num_steps + 1)).astype(np.int32)
    weights = np.ones((count, batch_size, num_steps), np.float32)
    weights[-1, :, num_steps // 2 :] = 0.0  # one window with empty slots
    data = {
        "inputs": ids[:, :, :-1],
        "targets": ids[:, :, 1:],
        "weights": weights,
        "position": np.zeros((count, 3), np.int64),
    }
    return tf.data.Dataset.from_tensor_slices(data).repeat().prefetch(2)


class PlainStep:
    """The trainer's step without tf.distribute: one model, one ``tf.function``."""

    def __init__(self, build_model, config: LMTrainConfig, device: str):
        with tf.device(device):
            self.model = build_model()
            self.model.build()
            self.optimizer = make_optimizer(config)
            self.optimizer.build(self.model.trainable_variables)
        self.config, self.device = config, device
        self.step = tf.function(self._step)

    def _step(self, batch, states):
        return window_step(self.model, self.optimizer, self.config, batch, states)


def run_steps(step, iterator, states, n):
    """Run ``n`` steps; returns (seconds, states). Syncs on the last loss only."""
    start, loss = time.perf_counter(), None
    for _ in range(n):
        loss, _, states = step(next(iterator), states)
    float(loss)
    return time.perf_counter() - start, states


def measure(
    config: LMTrainConfig,
    model_args: dict,
    vocab_size: int,
    device: str,
    steps: int,
    warmup: int,
    rounds: int,
) -> dict:
    """Median seconds per step of each variant, and the overhead."""
    build = lambda: LSTMLanguageModel(vocab_size, **model_args)  # noqa: E731
    data = windows(vocab_size, config.batch_size, config.num_steps)
    tf.keras.utils.set_random_seed(0)
    plain = PlainStep(build, config, device)
    plain_iter, plain_states = iter(data), plain.model.zero_state(config.batch_size)
    model_dir = tempfile.mkdtemp(prefix="lm_overhead_")
    try:
        tf.keras.utils.set_random_seed(0)
        trainer = LMTrainer(
            tf.distribute.MirroredStrategy([device]), build, config, model_dir, log=lambda s: None
        )
        mirrored_iter = iter(trainer.strategy.distribute_datasets_from_function(lambda ctx: data))
        mirrored_states = trainer.zero_states()
        _, plain_states = run_steps(plain.step, plain_iter, plain_states, warmup)
        _, mirrored_states = run_steps(trainer.train_step, mirrored_iter, mirrored_states, warmup)
        times = {"plain": [], "mirrored": []}
        for _ in range(rounds):
            seconds, plain_states = run_steps(plain.step, plain_iter, plain_states, steps)
            times["plain"].append(seconds / steps)
            seconds, mirrored_states = run_steps(trainer.train_step, mirrored_iter, mirrored_states, steps)
            times["mirrored"].append(seconds / steps)
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)
    plain_s, mirrored_s = statistics.median(times["plain"]), statistics.median(times["mirrored"])
    return {
        "plain_seconds_per_step": plain_s,
        "mirrored_seconds_per_step": mirrored_s,
        "overhead_percent": 100.0 * (mirrored_s / plain_s - 1.0),
        "tokens_per_step": config.batch_size * config.num_steps,
        "rounds": times,
    }


def main(argv):
    cli.no_arguments(argv)
    device = FLAGS.device or ("/gpu:0" if tf.config.list_physical_devices("GPU") else "/cpu:0")
    config = LMTrainConfig(batch_size=FLAGS.batch_size, num_steps=FLAGS.num_steps, gradient_scale=20.0)
    model = config_flags.from_flags(LSTMLMConfig)
    start = time.perf_counter()
    result = measure(
        config,
        lm_kinds.model_args(model, reset_id=-1),
        FLAGS.vocab_size,
        device,
        FLAGS.steps,
        FLAGS.warmup,
        FLAGS.rounds,
    )
    result.update(
        device=device,
        model={"vocab_size": FLAGS.vocab_size, **dataclasses.asdict(model)},
        batch_size=FLAGS.batch_size,
        num_steps=FLAGS.num_steps,
        steps_per_round=FLAGS.steps,
        wall_seconds=time.perf_counter() - start,
        tensorflow=tf.__version__,
        machine=f"{platform.machine()}, {os.cpu_count()} cpus",
        target_overhead_percent=10.0,
    )
    print(
        f"plain {1000 * result['plain_seconds_per_step']:.1f} ms/step, MirroredStrategy (1 replica) "
        f"{1000 * result['mirrored_seconds_per_step']:.1f} ms/step: overhead "
        f"{result['overhead_percent']:+.1f}% (target <= 10%)"
    )
    if FLAGS.output:
        with open(FLAGS.output, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    define_flags()
    run(main)
