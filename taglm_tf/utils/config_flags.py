"""Command-line flags generated from config dataclasses: a hyper-parameter is written once, as a
field of its config, with its flag's help text in the field's metadata.

To add a hyper-parameter, add one field to its config, e.g. to ``TrainConfig``::

    warmup_epochs: int = dataclasses.field(default=0, metadata={"help": "Epochs at lr/10 first."})

Every tool that defines that config's flags (:func:`define_flags`) then has ``--warmup_epochs``
with that default and help, and :func:`from_flags` puts its value in the config, which the run
saves (``config.json``). Nothing else is edited: a tagger resume compares every saved setting (a
run saved before the field existed is not compared on it). Only a setting that a resumed run may
change (output only, as ``--verbose``) is also listed in ``SAFE_TO_CHANGE``
(:mod:`taglm_tf.training.config`), which ``--resume``'s help reads too. An LM pretraining resume
compares the model fields, the direction, the state reset and the precision
(:func:`taglm_tf.lm.pretraining.run.resume_settings`): a new optimisation setting that a resume must
keep is added there.

Field metadata read here:

* ``help``: the flag's help text. A field with a flag must have one.
* ``choices``: the allowed values of a ``str`` field; its flag is an enum (``DEFINE_enum``).
* ``lower_bound``, ``upper_bound``: the smallest and largest value of an ``int`` or ``float``
  flag (absl refuses others while it parses the flags, before any work).
* ``above``, ``below``: bounds the value must exceed or stay under (a learning rate above 0, a
  dropout rate below 1), checked as the flags are parsed too.
* ``flag``: the flag's name where it differs from the field's, or ``False``: no flag (a value
  that is derived, or that the tool sets itself).

The flag's type follows the field's: ``bool``, ``int``, ``float``, ``str``, ``Tuple[int, ...]``
(a comma-separated list), each possibly ``Optional``. A field without a default gets a flag
defaulting to ``None`` (the tool requires it or fills it in). A field that holds another config
has no flag: that config's flags come from their own :func:`define_flags` call. A subclass that
only changes a field's default keeps its base's help.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Union

from absl import flags

from taglm_tf.utils.errors import InputError

_SCALARS = (bool, int, float, str)


class FlagField(NamedTuple):
    """A config field that has a flag."""

    name: str  # the field's
    flag: str  # the flag's
    kind: type  # bool, int, float, str, or tuple (of ints)
    default: Any
    help: str
    choices: tuple | None
    lower_bound: Any
    upper_bound: Any = None
    above: Any = None
    below: Any = None


def _metadata(cls: type, name: str) -> dict:
    """The metadata of field ``name``, merged along the bases (a subclass may restate the field)."""
    merged = {}
    for base in reversed(cls.__mro__):
        field = getattr(base, "__dataclass_fields__", {}).get(name)
        if field is not None:
            merged.update(field.metadata)
    return merged


def _flag_kind(cls: type, name: str, hint) -> type | None:
    """The flag type of a field annotated ``hint``; ``None`` for a field holding configs."""
    if typing.get_origin(hint) in (Union, types.UnionType):  # Optional[X] or X | None
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if all(dataclasses.is_dataclass(a) for a in args):
            return None
        if len(args) == 1:
            return _flag_kind(cls, name, args[0])
    elif dataclasses.is_dataclass(hint):
        return None
    elif hint in _SCALARS:
        return hint
    elif typing.get_origin(hint) is tuple and typing.get_args(hint) == (int, ...):
        return tuple
    raise TypeError(f"{cls.__name__}.{name}: no flag type for {hint}; give the field metadata flag=False")


def flag_fields(cls: type) -> list[FlagField]:
    """The fields of config class ``cls`` that have flags, in field order."""
    hints = typing.get_type_hints(cls)
    found = []
    for field in dataclasses.fields(cls):
        meta = _metadata(cls, field.name)
        if meta.get("flag") is False:
            continue
        kind = _flag_kind(cls, field.name, hints[field.name])
        if kind is None:
            continue
        if not meta.get("help"):
            raise TypeError(
                f"{cls.__name__}.{field.name} has a flag but no help: give the field metadata "
                "help='...' (or flag=False)"
            )
        default = None if field.default is dataclasses.MISSING else field.default
        found.append(
            FlagField(
                field.name,
                meta.get("flag") or field.name,
                kind,
                default,
                meta["help"],
                tuple(meta["choices"]) if "choices" in meta else None,
                meta.get("lower_bound"),
                meta.get("upper_bound"),
                meta.get("above"),
                meta.get("below"),
            )
        )
    return found


def define_flags(
    configs: type | Sequence[type],
    flag_values: flags.FlagValues = flags.FLAGS,
    *,
    exclude: Iterable[str] = (),
    defaults: None | Mapping[str, Any] | object = None,
    help_notes: Mapping[str, str] | None = None,
    module_name: str | None = None,
) -> list[str]:
    """Define a flag for each field of the config class(es) ``configs`` (see the module docstring).

    Args:
        configs: a config class, or several whose flags one tool takes together; a field name
            that several have (e.g. from a shared base) gets one flag, from the first class.
        flag_values: where the flags go.
        exclude: fields that get no flag here.
        defaults: this tool's flag defaults where they differ from the fields' defaults: a mapping
            ``{field: default}`` (of fields that get flags here), or a config whose values are the
            defaults of the flags of its fields.
        help_notes: ``{field: text}`` appended to the field's help.
        module_name: the module the flags belong to (what absl's ``--help`` lists as a tool's own
            flags); by default the caller's, as absl's ``DEFINE_*`` functions take it.

    Returns:
        The names of the fields given flags.
    """
    module_name = module_name or calling_module()
    exclude = set(exclude)
    fields: dict[str, FlagField] = {}
    for cls in configs if isinstance(configs, (tuple, list)) else (configs,):
        for field in flag_fields(cls):
            if field.name not in exclude:
                fields.setdefault(field.name, field)
    if dataclasses.is_dataclass(defaults) and not isinstance(defaults, type):
        defaults = {name: getattr(defaults, name) for name in fields if hasattr(defaults, name)}
    defaults, help_notes = dict(defaults or {}), dict(help_notes or {})
    unknown = (set(defaults) | set(help_notes)) - set(fields)
    if unknown:
        raise ValueError(f"no flag defined here for {', '.join(sorted(unknown))}")
    for field in fields.values():
        help_text = f"{field.help} {help_notes[field.name]}" if field.name in help_notes else field.help
        _define(field, defaults.get(field.name, field.default), help_text, flag_values, module_name)
    return list(fields)


def absl_module_name(name: str) -> str:
    """The name absl files a module's flags under: its ``__name__``, but the main module's after
    ``sys.argv[0]`` (what ``--help`` lists as a tool's own flags)."""
    return sys.argv[0] if name == "__main__" else name


def calling_module() -> str:
    """The module of the function that called this function's caller (:func:`absl_module_name`):
    the ``module_name`` a helper that defines flags for a tool passes to absl's ``DEFINE_*``,
    which otherwise file the flags under the helper's own module, as their caller."""
    return absl_module_name(sys._getframe(2).f_globals["__name__"])


def _define(field: FlagField, default, help_text: str, fv: flags.FlagValues, module_name: str) -> None:
    common = dict(flag_values=fv, module_name=module_name)
    if field.choices is not None:
        flags.DEFINE_enum(field.flag, default, list(field.choices), help_text, **common)
    elif field.kind is bool:
        flags.DEFINE_boolean(field.flag, default, help_text, **common)
    elif field.kind in (int, float):
        define = flags.DEFINE_integer if field.kind is int else flags.DEFINE_float
        define(
            field.flag,
            default,
            help_text,
            lower_bound=field.lower_bound,
            upper_bound=field.upper_bound,
            **common,
        )
        if field.above is not None or field.below is not None:
            _register_open_bounds(field, fv)
    elif field.kind is tuple:
        flags.DEFINE_list(
            field.flag, None if default is None else [str(v) for v in default], help_text, **common
        )
    else:
        flags.DEFINE_string(field.flag, default, help_text, **common)


def _register_open_bounds(field: FlagField, fv: flags.FlagValues) -> None:
    """Refuse, as the flags are parsed, a value of ``field``'s flag not above ``field.above`` or
    not below ``field.below`` (``None``, the "not given" of an optional flag, passes), and say so
    in its help (absl's help shows only closed bounds)."""
    above, below = field.above, field.below
    wanted = " and ".join(
        text
        for bound, text in ((above, f"greater than {above}"), (below, f"less than {below}"))
        if bound is not None
    )

    def valid(value) -> bool:
        return value is None or ((above is None or value > above) and (below is None or value < below))

    flags.register_validator(field.flag, valid, message=f"must be {wanted}", flag_values=fv)
    fv[field.flag].help += f" (must be {wanted})"


def from_flags(cls: type, flag_values: flags.FlagValues = flags.FLAGS, *, base=None, **values):
    """A ``cls`` config from the parsed flags of its fields (defined by :func:`define_flags`).

    Args:
        base: a ``cls`` config whose values stand where a flag is ``None`` (flags whose default
            is "the base's value", e.g. a task's paper setting).
        values: fields set here rather than from their flags: fields without flags, and values
            the tool derives from flags (a path resolved against the data directory).

    Raises:
        InputError: a list flag whose items are not integers.
    """
    for field in flag_fields(cls):
        if field.name in values:
            continue
        value = _value(field, flag_values[field.flag].value)
        if value is None and base is not None:
            continue
        values[field.name] = value
    return dataclasses.replace(base, **values) if base is not None else cls(**values)


def _value(field: FlagField, value):
    if field.kind is not tuple or value is None:
        return value
    try:
        return tuple(int(v) for v in value)
    except ValueError:
        raise InputError(f"--{field.flag} must be comma-separated integers, not {','.join(value)}") from None


def to_args(config, exclude: Iterable[str] = ()) -> list[str]:
    """The command-line arguments ``--flag=value`` that give ``config``'s values (``None`` values
    are left out: their flags default to ``None``), for a tool whose flags :func:`define_flags`
    made from ``config``'s class."""
    args = []
    for field in flag_fields(type(config)):
        value = getattr(config, field.name)
        if field.name in exclude or value is None:
            continue
        if field.kind is bool:
            value = "true" if value else "false"
        elif field.kind is tuple:
            value = ",".join(str(v) for v in value)
        args.append(f"--{field.flag}={value}")
    return args
