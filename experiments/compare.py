"""Two-sided Welch t-test between two sets of runs (paper §3.1).

    python -m experiments.compare A B [--metric=test_f1|dev_f1|test_accuracy|dev_accuracy]

A and B are each a sweep dir, a model dir, a results.json, or a comma-separated list of these
(pooled). Prints mean, sample std and n of each, then t, Welch–Satterthwaite df and p. A seed
counts once: a pool that holds one seed twice (a run and its copy, say) is refused, and so is a
run in both A and B.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow


from absl import flags

from taglm_tf.reports import sweeps
from taglm_tf.reports.stats import WelchResult, welch_ttest
from taglm_tf.utils.cli import run
from taglm_tf.utils.errors import InputError

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_enum(
        "metric",
        "test_f1",
        ["test_f1", "dev_f1", "test_accuracy", "dev_accuracy"],
        "Which score to compare (accuracy: tasks of token labels such as POS).",
    )


def samples(a: str, b: str, metric: str) -> tuple[list[float], list[float]]:
    """The ``metric`` of the runs behind ``a`` and behind ``b``, each a comma-separated list of
    paths pooled as one sample (:func:`sweeps.load_arms`).

    Raises:
        InputError: a side holds no finished run or one seed twice, or a run (or a copy of it)
            is in both.
    """
    runs_a, runs_b = sweeps.load_arms(a, b)
    return [r.score(metric) for r in runs_a], [r.score(metric) for r in runs_b]


def format_comparison(name_a: str, name_b: str, result: WelchResult, metric: str) -> str:
    rows = [f"{metric}, mean ± sample std (n):"]
    for tag, name, mean, std, n in (
        ("A", name_a, result.mean_a, result.std_a, result.n_a),
        ("B", name_b, result.mean_b, result.std_b, result.n_b),
    ):
        rows.append(f"  {tag}: {mean:.2f} ± {std:.2f} (n={n})  {name}")
    rows.append(f"  A − B: {result.mean_a - result.mean_b:+.2f}")
    rows.append(f"Welch t-test (two-sided): t = {result.t:.3f}, df = {result.df:.2f}, p = {result.p:.4g}")
    return "\n".join(rows)


def main(argv):
    if len(argv) != 3:
        raise InputError("usage: python -m experiments.compare A B (sweep dirs, run dirs or results.json)")
    _, a, b = argv
    result = welch_ttest(*samples(a, b, FLAGS.metric))
    print(format_comparison(a, b, result, FLAGS.metric))


if __name__ == "__main__":
    define_flags()
    run(main)
