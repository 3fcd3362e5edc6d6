r"""LM training speed per precision, and achieved FLOP/s next to a plain matmul's.

    python -m benchmarks.lm_precision [--kind=cnn_lstm|lstm] [--precisions=float32,mixed_bfloat16] \
        [--steps=5] [--rounds=3] [--output=FILE.json]

The model flags are ``experiments.pretrain_lm``'s (the LM configs' fields). They default to the
CPU "S" CNN-LSTM of ``experiments/flags/lm_forward_cnn_lstm_cpu.cfg`` without dropout
(``--kind=lstm``: a word-level LSTM LM of those LSTM sizes with ``--embedding_dim``); the step is
the real ``LMTrainer`` step (sampled softmax, gradients, clipping, Adagrad). Windows are
synthetic: word ids drawn Zipf-like (exponent 1.1) from the vocabulary, each id spelled by a fixed
made-up word, so a window repeats words about as text does (the char CNN runs once per distinct
word of a window). The precisions run in alternating rounds after a warm-up (tracing); the time
per step of each is the median over rounds.

FLOPs are counted from the shapes (multiply-adds x 2), forward pass, times 3 for training
(backward ~ 2 x forward): per distinct word the conv banks ``sum_k 2 (L - w_k + 1) w_k E F_k``,
the highway layers ``2 * 2 H^2`` each and the projection ``2 H P``; per token each LSTMP layer
``2 (in + P) 4N + 2 N P`` (``in`` = P, or the embedding size for a word LM's first layer) and
the sampled softmax ``2 P (S + 1)``. The plain matmul is the LSTM input-side product
``[B T, 2P] x [2P, 4N]`` in float32 and in bfloat16: what this machine gives
one large GEMM of the model's shapes.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import dataclasses
import shutil
import statistics
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from benchmarks.common import char_cnn_flops, lstmp_flops, report, time_matmuls
from taglm_tf.lm.lm1b.vocab import LM1BCharEncoder
from taglm_tf.lm.pretraining.config import CONFIGS, LM_KINDS, PRECISIONS, LMTrainConfig, ModelConfig
from taglm_tf.lm.pretraining.lm_kinds import build_lm, model_args
from taglm_tf.lm.pretraining.trainer import LMTrainer
from taglm_tf.utils import config_flags
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS
# The CPU "S" CNN-LSTM's sizes (experiments/flags/lm_forward_cnn_lstm_cpu.cfg); the other model
# flags default to the LM configs' defaults, and --use_peepholes to the kind's (lm_1b's CNN-LSTM
# has them, the word LSTM not).
MODEL_DEFAULTS = dict(
    conv_widths=(1, 2, 3, 4, 5, 6),
    conv_filters=(32, 32, 64, 128, 128, 128),
    num_highway=1,
    num_cells=1024,
    projection_dim=256,
    num_layers=1,
    use_peepholes=None,
)


def define_flags(fv: flags.FlagValues = FLAGS) -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_enum(
        "kind", "cnn_lstm", list(LM_KINDS), "LM kind (experiments.pretrain_lm's --lm_kind).", flag_values=fv
    )
    config_flags.define_flags(
        tuple(CONFIGS.values()),
        fv,
        defaults=MODEL_DEFAULTS,
        help_notes={"use_peepholes": "(default: the kind's: cnn_lstm on, lstm off)"},
    )
    flags.DEFINE_list(
        "precisions", ["float32", "mixed_bfloat16"], f"Any of {', '.join(PRECISIONS)}.", flag_values=fv
    )
    flags.DEFINE_integer(
        "vocab_size", 50975, "Word vocabulary (the CPU corpus at min_count 3).", flag_values=fv
    )
    flags.DEFINE_integer("batch_size", 64, "Rows per step B.", flag_values=fv)
    flags.DEFINE_integer("num_steps", 20, "Window length T.", flag_values=fv)
    flags.DEFINE_integer("steps", 5, "Timed steps per round and precision.", flag_values=fv)
    flags.DEFINE_integer("warmup", 2, "Untimed steps per precision first (tracing).", flag_values=fv)
    flags.DEFINE_integer("rounds", 3, "Alternating rounds.", flag_values=fv)
    define_output_flag("output", None, "Also write the result as JSON here.", flag_values=fv)


def model_config(fv: flags.FlagValues = FLAGS) -> ModelConfig:
    """The ``--kind`` LM's config from the model flags."""
    kind = CONFIGS[fv.kind]
    return config_flags.from_flags(kind, fv, base=kind())


def build_model():
    return build_lm(FLAGS.kind, FLAGS.vocab_size, model_args(model_config(), reset_id=0))


def windows(count: int, seed: int = 0):
    """``count`` synthetic windows and the number of distinct words in each."""
    rng = np.random.default_rng(seed)
    chars = LM1BCharEncoder(["<S>", "</S>", "<UNK>"] + [f"w{i:x}" for i in range(3, FLAGS.vocab_size)])
    shape = (FLAGS.batch_size, FLAGS.num_steps)
    out, distinct = [], []
    for _ in range(count):
        ids = np.minimum(rng.zipf(1.1, size=(shape[0], shape[1] + 1)), FLAGS.vocab_size - 1).astype(np.int32)
        words = [f"w{i:x}" for i in ids[:, :-1].ravel()]
        window = {
            "inputs": ids[:, :-1],
            "targets": ids[:, 1:],
            "weights": np.ones(shape, np.float32),
            "position": np.zeros(3, np.int64),
        }
        if FLAGS.kind == "cnn_lstm":
            window["input_chars"] = chars.encode_words(words).reshape(shape + (-1,))
        out.append(window)
        distinct.append(len(set(words)))
    return out, distinct


def forward_flops(distinct_words: float) -> float:
    """Forward FLOPs of one window (see the module docstring)."""
    m = model_config()
    p, n = m.projection_dim, m.num_cells
    per_word = 0
    if FLAGS.kind == "cnn_lstm":
        per_word = char_cnn_flops(m.char_dim, m.conv_widths, m.conv_filters, m.num_highway, p)
    inputs = [getattr(m, "embedding_dim", p)] + [p] * (m.num_layers - 1)
    per_token = sum(lstmp_flops(d, p, n) for d in inputs) + 2 * p * (m.num_sampled + 1)
    return distinct_words * per_word + FLAGS.batch_size * FLAGS.num_steps * per_token


class Stepper:
    """One precision's trainer, its carried state and its place in the cycled windows."""

    def __init__(self, trainer: LMTrainer):
        self.trainer, self.states, self.index = trainer, trainer.zero_states(), 0

    def run(self, data, steps: int) -> float:
        """``steps`` train steps; returns the seconds (synced on the last loss)."""
        start, loss = time.perf_counter(), None
        for _ in range(steps):
            loss, _, self.states = self.trainer.train_step(data[self.index % len(data)], self.states)
            self.index += 1
        float(loss)
        return time.perf_counter() - start


def main(argv):
    cli.no_arguments(argv)
    for precision in FLAGS.precisions:
        if precision not in PRECISIONS:
            raise app.UsageError(f"--precisions: {precision!r} is not one of {', '.join(PRECISIONS)}")
    data, distinct = windows(8)
    scratch = tempfile.mkdtemp(prefix="lm_precision_")
    steppers, times = {}, {p: [] for p in FLAGS.precisions}
    try:
        for precision in FLAGS.precisions:
            config = LMTrainConfig(
                batch_size=FLAGS.batch_size,
                num_steps=FLAGS.num_steps,
                gradient_scale=20.0,
                precision=precision,
            )
            tf.keras.utils.set_random_seed(0)
            steppers[precision] = Stepper(
                LMTrainer(
                    tf.distribute.get_strategy(),
                    build_model,
                    config,
                    f"{scratch}/{precision}",
                    log=lambda line: None,
                )
            )
            steppers[precision].run(data, FLAGS.warmup)
        for _ in range(FLAGS.rounds):
            for precision in FLAGS.precisions:
                times[precision].append(steppers[precision].run(data, FLAGS.steps) / FLAGS.steps)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    flops = 3.0 * forward_flops(statistics.mean(distinct))
    tokens = FLAGS.batch_size * FLAGS.num_steps
    model = {"vocab_size": FLAGS.vocab_size, **dataclasses.asdict(model_config())}
    result = {
        "kind": FLAGS.kind,
        "model": model,
        "batch_size": FLAGS.batch_size,
        "num_steps": FLAGS.num_steps,
        "distinct_words_per_window": statistics.mean(distinct),
        "training_flops_per_step": flops,
        "precisions": {},
    }
    for precision in FLAGS.precisions:
        seconds = statistics.median(times[precision])
        result["precisions"][precision] = {
            "seconds_per_step": seconds,
            "tokens_per_sec": tokens / seconds,
            "model_flops_per_sec": flops / seconds,
            "rounds": times[precision],
        }
    shape = [(2 * FLAGS.projection_dim, 4 * FLAGS.num_cells)]
    result["plain_matmul_flops_per_sec"] = {
        d.name: time_matmuls(FLAGS.batch_size * FLAGS.num_steps, shape, repeats=20, dtype=d)
        for d in (tf.float32, tf.bfloat16)
    }
    report(result, FLAGS.output)


if __name__ == "__main__":
    define_flags()
    run(main)
