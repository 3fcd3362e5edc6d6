"""A pair of tiny LSTM LMs (forward and backward) pretrained in seconds, for embedder tests, and
the lm_1b export of a trained LM by its command."""

import dataclasses
import os
import subprocess
import sys

import tensorflow as tf

from data_paths import REPO
from taglm_tf.lm.pretraining.config import LMTrainConfig, LSTMLMConfig, PretrainConfig
from taglm_tf.lm.pretraining.run import pretrain


def pretrain_pair(root, lines, batch_size=2, num_steps=4, train_steps=4, checkpoint_every=2) -> dict:
    """Train on ``lines`` (one sentence each) into ``root/{forward,backward}``; returns the dirs
    (checkpoints at every ``checkpoint_every`` steps)."""
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    base = PretrainConfig(
        model_dir=str(root / "forward"),
        train_files=str(root / "train.txt"),
        model=LSTMLMConfig(embedding_dim=6, num_cells=8, projection_dim=5, num_sampled=4),
        train=LMTrainConfig(
            batch_size=batch_size,
            num_steps=num_steps,
            train_steps=train_steps,
            checkpoint_every=checkpoint_every,
            log_every=checkpoint_every,
        ),
    )
    for direction in ("forward", "backward"):
        pretrain(
            dataclasses.replace(base, model_dir=str(root / direction), direction=direction),
            strategy=tf.distribute.get_strategy(),
        )
    return {d: str(root / d) for d in ("forward", "backward")}


def export_release(model_dir, output_dir) -> subprocess.CompletedProcess:
    """``python -m lm_1b_export.from_pretrained`` of ``model_dir`` into ``output_dir``, run from the
    repository root; its exit status and output, text."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lm_1b_export.from_pretrained",
            f"--model_dir={model_dir}",
            f"--output_dir={output_dir}",
        ],
        cwd=str(REPO),
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
