"""A pair of tiny LSTM LMs (forward and backward) pretrained in seconds, for embedder tests."""

import dataclasses

import tensorflow as tf

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
