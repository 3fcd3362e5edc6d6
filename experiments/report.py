r"""Reproduction report: the paper's tables with our numbers beside them, and plots.

    python -m experiments.report --runs=DIR[,DIR...] [DIR ...] --output=results/REPORT.md \
        [--plots_dir=results/plots] [--preamble=NOTES.md]

Each DIR is a sweep dir (``experiments.run_seeds``), a model dir or a results.json; ``LABEL=DIR``
sets its experiment label (default: the sweep's label, else the longest paper-table label the
directory name starts with, else the directory name). Runs are pooled by label and setting.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import os

from absl import flags

from taglm_tf.reports import paper_tables
from taglm_tf.reports.markdown import render_report
from taglm_tf.reports.plots import make_plots
from taglm_tf.reports.run_groups import load_groups
from taglm_tf.utils.cli import define_output_flag, run
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic

FLAGS = flags.FLAGS


def define_flags() -> None:
    flags.DEFINE_list(
        "runs",
        [],
        "Sweep dirs, model dirs or results.json files ([LABEL=]PATH); more can follow as arguments.",
    )
    define_output_flag("output", None, "The Markdown report to write.", inputs=("preamble", "runs"))
    define_output_flag(
        "plots_dir",
        None,
        "Where the PNGs go (default: plots/ beside --output).",
        ("preamble", "runs"),
        folder=True,
    )
    flags.DEFINE_string(
        "preamble",
        None,
        "A Markdown file whose text goes after the report's intro "
        "(what the runs were: hardware, budget, where the LMs came from).",
    )


def read_preamble(path: str = None) -> str:
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise InputError(f"cannot read the preamble: {e.strerror}", path) from None


def write_report(specs, output: str, plots_dir: str = None, preamble: str = "") -> str:
    """Read the runs, draw the plots and write the report; returns its text."""
    groups, unfinished = load_groups(specs, paper_tables.known_labels())
    report_dir = os.path.dirname(os.path.abspath(output))
    plots_dir = plots_dir or os.path.join(report_dir, "plots")
    text = render_report(groups, specs, make_plots(groups, plots_dir, report_dir), unfinished, preamble)
    os.makedirs(report_dir, exist_ok=True)
    write_text_atomic(output, text)
    return text


def main(argv):
    specs = list(FLAGS.runs) + argv[1:]
    if not specs:
        raise InputError("give the runs to report with --runs=DIR[,DIR...]")
    if not FLAGS.output:
        raise InputError("--output is required")
    preamble = read_preamble(FLAGS.preamble)  # before any work: a bad path fails fast
    write_report(specs, FLAGS.output, FLAGS.plots_dir, preamble)
    print(f"report -> {FLAGS.output}")


if __name__ == "__main__":
    define_flags()
    run(main)
