r"""Score a folder of predicted BRAT ``.ann`` files against the gold folder, the ScienceIE way.

    python -m experiments.brat_eval GOLD_DIR PRED_DIR [--json]

Exact (start, end, type) character spans, micro-averaged precision, recall and F1 over the types
of the gold files, and per type (:mod:`taglm_tf.scoring.brat_eval` gives the definition: each span counts
once per file; a gold file without a prediction file counts as no predictions). Relations and
other non-``T`` lines are ignored. Percentages; with ``--json``, one object with ``overall`` and
``per_type`` entries holding ``precision``, ``recall`` and ``f1`` (percent) and the counts.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import json
import sys

from absl import flags

from taglm_tf.scoring.brat_eval import SpanScores, score_folders
from taglm_tf.utils.cli import run
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.markdown import table

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_bool("json", False, "Print one JSON object instead of a table.")


def format_scores(scores: SpanScores) -> str:
    rows = [
        [
            name,
            f"{c.precision:.2f}",
            f"{c.recall:.2f}",
            f"{c.f1:.2f}",
            c.correct,
            c.found_guessed,
            c.found_gold,
        ]
        for name, c in sorted(scores.per_type.items()) + [("overall (micro)", scores.overall)]
    ]
    return "\n".join(table(["type", "precision", "recall", "F1", "correct", "predicted", "gold"], rows))


def main(argv):
    if len(argv) != 3:
        raise InputError("give the gold folder and the prediction folder: GOLD_DIR PRED_DIR")
    scores = score_folders(argv[1], argv[2])
    if scores.missing_predictions:
        print(
            f"{len(scores.missing_predictions)} gold file(s) have no prediction file, scored as empty: "
            + ", ".join(scores.missing_predictions[:5])
            + (" ..." if len(scores.missing_predictions) > 5 else ""),
            file=sys.stderr,
        )
    print(json.dumps(scores.as_dict(), indent=1) if FLAGS.json else format_scores(scores))


if __name__ == "__main__":
    define_flags()
    run(main)
