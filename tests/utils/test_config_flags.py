"""Flags generated from config dataclasses (taglm_tf.utils.config_flags): a field is all it takes."""

import dataclasses
import os
import subprocess
import sys

import pytest
from absl import flags

from taglm_tf.lm.pretraining.config import CNNLSTMLMConfig, LMTrainConfig, LSTMLMConfig
from taglm_tf.models.config import TaggerConfig
from taglm_tf.training.config import TrainConfig
from taglm_tf.training.experiment import resume_settings
from taglm_tf.utils import config_flags
from taglm_tf.utils.errors import InputError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _help(text, **more):
    return {"help": text, **more}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Toy:
    name: str = dataclasses.field(metadata=_help("A required name."))
    rate: float = dataclasses.field(default=0.5, metadata=_help("A rate."))
    steps: int = dataclasses.field(default=3, metadata=_help("Steps.", lower_bound=1))
    mode: str = dataclasses.field(default="fast", metadata=_help("How.", choices=("fast", "slow")))
    widths: tuple[int, ...] = dataclasses.field(default=(1, 2), metadata=_help("Widths."))
    cap: int | None = dataclasses.field(default=None, metadata=_help("A cap."))
    on: bool = dataclasses.field(default=True, metadata=_help("A switch."))
    files: str | None = dataclasses.field(default=None, metadata=_help("Files.", flag="input_files"))
    derived: int = dataclasses.field(default=0, metadata={"flag": False})
    inner: TrainConfig = dataclasses.field(default_factory=TrainConfig)


def parsed(configs, *args, **define):
    fv = flags.FlagValues()
    config_flags.define_flags(configs, fv, **define)
    fv(["prog", *args])
    return fv


def test_a_new_field_gets_its_flag_with_no_other_edit():
    """A config gaining a field (here a subclass of TrainConfig) has its flag, default and help,
    its value reaches the config, and the tagger's resume check compares it."""

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Extended(TrainConfig):
        warmup_epochs: int = dataclasses.field(default=0, metadata=_help("Epochs at lr/10 first."))

    fv = parsed(Extended, "--warmup_epochs=3", "--patience=7")
    assert fv["warmup_epochs"].default == 0 and fv["warmup_epochs"].help == "Epochs at lr/10 first."
    config = config_flags.from_flags(Extended, fv)
    assert config == Extended(warmup_epochs=3, patience=7)
    assert resume_settings({"train": dataclasses.asdict(config)})["warmup_epochs"] == 3
    assert "warmup_epochs" not in flags_of(TrainConfig)


def flags_of(cls):
    fv = flags.FlagValues()
    config_flags.define_flags(cls, fv)
    return set(fv)


def test_flag_types_defaults_help_and_metadata():
    fv = parsed(Toy, "--name=x")
    assert set(fv) == {"name", "rate", "steps", "mode", "widths", "cap", "on", "input_files"}
    assert [fv[n].flag_type() for n in ("name", "rate", "steps", "cap", "on")] == [
        "string",
        "float",
        "int",
        "int",
        "bool",
    ]
    assert fv["mode"].parser.enum_values == ["fast", "slow"] and fv["mode"].default == "fast"
    assert fv["steps"].parser.lower_bound == 1
    assert fv["widths"].default == ["1", "2"] and fv["cap"].default is None and fv["name"].default is None
    assert fv["input_files"].help == "Files."
    with pytest.raises(flags.IllegalFlagValueError):
        fv(["prog", "--steps=0"])
    with pytest.raises(flags.IllegalFlagValueError):
        fv(["prog", "--mode=medium"])


def test_from_flags_builds_the_config_from_parsed_values():
    fv = parsed(
        Toy,
        "--name=x",
        "--rate=0.25",
        "--widths=3,4,5",
        "--cap=9",
        "--noon",
        "--input_files=a*",
        "--mode=slow",
    )
    config = config_flags.from_flags(Toy, fv, derived=4)
    assert config == Toy(
        name="x", rate=0.25, widths=(3, 4, 5), cap=9, on=False, files="a*", mode="slow", derived=4
    )
    assert config_flags.from_flags(Toy, fv, name="given").name == "given"  # values win over flags


def test_list_flags_of_non_integers_are_an_input_error():
    fv = parsed(Toy, "--name=x", "--widths=3,b")
    with pytest.raises(InputError, match="--widths must be comma-separated integers, not 3,b"):
        config_flags.from_flags(Toy, fv)


def test_tool_defaults_and_help_notes():
    fv = parsed(
        Toy, "--name=x", defaults={"rate": None, "steps": 5}, help_notes={"rate": "(default: the base's)"}
    )
    assert fv["rate"].default is None and fv["steps"].default == 5
    assert fv["rate"].help == "A rate. (default: the base's)"
    base = Toy(name="base", rate=0.75, steps=2)
    assert config_flags.from_flags(Toy, fv, base=base) == dataclasses.replace(base, name="x", steps=5)
    from_instance = parsed(Toy, defaults=Toy(name="n", rate=0.125))
    assert from_instance["rate"].default == 0.125 and from_instance["name"].default == "n"
    with pytest.raises(ValueError, match="no flag defined here for derived, nope"):
        parsed(Toy, defaults={"nope": 1, "derived": 2})


def test_classes_sharing_fields_get_one_flag_from_the_first():
    fv = parsed((LSTMLMConfig, CNNLSTMLMConfig))
    assert fv["num_cells"].default == LSTMLMConfig().num_cells != CNNLSTMLMConfig().num_cells
    assert {"embedding_dim", "conv_widths", "max_word_length"} <= set(fv)
    assert not {"kind", "sampler_seed", "forget_bias"} & set(fv)
    assert "num_cells" not in parsed((LSTMLMConfig, CNNLSTMLMConfig), exclude=("num_cells",))


def test_a_subclass_that_restates_a_default_keeps_the_help():
    only_cnn = parsed(CNNLSTMLMConfig)
    assert only_cnn["num_cells"].default == 8192 and only_cnn["num_cells"].help == "LSTM cells per layer."


def test_a_field_without_help_or_flag_type_is_refused():
    @dataclasses.dataclass
    class NoHelp:
        size: int = 3

    @dataclasses.dataclass
    class NoType:
        table: dict = dataclasses.field(default_factory=dict, metadata=_help("A table."))

    with pytest.raises(TypeError, match="NoHelp.size has a flag but no help"):
        parsed(NoHelp)
    with pytest.raises(TypeError, match="NoType.table: no flag type"):
        parsed(NoType)


def test_flags_belong_to_the_calling_module():
    """absl's --help lists a tool's own flags by module: those of the module that defined them."""
    fv = flags.FlagValues()
    config_flags.define_flags(Toy, fv)
    config_flags.define_flags(TrainConfig, fv, module_name="elsewhere")
    assert {f.name for f in fv.get_key_flags_for_module(__name__)} == flags_of(Toy)
    assert {f.name for f in fv.get_key_flags_for_module("elsewhere")} == flags_of(TrainConfig)


def _other_than(field, value):
    """A flag default that differs from ``value``, so that only the arguments can give it."""
    if value is None:
        return None  # to_args leaves None out: the flag's default must be None
    if field.choices:
        return next(c for c in field.choices if c != value)
    if field.kind is bool:
        return not value
    if field.kind is tuple:
        return tuple(v + 1 for v in value) + (7,)
    return value + 1 if field.kind in (int, float) else value + "_other"


@pytest.mark.parametrize(
    "config",
    [
        TaggerConfig(char_encoder="cnn", char_units=30, rnn2_units=205, task_rnn=False),
        TrainConfig(verbose=2),
        LSTMLMConfig(num_cells=32, use_peepholes=True),
        CNNLSTMLMConfig(conv_widths=(1, 2), conv_filters=(8, 8)),
        LMTrainConfig(optimizer="adam", interleave=False, precision="mixed_bfloat16"),
        Toy(name="x", widths=(), cap=3, on=False, files="f"),
    ],
    ids=lambda c: type(c).__name__,
)
def test_to_args_gives_the_config_back(config):
    """Arguments made from a config, parsed by flags whose defaults all differ from it, build it."""
    fields = config_flags.flag_fields(type(config))
    fv = parsed(
        type(config),
        *config_flags.to_args(config),
        defaults={f.name: _other_than(f, getattr(config, f.name)) for f in fields},
    )
    assert all(fv[f.flag].default != fv[f.flag].value or getattr(config, f.name) is None for f in fields)
    assert config_flags.from_flags(type(config), fv) == config


def test_the_module_needs_no_tensorflow():
    """Tools can define their flags before TensorFlow starts (and its logging with it)."""
    code = "import sys, taglm_tf.utils.config_flags; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Bounded:
    fraction: float = dataclasses.field(default=1.0, metadata=_help("A fraction.", above=0, upper_bound=1))
    dropout: float = dataclasses.field(default=0.0, metadata=_help("A rate.", lower_bound=0, below=1))
    cap: float | None = dataclasses.field(default=None, metadata=_help("A cap.", above=0))


@pytest.mark.parametrize(
    "arg, error",
    [
        ("--fraction=0", "flag --fraction=0.0: must be greater than 0"),
        ("--fraction=1.5", "flag --fraction=1.5: 1.5 is not number <= 1"),
        ("--dropout=1", "flag --dropout=1.0: must be less than 1"),
        ("--dropout=-0.5", "flag --dropout=-0.5: -0.5 is not a non-negative number"),
        ("--cap=0", "flag --cap=0.0: must be greater than 0"),
    ],
)
def test_bounds_open_and_closed_are_checked_as_the_flags_are_parsed(arg, error):
    with pytest.raises(flags.IllegalFlagValueError, match=f"^{error}$"):
        parsed(Bounded, arg)


def test_values_within_the_bounds_and_an_absent_optional_pass():
    fv = parsed(Bounded, "--fraction=1", "--dropout=0")
    assert config_flags.from_flags(Bounded, fv) == Bounded(fraction=1.0, dropout=0.0, cap=None)


@pytest.mark.parametrize("cls", [TrainConfig, TaggerConfig, LMTrainConfig, LSTMLMConfig, CNNLSTMLMConfig])
def test_every_default_is_within_its_flags_bounds(cls):
    parsed(cls)  # absl checks defaults against bounds and validators when the flags are defined and parsed
