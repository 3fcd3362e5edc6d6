"""Frozen LMs from their specs, as :class:`~taglm_tf.lm.embedders.SentenceEmbedder` objects.

A spec is ``KIND:ARGS``:

- ``lm1b:CKPT_GLOB,VOCAB_FILE`` — the released lm_1b (or an lm_1b-shaped LM), top LSTM layer;
- ``lm1b_export:DIR`` — the same, from ``python -m lm_1b_export.export`` output;
- ``lstm_lm:MODEL_DIR`` — an LM trained with ``experiments.pretrain_lm`` (forward or backward;
  backward outputs come back in the sentence's own token order).

Relative paths are tried as given, then under the data directory (:func:`resolve_lm_spec`). A
run records the fingerprint of each LM it was trained with; an LM whose weights changed since
is refused.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional

from taglm_tf.data.paths import resolve_data_path
from taglm_tf.errors import InputError
from taglm_tf.lm.embedders import LM1BTopLayer, SentenceEmbedder
from taglm_tf.lm.lstm_embedder import LMEmbedder
from taglm_tf.lm1b.writing import lm_fingerprint
from taglm_tf.lm1b.model import LM1BEmbedder
from taglm_tf.lm1b.saving import load_lm1b
from taglm_tf.pretraining.saving import recorded_perplexity

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


def resolve_lm_spec(spec: str, data_dir: str) -> str:
    """``spec`` with each relative path replaced by its location under ``data_dir`` when only
    that one exists."""
    kind, sep, args = spec.partition(":")
    if not sep:
        return spec
    return kind + ":" + ",".join(resolve_data_path(p, data_dir) for p in args.split(","))


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


def load_lms(run_config: Mapping) -> List[SentenceEmbedder]:
    """The LMs of a saved run's ``config.json``, checked against the fingerprints it recorded."""
    return load_lm_embedders(run_config, run_config.get("lm_fingerprints"))


def lm_keys(specs: Mapping) -> List[str]:
    """The keys of ``specs`` that name an LM, in :func:`load_lm_embedders` order."""
    return [k for k in LM_KEYS if specs.get(k)]


def lm_fingerprints(specs: Mapping, lms) -> Dict[str, str]:
    """``{"forward_lm": fingerprint, ...}`` for the LMs :func:`load_lm_embedders` returned."""
    return {key: lm.fingerprint for key, lm in zip(lm_keys(specs), lms)}


def lm_perplexities(specs: Mapping) -> Optional[dict]:
    """``{"forward": ppl, "backward": ppl}`` recorded beside ``lstm_lm`` LMs, or None."""
    found = {}
    for direction in ("forward", "backward"):
        kind, _, path = (specs.get(f"{direction}_lm") or "").partition(":")
        value = recorded_perplexity(path) if kind == "lstm_lm" else None
        if value is not None:
            found[direction] = value
    return found or None
