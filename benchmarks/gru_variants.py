"""Two rewrites of the tagger's GRU that pay on GPUs, timed against Keras' GRU on this CPU.

    python -m benchmarks.gru_variants [--output=FILE.json] [--rounds=7]

At the NER model's shapes (batch 128 sentences of 30 tokens, masked to random lengths; RNN-1
input 210, RNN-2 input 600, 300 units; the char RNN: 1,000 words of 14 chars, input 25, 80
units), each in both directions, against ``taglm_tf.layers.GRU`` (Keras' CPU kernel):

- ``hoisted``: the input projections of all time steps in one matmul before the loop, only the
  recurrent matmul inside it (what cuDNN does);
- ``xla``: the same Keras layer compiled by XLA (``jit_compile=True``), one shape, compiled
  before timing (its compile seconds are reported).

Reported per shape and direction: seconds of the fastest of ``--rounds`` rounds of 5 calls each
(the variants alternate within a round), the speed-up over Keras (> 1: faster), and whether the
outputs are bit-identical to Keras'. The tagger keeps Keras' GRU where neither is faster and
identical.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process(birnn_threads=True)  # before anything imports TensorFlow

import time

import numpy as np
import tensorflow as tf
from absl import flags

from benchmarks.common import report
from taglm_tf.layers.recurrent import GRU
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS
# (name, input size, units, time steps, batch, return_sequences)
SHAPES = (
    ("RNN-1", 210, 300, 30, 128, True),
    ("RNN-2", 600, 300, 30, 128, True),
    ("char RNN", 25, 80, 14, 1000, False),
)


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_integer("rounds", 7, "Timed rounds (the fastest is kept).", lower_bound=1)
    define_output_flag("output", None, "Also write the result as JSON here.")


def hoisted_gru(inputs, mask, layer: GRU):
    """Keras' GRU (``reset_after``, sigmoid gates, tanh) with ``x W + b`` of all steps computed
    in one matmul; ``inputs [B, T, D]``, ``mask [B, T]`` bool; the output as the layer's."""
    cell = layer.cell
    input_bias, recurrent_bias = tf.unstack(cell.bias)
    steps = tf.transpose(inputs, [1, 0, 2])  # time major
    projected = tf.nn.bias_add(tf.matmul(tf.reshape(steps, [-1, steps.shape[-1]]), cell.kernel), input_bias)
    projected = tf.reshape(projected, [tf.shape(steps)[0], tf.shape(steps)[1], 3 * cell.units])

    def step(x, states):
        h = states[0]
        x_z, x_r, x_h = tf.split(x, 3, axis=1)
        r_z, r_r, r_h = tf.split(
            tf.nn.bias_add(tf.matmul(h, cell.recurrent_kernel), recurrent_bias), 3, axis=1
        )
        z, r = tf.sigmoid(x_z + r_z), tf.sigmoid(x_r + r_r)
        h = z * h + (1 - z) * tf.tanh(x_h + r * r_h)
        return h, [h]

    last, outputs, _ = tf.keras.backend.rnn(
        step,
        projected,
        [tf.zeros([tf.shape(steps)[1], cell.units])],
        time_major=True,
        mask=tf.transpose(mask),
        go_backwards=layer.go_backwards,
        zero_output_for_mask=layer.zero_output_for_mask,
        return_all_outputs=layer.return_sequences,
    )
    return tf.transpose(outputs, [1, 0, 2]) if layer.return_sequences else last


def measure(dim: int, units: int, steps: int, batch: int, sequences: bool, backwards: bool) -> dict:
    rng = np.random.default_rng(0)
    layer = GRU(units, return_sequences=sequences, go_backwards=backwards)
    inputs = tf.constant(rng.standard_normal((batch, steps, dim)).astype("float32"))
    lengths = rng.integers(1, steps + 1, batch)
    mask = tf.constant(np.arange(steps)[None] < lengths[:, None])
    layer(inputs, mask=mask)
    variants = {
        "keras": tf.function(lambda x, m: layer(x, mask=m, training=False)),
        "hoisted": tf.function(lambda x, m: hoisted_gru(x, m, layer)),
        "xla": tf.function(lambda x, m: layer(x, mask=m, training=False), jit_compile=True),
    }
    outputs, compile_seconds = {}, {}
    for name, fn in variants.items():
        start = time.perf_counter()
        outputs[name] = fn(inputs, mask).numpy()
        compile_seconds[name] = time.perf_counter() - start
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(FLAGS.rounds):
        for name, fn in variants.items():
            start = time.perf_counter()
            for _ in range(5):
                fn(inputs, mask).numpy()
            best[name] = min(best[name], time.perf_counter() - start)
    return {
        "seconds": best,
        "speedup": {name: best["keras"] / best[name] for name in ("hoisted", "xla")},
        "identical": {
            name: bool(np.array_equal(outputs[name], outputs["keras"])) for name in ("hoisted", "xla")
        },
        "max_abs_difference": {
            name: float(np.abs(outputs[name] - outputs["keras"]).max()) for name in ("hoisted", "xla")
        },
        "xla_compile_seconds": compile_seconds["xla"],
    }


def main(argv):
    cli.no_arguments(argv)
    rows = []
    for name, dim, units, steps, batch, sequences in SHAPES:
        for backwards in (False, True):
            row = measure(dim, units, steps, batch, sequences, backwards)
            rows.append({"layer": name, "backwards": backwards, **row})
            print(
                f"{name} {'backward' if backwards else 'forward'}: hoisted {row['speedup']['hoisted']:.2f}x"
                f" (identical: {row['identical']['hoisted']}), xla {row['speedup']['xla']:.2f}x"
                f" (identical: {row['identical']['xla']})"
            )
    report({"rounds": FLAGS.rounds, "shapes": rows}, FLAGS.output)


if __name__ == "__main__":
    define_flags()
    run(main)
