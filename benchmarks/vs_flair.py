"""Our NER tagger against flair configured alike, side by side in one run: tokens/s and their ratios.

    make flair-venv   # once: flair 0.15.1 on torch 2.13.0 (CPU) in .venv-flair
    python -m benchmarks.vs_flair [--rounds=2] [--output=benchmarks/results/vs_flair_ner.json]

Each round runs both benchmarks as subprocesses, one after the other: ours,
``benchmarks.tagger_throughput --task=ner`` in this Python, and flair's,
``benchmarks/flair_tagger.py`` in ``--flair_python`` (the flair venv), with the same batch sizes,
numbers of training batches and decoding passes. The order alternates (ours first in odd
rounds, flair first in even ones), so a drift of the machine's speed during the run weighs on
both sides alike. Each side's JSON is kept per round with the load average of the machine when
it started and ended and the cores the side had on average (its CPU over wall seconds).

Per round, and overall as the median over rounds: the ratios ours / flair of decoding tokens/s
(median pass of eng.testa, batches of 128) and of training tokens/s (batches of 32 from
eng.train), each against its target (decoding >= 5x, training >= 4x). Run it on a quiet machine:
both sides use every core, and flair's threads slow down many-fold when anything else runs
(torch's worker threads wait for each other at every operation).
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

from taglm_tf.utils.cli import define_output_flag, run

FLAGS = flags.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAIR_SCRIPT = os.path.join("benchmarks", "flair_tagger.py")
# The targets: ours / flair, tokens/s.
TARGETS = {"decode": 5.0, "train": 4.0}
# What each ratio compares: the key of the side's JSON holding its tokens/s.
SECTIONS = {"decode": "inference", "train": "train"}
# Flags passed on to both sides under the same names.
SHARED_FLAGS = (
    "dev_sentences",
    "batch_size",
    "eval_batch_size",
    "warmup_batches",
    "train_batches",
    "min_passes",
    "min_seconds",
)


def define_flags() -> None:
    """Register this tool's flags (only when run as a program, so importing it is safe)."""
    flags.DEFINE_integer("rounds", 2, "Rounds; each runs both sides once.", lower_bound=1)
    flags.DEFINE_string(
        "flair_python",
        os.path.join(".venv-flair", "bin", "python"),
        "Python of the flair venv (relative paths: to the repository root; `make flair-venv` makes it).",
    )
    flags.DEFINE_string("data_dir", None, "Data root (default: $TAGLM_DATA_DIR or ./data), for both sides.")
    flags.DEFINE_integer("dev_sentences", 0, "Decode only the first N dev sentences (0: all).", lower_bound=0)
    flags.DEFINE_integer("batch_size", 32, "Training batch size (sentences).", lower_bound=1)
    flags.DEFINE_integer("eval_batch_size", 128, "Decoding batch size (sentences).", lower_bound=1)
    flags.DEFINE_integer("warmup_batches", 8, "Untimed training batches.", lower_bound=0)
    flags.DEFINE_integer("train_batches", 200, "Timed training batches.", lower_bound=1)
    flags.DEFINE_integer("min_passes", 5, "Timed decoding passes over eng.testa, at least.", lower_bound=1)
    flags.DEFINE_float(
        "min_seconds", 30.0, "... and at least this many seconds of them in all.", lower_bound=0
    )
    flags.DEFINE_float("timeout", 7200.0, "Seconds either side may run in one round.", lower_bound=1)
    define_output_flag("output", "benchmarks/results/vs_flair_ner.json", "Where the JSON result goes.")


def flair_python(path: str) -> str:
    """The flair venv's Python as an absolute path (a relative one is taken from the repository root).

    Raises:
        app.UsageError: it is not an executable file, with how to make the venv.
    """
    resolved = path if os.path.isabs(path) else os.path.join(REPO, path)
    if not (os.path.isfile(resolved) and os.access(resolved, os.X_OK)):
        raise app.UsageError(
            f"no flair venv: {resolved} is not an executable Python; `make flair-venv` makes "
            ".venv-flair (flair 0.15.1 on torch 2.13.0), or pass --flair_python=PATH"
        )
    return resolved


def side_commands(flair: str, output_ours: str, output_flair: str, settings: dict) -> dict:
    """The two benchmark commands, ``settings`` (flag name -> value; None: left out) on both."""
    shared = [f"--{name}={value}" for name, value in settings.items() if value is not None]
    return {
        "ours": [
            sys.executable,
            "-m",
            "benchmarks.tagger_throughput",
            "--task=ner",
            f"--output={output_ours}",
        ]
        + shared,
        "flair": [flair, FLAIR_SCRIPT, f"--output={output_flair}"] + shared,
    }


def ratios(ours: dict, flair: dict) -> dict:
    """``{"decode": r, "train": r}``, ours / flair tokens/s, from two benchmark results.

    Raises:
        ValueError: a result lacks a section's ``tokens_per_sec`` or it is not positive.
    """
    out = {}
    for name, section in SECTIONS.items():
        rates = {}
        for side, result in (("ours", ours), ("flair", flair)):
            rate = result.get(section, {}).get("tokens_per_sec")
            if not isinstance(rate, (int, float)) or rate <= 0:
                raise ValueError(f"{side}'s result has no positive {section}.tokens_per_sec: {rate!r}")
            rates[side] = rate
        out[name] = rates["ours"] / rates["flair"]
    return out


def summary(round_ratios: list[dict], targets: dict = TARGETS) -> dict:
    """The median of each ratio over the rounds, the targets and whether each median meets its own.

    Raises:
        ValueError: no rounds.
    """
    if not round_ratios:
        raise ValueError("no rounds to summarise")
    medians = {name: statistics.median(r[name] for r in round_ratios) for name in targets}
    return {
        "ratio": medians,
        "ratio_min": {name: min(r[name] for r in round_ratios) for name in targets},
        "ratio_max": {name: max(r[name] for r in round_ratios) for name in targets},
        "targets": dict(targets),
        "met": {name: medians[name] >= target for name, target in targets.items()},
    }


def run_side(name: str, command: list[str], output: str, timeout: float) -> dict:
    """Run one side's benchmark from the repository root (its messages go to our stderr); its
    JSON result with ``load_average`` (1, 5 and 15 minutes) at its start and end, and
    ``process``: its wall and CPU seconds and their ratio, the cores it had on average (near the
    core count on a quiet machine for both sides; far below, the machine was busy).

    Raises:
        SystemExit: with one ``error:`` line, when it fails, runs past ``timeout`` seconds or
            writes no result.
    """
    if os.path.exists(output):
        os.remove(output)  # an earlier round's result must not pass for this one's
    start, cpu, wall = os.getloadavg(), _children_cpu_seconds(), time.perf_counter()
    try:
        done = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"error: {name}'s benchmark ran past --timeout={timeout:g} s: {' '.join(command)}"
        ) from None
    if done.returncode != 0:
        raise SystemExit(
            f"error: {name}'s benchmark failed (exit {done.returncode}; its messages are above): {' '.join(command)}"
        )
    if not os.path.exists(output):
        raise SystemExit(f"error: {name}'s benchmark wrote no result to {output}: {' '.join(command)}")
    with open(output) as f:
        result = json.load(f)
    result["load_average"] = {"start": list(start), "end": list(os.getloadavg())}
    wall, cpu = time.perf_counter() - wall, _children_cpu_seconds() - cpu
    result["process"] = {"wall_seconds": wall, "cpu_seconds": cpu, "cores_used": cpu / wall}
    return result


def _children_cpu_seconds() -> float:
    """User and system CPU seconds of every finished child so far (one side runs at a time, so a
    difference is that side's)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_round(number: int, commands: dict, outputs: dict, timeout: float) -> dict:
    """One round (1-based ``number``): both sides, ours first in odd rounds, and their ratios."""
    order = ["ours", "flair"] if number % 2 else ["flair", "ours"]
    results = {side: run_side(side, commands[side], outputs[side], timeout) for side in order}
    if results["ours"]["inference"]["tokens"] != results["flair"]["inference"]["tokens"]:
        print(
            f"warning: round {number}: the sides decoded different token counts "
            f"({results['ours']['inference']['tokens']} and {results['flair']['inference']['tokens']})",
            file=sys.stderr,
        )
    return {"round": number, "order": order, **results, "ratios": ratios(results["ours"], results["flair"])}


def describe(result: dict) -> str:
    """One line per ratio: its median over rounds, its range, the target and whether it is met."""
    return "\n".join(
        f"{name}: ours / flair = {result['ratio'][name]:.2f}x (rounds {result['ratio_min'][name]:.2f}-"
        f"{result['ratio_max'][name]:.2f}), target >= {target:g}x: {'met' if result['met'][name] else 'missed'}"
        for name, target in result["targets"].items()
    )


def main(argv):
    cli.no_arguments(argv)
    flair = flair_python(FLAGS.flair_python)
    data_dir = os.path.abspath(FLAGS.data_dir or os.environ.get("TAGLM_DATA_DIR") or "data")
    settings = {"data_dir": data_dir, **{name: FLAGS[name].value for name in SHARED_FLAGS}}
    rounds = []
    with tempfile.TemporaryDirectory() as scratch:
        outputs = {side: os.path.join(scratch, f"{side}.json") for side in ("ours", "flair")}
        commands = side_commands(flair, outputs["ours"], outputs["flair"], settings)
        for number in range(1, FLAGS.rounds + 1):
            rounds.append(run_round(number, commands, outputs, FLAGS.timeout))
            r = rounds[-1]["ratios"]
            print(
                f"round {number}: decode {r['decode']:.2f}x, train {r['train']:.2f}x",
                file=sys.stderr,
                flush=True,
            )
    result = {
        "task": "ner",
        **summary([r["ratios"] for r in rounds]),
        "tokens_per_sec": {
            side: {
                name: statistics.median(r[side][section]["tokens_per_sec"] for r in rounds)
                for name, section in SECTIONS.items()
            }
            for side in ("ours", "flair")
        },
        "settings": settings,
        "flair_python": flair,
        "git_commit": rounds[0]["ours"].get("git_commit"),
        "rounds": rounds,
    }
    print(json.dumps(result, indent=1))
    print(describe(result), file=sys.stderr)
    if FLAGS.output:
        os.makedirs(os.path.dirname(FLAGS.output) or ".", exist_ok=True)
        with open(FLAGS.output, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    define_flags()
    run(main)
