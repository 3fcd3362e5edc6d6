"""All LM pretraining and evaluation flags, defined in one place."""

from __future__ import annotations

import functools
import glob
import os

from absl import flags

from taglm_tf.data.paths import default_data_dir
from taglm_tf.lm.pretraining.config import (
    CONFIGS,
    LM_KINDS,
    CNNLSTMLMConfig,
    LMTrainConfig,
    ModelConfig,
    PretrainConfig,
)
from taglm_tf.utils import config_flags
from taglm_tf.utils.cli import declare_output_flag, define_output_flag
from taglm_tf.utils.errors import InputError

FLAGS = flags.FLAGS


class _Definer:
    """``define.string(...)`` = ``flags.DEFINE_string(..., flag_values=fv)``, and so on."""

    def __init__(self, fv: flags.FlagValues):
        self.fv = fv

    def __getattr__(self, kind):
        return functools.partial(getattr(flags, f"DEFINE_{kind}"), flag_values=self.fv)


def define_pretrain_flags(fv: flags.FlagValues = FLAGS) -> None:
    """Register the pretraining flags in ``fv``: one per field of the run's configs
    (:mod:`taglm_tf.utils.config_flags`; the model flags of every LM kind, with the defaults of
    :class:`LSTMLMConfig`, the paper's LSTM-2048-512, where kinds share a field), ``--lm_kind``,
    ``--data_dir`` and ``--resume``."""
    define = _Definer(fv)
    config_flags.define_flags(PretrainConfig, fv)
    define.string("data_dir", None, "Root for relative data paths (default: $TAGLM_DATA_DIR or ./data).")
    define.enum(
        "lm_kind",
        "lstm",
        LM_KINDS,
        "lstm: word embedding -> LSTMP layers; cnn_lstm: lm_1b's "
        "architecture, each input word's bytes -> char CNN -> highway -> projection -> LSTMP layers "
        "(the --char_dim ... --max_word_length flags; --projection_dim is also the char projection).",
    )
    config_flags.define_flags(tuple(CONFIGS.values()), fv)  # a field that kinds share: lstm's default
    config_flags.define_flags(LMTrainConfig, fv)
    define.boolean("resume", False, "Continue the run in --model_dir from its last checkpoint.")
    declare_output_flag(
        "model_dir", ("train_files", "vocab_file", "heldout_files", "conll_train_files"), folder=True
    )


def define_eval_flags(fv: flags.FlagValues = FLAGS) -> None:
    define = _Definer(fv)
    define.string("model_dir", None, "A pretrain_lm output directory.")
    define.string("data_dir", None, "Root for relative data paths (default: $TAGLM_DATA_DIR or ./data).")
    define.string("eval_files", None, "Comma-separated globs of held-out text (one sentence per line).")
    define.string(
        "task_split",
        None,
        "Instead of --eval_files: the sentences of a tagging task's split, TASK:SPLIT "
        "(ner:test, scienceie:dev; taglm_tf.tasks), read as the tagger reads them.",
    )
    define.string("checkpoint", None, "Checkpoint prefix (default: the latest in --model_dir).")
    define.integer("batch_size", 32, "Rows evaluated in parallel (state carried per row).")
    define.integer("num_steps", 20, "Window length.")
    define.integer("max_sentences", 0, "Evaluate only the first sentences (0: all).")
    define_output_flag(
        "output",
        None,
        "Also write the result as JSON here.",
        inputs=("eval_files", "model_dir"),
        flag_values=fv,
    )
    define.boolean(
        "record",
        False,
        "Also write it to MODEL_DIR/perplexity.json, where tagger runs "
        "with this LM find it (results.json lm_perplexity; the report's F1-vs-perplexity plot).",
    )


def data_dir(fv: flags.FlagValues = FLAGS) -> str:
    return fv.data_dir or default_data_dir()


def resolve_globs(patterns: str, root: str) -> str:
    """Each comma-separated glob as given if it matches (or is absolute), else under ``root``."""
    resolved = []
    for pattern in (p.strip() for p in patterns.split(",") if p.strip()):
        if not os.path.isabs(pattern) and not glob.glob(pattern) and glob.glob(os.path.join(root, pattern)):
            pattern = os.path.join(root, pattern)
        resolved.append(pattern)
    return ",".join(resolved)


def model_config_from_flags(fv: flags.FlagValues = FLAGS) -> ModelConfig:
    """The typed model config of ``--lm_kind`` from the flags."""
    config = config_flags.from_flags(CONFIGS[fv.lm_kind], fv, sampler_seed=fv.seed)
    if isinstance(config, CNNLSTMLMConfig):
        for name in ("conv_widths", "conv_filters"):
            values = getattr(config, name)
            if not values or min(values) < 1:
                raise InputError(f"--{name} needs positive integers")
        if len(config.conv_widths) != len(config.conv_filters):
            raise InputError(
                f"--conv_widths has {len(config.conv_widths)} banks but --conv_filters "
                f"{len(config.conv_filters)}"
            )
        if max(config.conv_widths) > config.max_word_length:
            raise InputError(
                f"--conv_widths {max(config.conv_widths)} exceeds --max_word_length={config.max_word_length}"
            )
    return config


def pretrain_config_from_flags(fv: flags.FlagValues = FLAGS) -> PretrainConfig:
    if not fv.train_files and not fv.conll_train_files:
        raise InputError("--train_files or --conll_train_files is required")
    root = data_dir(fv)
    model = model_config_from_flags(fv)
    train = config_flags.from_flags(LMTrainConfig, fv)
    return config_flags.from_flags(
        PretrainConfig,
        fv,
        model=model,
        train=train,
        train_files=resolve_globs(fv.train_files or "", root),
        conll_files=resolve_globs(fv.conll_train_files, root) if fv.conll_train_files else None,
        vocab_file=resolve_globs(fv.vocab_file, root) if fv.vocab_file else None,
        heldout_files=resolve_globs(fv.heldout_files, root) if fv.heldout_files else None,
    )
