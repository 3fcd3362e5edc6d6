"""Frozen LMs from their specs, as :class:`~taglm_tf.lm.frozen.embedder.SentenceEmbedder` objects.

A spec is ``KIND:ARGS``:

- ``lm1b:CKPT_GLOB,VOCAB_FILE`` — the released lm_1b (or an lm_1b-shaped LM), top LSTM layer;
- ``lm1b_export:DIR`` — the same, from ``python -m lm_1b_export.export`` output;
- ``lstm_lm:MODEL_DIR`` — an LM trained with ``experiments.pretrain_lm`` (forward or backward;
  backward outputs come back in the sentence's own token order).

Relative paths are tried as given, then under the data directory, and are made absolute
(:func:`resolve_lm_spec`). A run records each LM twice in its ``config.json``: the absolute spec
(``forward_lm``, ``backward_lm``) and the spec relative to the model directory
(``lm_specs_relative_to_model_dir``), so the LM is found from any working directory and after
the model directory is moved together with its LMs (:func:`locate_lms`). It also records the
fingerprint of each LM; an LM whose weights changed since is refused.
"""
from __future__ import annotations

import glob
import os
from typing import Dict, List, Mapping, Optional

from taglm_tf.data.paths import resolve_data_path
from taglm_tf.errors import InputError
from taglm_tf.lm.frozen.embedder import LM1BTopLayer, SentenceEmbedder
from taglm_tf.lm.frozen.lstm_embedder import LMEmbedder
from taglm_tf.lm.lm1b.writing import lm_fingerprint
from taglm_tf.lm.lm1b.model import LM1BEmbedder
from taglm_tf.lm.lm1b.saving import load_lm1b
from taglm_tf.lm.pretraining.saving import recorded_perplexity, release_perplexity

LM_KEYS = ("forward_lm", "backward_lm")


def load_embedder(spec: str) -> SentenceEmbedder:
    """Build an embedder from ``KIND:ARGS`` (see the module docstring); an :class:`InputError`
    for an unknown kind or a malformed spec."""
    kind, _, args = spec.partition(":")
    if kind == "lm1b":
        pattern, _, vocab = args.partition(",")
        if not vocab:
            raise InputError(f"LM spec {spec!r}: expected lm1b:CKPT_GLOB,VOCAB_FILE")
        return LM1BTopLayer(LM1BEmbedder.from_checkpoint(pattern, vocab),
                            lm_fingerprint(pattern), name=spec)
    if kind == "lm1b_export":
        embedder = load_lm1b(args)
        return LM1BTopLayer(embedder, embedder.source_fingerprint, name=spec)
    if kind == "lstm_lm":
        embedder = LMEmbedder.from_model_dir(args)
        embedder.name = spec
        return embedder
    raise InputError(f"unknown LM kind {kind!r} in {spec!r}; expected lm1b, lm1b_export or lstm_lm")


def _map_paths(spec: str, change) -> str:
    """``spec`` with ``change`` applied to each of its paths (``KIND:PATH[,PATH]``)."""
    kind, sep, args = spec.partition(":")
    if not sep:
        return spec
    return kind + ":" + ",".join(change(p) for p in args.split(","))


def resolve_lm_spec(spec: str, data_dir: str) -> str:
    """``spec`` with each path made absolute: a relative path is taken as given when it exists,
    else under ``data_dir`` when only that one exists."""
    return _map_paths(spec, lambda p: os.path.abspath(resolve_data_path(p, data_dir)))


RELATIVE_KEY = "lm_specs_relative_to_model_dir"


def specs_relative_to(specs: Mapping, model_dir: str) -> Dict[str, str]:
    """``{key: spec}`` of the LMs in ``specs`` with paths relative to ``model_dir`` (recorded in
    ``config.json`` under :data:`RELATIVE_KEY`)."""
    base = os.path.abspath(model_dir)
    return {k: _map_paths(specs[k], lambda p: os.path.relpath(os.path.abspath(p), base)) for k in lm_keys(specs)}


def _found(spec: str) -> bool:
    kind, _, args = spec.partition(":")
    return all(glob.glob(p) for p in args.split(","))


def locate_lms(run_config: Mapping, model_dir: str, overrides: Optional[Mapping[str, Optional[str]]] = None
               ) -> Dict[str, str]:
    """``{key: absolute spec}`` of each LM of a saved run, found on disk.

    Tried in order: the override (``--forward_lm``/``--backward_lm``; then nothing else), the spec
    as recorded (absolute since this was recorded; older runs: relative to the working
    directory), the recorded spec relative to ``model_dir``, and (older runs, whose
    ``config.json`` records ``model_dir`` as given at training time) the recorded spec relative to
    the working directory of training, inferred from that ``model_dir``.

    Raises:
        InputError: an LM is found nowhere; the message lists every place tried.
    """
    overrides = overrides or {}
    relative = run_config.get(RELATIVE_KEY) or {}
    located = {}
    for key in lm_keys(run_config):
        spec = run_config[key]
        if overrides.get(key):
            tried = [_map_paths(overrides[key], os.path.abspath)]
        else:
            tried = [spec]
            if key in relative:
                tried.append(_map_paths(relative[key], lambda p: os.path.join(os.path.abspath(model_dir), p)))
            trained_in = _training_cwd(run_config.get("model_dir"), model_dir)
            if trained_in:
                tried.append(_map_paths(spec, lambda p: os.path.join(trained_in, p)))
        tried = [_map_paths(s, os.path.normpath) for s in tried]
        found = next((s for s in tried if _found(s)), None)
        if found is None:
            where = "; ".join(dict.fromkeys(tried))
            raise InputError(f"cannot find {key} (tried {where}); pass --{key} to say where it is",
                             model_dir)
        located[key] = _map_paths(found, lambda p: os.path.normpath(os.path.abspath(p)))
    return located


def _training_cwd(recorded_model_dir: Optional[str], model_dir: str) -> Optional[str]:
    """The working directory of training, if ``config.json`` recorded ``model_dir`` relative to
    it and the run is still at that relative place (e.g. ``runs/demo/taglm`` in ``/x`` -> ``/x``)."""
    if not recorded_model_dir or os.path.isabs(recorded_model_dir):
        return None
    here, tail = os.path.abspath(model_dir), os.path.normpath(recorded_model_dir)
    if tail == "." or not (here == tail or here.endswith(os.sep + tail)):
        return None
    return here[:len(here) - len(tail)].rstrip(os.sep) or os.sep


def load_lm_embedders(specs: Mapping[str, Optional[str]],
                      expected_fingerprints: Optional[Mapping[str, str]] = None) -> List[SentenceEmbedder]:
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
            raise InputError(f"{key} {specs[key]} is not the LM this model was trained with "
                             f"(fingerprint {fingerprint[:12]}, expected {expected[key][:12]})")
    return lms


def load_lms(run_config: Mapping, model_dir: Optional[str] = None,
             overrides: Optional[Mapping[str, Optional[str]]] = None) -> List[SentenceEmbedder]:
    """The LMs of a saved run's ``config.json`` (found by :func:`locate_lms` when ``model_dir``
    is given; as recorded otherwise), checked against the fingerprints it recorded."""
    specs = locate_lms(run_config, model_dir, overrides) if model_dir is not None else run_config
    return load_lm_embedders(specs, run_config.get("lm_fingerprints"))


def lm_keys(specs: Mapping) -> List[str]:
    """The keys of ``specs`` that name an LM, in :func:`load_lm_embedders` order."""
    return [k for k in LM_KEYS if specs.get(k)]


def lm_fingerprints(specs: Mapping, lms) -> Dict[str, str]:
    """``{"forward_lm": fingerprint, ...}`` for the LMs :func:`load_lm_embedders` returned."""
    return {key: lm.fingerprint for key, lm in zip(lm_keys(specs), lms)}


def lm_perplexities(specs: Mapping) -> Optional[dict]:
    """``{"forward": ppl, "backward": ppl}`` recorded beside ``lstm_lm`` LMs (``eval_lm
    --record``) and beside ``lm1b`` LMs written by ``lm_1b_export.from_pretrained``, or None."""
    found = {}
    for direction in ("forward", "backward"):
        kind, _, path = (specs.get(f"{direction}_lm") or "").partition(":")
        value = None
        if kind == "lstm_lm":
            value = recorded_perplexity(path)
        elif kind == "lm1b":
            value = release_perplexity(path.split(",")[0])
        if value is not None:
            found[direction] = value
    return found or None


def define_lm_override_flags(fv=None) -> None:
    """``--forward_lm``/``--backward_lm`` of the tools that load a trained model (tag, export),
    listed in the tool's ``--help``."""
    import sys

    from absl import flags

    from taglm_tf.cli import list_flags_in_help
    fv = fv or flags.FLAGS
    for key in LM_KEYS:
        flags.DEFINE_string(key, None, f"Where the model's {key.split('_')[0]} LM is now (same spec forms as "
                            "for training), instead of the place its config.json records; its "
                            "fingerprint must still match.", flag_values=fv)
    if fv is flags.FLAGS:
        list_flags_in_help(sys.modules[__name__])


def lm_overrides(fv=None) -> Dict[str, Optional[str]]:
    """The values of the flags of :func:`define_lm_override_flags`."""
    from absl import flags
    fv = fv or flags.FLAGS
    return {key: fv[key].value for key in LM_KEYS}
