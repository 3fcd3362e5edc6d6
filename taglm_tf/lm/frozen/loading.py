"""Frozen LMs from their specs (:mod:`taglm_tf.lm.frozen.kinds`), as
:class:`~taglm_tf.lm.frozen.embedder.SentenceEmbedder` objects.

Relative paths are tried as given, then under the data directory, and are made absolute
(:func:`resolve_lm_spec`). A run records each LM twice in its ``config.json``: the absolute spec
(``forward_lm``, ``backward_lm``) and the spec relative to the model directory
(``lm_specs_relative_to_model_dir``), so the LM is found from any working directory and after
the model directory is moved together with its LMs (:func:`locate_lms`). It also records the
fingerprint of each LM; an LM whose weights changed since is refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from taglm_tf.data.paths import resolve_data_path
from taglm_tf.lm.frozen.embedder import SentenceEmbedder
from taglm_tf.lm.frozen.kinds import KINDS, LMSpec
from taglm_tf.lm.frozen.overrides import LM_KEYS
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.provenance import short


def load_embedder(spec: str) -> SentenceEmbedder:
    """The LM ``spec`` (``KIND:PATH[,PATH]``) names; an :class:`InputError` for a malformed spec
    or an LM that cannot be loaded."""
    parsed = LMSpec.parse(spec)
    return KINDS[parsed.kind].load(parsed)


def resolve_lm_spec(spec: str, data_dir: str) -> str:
    """``spec`` with each path made absolute: a relative path is taken as given when it exists,
    else under ``data_dir`` when only that one exists. An :class:`InputError` for a malformed spec."""
    return str(LMSpec.parse(spec).with_paths(lambda p: os.path.abspath(resolve_data_path(p, data_dir))))


RELATIVE_KEY = "lm_specs_relative_to_model_dir"


def specs_relative_to(specs: Mapping, model_dir: str) -> dict[str, str]:
    """``{key: spec}`` of the LMs in ``specs`` with paths relative to ``model_dir`` (recorded in
    ``config.json`` under :data:`RELATIVE_KEY`)."""
    base = os.path.abspath(model_dir)
    return {
        k: str(LMSpec.parse(specs[k]).with_paths(lambda p: os.path.relpath(os.path.abspath(p), base)))
        for k in lm_keys(specs)
    }


def locate_lms(
    run_config: Mapping, model_dir: str, overrides: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """``{key: absolute spec}`` of each LM of a saved run, found on disk.

    Tried in order: the override (``--forward_lm``/``--backward_lm``; then nothing else), the spec
    as recorded (absolute), and the spec recorded relative to the run (:data:`RELATIVE_KEY`)
    taken relative to ``model_dir``, where the run is now.

    Raises:
        InputError: the run was written by an older version that did not record its LMs relative
            to itself, or an LM is found nowhere (the message lists every place tried).
    """
    overrides = overrides or {}
    keys = lm_keys(run_config)
    if keys and RELATIVE_KEY not in run_config:
        raise InputError(
            f"written by an older taglm_tf (config.json has no {RELATIVE_KEY}); train it again", model_dir
        )
    located = {}
    for key in keys:
        if overrides.get(key):
            tried = [LMSpec.parse(overrides[key]).with_paths(os.path.abspath)]
        else:
            tried = _recorded_places(run_config, key, model_dir)
        found = next((spec for spec in tried if spec.exists()), None)
        if found is None:
            where = "; ".join(dict.fromkeys(str(spec) for spec in tried))
            raise InputError(f"cannot find {key} (tried {where}); pass --{key} to say where it is", model_dir)
        located[key] = str(found.with_paths(lambda p: os.path.normpath(os.path.abspath(p))))
    return located


def _recorded_places(run_config: Mapping, key: str, model_dir: str) -> list[LMSpec]:
    """Where a saved run's ``key`` LM may be: the spec as recorded (absolute), then the spec
    recorded relative to the run taken relative to ``model_dir``."""
    here = os.path.abspath(model_dir)
    tried = [
        LMSpec.parse(run_config[key]),
        LMSpec.parse(run_config[RELATIVE_KEY][key]).with_paths(lambda p: os.path.join(here, p)),
    ]
    return [spec.with_paths(os.path.normpath) for spec in tried]


def names_recorded_lm(run_config: Mapping, model_dir: str, key: str, spec: str) -> bool:
    """Whether ``spec`` names the files of the saved run's ``key`` LM at either place
    :func:`locate_lms` looks, links resolved: given through a link, from another working
    directory, or after the run moved together with its LMs, it is still the run's LM."""
    if key not in lm_keys(run_config) or RELATIVE_KEY not in run_config:
        return False
    real = str(LMSpec.parse(spec).with_paths(os.path.realpath))
    return any(
        str(place.with_paths(os.path.realpath)) == real
        for place in _recorded_places(run_config, key, model_dir)
    )


def load_lm_embedders(
    specs: Mapping[str, str | None], expected_fingerprints: Mapping[str, str] | None = None
) -> list[SentenceEmbedder]:
    """The LMs named by ``specs[k]`` for ``k`` in :data:`LM_KEYS` (forward first; missing or empty
    keys are skipped).

    Args:
        specs: ``{"forward_lm": spec or None, "backward_lm": spec or None}`` (other keys ignored).
        expected_fingerprints: ``{key: fingerprint}`` the LMs must have, e.g. those a run was
            trained with; ``None``: no check.

    Raises:
        InputError: an LM cannot be loaded, or its fingerprint differs from the expected one.
    """
    lms = [load_embedder(specs[k]) for k in lm_keys(specs)]
    expected = expected_fingerprints or {}
    for key, fingerprint in lm_fingerprints(specs, lms).items():
        if key in expected and expected[key] != fingerprint:
            raise InputError(
                f"{key} {specs[key]} is not the LM this model was trained with "
                f"(fingerprint {short(fingerprint)}, expected {short(expected[key])})"
            )
    return lms


def load_lms(
    run_config: Mapping, model_dir: str | None = None, overrides: Mapping[str, str | None] | None = None
) -> list[SentenceEmbedder]:
    """The LMs of a saved run's ``config.json`` (found by :func:`locate_lms` when ``model_dir``
    is given; as recorded otherwise), checked against the fingerprints it recorded."""
    specs = locate_lms(run_config, model_dir, overrides) if model_dir is not None else run_config
    return load_lm_embedders(specs, run_config.get("lm_fingerprints"))


def lm_keys(specs: Mapping) -> list[str]:
    """The keys of ``specs`` that name an LM, in :func:`load_lm_embedders` order."""
    return [k for k in LM_KEYS if specs.get(k)]


def lm_fingerprints(specs: Mapping, lms) -> dict[str, str]:
    """``{"forward_lm": fingerprint, ...}`` for the LMs :func:`load_lm_embedders` returned."""
    return {key: lm.fingerprint for key, lm in zip(lm_keys(specs), lms)}


def lm_perplexities(specs: Mapping) -> dict | None:
    """``{"forward": ppl, "backward": ppl}`` of the LMs in ``specs`` whose held-out perplexity
    is recorded beside them (:attr:`~taglm_tf.lm.frozen.kinds.LMKind.recorded_perplexity`), or
    None if none is."""
    found = {}
    for key in lm_keys(specs):
        spec = LMSpec.parse(specs[key])
        value = KINDS[spec.kind].recorded_perplexity(spec)
        if value is not None:
            found[key.split("_")[0]] = value
    return found or None
