"""Resume checks: the settings a run was started with against the ones given to resume it.

Shared by the tagger (:mod:`taglm_tf.experiment`) and LM pretraining
(:mod:`taglm_tf.lm.pretraining.run`). Each caller maps its saved and given configurations to
``{flag name: value}`` (leaving out what is safe to change); this module compares the two and
refuses the resume with one line naming every flag that differs.
"""
from __future__ import annotations

import json
from typing import Any, List, Mapping

from taglm_tf.errors import InputError


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, ...)."""
    return json.loads(json.dumps(value))


def changed_settings(saved: Mapping[str, Any], given: Mapping[str, Any]) -> List[str]:
    """``--flag (SAVED saved, GIVEN given)`` for each flag in both mappings whose values differ,
    sorted by flag. A flag the saved run did not record (an older run) is not compared."""
    changes = []
    for flag in sorted(set(saved) & set(given)):
        old, new = _plain(saved[flag]), _plain(given[flag])
        if old != new:
            changes.append(f"--{flag} ({json.dumps(old)} saved, {json.dumps(new)} given)")
    return changes


def refuse_changed_settings(saved: Mapping[str, Any], given: Mapping[str, Any], path: str) -> None:
    """An :class:`InputError` naming ``path`` (the saved config) and every changed flag."""
    changes = changed_settings(saved, given)
    if changes:
        raise InputError("--resume with settings other than the run's: " + ", ".join(changes)
                         + "; drop these flags to continue the run, or use a new --model_dir", path)
