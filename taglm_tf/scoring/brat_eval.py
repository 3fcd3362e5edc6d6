"""Exact-span scoring of BRAT folders, as SemEval 2017 Task 10 (ScienceIE) defines it.

Precision, recall and F1 over exact character spans with their types, micro-averaged over the
types found in the gold files, and per type; relations and the other non-``T`` lines are ignored.
The definition follows the task's official scorer (``eval.py`` of the ScienceIE distribution,
run with relations removed) in every case that matters here:

- each gold ``.ann`` file is scored against the prediction file of the same name; a missing one
  counts as no predictions; prediction files without a gold file are ignored;
- within a file a span counts once: when several annotations share its offsets, the first one in
  the file gives its type (so two gold types on one span count as the first one only);
- a span's gold and predicted types are compared; a predicted type that no gold file uses counts
  for nothing; a ratio with a zero denominator is 0. Scores are percentages, as conlleval's
  (:class:`taglm_tf.scoring.conlleval.ChunkCounts` holds the counts).

One difference: a discontinuous span matches only a span with the same fragments (the official
script compares the offset text up to its first space after the type, ``START END;START2``: the
first fragment and the start of the second).
"""

from __future__ import annotations

import dataclasses
import os

from taglm_tf.data.brat import read_ann
from taglm_tf.scoring.conlleval import ChunkCounts
from taglm_tf.utils.errors import InputError


def counts_dict(counts: ChunkCounts) -> dict:
    """Precision, recall and F1 in percent, and the counts behind them."""
    return {
        "precision": counts.precision,
        "recall": counts.recall,
        "f1": counts.f1,
        "correct": counts.correct,
        "predicted": counts.found_guessed,
        "gold": counts.found_gold,
    }


@dataclasses.dataclass
class SpanScores:
    """Per-type counts, the overall (micro) counts, and the gold files without predictions."""

    per_type: dict[str, ChunkCounts]
    overall: ChunkCounts
    missing_predictions: list[str]

    def as_dict(self) -> dict:
        return {
            "overall": counts_dict(self.overall),
            "per_type": {t: counts_dict(c) for t, c in sorted(self.per_type.items())},
            "missing_predictions": list(self.missing_predictions),
        }


def span_types(path: str) -> dict[tuple, str]:
    """``{fragments: type}`` of an ``.ann`` file (read as :func:`taglm_tf.data.brat.read_ann`
    reads it for training), the first annotation of each span winning."""
    found: dict[tuple, str] = {}
    for a in read_ann(path, None):
        found.setdefault(a.fragments, a.type)
    return found


def score_files(
    pairs: list[tuple[dict[tuple, str], dict[tuple, str]]],
) -> tuple[dict[str, ChunkCounts], ChunkCounts]:
    """Counts over ``(gold spans, predicted spans)`` per document (:func:`span_types`)."""
    targets = {t for gold, _ in pairs for t in gold.values()}
    per_type = {t: ChunkCounts() for t in targets}
    for gold, predicted in pairs:
        for span in set(gold) | set(predicted):
            g, p = gold.get(span), predicted.get(span)
            if g is not None:
                per_type[g].found_gold += 1
            if p in per_type:
                per_type[p].found_guessed += 1
                per_type[p].correct += p == g
    overall = ChunkCounts(
        *(sum(getattr(c, f) for c in per_type.values()) for f in ("correct", "found_gold", "found_guessed"))
    )
    return per_type, overall


def score_folders(gold_dir: str, predicted_dir: str) -> SpanScores:
    """Score every ``.ann`` file of ``gold_dir`` against its namesake in ``predicted_dir``.

    Raises:
        InputError: a folder that does not exist or holds no gold ``.ann`` file, or a bad line.
    """
    for folder in (gold_dir, predicted_dir):
        if not os.path.isdir(folder):
            raise InputError("no such folder", folder)
    names = sorted(n for n in os.listdir(gold_dir) if n.endswith(".ann"))
    if not names:
        raise InputError("holds no .ann file", gold_dir)
    pairs, missing = [], []
    for name in names:
        predicted_path = os.path.join(predicted_dir, name)
        predicted: dict[tuple, str] | None = None
        if os.path.isfile(predicted_path):
            predicted = span_types(predicted_path)
        else:
            missing.append(name)
        pairs.append((span_types(os.path.join(gold_dir, name)), predicted or {}))
    per_type, overall = score_files(pairs)
    return SpanScores(per_type, overall, missing)
