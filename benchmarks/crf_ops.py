"""Milliseconds per call of the CRF layer's ops (``taglm_tf.layers.crf_ops``), and of
tensorflow-addons' as a reference where it is installed (the card's stack), at the NER tagger's
shapes.

    python -m benchmarks.crf_ops [--output=FILE.json] [--calls=50] [--rounds=5]

Cases: log-likelihood plus its gradient w.r.t. potentials and transitions (the training loss,
batch 32) and Viterbi decoding (batch 32, the training batch, and 128, the inference batch);
T = 40 steps, K = 18 tags (IOBES NER), lengths drawn in [T/2, T]. Every op runs inside a
``tf.function`` traced once with ``[None, None, K]`` signatures, as in the trainer and tagger.
Implementations alternate round by round, and each case reports the median over rounds of the
mean ms per call, which damps a busy machine's noise. Results are also checked equal (paths
identical, log-likelihoods within 1e-5) before timing.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import statistics
import time
import warnings

import numpy as np
import tensorflow as tf
from absl import flags

from benchmarks.common import report
from taglm_tf.layers import crf_ops
from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_integer("calls", 50, "Timed calls per round.")
    flags.DEFINE_integer("rounds", 5, "Alternating rounds per implementation.")
    flags.DEFINE_integer("steps", 40, "Sequence length T.")
    flags.DEFINE_integer("num_tags", 18, "Tags K.")
    define_output_flag("output", None, "Write the JSON result here too.")


def implementations() -> dict:
    """The project's ops, and tensorflow-addons' as the reference where it is installed."""
    impls = {"own": (crf_ops.crf_log_likelihood, crf_ops.crf_decode)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tfa's end-of-life notice
        try:
            import tensorflow_addons as tfa
        except ImportError:
            return impls
    impls["tfa"] = (tfa.text.crf_log_likelihood, tfa.text.crf_decode)
    return impls


def traced(log_likelihood, decode, k: int):
    potentials = tf.TensorSpec([None, None, k], tf.float32)
    ints = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[potentials, ints, tf.TensorSpec([None], tf.int32), tf.TensorSpec([k, k])])
    def loss_and_grads(x, tags, lengths, transitions):
        with tf.GradientTape() as tape:
            tape.watch([x, transitions])
            ll, _ = log_likelihood(x, tags, lengths, transitions)
            loss = -tf.reduce_mean(ll)
        return (loss, *tape.gradient(loss, [x, transitions]))

    @tf.function(input_signature=[potentials, tf.TensorSpec([k, k]), tf.TensorSpec([None], tf.int32)])
    def viterbi(x, transitions, lengths):
        return decode(x, transitions, lengths)

    return loss_and_grads, viterbi


def case_inputs(batch: int, steps: int, k: int, seed: int):
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(scale=3.0, size=(batch, steps, k)).astype(np.float32))
    tags = tf.constant(rng.integers(0, k, size=(batch, steps)).astype(np.int32))
    lengths = tf.constant(rng.integers(steps // 2, steps + 1, size=batch).astype(np.int32))
    transitions = tf.constant(rng.normal(size=(k, k)).astype(np.float32))
    return x, tags, lengths, transitions


def ms_per_call(fn, args, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        out = fn(*args)
    np.asarray(out[0])  # results are ready
    return (time.perf_counter() - start) / calls * 1000


def main(argv):
    cli.no_arguments(argv)
    k, steps = FLAGS.num_tags, FLAGS.steps
    fns = {name: traced(ll, dec, k) for name, (ll, dec) in implementations().items()}
    train = case_inputs(32, steps, k, seed=0)
    cases = {
        "log_likelihood_and_grads_b32": (0, train),
        "decode_b32": (1, (train[0], train[3], train[2])),
        "decode_b128": (1, (lambda c: (c[0], c[3], c[2]))(case_inputs(128, steps, k, seed=1))),
    }
    results = {}
    for case, (which, args) in cases.items():
        outs = {name: [np.asarray(o) for o in pair[which](*args)] for name, pair in fns.items()}  # traces
        if "tfa" in outs:
            if which == 1:
                assert (outs["tfa"][0] == outs["own"][0]).all(), case
            else:
                for a, b in zip(outs["tfa"], outs["own"]):
                    np.testing.assert_allclose(a, b, atol=1e-5)
        times = {name: [] for name in fns}
        for _ in range(FLAGS.rounds):
            for name, pair in fns.items():
                times[name].append(ms_per_call(pair[which], args, FLAGS.calls))
        results[case] = {name: round(statistics.median(t), 3) for name, t in times.items()}
    report(
        {
            "benchmark": "crf_ops",
            "steps": steps,
            "num_tags": k,
            "calls": FLAGS.calls,
            "rounds": FLAGS.rounds,
            "tensorflow": tf.__version__,
            "ms_per_call": results,
        },
        FLAGS.output,
    )


if __name__ == "__main__":
    define_flags()
    run(main)
