r"""Train one experiment with N seeds and report the test score (F1, or accuracy) mean ± std.

    python -m experiments.run_seeds --task=ner --flagfile=experiments/flags/ner_baseline.cfg \
        --seeds=10 [--first_seed=1] --sweep_dir=runs/sweeps/ner_baseline [--parallel=2] \
        [-- --train_with_dev ...]

Seed k trains in ``SWEEP_DIR/seed_k`` (log: ``SWEEP_DIR/seed_k.log``) through
``python -m experiments.train_tagger --task=TASK ... --seed=k --resume``. Rerunning the same command resumes: seeds
with a ``results.json`` are skipped, interrupted ones continue from their checkpoints. A failed
seed does not stop the others; it is listed at the end and the exit status is 1.
``SWEEP_DIR/sweep.json`` holds per-seed scores, mean ± sample std (ddof=1) and the setting.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from absl import flags

from experiments import child_runs
from taglm_tf.reports import sweeps
from taglm_tf.tasks import METRIC_TITLES, TASKS
from taglm_tf.utils.cli import define_output_flag, run
from taglm_tf.utils.errors import InputError

FLAGS = flags.FLAGS
DEFAULT_COMMAND = (
    "{python} -m experiments.train_tagger --task={task} --flagfile={flagfile} "
    "--model_dir={model_dir} --seed={seed} --resume"
)


def define_flags() -> None:
    flags.DEFINE_enum("task", None, list(TASKS), "The task to train (taglm_tf.tasks).")
    flags.DEFINE_string("experiment_flagfile", None, "The experiment's flagfile (also: --flagfile).")
    flags.DEFINE_integer("seeds", 10, "Number of seeds.", lower_bound=1)
    flags.DEFINE_integer("first_seed", 1, "Seeds are first_seed .. first_seed + seeds - 1.")
    define_output_flag(
        "sweep_dir",
        None,
        "Output: seed_<k>/, seed_<k>.log, sweep.json.",
        ("experiment_flagfile",),
        folder=True,
    )
    flags.DEFINE_integer("parallel", 1, "Seeds trained at the same time.", lower_bound=1)
    flags.DEFINE_string("label", None, "Experiment label for reports (default: the flagfile name).")
    flags.DEFINE_string(
        "command_template",
        DEFAULT_COMMAND,
        "(testing) command per seed; {python} {task} {flagfile} {model_dir} {seed}.",
    )


def command_for(
    template: str, task: str, flagfile: str, sweep_dir: str, seed: int, extra_args: Sequence[str]
) -> list[str]:
    """The argv that trains ``seed``: ``template`` split like a shell line, then filled in."""
    values = {
        "python": sys.executable,
        "task": task,
        "flagfile": flagfile,
        "model_dir": sweeps.seed_dir(sweep_dir, seed),
        "seed": seed,
    }
    return [token.format(**values) for token in shlex.split(template)] + list(extra_args)


def _finished(sweep_dir: str, seed: int, returncode: int, echo) -> dict | None:
    """None if the seed succeeded, else its failure record."""
    run_dir, log_file = sweeps.seed_dir(sweep_dir, seed), sweeps.log_path(sweep_dir, seed)
    if returncode == 0 and sweeps.is_finished(run_dir):
        result = sweeps.load_run(run_dir)
        title = METRIC_TITLES[result.metric]
        echo(f"seed {seed}: test {title} {result.test_score:.2f}, dev {title} {result.dev_score:.2f}")
        return None
    reason = f"exit status {returncode}" if returncode else "no results.json written"
    echo(f"seed {seed} FAILED ({reason}); log: {log_file}")
    return {"seed": seed, "reason": reason, "log": log_file}


def run_sweep(
    sweep_dir: str,
    seeds: Sequence[int],
    command: Callable[[int], list[str]],
    parallel: int = 1,
    echo=print,
    on_change=None,
    poll_seconds: float = 0.1,
) -> list[dict]:
    """Train ``seeds`` (``parallel`` at a time); returns the failures. The runs end with us
    (:func:`experiments.child_runs`)."""
    queue, running, failed = list(seeds), {}, []
    with child_runs() as start:
        while queue or running:
            while queue and len(running) < parallel:
                seed = queue.pop(0)
                echo(f"seed {seed}: training -> {sweeps.seed_dir(sweep_dir, seed)}")
                log_file = sweeps.log_path(sweep_dir, seed)
                running[seed] = start(command(seed), log_file=log_file, stdin=subprocess.DEVNULL)
            time.sleep(poll_seconds)
            for seed, proc in list(running.items()):
                if proc.poll() is not None:
                    del running[seed]
                    failure = _finished(sweep_dir, seed, proc.returncode, echo)
                    failed += [failure] if failure else []
                    if on_change:
                        on_change(failed)
    return failed


def _check_flags(extra_args: Sequence[str]) -> None:
    for name in ("task", "experiment_flagfile", "sweep_dir"):
        if not getattr(FLAGS, name):
            raise InputError(f"--{name.replace('experiment_', '')} is required")
    if not os.path.isfile(FLAGS.experiment_flagfile):
        raise InputError("no such flagfile", FLAGS.experiment_flagfile)
    bad = [a for a in extra_args if not a.startswith("-")]
    if bad:
        raise InputError(f"extra arguments must be flags for the experiment, not {' '.join(bad)}")


def main(argv):
    extra_args = argv[1:]
    _check_flags(extra_args)
    sweep_dir, flagfile, task = FLAGS.sweep_dir, FLAGS.experiment_flagfile, FLAGS.task
    label = FLAGS.label or os.path.splitext(os.path.basename(flagfile))[0]
    sweeps.check_same_sweep(sweep_dir, task, flagfile, extra_args)
    os.makedirs(sweep_dir, exist_ok=True)
    seeds = list(range(FLAGS.first_seed, FLAGS.first_seed + FLAGS.seeds))
    todo = sweeps.seeds_to_run(sweep_dir, seeds)
    print(
        f"{label}: {len(seeds)} seeds, {len(seeds) - len(todo)} already finished, "
        f"{len(todo)} to train ({FLAGS.parallel} at a time)"
    )

    def write(failed):
        summary = sweeps.sweep_summary(sweep_dir, task, flagfile, label, extra_args, failed)
        sweeps.write_sweep(sweep_dir, summary)
        return summary

    failed = run_sweep(
        sweep_dir,
        todo,
        lambda s: command_for(FLAGS.command_template, task, flagfile, sweep_dir, s, extra_args),
        FLAGS.parallel,
        on_change=write,
    )
    summary = write(failed)
    metric = summary["metric"]
    print(
        f"{label}: test {METRIC_TITLES[metric]} {sweeps.format_stat(summary[f'test_{metric}'])}, "
        f"dev {METRIC_TITLES[metric]} {sweeps.format_stat(summary[f'dev_{metric}'])} -> "
        f"{os.path.join(sweep_dir, sweeps.SWEEP_FILE)}"
    )
    for f in failed:
        print(f"seed {f['seed']} failed ({f['reason']}): see {f['log']}", file=sys.stderr)
    return 1 if failed else 0


def rename_flagfile(argv: list[str]) -> list[str]:
    """absl reads ``--flagfile`` itself; ours names the experiment's, so rename it (before ``--``)."""
    out = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:]
        if arg == "--flagfile" or arg.startswith("--flagfile="):
            arg = "--experiment_flagfile" + arg[len("--flagfile") :]
        out.append(arg)
    return out


if __name__ == "__main__":
    define_flags()
    sys.argv = rename_flagfile(sys.argv)
    run(main)
