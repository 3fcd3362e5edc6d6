"""All LM pretraining and evaluation flags, defined in one place."""
from __future__ import annotations

import functools
import glob
import os

from absl import flags

from taglm_tf.cli import define_output_flag
from taglm_tf.errors import InputError
from taglm_tf.lm.pretraining.cnn_lstm_lm import CNNLSTMLMConfig
from taglm_tf.lm.pretraining.lm_kinds import LM_KINDS, ModelConfig
from taglm_tf.lm.pretraining.lstm_lm import LSTMLMConfig
from taglm_tf.lm.pretraining.run import RESET_STATES, PretrainConfig
from taglm_tf.lm.pretraining.trainer import OPTIMIZERS, PRECISIONS, STRATEGIES, LMTrainConfig
from taglm_tf.lm.vocab import DIRECTIONS
from taglm_tf.data.paths import default_data_dir

FLAGS = flags.FLAGS

_MODEL_FLAGS = {  # LM config field: (default, help); defaults are the paper's LSTM-2048-512
    "embedding_dim": (512, "Token embedding size (--lm_kind=lstm)."),
    "num_cells": (2048, "LSTM cells per layer."),
    "projection_dim": (512, "LSTM projection (output) size."),
    "num_layers": (1, "LSTMP layers."),
    "num_sampled": (8192, "Sampled-softmax negatives per step (< vocabulary); 0: full softmax."),
}
_TRAIN_FLAGS = {  # LMTrainConfig field: help
    "batch_size": "Rows per replica; the global batch is this x replicas.",
    "num_steps": "Window length: truncated-BPTT steps.",
    "train_steps": "Total optimizer steps.",
    "learning_rate": "Learning rate.",
    "initial_accumulator_value": "Adagrad's initial accumulator.",
    "clip_norm": "Clip the summed gradient to this global norm (0: no clipping).",
    "gradient_scale": "Gradients of scale x token-mean loss (bilm-tf: num_steps).",
    "checkpoint_every": "Steps between checkpoints (and held-out evaluations).",
    "keep_checkpoints": "Checkpoints kept.",
    "log_every": "Steps between log lines and TensorBoard points.",
    "seed": "Seed of initialisation, data order and the softmax sampler.",
    "shuffle_chunk": "Lines of a shard shuffled together.",
}


class _Definer:
    """``define.string(...)`` = ``flags.DEFINE_string(..., flag_values=fv)``, and so on."""

    def __init__(self, fv: flags.FlagValues):
        self.fv = fv

    def __getattr__(self, kind):
        return functools.partial(getattr(flags, f"DEFINE_{kind}"), flag_values=self.fv)


def define_pretrain_flags(fv: flags.FlagValues = FLAGS) -> None:
    define = _Definer(fv)
    define.string("model_dir", None, "Output directory (config, vocabulary, checkpoints, logs).")
    define.string("data_dir", None, "Root for relative data paths (default: $TAGLM_DATA_DIR or ./data).")
    define.string("train_files", None, "Comma-separated globs of training shards (one sentence per line; "
                  ".gz/.xz/plain); relative globs are tried against --data_dir too.")
    define.string("conll_train_files", None, "Comma-separated globs of CoNLL files whose words join the "
                  "training text, e.g. conll2003/eng.train (paper Table 6's LSTM-512-256*); test sets "
                  "(eng.testb, CoNLL-2000 test.txt) are refused.")
    define.integer("conll_weight", 1, "Read the --conll_train_files text this many times per epoch "
                   "(up-weights a small in-domain text; the built vocabulary counts it as often).", lower_bound=1)
    define.string("heldout_files", None, "Globs evaluated (full softmax) at each checkpoint.")
    define.integer("heldout_max_sentences", 0, "Evaluate only this many held-out sentences (0: all).")
    define.enum("direction", "forward", DIRECTIONS, "forward: <S> w1..wn </S>; backward: <S> wn..w1 </S>.")
    define.string("vocab_file", None, "Use this vocabulary (one word per line, most frequent first).")
    define.integer("vocab_size", None, "Cap on the built vocabulary, <S> </S> <UNK> included.")
    define.integer("min_count", 1, "Keep words seen at least this often in the training data.")
    define.enum("lm_kind", "lstm", LM_KINDS, "lstm: word embedding -> LSTMP layers; cnn_lstm: lm_1b's "
                "architecture, each input word's bytes -> char CNN -> highway -> projection -> LSTMP layers "
                "(the --char_dim ... --max_word_length flags; --projection_dim is also the char projection).")
    cnn = CNNLSTMLMConfig()
    define.integer("char_dim", cnn.char_dim, "cnn_lstm: char embedding size.")
    define.list("conv_widths", [str(w) for w in cnn.conv_widths], "cnn_lstm: width of each conv bank.")
    define.list("conv_filters", [str(n) for n in cnn.conv_filters], "cnn_lstm: filters of each conv bank.")
    define.integer("num_highway", cnn.num_highway, "cnn_lstm: highway layers.")
    define.integer("max_word_length", cnn.max_word_length, "cnn_lstm: chars per word (bow and eow included; "
                   "the lm_1b loader reads 50).")
    for name, (default, help_text) in _MODEL_FLAGS.items():
        define.integer(name, default, help_text)
    define.float("dropout", 0.0, "Dropout on LSTM inputs and the top output.")
    define.boolean("use_peepholes", False, "Peephole connections in the LSTM cell (lm_1b's cell has them; "
                   "the training recipes of Jozefowicz et al. and bilm-tf do not).")
    define.float("cell_clip", 0.0, "Clip the LSTM cell state to this magnitude (0: off; bilm-tf: 3).")
    define.enum("reset_state", "sentence", RESET_STATES, "sentence: each sentence starts from a zero LSTM "
                "state (as the tagger's embedder reads it); never: the state runs on across sentences "
                "(lm_1b, bilm-tf).")
    defaults = LMTrainConfig()
    for name, help_text in _TRAIN_FLAGS.items():
        (define.float if isinstance(getattr(defaults, name), float) else define.integer)(
            name, getattr(defaults, name), help_text)
    define.enum("optimizer", defaults.optimizer, OPTIMIZERS, "Adagrad (original recipe) or Adam.")
    define.enum("precision", defaults.precision, PRECISIONS, "float32, or Keras mixed precision: "
                "bfloat16 or float16 compute with float32 variables, softmax and losses (float16 with "
                "dynamic loss scaling). Fast only with hardware support (bfloat16: AVX512-BF16/AMX CPUs, "
                "TPUs, Ampere+ GPUs; float16: GPUs).")
    define.boolean("interleave", defaults.interleave, "Mix the sentences of all training files within "
                   "each epoch (--nointerleave: one file after another).")
    define.integer("epochs", 0, "Passes over the training data (0: until --train_steps).")
    define.enum("strategy", "auto", STRATEGIES, "auto: multi_worker if TF_CONFIG is set, mirrored with 2+ "
                "GPUs, else default (one device).")
    define.boolean("resume", False, "Continue the run in --model_dir from its last checkpoint.")


def define_eval_flags(fv: flags.FlagValues = FLAGS) -> None:
    define = _Definer(fv)
    define.string("model_dir", None, "A pretrain_lm output directory.")
    define.string("data_dir", None, "Root for relative data paths (default: $TAGLM_DATA_DIR or ./data).")
    define.string("eval_files", None, "Comma-separated globs of held-out text (one sentence per line).")
    define.string("checkpoint", None, "Checkpoint prefix (default: the latest in --model_dir).")
    define.integer("batch_size", 32, "Rows evaluated in parallel (state carried per row).")
    define.integer("num_steps", 20, "Window length.")
    define.integer("max_sentences", 0, "Evaluate only the first sentences (0: all).")
    define_output_flag("output", None, "Also write the result as JSON here.", inputs=("eval_files",), flag_values=fv)
    define.boolean("record", False, "Also write it to MODEL_DIR/perplexity.json, where tagger runs "
                   "with this LM find it (results.json lm_perplexity; the report's F1-vs-perplexity plot).")


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


def _int_list(fv: flags.FlagValues, name: str):
    try:
        values = tuple(int(v) for v in getattr(fv, name))
    except ValueError:
        raise InputError(f"--{name} must be comma-separated integers, not {','.join(getattr(fv, name))}") from None
    if not values or min(values) < 1:
        raise InputError(f"--{name} needs positive integers")
    return values


def model_config_from_flags(fv: flags.FlagValues = FLAGS) -> ModelConfig:
    """The typed model config of ``--lm_kind`` from the flags."""
    shared = dict(num_cells=fv.num_cells, projection_dim=fv.projection_dim, num_layers=fv.num_layers,
                  num_sampled=fv.num_sampled, dropout=fv.dropout, use_peepholes=fv.use_peepholes,
                  cell_clip=fv.cell_clip, sampler_seed=fv.seed)
    if fv.lm_kind == "lstm":
        return LSTMLMConfig(embedding_dim=fv.embedding_dim, **shared)
    widths, filters = _int_list(fv, "conv_widths"), _int_list(fv, "conv_filters")
    if len(widths) != len(filters):
        raise InputError(f"--conv_widths has {len(widths)} banks but --conv_filters {len(filters)}")
    if max(widths) > fv.max_word_length:
        raise InputError(f"--conv_widths {max(widths)} exceeds --max_word_length={fv.max_word_length}")
    return CNNLSTMLMConfig(char_dim=fv.char_dim, conv_widths=widths, conv_filters=filters,
                           num_highway=fv.num_highway, max_word_length=fv.max_word_length, **shared)


def pretrain_config_from_flags(fv: flags.FlagValues = FLAGS) -> PretrainConfig:
    if not fv.train_files and not fv.conll_train_files:
        raise InputError("--train_files or --conll_train_files is required")
    root = data_dir(fv)
    model = model_config_from_flags(fv)
    train = LMTrainConfig(optimizer=fv.optimizer, interleave=fv.interleave, precision=fv.precision,
                          **{name: getattr(fv, name) for name in _TRAIN_FLAGS})
    for name in ("batch_size", "num_steps", "train_steps", "checkpoint_every", "log_every", "keep_checkpoints"):
        if getattr(train, name) < 1:
            raise InputError(f"--{name} must be positive, not {getattr(train, name)}")
    return PretrainConfig(
        model_dir=fv.model_dir, train_files=resolve_globs(fv.train_files or "", root),
        conll_files=resolve_globs(fv.conll_train_files, root) if fv.conll_train_files else None,
        conll_weight=fv.conll_weight,
        direction=fv.direction,
        vocab_file=resolve_globs(fv.vocab_file, root) if fv.vocab_file else None,
        vocab_size=fv.vocab_size, min_count=fv.min_count, model=model, train=train,
        heldout_files=resolve_globs(fv.heldout_files, root) if fv.heldout_files else None,
        heldout_max_sentences=fv.heldout_max_sentences, epochs=fv.epochs, strategy=fv.strategy,
        reset_state=fv.reset_state)
