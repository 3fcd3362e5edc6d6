"""The LM keys of a run's config (``forward_lm``, ``backward_lm``) and the ``--forward_lm``/
``--backward_lm`` flags of the tools that load a trained model. Imports no TensorFlow, so that
those tools answer ``--help`` and refuse bad flags before it loads."""

from __future__ import annotations

import sys

from absl import flags

from taglm_tf.utils.cli import list_flags_in_help

LM_KEYS = ("forward_lm", "backward_lm")


def define_lm_override_flags(fv=None) -> None:
    """``--forward_lm``/``--backward_lm`` of the tools that load a trained model (tag, export),
    listed in the tool's ``--help``."""
    fv = fv or flags.FLAGS
    for key in LM_KEYS:
        flags.DEFINE_string(
            key,
            None,
            f"Where the model's {key.split('_')[0]} LM is now (same spec forms as "
            "for training), instead of the place its config.json records; its "
            "fingerprint must still match.",
            flag_values=fv,
        )
    if fv is flags.FLAGS:
        list_flags_in_help(sys.modules[__name__])


def lm_overrides(fv=None) -> dict[str, str | None]:
    """The values of the flags of :func:`define_lm_override_flags`."""
    fv = fv or flags.FLAGS
    return {key: fv[key].value for key in LM_KEYS}
