"""All tagging flags, defined in one place; ``None`` means "the task's paper setting"."""

from __future__ import annotations

from absl import flags

from taglm_tf.data.paths import default_data_dir, resolve_data_path
from taglm_tf.models.config import TaggerConfig
from taglm_tf.tasks import TASKS, Task
from taglm_tf.training.config import SAFE_TO_CHANGE, ExperimentConfig, TrainConfig
from taglm_tf.utils import config_flags
from taglm_tf.utils.cli import declare_output_flag
from taglm_tf.utils.errors import InputError

FLAGS = flags.FLAGS

# Model flags default to None, "the task's paper setting" (its Task.model_defaults); --task_rnn is an
# ablation switch, on in both tasks, and keeps its own default.
TASK_SETTINGS = tuple(f.name for f in config_flags.flag_fields(TaggerConfig) if f.name != "task_rnn")


def task_model(task: Task) -> TaggerConfig:
    """The paper's tagger settings for ``task``."""
    return TaggerConfig(**task.model_defaults)


def _paper_settings() -> dict:
    """``{model flag: "(default: the task's paper setting, ner: X; chunking: Y)"}``, for the flags
    that some task sets (the others' help states their default)."""
    notes = {}
    for name in TASK_SETTINGS:
        values = {t.name: getattr(task_model(t), name) for t in TASKS.values()}
        if any(v is not None for v in values.values()):
            paper = "; ".join(f"{task}: {value}" for task, value in values.items())
            notes[name] = f"(default: the task's paper setting, {paper})"
    return notes


def define_flags(fv: flags.FlagValues = FLAGS) -> None:
    """Register the tagging flags in ``fv`` (the global FLAGS by default): one per field of the
    run's configs (:mod:`taglm_tf.utils.config_flags`), the data file overrides and ``--resume``."""
    config_flags.define_flags(ExperimentConfig, fv)
    config_flags.define_flags(
        TaggerConfig, fv, defaults=dict.fromkeys(TASK_SETTINGS), help_notes=_paper_settings()
    )
    config_flags.define_flags(TrainConfig, fv)
    may_change = [
        f"--{name}" + (" (if it leads to the same files)" if name == "data_dir" else "")
        for name in SAFE_TO_CHANGE
    ]
    flags.DEFINE_boolean(
        "resume",
        False,
        "Continue the run in --model_dir after an interruption, with the "
        f"same flags: only {', '.join(may_change[:-1])} and {may_change[-1]} may change; a "
        "finished run is left as it is.",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "train_file",
        None,
        "Training file (a BRAT folder for ScienceIE) instead of the task's.",
        flag_values=fv,
    )
    flags.DEFINE_string("dev_file", None, "Dev file instead of the task's.", flag_values=fv)
    flags.DEFINE_string("test_file", None, "Test file instead of the task's.", flag_values=fv)
    inputs = ("train_file", "dev_file", "test_file", "embeddings")
    declare_output_flag("model_dir", inputs, folder=True)
    declare_output_flag("lm_cache_dir", inputs, folder=True)


def config_from_flags(task_name: str, fv: flags.FlagValues = FLAGS) -> ExperimentConfig:
    task = TASKS[task_name]
    data_dir = fv.data_dir or default_data_dir()
    model = config_flags.from_flags(TaggerConfig, fv, base=task_model(task))
    try:
        model.validate()
    except ValueError as e:
        raise InputError(f"bad flag: {e}") from None
    files = {k: getattr(fv, f"{k}_file") for k in ("train", "dev", "test") if getattr(fv, f"{k}_file")}
    # Parsing an LM spec needs the registry of LM kinds, which imports TensorFlow: only now, after
    # the checks above, so that --help and bad model flags are answered before it loads.
    from taglm_tf.lm.frozen.loading import resolve_lm_spec

    forward_lm, backward_lm = (
        resolve_lm_spec(s, data_dir) if s else None for s in (fv.forward_lm, fv.backward_lm)
    )
    return config_flags.from_flags(
        ExperimentConfig,
        fv,
        task=task_name,
        data_dir=data_dir,
        embeddings=resolve_data_path(fv.embeddings, data_dir),
        files=files,
        forward_lm=forward_lm,
        backward_lm=backward_lm,
        model=model,
        train=config_flags.from_flags(TrainConfig, fv),
    )
