r"""Every run behind ``results/REPORT.md``, rebuilt by one command (``make report-runs``):

    python -m experiments.report_runs [--stages=ner_1pct,chunking,...] [--sweeps=NAME,...] \
        [--sweeps_dir=runs/sweeps] [--dry_run]

The stages always run in this order (``--stages`` picks some). Before its first sweep, a stage
builds the CPU LMs its sweeps read (``experiments.cpu_lms --only``, the ``runs/lms/NAME`` its
flagfiles name; an LM already built costs a fingerprint check):

- ``ner_1pct``: §3.2 'Dataset size', NER baseline and TagLM (CNN-LSTM S forward + word backward
  LM) on 1% of eng.train with the paper's patience schedule, 8 seeds;
- ``ner_10pct``: the pair on 10% of eng.train with the paper's schedule, 4 seeds;
- ``ner``: Table 1, the pair on all of eng.train at the CPU budget (at most 6 + 2 epochs),
  4 seeds;
- ``ner_full_schedule``: the pair on all of eng.train with the paper's schedule, 4 seeds, the
  100% point of the data-size plot on the same schedule as 1% and 10%, and §3.2's no-task-RNN
  row on that schedule (a few minutes a seed);
- ``chunking``: Table 2, the chunking pair at the CPU budget, 4 seeds;
- ``scienceie``: §3.2 domain transfer, the ScienceIE pair at the CPU budget, 8 seeds;
- ``pos``: not a paper row, one POS run per arm at chunking's CPU budget (a token-label task
  through the same code);
- ``analysis``: Table 5, Table 6 and §3.2 rows at the CPU budget, 4 seeds each, and TagLM
  itself again (Table 5's middle row), so that each tagger-only variant pairs with a TagLM run
  that read the same build of the LMs;
- ``lstm_pair``: Table 6's LSTM rows at CPU size, the word-level forward LSTM-512-256 alone and
  with the backward one (``ner_taglm_cpu.cfg``), 4 seeds each; it builds the forward LM (about
  1.5 h on 2 cores);
- ``conll_lms``: Table 6's LSTM-512-256* row, the word-level LSTM-512-256 pair trained on the
  words of CoNLL-2003 eng.train alone, lowercased with digits as 0 (about an hour of LM training
  on 2 cores), 4 seeds;
- ``cnn_pair``: the TagLM rows with the CNN-LSTM S pair as both LMs, 4 seeds;
- ``indomain``: the NER TagLM row with LMs trained on news plus CoNLL-2003 eng.train, 4 seeds;
- ``report``: ``experiments.report`` over this plan's sweeps in ``--sweeps_dir`` into
  ``--report``, with ``--preamble`` (only when every training step of the call succeeded; rerun
  with ``--stages=report`` to report what finished).

Each sweep is ``experiments.run_seeds`` with the flagfile's name as its directory and the paper
table's label as its experiment label; ``--sweeps`` (flagfile names) keeps only some of the
stages' sweeps, say the baselines, which need no LM, while a new checkout has none built. Within
a stage the sweeps advance seed by seed (seed 1 of every sweep, then seed 2, ...), so what has
finished when the job stops still pairs by seed.
Rerunning resumes: finished seeds are skipped, interrupted ones continue from their checkpoints.

**Records.** Run directories hold gigabytes and live outside version control, so they can be
lost; what the report reads of a finished seed (its ``config.json`` and ``results.json``: the
settings, the commit, the LMs' fingerprints, every score and the per-epoch history; for a chunk
task, what its test chunks became, ``test_chunk_outcomes.json``, which the run writes when it
finishes, or counted here from the ``test_predictions.txt`` of a run of older code, by
:mod:`taglm_tf.reports.chunk_outcomes`) is a few kB. After each seed the runner copies that
record to ``--record_dir`` (``results/runs``, one folder per flagfile, with a ``sweep.json``
that this code writes from the folder's runs), to be committed; one line names each record it
replaces with another score or a run of other LMs. A later call, in a new
checkout, copies a recorded seed back into ``--sweeps_dir`` instead of training it again, when every LM the seed used has its
fingerprint among the LMs ``experiments.cpu_lms`` built here (``--lms_dir/fingerprints.json``; a
rebuild that trained differently shows there); otherwise it says so and trains the seed.
``--norestore`` trains every seed. A restored seed has no weights and no predictions: it cannot
tag, the seen/unseen analyses need its run directory, and recording it again keeps the chunk
outcomes it was restored with. ``--record_only`` records every finished seed of the stages'
sweeps in ``--sweeps_dir`` (another checkout's, say) and does nothing else: it reads them all,
and the records already in the folders they go to, first, so a bad file stops it before any
record is written. A seed without chunk outcomes
and predictions (restored from a record made before runs counted them) is recorded without
them, with a warning; a failed recording stops neither call: the other sweeps go on.

Stopping it (Ctrl-C, SIGTERM) stops the run in progress, which the next call resumes. Run it
from a worktree pinned to one commit (README, "Every run behind the report"); paths are
relative to the working directory, like the flagfiles' ``runs/lms``.
"""

from __future__ import annotations

from taglm_tf.utils import cli

if __name__ == "__main__":
    cli.configure_process()  # before anything imports TensorFlow

import dataclasses
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence

from absl import app, flags

from experiments import child_runs, cpu_lms
from taglm_tf import run_dir
from taglm_tf.reports import chunk_outcomes, sweeps
from taglm_tf.tasks import TASKS
from taglm_tf.utils.cli import define_output_flag, run
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.provenance import short_commit

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class Sweep:
    """One report row's runs: its paper-table label, its flagfile (``experiments/flags/NAME.cfg``,
    also the sweep directory's name), its task and how many seeds it needs."""

    label: str
    flagfile: str
    seeds: int
    task: str = "ner"

    @property
    def flagfile_path(self) -> str:
        return f"experiments/flags/{self.flagfile}.cfg"


def _pair(prefix: str, baseline: str, taglm: str, seeds: int, task: str = "ner") -> tuple[Sweep, Sweep]:
    return (Sweep(f"{prefix}_baseline", baseline, seeds, task), Sweep(f"{prefix}_taglm", taglm, seeds, task))


STAGES: dict[str, tuple[Sweep, ...]] = {
    "ner_1pct": _pair("ner_1pct", "ner_1pct_baseline", "ner_1pct_taglm_cnn_word_cpu", 8),
    "ner_10pct": _pair("ner_10pct", "ner_10pct_baseline", "ner_10pct_taglm_cnn_word_cpu", 4),
    "ner": _pair("ner", "ner_baseline_cpu", "ner_taglm_cnn_word_cpu", 4),
    "ner_full_schedule": (
        *_pair("ner", "ner_baseline", "ner_full_taglm_cnn_word_cpu", 4),
        # §3.2's no-task-RNN row converged: at the CPU budget its dev F1 still rises at the end.
        Sweep("ner_taglm_no_rnn", "ner_full_taglm_no_rnn_cpu", 4),
    ),
    "chunking": _pair("chunk", "chunk_baseline_cpu", "chunk_taglm_cnn_word_cpu", 4, "chunking"),
    "scienceie": _pair("scienceie", "scienceie_baseline_cpu", "scienceie_taglm_cpu", 8, "scienceie"),
    # Not a paper row: one seed per arm shows a token-label task running end to end.
    "pos": _pair("pos", "pos_baseline_cpu", "pos_taglm_cnn_word_cpu", 1, "pos"),
    "analysis": (
        # TagLM again, with the LMs the stage's other TagLM rows read: their tagger-only reference.
        Sweep("ner_taglm", "ner_taglm_rnn1_output_cpu", 4),
        Sweep("ner_taglm_rnn1_input", "ner_taglm_rnn1_input_cpu", 4),
        Sweep("ner_taglm_rnn2_output", "ner_taglm_rnn2_output_cpu", 4),
        Sweep("ner_cnnbig_fwd", "ner_cnn_fwd_cpu", 4),
        Sweep("ner_taglm_no_rnn", "ner_taglm_no_rnn_cpu", 4),
        Sweep("ner_baseline_big_rnn2", "ner_baseline_big_rnn2_cpu", 4),
        Sweep("ner_taglm_small_rnn2", "ner_taglm_small_rnn2_cpu", 4),
    ),
    # Table 6's word-level LSTM rows at CPU size: the forward LSTM-512-256 alone, and with the
    # backward one (the LSTM-2048-512 pair's row), the forward LM trained for this stage.
    "lstm_pair": (
        Sweep("ner_lstm_fwd", "ner_lstm_fwd_cpu", 4),
        Sweep("ner_lstm_bi", "ner_taglm_cpu", 4),
    ),
    # Table 6's LSTM-512-256*: LMs trained on the CoNLL-2003 training text alone.
    "conll_lms": (Sweep("ner_lm_conll", "ner_lm_conll_cpu", 4),),
    "cnn_pair": (
        Sweep("ner_taglm", "ner_taglm_cnn_cpu", 4),
        Sweep("chunk_taglm", "chunk_taglm_cnn_cpu", 4, "chunking"),
    ),
    "indomain": (Sweep("ner_taglm_indomain", "ner_taglm_cnn_word_conll_cpu", 4),),
}
ORDER = (*STAGES, "report")


def define_flags() -> None:
    flags.DEFINE_list(
        "stages",
        list(ORDER),
        "Stages to run; they run in this order whatever the order given: " + ", ".join(ORDER) + ".",
    )
    flags.DEFINE_list(
        "sweeps",
        [],
        "Only these sweeps (flagfile names, such as chunk_baseline_cpu) of the --stages, for training "
        "and --record_only; default: all of them. The report stage reports every sweep there is.",
    )
    flags.DEFINE_string("sweeps_dir", "runs/sweeps", "One sweep directory per flagfile goes here.")
    flags.DEFINE_string(
        "record_dir",
        "results/runs",
        "Each finished seed's record (config.json, results.json, and for a chunk task its test "
        "chunk outcomes) is copied here, one folder per flagfile as in --sweeps_dir, with a "
        "sweep.json summarizing the folder's runs: commit them.",
    )
    flags.DEFINE_bool(
        "record_only",
        False,
        "Only record every finished seed of the stages' sweeps in --sweeps_dir into "
        "--record_dir (the chunk outcomes of a run of older code counted from its "
        "test_predictions.txt): nothing is "
        "trained, restored or reported. --sweeps_dir may be another checkout's.",
    )
    flags.DEFINE_bool(
        "restore",
        True,
        "A seed recorded in --record_dir that --sweeps_dir lacks is copied back instead of "
        "trained again, when every LM it used is one built in --lms_dir (by fingerprint).",
    )
    flags.DEFINE_string(
        "lms_dir",
        cpu_lms.LMS_DIR,
        "(testing) Where the LMs' fingerprints and records are looked up; the flagfiles read the LMs "
        "from runs/lms, where the stages' experiments.cpu_lms steps build them.",
    )
    define_output_flag(
        "report", "results/REPORT.md", "The report the 'report' stage writes.", inputs=("preamble",)
    )
    flags.DEFINE_string(
        "preamble", "results/REPORT_PREAMBLE.md", "The report's preamble (what the runs were)."
    )
    flags.DEFINE_bool(
        "dry_run",
        False,
        "Print the commands instead of running them (the report "
        "command with every sweep of the plan; a real call reports those that exist).",
    )
    flags.DEFINE_string("python", sys.executable, "(testing) the Python that runs each step.")


def seed_order(sweeps: Sequence[Sweep]) -> list[tuple[Sweep, int]]:
    """``(sweep, seed)`` seed by seed across the sweeps: seed 1 of each, then seed 2, ..."""
    return [
        (s, seed)
        for seed in range(1, max((s.seeds for s in sweeps), default=0) + 1)
        for s in sweeps
        if seed <= s.seeds
    ]


def seed_run(sweep: Sweep, seed: int, folder: str) -> str:
    """Where ``sweep``'s seed is in ``folder`` (a sweeps or a records folder)."""
    return sweeps.seed_dir(os.path.join(folder, sweep.flagfile), seed)


def sweep_command(python: str, sweep: Sweep, seed: int, sweeps_dir: str) -> list[str]:
    return [
        python,
        "-m",
        "experiments.run_seeds",
        f"--task={sweep.task}",
        f"--flagfile={sweep.flagfile_path}",
        f"--label={sweep.label}",
        f"--sweep_dir={os.path.join(sweeps_dir, sweep.flagfile)}",
        f"--first_seed={seed}",
        "--seeds=1",
    ]


@dataclasses.dataclass(frozen=True)
class Step:
    """One command of the plan: ``seed`` is the ``(sweep, seed)`` it trains, if any; ``lms`` the
    LMs it builds (an ``experiments.cpu_lms`` step) or reads (a seed)."""

    argv: list[str]
    seed: tuple[Sweep, int] | None = None
    lms: tuple[str, ...] = ()


def select(stages: Sequence[str], only: Sequence[str] = ()) -> dict[str, list[Sweep]]:
    """``{stage: its sweeps}`` for the training stages among ``stages``, in :data:`ORDER`;
    ``only`` (flagfile names) keeps just those sweeps.

    Raises:
        InputError: ``only`` names no sweep of the training stages, or they have none.
    """
    chosen = {stage: list(STAGES[stage]) for stage in ORDER if stage in stages and stage in STAGES}
    if not only:
        return chosen
    if not chosen:
        raise InputError(
            "--sweeps picks sweeps to train, and --stages names no training stage "
            "(the report reads every sweep directory there is)"
        )
    names = {s.flagfile for kept in chosen.values() for s in kept}
    unknown = [name for name in only if name not in names]
    if unknown:
        raise InputError(
            f"--sweeps: {', '.join(unknown)} is no sweep of the stages {', '.join(chosen)}; "
            f"they have {', '.join(sorted(names))}"
        )
    return {stage: [s for s in kept if s.flagfile in only] for stage, kept in chosen.items()}


def plan(
    stages: Sequence[str],
    python: str,
    sweeps_dir: str,
    report: str,
    preamble: str,
    existing_only: bool = True,
    only: Sequence[str] = (),
) -> list[Step]:
    """Every command of ``stages`` in the order they run: per stage, the build of the LMs its
    sweeps read (``experiments.cpu_lms``), then its seeds; last the report, which reads the
    plan's sweeps (with ``existing_only``, those whose directory exists). ``only`` (flagfile
    names) keeps just those sweeps of the stages.

    Raises:
        InputError: as :func:`select`, or a flagfile reads an LM that ``cpu_lms`` does not build.
    """
    out: list[Step] = []
    for chosen in select(stages, only).values():
        reads = {s.flagfile: tuple(cpu_lms.lms_read_by(s.flagfile_path)) for s in chosen}
        lms = tuple(dict.fromkeys(name for names in reads.values() for name in names))
        if lms:
            out.append(Step([python, "-m", "experiments.cpu_lms", "--only=" + ",".join(lms)], lms=lms))
        out += [
            Step(sweep_command(python, sweep, seed, sweeps_dir), (sweep, seed), reads[sweep.flagfile])
            for sweep, seed in seed_order(chosen)
        ]
    if "report" in stages:
        dirs = [os.path.join(sweeps_dir, s.flagfile) for stage in STAGES.values() for s in stage]
        dirs = [d for d in dirs if os.path.isdir(d) or not existing_only]
        out.append(
            Step(
                [
                    python,
                    "-m",
                    "experiments.report",
                    f"--output={report}",
                    f"--preamble={preamble}",
                    "--",
                    *dirs,
                ]
            )
        )
    return out


def commands(*args, **kwargs) -> list[list[str]]:
    """The commands of :func:`plan`, same arguments."""
    return [step.argv for step in plan(*args, **kwargs)]


def built_fingerprints(lms_dir: str) -> dict[str, str]:
    """``{LM name: fingerprint}`` of the LMs ``experiments.cpu_lms`` built in ``lms_dir``."""
    path = os.path.join(lms_dir, cpu_lms.FINGERPRINTS)
    return run_dir.read_json(path) if os.path.isfile(path) else {}


@dataclasses.dataclass(frozen=True)
class SeedRecord:
    """What recording one finished seed writes: its record (``{file name: text}``, as
    :func:`taglm_tf.run_dir.read_record` gives them), and its sweep's ``sweep.json`` as read
    (``{}`` when the sweep has none)."""

    files: dict[str, str]
    sweep: dict


def read_seed_record(sweep: Sweep, seed: int, sweeps_dir: str) -> SeedRecord | None:
    """The record of ``sweep``'s seed in ``sweeps_dir``, or None when it has not finished. For a
    chunk task it holds the seed's test chunk outcomes (:data:`taglm_tf.run_dir.CHUNK_OUTCOMES`):
    those the run wrote when it finished (or was restored with), else counted from its test
    predictions (a run of older code); a seed with neither is recorded without them, with a
    warning.

    Raises:
        InputError: a file of the record, the predictions or the ``sweep.json`` is missing where
            required, unreadable or malformed, or the report could not read the run (file, and
            line where there is one, named).
    """
    source = os.path.join(sweeps_dir, sweep.flagfile)
    run = sweeps.seed_dir(source, seed)
    if not run_dir.is_finished(run):
        return None
    sweeps.load_run(run)  # refuses what the report could not read (its outcomes too)
    files = run_dir.read_record(run)
    if run_dir.CHUNK_OUTCOMES not in files and TASKS[sweep.task].scheme is not None:
        predictions = os.path.join(run, run_dir.TEST_PREDICTIONS)
        if os.path.exists(predictions):
            files[run_dir.CHUNK_OUTCOMES] = chunk_outcomes.to_json(chunk_outcomes.file_outcomes(predictions))
        else:
            print(
                f"warning: {run}: neither {run_dir.CHUNK_OUTCOMES} nor {run_dir.TEST_PREDICTIONS} "
                "(a record made before runs counted their chunk outcomes): recorded without them",
                file=sys.stderr,
            )
    sweep_file = os.path.join(source, sweeps.SWEEP_FILE)
    # A damaged sweep.json is refused here, before anything is written.
    return SeedRecord(files, run_dir.read_json(sweep_file) if os.path.isfile(sweep_file) else {})


def check_record_folder(sweep: Sweep, records: Sequence[tuple[int, SeedRecord]], record_dir: str) -> None:
    """Read what recording ``records`` (``(seed, record)`` of ``sweep``) into ``record_dir``
    leaves beside them, as the folder's summary will read it: every other finished seed
    recorded there, and the chunk outcomes that a record without its own keeps.

    Raises:
        InputError: one of them cannot be read (file named); nothing has been written.
    """
    target = os.path.join(record_dir, sweep.flagfile)
    replaced = {seed for seed, _ in records}
    for seed, path in sweeps.seed_dirs(target):
        if seed not in replaced and run_dir.is_finished(path):
            sweeps.load_run(path)
    for seed, record in records:
        kept = os.path.join(sweeps.seed_dir(target, seed), run_dir.CHUNK_OUTCOMES)
        if run_dir.CHUNK_OUTCOMES not in record.files and os.path.isfile(kept):
            chunk_outcomes.read_outcomes(kept)


def replaced(sweep: Sweep, seed: int, record: SeedRecord, record_dir: str) -> str | None:
    """What writing ``record`` would replace in ``record_dir``, for a line: ``None`` when the seed
    has no finished record there, or one with the same test score (any difference counts) from
    the same LMs; else the recorded and the new test score (``none`` where a record has none)
    and the LMs whose fingerprints differ (another build, as when a seed recorded on another CPU
    is trained again here), or, for a record that cannot be read, why."""
    old_run = seed_run(sweep, seed, record_dir)
    if not run_dir.is_finished(old_run):
        return None
    key = f"test_{TASKS[sweep.task].metric}"
    try:
        old, old_config = run_dir.read_results(old_run) or {}, run_dir.read_config(old_run)
    except InputError as e:
        return f"replaces an unreadable record ({e})"
    new, new_config = (json.loads(record.files[name]) for name in (run_dir.RESULTS, run_dir.CONFIG))
    old_lms, new_lms = (c.get("lm_fingerprints") or {} for c in (old_config, new_config))
    other = sorted(k for k in {*old_lms, *new_lms} if old_lms.get(k) != new_lms.get(k))
    if old.get(key) == new.get(key) and not other:
        return None
    scores = [f"{x:.2f}" if isinstance(x, (int, float)) else "none" for x in (old.get(key), new.get(key))]
    if scores[0] == scores[1] and old.get(key) != new.get(key):  # a difference beyond 2 decimals
        scores = [repr(old.get(key)), repr(new.get(key))]
    lms = f", trained with other LMs ({', '.join(other)})" if other else ""
    return f"replaces the recorded seed ({key} {scores[0]} -> {scores[1]}{lms})"


def write_seed_records(sweep: Sweep, records: Sequence[tuple[int, SeedRecord]], record_dir: str) -> None:
    """Write seeds' records (``(seed, record)`` of ``sweep``) into ``record_dir``
    (:func:`taglm_tf.run_dir.write_record`), then the record folder's ``sweep.json``: this code's
    summary of the runs recorded there (:func:`taglm_tf.reports.sweeps.sweep_summary`, with the
    plan's label and the extra arguments and failed seeds of the sweep's own ``sweep.json``), so
    seeds recorded from a worktree of an older commit are summarized as today's report reads
    them. The summary reads the folder once every record is written, so a record being replaced
    is never read. An existing ``sweep.json`` that differs only in when it was written is kept.
    Call :func:`check_record_folder` first.
    """
    target = os.path.join(record_dir, sweep.flagfile)
    for seed, record in records:
        run_dir.write_record(sweeps.seed_dir(target, seed), record.files)
    last = records[-1][1].sweep
    extra_args, failed = last.get("extra_args", []), last.get("failed", [])
    summary = sweeps.sweep_summary(target, sweep.task, sweep.flagfile_path, sweep.label, extra_args, failed)
    path = os.path.join(target, sweeps.SWEEP_FILE)
    try:
        same = sweeps.same_summary(run_dir.read_json(path), summary)
    except InputError:  # none yet, or a damaged one: replaced
        same = False
    if not same:
        sweeps.write_sweep(target, summary)


def record_seed(sweep: Sweep, seed: int, sweeps_dir: str, record_dir: str) -> None:
    """Copy a finished seed's record into ``record_dir`` and summarize the folder
    (:func:`read_seed_record`, :func:`check_record_folder`, :func:`write_seed_records`).

    Raises:
        InputError: as :func:`read_seed_record` and :func:`check_record_folder`, before anything
            is written.
    """
    record = read_seed_record(sweep, seed, sweeps_dir)
    if record is not None:
        check_record_folder(sweep, [(seed, record)], record_dir)
        if note := replaced(sweep, seed, record, record_dir):
            print(f"{seed_run(sweep, seed, record_dir)}: {note}")
        write_seed_records(sweep, [(seed, record)], record_dir)


def record_only(
    stages: Sequence[str], sweeps_dir: str, record_dir: str, only: Sequence[str] = ()
) -> list[str]:
    """Record every finished seed of ``stages``' sweeps (``only``: those named) in ``sweeps_dir``
    into ``record_dir``, training nothing; returns one line per seed recorded, saying what it
    replaced (:func:`replaced`). Every record is read before any is written.

    Raises:
        InputError: as :func:`select`, :func:`read_seed_record` and :func:`check_record_folder`,
            before anything is written.
    """
    seeds = [pair for chosen in select(stages, only).values() for pair in seed_order(chosen)]
    found = [(s, seed, r) for s, seed in seeds if (r := read_seed_record(s, seed, sweeps_dir)) is not None]
    by_sweep: dict[Sweep, list[tuple[int, SeedRecord]]] = {}
    for sweep, seed, record in found:
        by_sweep.setdefault(sweep, []).append((seed, record))
    for sweep, records in by_sweep.items():
        check_record_folder(sweep, records, record_dir)
    notes = [replaced(sweep, seed, record, record_dir) for sweep, seed, record in found]
    for sweep, records in by_sweep.items():
        write_seed_records(sweep, records, record_dir)
    lines = []
    for (sweep, seed, record), note in zip(found, notes):
        outcomes = " with its test chunk outcomes" if run_dir.CHUNK_OUTCOMES in record.files else ""
        lines.append(
            f"{seed_run(sweep, seed, record_dir)}: recorded from {seed_run(sweep, seed, sweeps_dir)}{outcomes}"
            + (f"; {note}" if note else "")
        )
    return lines


def restore_seed(sweep: Sweep, seed: int, sweeps_dir: str, record_dir: str, built: dict[str, str]) -> bool:
    """Copy a recorded seed back into ``sweeps_dir`` when no run of it is there (an interrupted
    one resumes instead) and every LM it used has a fingerprint in ``built``; returns whether it
    did, after one line saying what it did or why not."""
    run, record = seed_run(sweep, seed, sweeps_dir), seed_run(sweep, seed, record_dir)
    if os.path.exists(run) or not run_dir.is_finished(record):
        return False
    used = run_dir.read_config(record).get("lm_fingerprints") or {}
    other = sorted(key for key, fingerprint in used.items() if fingerprint not in built.values())
    if other:
        print(
            f"{record}: trained with other LMs ({', '.join(other)}) than those built here: training it again"
        )
        return False
    run_dir.copy_record(record, run)
    print(
        f"{run}: restored from {record} (trained at commit {short_commit(run_dir.started_at_commit(record))})"
    )
    return True


def _call(argv: list[str]) -> int:
    """Run ``argv`` in the working directory; SIGTERM or Ctrl-C stops it (and waits) before we stop."""
    print(f"+ {shlex.join(argv)}", flush=True)
    with child_runs() as start:
        return start(argv).wait()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    unknown = [s for s in FLAGS.stages if s not in ORDER]
    if unknown or not FLAGS.stages:
        raise InputError(
            f"--stages: unknown stage {', '.join(unknown) or '(none given)'}; "
            f"expected some of {', '.join(ORDER)}"
        )
    if FLAGS.record_only:
        lines = record_only(FLAGS.stages, FLAGS.sweeps_dir, FLAGS.record_dir, FLAGS.sweeps)
        print(
            "\n".join(lines + [f"record-only: {len(lines)} finished seed(s) recorded in {FLAGS.record_dir}"])
        )
        return 0
    args = (FLAGS.python, FLAGS.sweeps_dir, FLAGS.report, FLAGS.preamble)
    if FLAGS.dry_run:
        for command in commands(FLAGS.stages, *args, existing_only=False, only=FLAGS.sweeps):
            print(shlex.join(command))
        return 0
    start, failed, unbuilt = time.time(), [], set()
    for step in plan([s for s in FLAGS.stages if s != "report"], *args, only=FLAGS.sweeps):
        command = shlex.join(step.argv)
        if step.seed is None:  # an LM build: its LMs count as unbuilt until a later build succeeds
            if _call(step.argv):
                unbuilt |= set(step.lms)
                failed.append(command)
            else:
                unbuilt -= set(step.lms)
            continue
        if FLAGS.restore:
            restore_seed(*step.seed, FLAGS.sweeps_dir, FLAGS.record_dir, built_fingerprints(FLAGS.lms_dir))
        missing = sorted(unbuilt & set(step.lms))
        if missing and not run_dir.is_finished(seed_run(*step.seed, FLAGS.sweeps_dir)):
            # it would fail at the start, or read an LM the build left half-done
            print(f"skipped (LM not built: {', '.join(missing)}): {command}", file=sys.stderr)
            failed.append(f"skipped {command}")
            continue
        if _call(step.argv):
            failed.append(command)
        else:
            try:
                record_seed(*step.seed, FLAGS.sweeps_dir, FLAGS.record_dir)
            except InputError as e:  # the other sweeps still run
                print(f"error: {e}", file=sys.stderr)
                failed.append(f"recording {command}")
    if "report" in FLAGS.stages:
        if failed:
            print(
                "report not written: a training step failed (--stages=report reports what finished)",
                file=sys.stderr,
            )
        elif _call(commands(["report"], *args)[0]):
            failed.append("experiments.report")
    print(f"report-runs: {len(failed)} step(s) failed, {(time.time() - start) / 3600:.2f} h (this call)")
    for f in failed:
        print(f"failed: {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    define_flags()
    run(main)
