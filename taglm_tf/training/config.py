"""A tagger run's configuration: the optimisation settings (:class:`TrainConfig`) and everything
that defines a run (:class:`ExperimentConfig`, saved as ``config.json``). Plain dataclasses, apart
from the code that trains, so that the command-line tools define and check their flags from them
without importing TensorFlow."""

from __future__ import annotations

import dataclasses

from taglm_tf.lm.frozen.cache import DTYPES as CACHE_DTYPES
from taglm_tf.models.config import TaggerConfig


@dataclasses.dataclass(kw_only=True, frozen=True)
class TrainConfig:
    """Optimisation settings. Defaults follow the paper (§3, "Training")."""

    batch_size: int = dataclasses.field(
        default=32, metadata={"help": "Sentences per training batch.", "lower_bound": 1}
    )
    learning_rate: float = dataclasses.field(
        default=1e-3, metadata={"help": "Adam learning rate of the constant phase.", "above": 0}
    )
    # as tf.clip_by_global_norm
    clip_norm: float = dataclasses.field(
        default=5.0, metadata={"help": "Global gradient-norm clip.", "above": 0}
    )
    patience: int = dataclasses.field(
        default=5, metadata={"help": "Epochs without dev gain that end the constant phase.", "lower_bound": 1}
    )
    max_constant_epochs: int = dataclasses.field(
        default=50, metadata={"help": "Cap on the constant phase.", "lower_bound": 1}
    )
    anneal_epochs: int = dataclasses.field(
        default=5, metadata={"help": "Epochs per annealing step.", "lower_bound": 0}
    )
    anneal_steps: int = dataclasses.field(
        default=2, metadata={"help": "Number of lr/10 steps.", "lower_bound": 0}
    )
    eval_batch_size: int = dataclasses.field(
        default=128, metadata={"help": "Sentences per inference batch.", "lower_bound": 1}
    )
    seed: int = dataclasses.field(
        default=1, metadata={"help": "Random seed (initialisation, data order, dropout)."}
    )
    # None: verbosity() chooses
    verbose: int | None = dataclasses.field(
        default=None,
        metadata={
            "help": "0 silent, 1 progress bar (batches, ETA), 2 one line per epoch (default: 1 when stdout is a "
            "terminal, else 2)."
        },
    )
    log_every_steps: int = dataclasses.field(
        default=50,
        metadata={
            "help": "TensorBoard: mean training loss of every N steps as train/step_loss (0: none).",
            "lower_bound": 0,
        },
    )


@dataclasses.dataclass(kw_only=True, frozen=True)
class ExperimentConfig:
    """Everything that defines a run; saved as ``config.json`` beside the model. Built with
    keywords and never changed in place (derive variants with ``dataclasses.replace``)."""

    task: str = dataclasses.field(metadata={"flag": False})  # the entry point's
    data_dir: str = dataclasses.field(metadata={"help": "Data root (default: $TAGLM_DATA_DIR or ./data)."})
    model_dir: str = dataclasses.field(
        metadata={"help": "Output directory (checkpoints, logs, model, results)."}
    )
    embeddings: str | None = dataclasses.field(
        default=None,
        metadata={
            "help": "Pre-trained word vectors (GloVe/word2vec text, or Senna's embeddings.txt with its words.lst "
            "beside it; .gz/.bz2/.xz); a relative path is tried against --data_dir too."
        },
    )
    train_with_dev: bool = dataclasses.field(
        default=False, metadata={"help": "Train on train+dev (the paper's final NER setting)."}
    )
    dev_seed: int = dataclasses.field(
        default=0, metadata={"help": "Seed of the 1,000-sentence dev sample (CoNLL-2000)."}
    )
    train_fraction: float = dataclasses.field(
        default=1.0,
        metadata={
            "help": "Keep this seeded fraction of the training sentences.",
            "above": 0,
            "upper_bound": 1,
        },
    )
    # split -> file, overriding the task's (flags --train_file, --dev_file, --test_file)
    files: dict = dataclasses.field(default_factory=dict, metadata={"flag": False})
    # LM specs (taglm_tf.lm.frozen.loading.load_embedder)
    forward_lm: str | None = dataclasses.field(
        default=None,
        metadata={
            "help": "Frozen forward LM: lm1b:CKPT_GLOB,VOCAB, lm1b_export:DIR or lstm_lm:MODEL_DIR (relative paths "
            "also tried under --data_dir)."
        },
    )
    backward_lm: str | None = dataclasses.field(
        default=None, metadata={"help": "Frozen backward LM (same spec forms)."}
    )
    lm_cache_dir: str = dataclasses.field(
        default="runs/lm_cache", metadata={"help": "Where LM-embedding caches are kept."}
    )
    lm_cache_dtype: str = dataclasses.field(
        default="float16", metadata={"help": "Cache storage type.", "choices": CACHE_DTYPES}
    )
    model: TaggerConfig = dataclasses.field(default_factory=TaggerConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        """The config as nested plain dicts (:func:`dataclasses.asdict`), as in ``config.json``."""
        return dataclasses.asdict(self)


# Flags that may differ on --resume: output only (verbosity, TensorBoard step interval, inference
# batch size), where LM caches live (a cache is checked against its LM and sentences), and the
# data directory itself (the data files it leads to are compared).
SAFE_TO_CHANGE = ("verbose", "log_every_steps", "eval_batch_size", "lm_cache_dir", "data_dir")
