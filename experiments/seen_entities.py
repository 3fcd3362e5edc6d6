r"""Test F1 of two groups of runs on chunks seen and unseen in training, and outside an LM's vocabulary:

    python -m experiments.seen_entities --base=runs/sweeps/ner_baseline_cpu \
        --variant=runs/sweeps/ner_taglm_cnn_cpu [--lm_vocab=runs/lms/backward_512_256_cpu/vocab.txt]

``--base`` and ``--variant`` are each a sweep dir, a model dir or a comma-separated list of these;
every run's ``test_predictions.txt`` (or ``dev_predictions.txt``) is scored. Prints, per class, the
number of gold chunks, each group's mean F1 ± sample std, the difference and a two-sided Welch
t-test (a Markdown table), then the shares of the split's tokens, all and inside gold chunks,
that are new to the training data, the LM vocabulary and the tagger's word vocabulary (that of
the first ``--base`` run); ``--output`` also writes the per-run counts as JSON. ``--task`` reads
the task's training data as training does (``--task=scienceie``: the one layer of its BRAT
folder). For runs trained on train+dev, pass ``--train_files=conll2003/eng.train,conll2003/eng.testa``.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import json
import os
from collections.abc import Sequence

from absl import flags

from taglm_tf import run_dir
from taglm_tf.data import conll
from taglm_tf.data.paths import check_data_file, default_data_dir, resolve_data_path
from taglm_tf.reports import seen_entities, sweeps
from taglm_tf.reports.stats import mean_std, welch_ttest
from taglm_tf.scoring.conlleval import ChunkCounts
from taglm_tf.tasks import TASKS
from taglm_tf.utils.cli import define_output_flag, run
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic
from taglm_tf.utils.markdown import table

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_string("base", None, "Runs without the change: sweep dirs or model dirs, comma-separated.")
    flags.DEFINE_string("variant", None, "Runs with the change, as --base.")
    flags.DEFINE_enum(
        "task", "ner", [n for n, t in TASKS.items() if t.entity_word], "The runs' task (taglm_tf.tasks)."
    )
    flags.DEFINE_string(
        "train_files",
        None,
        "Labelled training files (folders, for BRAT tasks) whose gold chunks count as seen, "
        "comma-separated (default: the task's training file).",
    )
    flags.DEFINE_string(
        "lm_vocab",
        None,
        "An LM's vocabulary file (one word per line): also split the chunks "
        "by whether a token is outside it.",
    )
    flags.DEFINE_enum("split", "test", ["test", "dev"], "Which predictions to score.")
    flags.DEFINE_string(
        "data_dir", None, "Root for relative data paths (default: $TAGLM_DATA_DIR or ./data)."
    )
    define_output_flag(
        "output",
        None,
        "Also write the per-run counts and the tests here (JSON).",
        inputs=("train_files", "lm_vocab", "base", "variant"),
    )
    flags.mark_flags_as_required(["base", "variant"])


def group_counts(runs: Sequence[sweeps.RunResult], classifiers, split: str) -> list[dict]:
    """Per run: ``{"path", "seed", "classes": {split name: {class: counts}}}``."""
    out = []
    for r in runs:
        counts = seen_entities.run_class_counts(
            os.path.join(r.path, run_dir.PREDICTIONS.format(split=split)), classifiers
        )
        out.append({"path": r.path, "seed": r.seed, "classes": counts})
    return out


def tagger_vocabulary(model_dir: str, tokens: list[str]):
    """Whether the tagger of ``model_dir`` has a word vector for each of ``tokens`` (its lookup
    key, as the featurizer makes it, in the run's word vocabulary), as a function of the token;
    None when the run has no vocabulary file."""
    # the tagger's modules import TensorFlow: here, so that --help and bad flags exit before it loads
    from taglm_tf.data.featurizer import normalize_word_list
    from taglm_tf.models.saving import load_vocab

    if not os.path.isfile(os.path.join(model_dir, run_dir.VOCAB_FILE)):
        return None
    words = set(load_vocab(model_dir).words.items[2:])  # <pad> and <unk> come first
    forms = sorted(set(tokens))
    known = {t for t, key in zip(forms, normalize_word_list(forms), strict=True) if key in words}
    return known.__contains__


def comparison_rows(base: list[dict], variant: list[dict]) -> list[dict]:
    """One row per (split, class): gold chunks, mean F1 of each group, Welch test."""
    rows = []
    for split_name in base[0]["classes"]:
        names = sorted({c for r in base + variant for c in r["classes"][split_name]})
        for name in names:
            f1 = {
                g: [r["classes"][split_name].get(name, ChunkCounts()).f1 for r in runs]
                for g, runs in (("base", base), ("variant", variant))
            }
            row = {
                "split": split_name,
                "class": name,
                "gold": base[0]["classes"][split_name].get(name, ChunkCounts()).found_gold,
                "base": mean_std(f1["base"]),
                "variant": mean_std(f1["variant"]),
                "welch": None,
            }
            try:
                w = welch_ttest(f1["variant"], f1["base"])
                row["welch"] = {"t": w.t, "df": w.df, "p": w.p}
            except InputError as e:  # fewer than two runs, or no variance
                row["welch"] = str(e)
            rows.append(row)
    return rows


def _stat(mean: float, std) -> str:
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def markdown(rows: list[dict], n_base: int, n_variant: int) -> str:
    cells = []
    for r in rows:
        (mb, sb), (mv, sv) = r["base"], r["variant"]
        w = r["welch"]
        test = f"t = {w['t']:.2f}, df = {w['df']:.1f}, p = {w['p']:.3g}" if isinstance(w, dict) else w
        cells.append(
            [r["split"], r["class"], f"{r['gold']:,}", _stat(mb, sb), _stat(mv, sv), f"{mv - mb:+.2f}", test]
        )
    header = [
        "Split",
        "Class",
        "Gold chunks",
        f"Base F1 (n={n_base})",
        f"Variant F1 (n={n_variant})",
        "Δ",
        "Welch t-test",
    ]
    return "\n".join(table(header, cells))


def lm_vocabulary(path: str) -> set[str]:
    """The words of ``path``, an LM's vocabulary, which the chunks' tokens are looked up in as
    written; an :class:`InputError` for the vocabulary of an LM that reads words lowercased with
    digits as 0 (``normalize_words`` in the ``config.json`` beside it), whose unseen words a
    lookup as written would overcount."""
    config = os.path.join(os.path.dirname(path), run_dir.CONFIG)
    if os.path.isfile(config) and run_dir.read_json(config).get("normalize_words"):
        raise InputError(
            "is the vocabulary of an LM trained with --normalize_words; --lm_vocab looks words up as written",
            path,
        )
    return seen_entities.read_vocabulary(path)


def main(argv):
    if len(argv) > 1:
        raise InputError(f"unexpected arguments: {' '.join(argv[1:])}")
    data_dir = FLAGS.data_dir or default_data_dir()
    task = TASKS[FLAGS.task]
    given = FLAGS.train_files or os.path.join(task.subdir, task.train_file)
    train_files = [resolve_data_path(path, data_dir) for path in given.split(",") if path]
    for path in train_files:
        check_data_file(path, data_dir, "training", "--train_files")
    train = [s for path in train_files for s in task.read(path)]
    vocab = lm_vocabulary(FLAGS.lm_vocab) if FLAGS.lm_vocab else None
    classifiers = seen_entities.classifiers_for(train, vocab)
    base_runs, variant_runs = sweeps.load_arms(FLAGS.base, FLAGS.variant)
    base = group_counts(base_runs, classifiers, FLAGS.split)
    variant = group_counts(variant_runs, classifiers, FLAGS.split)
    rows = comparison_rows(base, variant)
    print(markdown(rows, len(base), len(variant)))
    first = base[0]["path"]
    predicted = conll.read_predictions(os.path.join(first, run_dir.PREDICTIONS.format(split=FLAGS.split)))
    known = tagger_vocabulary(first, [t for s in predicted for t in s.tokens])
    rates = seen_entities.token_rates(predicted, train, vocab, known)
    print(f"\nTokens of {FLAGS.split} (%; the tagger's words are those of {first}):\n")
    names = list(next(iter(rates.values())))
    print(
        "\n".join(
            table(
                ["", *names],
                [
                    [g, *(f"{r[n]:,}" if n == "tokens" else f"{r[n]:.2f}" for n in names)]
                    for g, r in rates.items()
                ],
            )
        )
    )
    if FLAGS.output:

        def plain(group: list[dict]) -> list[dict]:
            return [
                {**r, "classes": {s: {c: vars(k) for c, k in cl.items()} for s, cl in r["classes"].items()}}
                for r in group
            ]

        write_text_atomic(
            FLAGS.output,
            json.dumps(
                {
                    "task": task.name,
                    "train_files": given,
                    "lm_vocab": FLAGS.lm_vocab,
                    "split": FLAGS.split,
                    "base": plain(base),
                    "variant": plain(variant),
                    "rows": rows,
                    "token_rates": rates,
                },
                indent=1,
            ),
        )


if __name__ == "__main__":
    define_flags()
    run(main)
