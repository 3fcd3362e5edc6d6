"""Model cards: what a trained tagger is, how it was made, how well it scores, what it is for.

Every finished run directory and every export carries ``model_card.json`` (the facts, for
programs) and ``MODEL_CARD.md`` (the same, for people). A card is built from the run's
``results.json`` and ``config.json``, so a run finished before cards existed still has one:
:func:`read_card` builds it on the fly. ``python -m taglm_tf.tag --info --model_dir=DIR``
prints it.
"""

from __future__ import annotations

import json
import os

from taglm_tf.run_dir import CONFIG, read_config, read_results
from taglm_tf.tasks import METRIC_TITLES, TASKS
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic
from taglm_tf.utils.markdown import table
from taglm_tf.utils.provenance import short

CARD_JSON, CARD_MARKDOWN = "model_card.json", "MODEL_CARD.md"
FORMAT_VERSION = 1

_LIMITS = (
    "A research reproduction of TagLM (Peters et al., 2017), not an audited product. The scores "
    "below hold for the test file named here; expect lower ones on other domains (social media, "
    "speech transcripts, other eras or genres), on other tokenizations, and on text that is not "
    "English. Entity types outside the training data are never predicted. The training data's "
    "biases (1990s Reuters news for CoNLL-2003, 1989 WSJ for CoNLL-2000) carry over."
)
# The overall scores a card shows, in this order: conlleval's, or token accuracy.
_SCORE_NAMES = ("f1", "precision", "recall", "accuracy")
_SCHEDULE_KEYS = (
    "batch_size",
    "learning_rate",
    "clip_norm",
    "patience",
    "max_constant_epochs",
    "anneal_epochs",
    "anneal_steps",
)
_SAMPLE_MARK = "ner_sample."  # the synthetic demo data shipped in taglm_tf/resources


def build_card(config: dict, results: dict | None = None) -> dict:
    """The card of a run from its ``config.json`` (and ``results.json`` once it finished).

    Args:
        config: the run's saved config (task, data, LMs with fingerprints, model, train).
        results: the run's results (scores, epochs, time, commits), or ``None`` if unknown.

    Returns:
        a JSON-serialisable dict; scores are ``None`` when ``results`` is.
    """
    results = results or {}
    task = config.get("task")
    train = config.get("train", {})
    files = config.get("files") or {}
    perplexity = results.get("lm_perplexity") or {}
    fingerprints = config.get("lm_fingerprints") or {}
    lms = [
        {
            "direction": key.split("_")[0],
            "spec": config[key],
            "fingerprint": fingerprints.get(key),
            "perplexity": perplexity.get(key.split("_")[0]),
        }
        for key in ("forward_lm", "backward_lm")
        if config.get(key)
    ]
    synthetic = any(_SAMPLE_MARK in os.path.basename(p) for p in files.values())
    limits = _LIMITS + (
        " Trained on the synthetic demo sample: its tags are meaningless, for demos and tests only."
        if synthetic
        else ""
    )
    scores = {
        split: {k: v for k, v in s.items() if k in (*_SCORE_NAMES, "per_type")}
        for split, s in (results.get("scores") or {}).items()
    }
    return {
        "format_version": FORMAT_VERSION,
        "task": task,
        "model_type": "TagLM (BiRNN-CRF + frozen LM embeddings)" if lms else "BiRNN-CRF baseline",
        "data": {
            "setting": "train+dev" if config.get("train_with_dev") else "train",
            "data_dir": config.get("data_dir"),
            "files": files,
            "train_fraction": config.get("train_fraction", 1.0),
            "train_sentences": results.get("train_sentences"),
        },
        "embeddings": config.get("embeddings"),
        "lms": lms,
        "seed": train.get("seed"),
        "schedule": {k: train.get(k) for k in _SCHEDULE_KEYS},
        "epochs": results.get("epochs"),
        "best_dev_epoch_before_annealing": results.get("best_dev_epoch_before_annealing"),
        "model": config.get("model", {}),
        "scores": scores,
        "training_seconds": results.get("wall_seconds"),
        "git_commit": results.get("git_commit") or config.get("git_commit"),
        "git_commit_at_finish": results.get("git_commit_at_finish"),
        "platform": config.get("platform"),
        "finished_at": results.get("finished_at"),
        "intended_use": TASKS[task].use if task in TASKS else "Sequence tagging.",
        "limits": limits,
    }


def _number(value, digits=2) -> str:
    return "unknown" if value is None else f"{value:.{digits}f}"


def _minutes(seconds) -> str:
    return "unknown" if seconds is None else f"{seconds / 60:.1f} min"


def _platform(record: dict | None) -> str:
    """``AMD EPYC, 2 CPUs, AVX-512, TensorFlow 2.15.1`` from a run's platform record."""
    if not record:
        return "unknown (not recorded)"
    flags = record.get("cpu_flags")
    simd = "AVX-512" if flags and "avx512f" in flags else ("no AVX-512" if flags is not None else None)
    parts = [
        record.get("cpu_model") or record.get("machine") or "unknown CPU",
        f"{record['cpus']} CPUs" if record.get("cpus") else None,
        simd,
        f"TensorFlow {record['tensorflow']}" if record.get("tensorflow") else None,
    ]
    return ", ".join(p for p in parts if p)


def render_markdown(card: dict) -> str:
    """``MODEL_CARD.md``: the card as a short Markdown document."""
    data, lines = card["data"], []
    title = f"# Model card: {card['task']} tagger ({card['model_type']})"
    lines += [
        title,
        "",
        "## Intended use",
        "",
        card["intended_use"],
        "",
        "## Limits",
        "",
        card["limits"],
        "",
        "## Data and setting",
        "",
    ]
    lines.append(
        f"- trained on: {data['setting']}"
        + (f", {data['train_sentences']:,} sentences" if data.get("train_sentences") else "")
        + (f" (fraction {data['train_fraction']:g})" if data.get("train_fraction", 1.0) < 1 else "")
    )
    for split, path in sorted(data.get("files", {}).items()):
        lines.append(f"- {split} file: `{path}`")
    if not data.get("files"):
        lines.append(f"- data directory: `{data.get('data_dir')}` (the task's standard files)")
    lines.append(f"- word embeddings: {card['embeddings'] or 'none (randomly initialised)'}")
    for lm in card["lms"]:
        lines.append(
            f"- {lm['direction']} LM: `{lm['spec']}`, perplexity {_number(lm['perplexity'])}, "
            f"fingerprint {short(lm['fingerprint'] or 'unknown')}"
        )
    if not card["lms"]:
        lines.append("- LMs: none")
    # Fixed orders below: model_card.json is written with sorted keys, and a card read back from it
    # must render as the one written.
    schedule = ", ".join(f"{k} {card['schedule'].get(k)}" for k in _SCHEDULE_KEYS)
    lines += [
        f"- seed: {card['seed']}",
        f"- schedule: {schedule}",
        f"- epochs: {card['epochs'] if card['epochs'] is not None else 'unknown'} "
        f"(best constant-phase dev epoch: {card['best_dev_epoch_before_annealing']})",
        f"- training time: {_minutes(card['training_seconds'])}",
        f"- code commit: {card['git_commit'] or 'unknown'}"
        + (
            f" (finished at {card['git_commit_at_finish']})"
            if card.get("git_commit_at_finish") not in (None, card["git_commit"])
            else ""
        ),
        f"- trained on: {_platform(card.get('platform'))}",
        f"- finished: {card['finished_at'] or 'unknown'}",
        "",
    ]
    names = [n for n in _SCORE_NAMES if any(n in s for s in card["scores"].values())]
    lines += [f"## Scores ({'conlleval' if 'f1' in names else 'token accuracy'}, %)", ""]
    if card["scores"]:
        types = sorted({t for s in card["scores"].values() for t in (s.get("per_type") or {})})
        rows = [
            [split, *(_number(s.get(n)) for n in names)]
            + [_number((s.get("per_type") or {}).get(t)) for t in types]
            for split, s in sorted(card["scores"].items())
        ]
        lines += table(["split", *(METRIC_TITLES.get(n, n) for n in names), *types], rows)
    else:
        lines.append("unknown: the run has no results.json")
    if card.get("export"):
        lines += ["", "## Export", ""] + [f"- {k}: {v}" for k, v in sorted(card["export"].items())]
    return "\n".join(lines) + "\n"


def write_card(directory: str, card: dict) -> None:
    """Write ``model_card.json`` and ``MODEL_CARD.md`` into ``directory``."""
    write_text_atomic(os.path.join(directory, CARD_JSON), json.dumps(card, indent=1, sort_keys=True))
    write_text_atomic(os.path.join(directory, CARD_MARKDOWN), render_markdown(card))


def write_run_card(model_dir: str, results: dict) -> dict:
    """The card of a finished run (its ``config.json`` and ``results``), written into it."""
    card = build_card(read_config(model_dir), results)
    write_card(model_dir, card)
    return card


def read_card(directory: str) -> dict:
    """The card of a run or export directory: ``model_card.json``, else one built from the
    run's ``config.json`` and ``results.json`` (scores unknown without the latter).

    Raises:
        InputError: ``directory`` has neither a card nor a ``config.json``.
    """
    path = os.path.join(directory, CARD_JSON)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    if not os.path.exists(os.path.join(directory, CONFIG)):
        raise InputError(f"no {CARD_JSON} or {CONFIG} here; is this a training run or an export?", directory)
    return build_card(read_config(directory), read_results(directory))


def write_export_card(model_dir: str, export_dir: str, export_info: dict) -> dict:
    """The run's card plus an ``export`` section (``export_info``: signature, schemes), written
    into ``export_dir``."""
    card = dict(read_card(model_dir), export=export_info)
    write_card(export_dir, card)
    return card
