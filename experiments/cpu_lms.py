"""Rebuild the CPU-trained LMs behind ``results/REPORT.md`` with one command (``make cpu-lms``):

    python -m experiments.cpu_lms [--runs_dir=runs/lm_train] [--lms_dir=runs/lms] [--parallel=2]

The LMs and the exact number of training steps each report row used:

- ``cnn_lstm_s_forward``, ``cnn_lstm_s_backward``: the char-aware CNN-LSTM "S" pair
  (``lm_{forward,backward}_cnn_lstm_cpu.cfg``), 4,000 steps of 64 x 20 targets (about one epoch
  of the news corpus), written in lm_1b's release layout to ``LMS_DIR/NAME``;
- ``backward_512_256_cpu``: the word-level backward LSTM-512-256 (``lm_backward_512_256_cpu.cfg``),
  9,000 steps, used as an ``lstm_lm:`` run directory, trained in ``LMS_DIR/NAME`` itself;
- built only when named in ``--only`` (``make report-runs`` names them in the stages that read
  them; no earlier figure to compare with): ``forward_512_256_cpu``, the word-level forward
  LSTM-512-256 with the backward one's 9,000 steps, for Table 6's LSTM rows (stage
  ``lstm_pair``); ``forward_512_256_conll_only_cpu``, ``backward_512_256_conll_only_cpu``, the
  word-level pair on the words of CoNLL-2003 eng.train alone, lowercased with digits as 0,
  :data:`CONLL_ONLY_STEPS` steps, for Table 6's LSTM-512-256* row (stage ``conll_lms``);
  ``cnn_lstm_s_forward_conll``, ``backward_512_256_conll_cpu``, the CNN forward and word backward
  LMs with the same steps and vocabularies on the news corpus plus CoNLL-2003 eng.train read 5
  times per epoch (``lm_*_conll_cpu.cfg``), for the report's in-domain row (stage ``indomain``).

Each LM trains in its own process, started in the repository root (``--parallel`` at a time, the
next one as soon as one ends; log: ``RUNS_DIR/NAME.log``) with
``--resume``, so rerunning the command continues from the last checkpoint, exactly (LSTM states
and data position restored). Then ``experiments.eval_lm --record`` measures the full-softmax
perplexity on 1B Word held-out shards 12-13 (the report's figure), the CNN LMs are exported with
``lm_1b_export.from_pretrained``, and the LMs' fingerprints and perplexities are printed beside
the earlier report's, with whether each fingerprint is that of the build the report's NER,
ScienceIE and POS TagLM records read (made on AMD EPYC CPUs; a rebuild that trained differently,
on another kind of CPU say, shows), and recorded in ``LMS_DIR/fingerprints.json``.
Steps already done (a finished run, a recorded perplexity of the final checkpoint, an export of
it) are skipped. The ``*_cpu.cfg`` tagger flagfiles read the LMs from ``runs/lms``, relative
to the working directory, so run this from the checkout they run from (``RUNS_DIR``,
``LMS_DIR`` and ``$TAGLM_DATA_DIR`` are relative to the working directory too).
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import dataclasses
import json
import os
import re
import shlex
import sys
import time
from collections.abc import Sequence

from absl import app, flags

from experiments import child_runs
from taglm_tf.run_dir import read_json
from taglm_tf.utils.cli import run
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.fileio import write_text_atomic
from taglm_tf.utils.provenance import short

FLAGS = flags.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELDOUT = "unlabeled/lm1b_heldout_shards12-13.tokens.gz"
FINGERPRINTS = "fingerprints.json"
LMS_DIR = "runs/lms"  # where the tagger flagfiles read the LMs, relative to the working directory
RUNS_DIR = "runs/lm_train"  # the training runs of the LMs exported to LMS_DIR

# The CoNLL-only LMs' steps, as their flagfile gives them (14 epochs of eng.train: the forward
# LM's lowest eng.testa perplexity).
CONLL_ONLY_STEPS = 2380


@dataclasses.dataclass(frozen=True)
class CpuLM:
    """One LM of the report: its flagfile, its training steps, its held-out perplexity in the
    earlier report and the fingerprint of the build the report's NER, ScienceIE and POS TagLM
    records read (None: no figure yet)."""

    name: str
    flagfile: str
    train_steps: int
    reported_perplexity: float | None
    release_layout: bool  # exported as lm_1b shards (lm1b: spec), else used as its run directory
    default: bool = True  # built without --only
    fingerprint: str | None = None  # the first 12 hex digits of the AMD build the report's records read

    def train_dir(self, runs_dir: str, lms_dir: str) -> str:
        return os.path.join(runs_dir, self.name) if self.release_layout else os.path.join(lms_dir, self.name)

    def spec(self, lms_dir: str) -> str:
        out = os.path.join(lms_dir, self.name)
        return f"lm1b:{out}/ckpt-*,{out}/vocab.txt" if self.release_layout else f"lstm_lm:{out}"


CPU_LMS = (
    CpuLM(
        "cnn_lstm_s_forward",
        "experiments/flags/lm_forward_cnn_lstm_cpu.cfg",
        4000,
        280.56,
        True,
        fingerprint="2cc0e4a78bf3",
    ),
    CpuLM(
        "cnn_lstm_s_backward",
        "experiments/flags/lm_backward_cnn_lstm_cpu.cfg",
        4000,
        281.71,
        True,
        fingerprint="51fded47cacc",
    ),
    CpuLM(
        "backward_512_256_cpu",
        "experiments/flags/lm_backward_512_256_cpu.cfg",
        9000,
        255.81,
        False,
        fingerprint="ba371ce49c50",
    ),
    CpuLM(
        "forward_512_256_cpu",
        "experiments/flags/lm_forward_512_256_cpu.cfg",
        9000,
        None,
        False,
        default=False,
    ),
    CpuLM(
        "forward_512_256_conll_only_cpu",
        "experiments/flags/lm_forward_512_256_conll_only_cpu.cfg",
        CONLL_ONLY_STEPS,
        None,
        False,
        default=False,
    ),
    CpuLM(
        "backward_512_256_conll_only_cpu",
        "experiments/flags/lm_backward_512_256_conll_only_cpu.cfg",
        CONLL_ONLY_STEPS,
        None,
        False,
        default=False,
    ),
    CpuLM(
        "cnn_lstm_s_forward_conll",
        "experiments/flags/lm_forward_cnn_lstm_conll_cpu.cfg",
        4000,
        None,
        True,
        default=False,
    ),
    CpuLM(
        "backward_512_256_conll_cpu",
        "experiments/flags/lm_backward_512_256_conll_cpu.cfg",
        9000,
        None,
        False,
        default=False,
    ),
)


def flagfile_settings(flagfile: str, names: Sequence[str]) -> dict[str, str]:
    """``{flag name: value}`` of the flags ``names`` as a run reads them from ``flagfile``: absl's
    flagfile reading (nested ``--flagfile``, comments, paths relative to the working directory,
    a later setting replacing an earlier one), with the byte-order mark and line ends of every
    text input (:func:`taglm_tf.utils.cli.read_flagfiles_as_text_input`).

    Raises:
        InputError: the flagfile, or one it includes, cannot be read.
    """
    cli.read_flagfiles_as_text_input()
    try:
        args = flags.FlagValues().read_flags_from_files([f"--flagfile={flagfile}"], force_gnu=False)
    except flags.Error as e:
        raise InputError(f"cannot read the flagfile: {e}", flagfile) from None
    pattern = re.compile(r"--?(" + "|".join(map(re.escape, names)) + r")=(.*)")
    return dict(m.groups() for a in args if (m := pattern.fullmatch(a)))


def flagfile_lm_specs(flagfile: str) -> dict[str, str]:
    """``{"forward_lm" | "backward_lm": spec}`` of a tagger flagfile (:func:`flagfile_settings`)."""
    return flagfile_settings(flagfile, ("forward_lm", "backward_lm"))


def lms_read_by(flagfile: str) -> list[str]:
    """The names of the LMs of :data:`CPU_LMS` that a tagger run with ``flagfile`` reads from
    :data:`LMS_DIR` (:func:`flagfile_lm_specs`), forward first.

    Raises:
        InputError: the flagfile cannot be read, or it reads an LM from :data:`LMS_DIR` that this
            command does not build.
    """
    built_here = {lm.spec(LMS_DIR): lm.name for lm in CPU_LMS}
    names = []
    for spec in flagfile_lm_specs(flagfile).values():
        if spec in built_here:
            names.append(built_here[spec])
        elif f"{LMS_DIR}/" in spec:
            raise InputError(f"reads {spec}, which experiments.cpu_lms does not build", flagfile)
    return names


def define_flags() -> None:
    flags.DEFINE_string("runs_dir", RUNS_DIR, "Training run directories of the exported LMs, and logs.")
    flags.DEFINE_string("lms_dir", LMS_DIR, "Where the tagger flagfiles read the LMs.")
    flags.DEFINE_integer("parallel", 2, "LMs trained at the same time.", lower_bound=1)
    flags.DEFINE_list(
        "only",
        None,
        "Names of the LMs to build (default: "
        + ", ".join(lm.name for lm in CPU_LMS if lm.default)
        + "); also: "
        + ", ".join(lm.name for lm in CPU_LMS if not lm.default),
    )
    flags.DEFINE_string("python", sys.executable, "(testing) the Python that runs each step.")


# This process only starts the others: it reads TensorFlow's checkpoint index and the perplexity
# records as text rather than import TensorFlow (tf.train.latest_checkpoint,
# pretraining.saving.perplexity_record) for a few lines of JSON and text.
def checkpoint_step(train_dir: str) -> int | None:
    """The step of the latest checkpoint of a ``pretrain_lm`` run, from TensorFlow's
    ``checkpoints/checkpoint`` index; None if there is none yet."""
    index = os.path.join(train_dir, "checkpoints", "checkpoint")
    if not os.path.exists(index):
        return None
    with open(index, encoding="utf-8") as f:
        found = re.search(r'^model_checkpoint_path: "(?:.*/)?ckpt-(\d+)"', f.read(), re.MULTILINE)
    return int(found.group(1)) if found else None


def recorded(path: str, step: int) -> dict | None:
    """A ``perplexity.json`` at ``path`` if it describes checkpoint ``ckpt-<step>`` (or a later
    one, from a run taken further by hand), else None."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        record = json.load(f)
    found = re.search(r"ckpt-(\d+)$", str(record.get("checkpoint", "")))
    return record if found and int(found.group(1)) >= step else None


def _python(module: str, *args: str) -> list[str]:
    return [FLAGS.python, "-m", module, *args]


def measured(record_file: str, lm: CpuLM, train_dir: str) -> bool:
    """Whether ``record_file`` (a ``perplexity.json``) records ``lm``'s final checkpoint and, where
    ``lm``'s training run is in ``train_dir``, the run's latest one (a run taken further is
    measured again)."""
    record = recorded(record_file, lm.train_steps)
    latest = checkpoint_step(train_dir)
    return record is not None and (latest is None or record["checkpoint"].endswith(f"ckpt-{latest}"))


def built(lm: CpuLM, runs_dir: str, lms_dir: str) -> bool:
    """Whether ``lm`` is in ``lms_dir`` as the taggers read it (an export in the release layout;
    else the run itself), :func:`measured`. An LM linked or copied in from elsewhere, without its
    run, is built."""
    return measured(os.path.join(lms_dir, lm.name, "perplexity.json"), lm, lm.train_dir(runs_dir, lms_dir))


def train_commands(lms, runs_dir: str, lms_dir: str) -> list[tuple]:
    """``(lm, argv, log file)`` for every LM that is not built and whose run has not reached its
    step count (an LM built elsewhere and linked or copied into ``lms_dir`` needs no run)."""
    todo = []
    for lm in lms:
        train_dir = lm.train_dir(runs_dir, lms_dir)
        if built(lm, runs_dir, lms_dir) or (checkpoint_step(train_dir) or 0) >= lm.train_steps:
            continue
        # --epochs=0: the report's runs were stopped by hand at their step count, and an
        # uninterrupted stream of the flagfile's one epoch may end a few windows short of it.
        argv = _python(
            "experiments.pretrain_lm",
            f"--flagfile={lm.flagfile}",
            f"--model_dir={train_dir}",
            f"--train_steps={lm.train_steps}",
            "--epochs=0",
            "--resume",
        )
        todo.append((lm, argv, os.path.join(runs_dir, f"{lm.name}.log")))
    return todo


def run_parallel(todo: list[tuple], parallel: int) -> list[tuple[CpuLM, str]]:
    """Run the commands in the repository root, ``parallel`` at a time, each appending to its
    log; returns ``(lm, log file)`` of those that failed, once all have ended. Stopped, the LMs
    commit their running step (:func:`experiments.child_runs`)."""
    waiting, running, failed = list(todo), [], []
    with child_runs() as start:
        while waiting or running:
            while waiting and len(running) < parallel:
                lm, argv, log_file = waiting.pop(0)
                print(f"training {lm.name} to step {lm.train_steps:,} (log: {log_file})", flush=True)
                running.append((lm, start(argv, log_file=log_file, cwd=REPO), log_file))
            time.sleep(1)
            for item in [r for r in running if r[1].poll() is not None]:
                lm, proc, log_file = item
                running.remove(item)
                print(f"{lm.name}: training ended with exit status {proc.returncode}", flush=True)
                if proc.returncode:
                    failed.append((lm, log_file))
    return failed


def check_call(argv: list[str]) -> None:
    print("+ " + shlex.join(argv), flush=True)
    with child_runs() as start:
        if start(argv, cwd=REPO).wait():
            raise InputError(f"failed: {shlex.join(argv)}")


def evaluate_and_export(lm: CpuLM, runs_dir: str, lms_dir: str) -> None:
    """``eval_lm --record`` on the held-out shards, then the release-layout export if any; nothing
    for a built LM."""
    if built(lm, runs_dir, lms_dir):
        return
    train_dir = lm.train_dir(runs_dir, lms_dir)
    if not measured(os.path.join(train_dir, "perplexity.json"), lm, train_dir):
        check_call(
            _python("experiments.eval_lm", f"--model_dir={train_dir}", f"--eval_files={HELDOUT}", "--record")
        )
    out = os.path.join(lms_dir, lm.name)
    if lm.release_layout:
        check_call(_python("lm_1b_export.from_pretrained", f"--model_dir={train_dir}", f"--output_dir={out}"))


def summary(lms, lms_dir: str) -> None:
    """Print each LM's spec, fingerprint and held-out perplexity beside the report's, and whether
    the fingerprint is the report's build; record every fingerprint in ``LMS_DIR/``
    :data:`FINGERPRINTS` (``{name: fingerprint}``), which ``experiments.report_runs`` reads to
    tell whether a recorded run used these very LMs."""
    from taglm_tf.lm.frozen.loading import load_embedder  # TensorFlow only once everything is built

    path = os.path.join(lms_dir, FINGERPRINTS)
    built = read_json(path) if os.path.isfile(path) else {}
    print(f"{'LM':26} {'perplexity':>10} {'report':>8} {'diff':>7}  fingerprint   same build  spec")
    for lm in lms:
        with open(os.path.join(lms_dir, lm.name, "perplexity.json"), encoding="utf-8") as f:
            ppl = json.load(f)["perplexity"]
        built[lm.name] = fingerprint = load_embedder(lm.spec(lms_dir)).fingerprint
        reported, diff = "—", "—"
        if lm.reported_perplexity is not None:
            reported, diff = (
                f"{lm.reported_perplexity:.2f}",
                f"{100 * (ppl / lm.reported_perplexity - 1):+.1f}%",
            )
        same = "—" if lm.fingerprint is None else ("yes" if fingerprint.startswith(lm.fingerprint) else "NO")
        print(
            f"{lm.name:26} {ppl:10.2f} {reported:>8} {diff:>7}  {short(fingerprint)}  {same:>10}  {lm.spec(lms_dir)}"
        )
    write_text_atomic(path, json.dumps(built, indent=1, sort_keys=True))


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    names = {lm.name for lm in CPU_LMS}
    unknown = sorted(set(FLAGS.only or ()) - names)
    if unknown:
        raise InputError(
            f"--only: unknown LM {', '.join(unknown)}; expected some of {', '.join(sorted(names))}"
        )
    lms = [lm for lm in CPU_LMS if (lm.name in FLAGS.only if FLAGS.only else lm.default)]
    runs_dir, lms_dir = os.path.abspath(FLAGS.runs_dir), os.path.abspath(FLAGS.lms_dir)
    start = time.time()
    failed = run_parallel(train_commands(lms, runs_dir, lms_dir), FLAGS.parallel)
    # What trained is measured and exported even when another LM failed.
    done = [lm for lm in lms if lm not in [f for f, _ in failed]]
    for lm in done:
        evaluate_and_export(lm, runs_dir, lms_dir)
    if done:
        summary(done, lms_dir)
    print(f"cpu-lms: done in {(time.time() - start) / 60:.1f} min (this call)")
    if failed:
        raise InputError("LM training failed: " + "; ".join(f"{lm.name} (see {log})" for lm, log in failed))


if __name__ == "__main__":
    define_flags()
    run(main)
