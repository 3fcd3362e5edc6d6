"""Fake run and sweep directories (results.json, config.json, TensorBoard logs) for fast tests."""

import json
import os
import zlib

from taglm_tf import run_dir as run_dir_files
from taglm_tf.reports.chunk_outcomes import to_json

GLOVE = "/data/embeddings/glove.6B.50d.txt.xz"


def config(seed, train_with_dev=False, embeddings=GLOVE, train=None, **extra):
    return {
        "task": "ner",
        "embeddings": embeddings,
        "train_with_dev": train_with_dev,
        "train_fraction": 1.0,
        "model": {"rnn_units": 300},
        "train": {"learning_rate": 0.001, **(train or {}), "seed": seed},
        **extra,
    }


def write_run(
    run_dir,
    seed,
    test_f1,
    dev_f1,
    dev_curve=(),
    lm_perplexity=None,
    tensorboard=False,
    per_type=None,
    history=None,
    outcomes=None,
    **config_kw,
):
    """A finished model dir; ``dev_curve`` goes into history (and TensorBoard if asked), unless
    a whole ``history`` is given; ``outcomes`` (a ``ChunkOutcomes``) is recorded beside it."""
    os.makedirs(run_dir, exist_ok=True)
    cfg = config(seed, **config_kw)
    if history is None:
        history = [{"epoch": i + 1, "lr": 0.001, "dev_f1": f} for i, f in enumerate(dev_curve)]
    results = {
        "task": "ner",
        "test_f1": test_f1,
        "dev_f1": dev_f1,
        "epochs": len(history),
        # an hour, and as in real runs no two alike (a copy of a run keeps its time)
        "wall_seconds": 3600.0 + zlib.crc32(os.path.abspath(run_dir).encode()) % 1000 / 1e6,
        "seed": seed,
        "config": cfg,
        "history": history,
    }
    if lm_perplexity is not None:
        results["lm_perplexity"] = lm_perplexity
    if per_type is not None:
        results["scores"] = {"test": {"f1": test_f1, "per_type": per_type}}
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(cfg, f)
    with open(os.path.join(run_dir, "results.json"), "w") as f:
        json.dump(results, f)
    if outcomes is not None:
        with open(os.path.join(run_dir, run_dir_files.CHUNK_OUTCOMES), "w") as f:
            f.write(to_json(outcomes))
    if tensorboard:
        write_scalars(os.path.join(run_dir, "tensorboard"), "dev/f1", list(enumerate(dev_curve, 1)))
    return run_dir


def write_scalars(log_dir, tag, points):
    """``tf.summary.scalar`` at each ``(step, value)``, as the trainer writes them."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        for step, value in points:
            tf.summary.scalar(tag, value, step=step)
    writer.close()


def write_sweep(sweep_dir, label, f1s, per_type=None, histories=None, outcomes=None, **run_kw):
    """A sweep dir with seeds 1..n and a minimal sweep.json holding ``label``; ``per_type``: one
    ``{type: F1}`` per seed; ``histories``: one history per seed; ``outcomes``: one
    ``ChunkOutcomes`` (or None) per seed."""
    for seed, (test_f1, dev_f1) in enumerate(f1s, 1):
        write_run(
            os.path.join(sweep_dir, f"seed_{seed}"),
            seed,
            test_f1,
            dev_f1,
            per_type=per_type[seed - 1] if per_type else None,
            history=histories[seed - 1] if histories else None,
            outcomes=outcomes[seed - 1] if outcomes else None,
            **run_kw,
        )
    with open(os.path.join(sweep_dir, "sweep.json"), "w") as f:
        json.dump({"label": label}, f)
    return sweep_dir
