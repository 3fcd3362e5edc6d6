"""What every benchmark adds to its result: the machine, the stack and the code version."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Iterable, Sequence

import tensorflow as tf

from taglm_tf.utils.provenance import git_commit, platform


def report(result: dict, output: str | None = None) -> None:
    """Add the platform (:func:`taglm_tf.utils.provenance.platform`: CPU model and flags, Python,
    TensorFlow), TensorFlow's threads and the commit, print the result as JSON, and write it to
    ``output`` if given. Speeds compare only between results with the same CPU flags."""
    result.update({**platform(), "threads": _threads(), "git_commit": git_commit()})
    print(json.dumps(result, indent=1))
    if output:
        with open(output, "w") as f:
            json.dump(result, f, indent=1)


def repeat(
    measure: Callable[[], dict],
    min_passes: int = 5,
    min_seconds: float = 30.0,
    max_seconds: float = float("inf"),
) -> dict:
    """Call ``measure`` (one timed pass: a dict with ``tokens`` and ``seconds``) until it has
    run ``min_passes`` times and ``min_seconds`` in all, or, after at least one pass, for
    ``max_seconds`` in all (for passes so long that a few are enough); returns the passes'
    tokens/s as their median with min and max (the spread), and every pass."""
    passes: list[dict] = []

    def more() -> bool:
        seconds = sum(p["seconds"] for p in passes)
        if passes and seconds >= max_seconds:
            return False
        return len(passes) < min_passes or seconds < min_seconds

    while more():
        passes.append(measure())
    rates = [p["tokens"] / p["seconds"] for p in passes]
    return {
        "tokens": passes[0]["tokens"],
        "passes": len(passes),
        "tokens_per_sec": statistics.median(rates),
        "tokens_per_sec_min": min(rates),
        "tokens_per_sec_max": max(rates),
        "seconds": [p["seconds"] for p in passes],
    }


def _threads() -> dict:
    """TensorFlow's thread pools (0: TensorFlow's choice) and the variables that set them."""
    names = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS")
    return {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        "environment": {name: os.environ[name] for name in names if name in os.environ},
    }


def char_cnn_flops(
    char_dim: int,
    conv_widths: Sequence[int],
    conv_filters: Sequence[int],
    num_highway: int,
    projection_dim: int,
    max_word_length: int = 50,
) -> int:
    """Forward FLOPs (multiply-adds x 2) of lm_1b's char CNN for one word: VALID conv banks over
    ``max_word_length`` positions, highway layers (gate and transform), projection."""
    width = sum(conv_filters)
    conv = sum(2 * (max_word_length - w + 1) * w * char_dim * n for w, n in zip(conv_widths, conv_filters))
    return conv + num_highway * 2 * 2 * width * width + 2 * width * projection_dim


def lstmp_flops(input_dim: int, projection_dim: int, num_cells: int) -> int:
    """Forward FLOPs of one LSTMP step for one row: ``[x; h] W`` and the projection."""
    return 2 * (input_dim + projection_dim) * 4 * num_cells + 2 * num_cells * projection_dim


def time_matmuls(m: int, shapes: Iterable[tuple[int, int]], repeats: int = 5, dtype=tf.float32) -> float:
    """FLOP/s of plain matmuls ``[m, k] x [k, n]`` in ``dtype`` for the given (k, n) shapes."""
    total_flops, total_time = 0, 0.0
    for k, n in shapes:
        a, b = tf.cast(tf.random.normal([m, k]), dtype), tf.cast(tf.random.normal([k, n]), dtype)
        tf.matmul(a, b).numpy()
        start = time.perf_counter()
        for _ in range(repeats):
            tf.matmul(a, b).numpy()
        total_time += time.perf_counter() - start
        total_flops += repeats * 2 * m * k * n
    return total_flops / total_time
