"""lm_1b (CNN-BIG-LSTM) embedding extraction at the real dimensions (random weights):
batched Keras extraction against the original one-token-per-``session.run`` loop.

    python -m benchmarks.lm1b_extraction [--release_dir=/tmp/lm1b_full] [--size=full] [--sentences=200]
        [--reference_sentences=20] [--batch_size=64] [--output=FILE.json]

The release is written by ``tools.lm1b.make_synthetic --size=full --no_softmax`` if missing
(~0.9 GB). Sentences are the first ones of CoNLL-2003 eng.testa (real lengths), or synthetic ones
with the same length distribution when the data is absent. Reports tokens/s of both paths on the
same sentences, the achieved FLOP/s of the batched path against plain matmuls of the LSTM's shapes,
and the process's peak resident memory.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import os
import resource
import time

import numpy as np
from absl import flags

from benchmarks.common import char_cnn_flops, lstmp_flops, report, time_matmuls
from taglm_tf.data import conll
from taglm_tf.data.paths import default_data_dir
from taglm_tf.lm.lm1b.model import LM1BModel
from taglm_tf.utils.cli import define_output_flag, run
from taglm_tf.utils.tracing import WARM_UP_CALLS
from tools.lm1b import make_synthetic
from tools.lm1b.reference import ReferenceLM

FLAGS = flags.FLAGS


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_string("release_dir", "/tmp/lm1b_full", "Synthetic release (created if absent).")
    flags.DEFINE_enum(
        "size",
        "full",
        list(make_synthetic.SIZES),
        "Dimensions of a release created here: "
        "full (the real ones) or tiny (a smoke test, e.g. benchmarks.gpu_check on a CPU).",
    )
    flags.DEFINE_integer("sentences", 200, "Sentences for the batched extraction.")
    flags.DEFINE_integer("reference_sentences", 20, "Of those, how many the one-token loop runs.")
    flags.DEFINE_integer("batch_size", 128, "Sentences per batch.")
    define_output_flag("output", None, "Also write the result as JSON here.")


def sentences(n):
    path = os.path.join(default_data_dir(), "conll2003", "eng.testa")
    if os.path.exists(path):
        return [list(s.tokens) for s in conll.read_conll(path, conll.CONLL2003)[:n]], "eng.testa"
    rng = np.random.default_rng(0)
    return [
        [f"w{rng.integers(1000)}" for _ in range(max(1, int(rng.poisson(15))))] for _ in range(n)
    ], "synthetic"


def ensure_release(path, size="full"):
    if not os.path.exists(os.path.join(path, "ckpt-lstm")):
        make_synthetic.write_synthetic_release(path, size=size, seed=0, include_softmax=False)
    return os.path.join(path, "ckpt-*"), os.path.join(path, make_synthetic.VOCAB_NAME)


def flops(embedder, batch):
    """Multiply-add FLOPs (x2) of one extraction: char side per distinct word, LSTMs per step."""
    d = embedder.char_args
    words = {w for s in batch for w in s} | {"<S>"}
    char = char_cnn_flops(
        d["char_dim"],
        d["conv_widths"],
        d["conv_filters"],
        d["num_highway"],
        d["projection_dim"],
        d["max_word_length"],
    )
    p, n = embedder.projection_dim, embedder.lstm_cells
    lstm = embedder.num_lstm_layers * lstmp_flops(p, p, n)
    steps = sum(len(s) + 1 for s in batch)
    return len(words) * char + steps * lstm


def main(argv):
    cli.no_arguments(argv)
    ckpt, vocab = ensure_release(FLAGS.release_dir, FLAGS.size)
    batch, source = sentences(FLAGS.sentences)
    tokens = sum(len(s) for s in batch)
    embedder = LM1BModel.from_checkpoint(ckpt, vocab)
    for _ in range(WARM_UP_CALLS):  # past the eager first batch and the trace
        embedder.embed_sentences(batch[: FLAGS.batch_size], FLAGS.batch_size)
    p, n = embedder.projection_dim, embedder.lstm_cells
    # The recurrence multiplies [batch, P] x [P, 4N] and [batch, N] x [N, P] every step; with
    # 1024 rows the same matmuls run near the machine's peak. Measured just before and just after
    # the extraction (the better of the two), since this machine's speed drifts.
    matmul_flops = time_matmuls(FLAGS.batch_size, [(p, 4 * n), (n, p)])
    peak_flops = time_matmuls(1024, [(p, 4 * n), (n, p)])
    start = time.perf_counter()
    batched = embedder.embed_sentences(batch, FLAGS.batch_size)
    batched_seconds = time.perf_counter() - start
    matmul_flops = max(matmul_flops, time_matmuls(FLAGS.batch_size, [(p, 4 * n), (n, p)]))
    peak_flops = max(peak_flops, time_matmuls(1024, [(p, 4 * n), (n, p)]))
    work = flops(embedder, batch)

    ref_batch = batch[: FLAGS.reference_sentences]
    ref_tokens = sum(len(s) for s in ref_batch)
    pbtxt = os.path.join(FLAGS.release_dir, make_synthetic.GRAPH_NAME)
    with ReferenceLM(pbtxt, ckpt, vocab, restore_softmax=False) as reference:
        reference.dump_lstm_emb(ref_batch[0][:2])  # warm-up
        start = time.perf_counter()
        expected = [reference.dump_lstm_emb(s) for s in ref_batch]
        reference_seconds = time.perf_counter() - start
    max_rel = max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(batched, expected))

    result = {
        "sentences": len(batch),
        "tokens": tokens,
        "source": source,
        "batch_size": FLAGS.batch_size,
        "batched": {
            "seconds": batched_seconds,
            "tokens_per_sec": tokens / batched_seconds,
            "gflop": work / 1e9,
            "gflop_per_sec": work / batched_seconds / 1e9,
        },
        "one_token_loop": {
            "sentences": len(ref_batch),
            "tokens": ref_tokens,
            "seconds": reference_seconds,
            "tokens_per_sec": ref_tokens / reference_seconds,
        },
        "speedup": (tokens / batched_seconds) / (ref_tokens / reference_seconds),
        "plain_matmul_gflop_per_sec": {"rows_batch": matmul_flops / 1e9, "rows_1024": peak_flops / 1e9},
        "fraction_of_matmul": {
            "rows_batch": work / batched_seconds / matmul_flops,
            "rows_1024": work / batched_seconds / peak_flops,
        },
        "max_relative_difference_vs_graph": max_rel,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }
    report(result, FLAGS.output)


if __name__ == "__main__":
    define_flags()
    run(main)
