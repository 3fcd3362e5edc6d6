"""All tagging flags, defined in one place; ``None`` means "the task's paper setting"."""
from __future__ import annotations

import dataclasses

from absl import flags

from taglm_tf.errors import InputError
from taglm_tf.experiment import ExperimentConfig
from taglm_tf.lm.frozen.loading import resolve_lm_spec
from taglm_tf.data.paths import default_data_dir, resolve_data_path
from taglm_tf.tasks import TASKS
from taglm_tf.training.trainer import TrainConfig

FLAGS = flags.FLAGS

_MODEL_FLAGS = {  # name: (type, help); defaults come from the task's TaggerConfig
    "char_encoder": (str, "'rnn' (BiGRU) or 'cnn'"),
    "char_dim": (int, "char embedding size"),
    "char_units": (int, "char RNN units per direction, or CNN filters"),
    "char_width": (int, "char CNN filter width"),
    "char_dropout": (float, "dropout on char embeddings"),
    "word_dim": (int, "word embedding size (must match --embeddings)"),
    "rnn_cell": (str, "'gru' or 'lstm' for the two sequence layers"),
    "rnn_units": (int, "units per direction in both sequence layers"),
    "rnn2_units": (int, "units per direction in the second layer (default: --rnn_units)"),
    "rnn_input_dropout": (float, "dropout on the input of each sequence RNN"),
    "output_dropout": (float, "dropout on the last RNN output"),
    "insertion_point": (str, "where LM embeddings join: rnn1_input, rnn1_output (Eq. 3) or rnn2_output"),
}
_DEFINE = {str: flags.DEFINE_string, int: flags.DEFINE_integer, float: flags.DEFINE_float}


def define_flags(fv: flags.FlagValues = FLAGS) -> None:
    """Register the tagging flags in ``fv`` (the global FLAGS by default)."""
    flags.DEFINE_string("model_dir", None, "Output directory (checkpoints, logs, model, results).", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "Data root (default: $TAGLM_DATA_DIR or ./data).", flag_values=fv)
    flags.DEFINE_string("embeddings", None, "Pre-trained word vectors (GloVe/word2vec text, .gz/.xz); "
                        "a relative path is tried against --data_dir too.", flag_values=fv)
    flags.DEFINE_integer("seed", 1, "Random seed (initialisation, data order, dropout).", flag_values=fv)
    flags.DEFINE_boolean("resume", False, "Continue the run in --model_dir after an interruption, with "
                         "the same flags: only --verbose, --log_every_steps, --eval_batch_size, "
                         "--lm_cache_dir and --data_dir (if it leads to the same files) may change; a "
                         "finished run is left as it is.",
                         flag_values=fv)
    flags.DEFINE_boolean("train_with_dev", False, "Train on train+dev (the paper's final NER setting).", flag_values=fv)
    flags.DEFINE_integer("dev_seed", 0, "Seed of the 1,000-sentence dev sample (CoNLL-2000).", flag_values=fv)
    flags.DEFINE_float("train_fraction", 1.0, "Keep this seeded fraction of the training sentences.", flag_values=fv)
    flags.DEFINE_string("train_file", None, "Training file instead of the task's (CoNLL columns).", flag_values=fv)
    flags.DEFINE_string("dev_file", None, "Dev file instead of the task's.", flag_values=fv)
    flags.DEFINE_string("test_file", None, "Test file instead of the task's.", flag_values=fv)
    flags.DEFINE_string("forward_lm", None, "Frozen forward LM: lm1b:CKPT_GLOB,VOCAB, lm1b_export:DIR "
                        "or lstm_lm:MODEL_DIR (relative paths also tried under --data_dir).", flag_values=fv)
    flags.DEFINE_string("backward_lm", None, "Frozen backward LM (same spec forms).", flag_values=fv)
    flags.DEFINE_boolean("task_rnn", True, "False: LM embeddings -> dense -> CRF, no task RNN (§3.2).", flag_values=fv)
    flags.DEFINE_string("lm_cache_dir", "runs/lm_cache", "Where LM-embedding caches are kept.", flag_values=fv)
    flags.DEFINE_enum("lm_cache_dtype", "float16", ["float16", "float32"], "Cache storage type.", flag_values=fv)
    for name, (kind, help_text) in _MODEL_FLAGS.items():
        values = {t.name: getattr(t.model, name) for t in TASKS.values()}
        if any(v is not None for v in values.values()):  # else the help text gives the default
            paper = "; ".join(f"{task}: {value}" for task, value in values.items())
            help_text = f"{help_text} (default: the task's paper setting, {paper})"
        _DEFINE[kind](name, None, help_text, flag_values=fv)
    defaults = TrainConfig()
    flags.DEFINE_integer("batch_size", defaults.batch_size, "Sentences per training batch.", flag_values=fv)
    flags.DEFINE_float("learning_rate", defaults.learning_rate, "Adam learning rate of the constant phase.", flag_values=fv)
    flags.DEFINE_float("clip_norm", defaults.clip_norm, "Global gradient-norm clip.", flag_values=fv)
    flags.DEFINE_integer("patience", defaults.patience, "Epochs without dev gain that end the constant phase.", flag_values=fv)
    flags.DEFINE_integer("max_constant_epochs", defaults.max_constant_epochs, "Cap on the constant phase.", flag_values=fv)
    flags.DEFINE_integer("anneal_epochs", defaults.anneal_epochs, "Epochs per annealing step.", flag_values=fv)
    flags.DEFINE_integer("anneal_steps", defaults.anneal_steps, "Number of lr/10 steps.", flag_values=fv)
    flags.DEFINE_integer("eval_batch_size", defaults.eval_batch_size, "Sentences per inference batch.", flag_values=fv)
    flags.DEFINE_integer("verbose", None, "0 silent, 1 progress bar (batches, ETA), 2 one line per epoch "
                         "(default: 1 when stdout is a terminal, else 2).", flag_values=fv)
    flags.DEFINE_integer("log_every_steps", defaults.log_every_steps, "TensorBoard: mean training loss "
                         "of every N steps as train/step_loss (0: none).", flag_values=fv)


def config_from_flags(task_name: str, fv: flags.FlagValues = FLAGS) -> ExperimentConfig:
    task = TASKS[task_name]
    data_dir = fv.data_dir or default_data_dir()
    overrides = {k: getattr(fv, k) for k in _MODEL_FLAGS if getattr(fv, k) is not None}
    model = dataclasses.replace(task.model, **overrides, task_rnn=fv.task_rnn)
    try:
        model.validate()
    except ValueError as e:
        raise InputError(f"bad flag: {e}") from None
    train = TrainConfig(batch_size=fv.batch_size, learning_rate=fv.learning_rate, clip_norm=fv.clip_norm,
                        patience=fv.patience, max_constant_epochs=fv.max_constant_epochs,
                        anneal_epochs=fv.anneal_epochs, anneal_steps=fv.anneal_steps,
                        eval_batch_size=fv.eval_batch_size, seed=fv.seed, verbose=fv.verbose,
                        log_every_steps=fv.log_every_steps)
    files = {k: getattr(fv, f"{k}_file") for k in ("train", "dev", "test") if getattr(fv, f"{k}_file")}
    forward_lm, backward_lm = (resolve_lm_spec(s, data_dir) if s else None for s in (fv.forward_lm, fv.backward_lm))
    return ExperimentConfig(task=task_name, data_dir=data_dir, model_dir=fv.model_dir,
                            embeddings=resolve_data_path(fv.embeddings, data_dir),
                            train_with_dev=fv.train_with_dev, dev_seed=fv.dev_seed,
                            train_fraction=fv.train_fraction, files=files, forward_lm=forward_lm,
                            backward_lm=backward_lm, lm_cache_dir=fv.lm_cache_dir,
                            lm_cache_dtype=fv.lm_cache_dtype, model=model, train=train)
