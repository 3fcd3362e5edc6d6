"""``make report-runs``: the plan behind the report names real flagfiles and report rows, pairs
its arms seed by seed, and reports only the sweeps that exist."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from experiments import report_runs
from taglm_tf import run_dir
from taglm_tf.reports import chunk_outcomes, paper_tables
from taglm_tf.reports.chunk_outcomes import TypeOutcomes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def _in_the_repository(monkeypatch):
    """The flagfiles' paths are relative to the repository root, as the runner reads them there."""
    monkeypatch.chdir(REPO)


ALL_SWEEPS = [s for sweeps in report_runs.STAGES.values() for s in sweeps]


def test_every_sweep_has_a_flagfile_a_report_row_and_its_own_directory():
    paper_tasks = {"ner", "chunking", "scienceie"}
    for sweep in ALL_SWEEPS:
        assert os.path.isfile(os.path.join(REPO, sweep.flagfile_path)), sweep
        # A task the paper ran has its rows in the paper's tables; another (POS) is listed by label.
        assert (sweep.label in paper_tables.known_labels()) == (sweep.task in paper_tasks), sweep
        assert sweep.flagfile.startswith({"chunking": "chunk_"}.get(sweep.task, f"{sweep.task}_")), sweep
    assert len({s.flagfile for s in ALL_SWEEPS}) == len(ALL_SWEEPS)


def test_the_data_size_stages_fill_the_data_size_rows():
    labels = {s.label for s in ALL_SWEEPS}
    for _, base, taglm in paper_tables.DATA_SIZE:
        assert base in labels and taglm in labels
    assert {s.seeds for s in report_runs.STAGES["ner_1pct"]} == {8}


def test_sweeps_advance_seed_by_seed():
    a, b = report_runs.Sweep("x", "x", 3), report_runs.Sweep("y", "y", 2)
    assert [(s.label, seed) for s, seed in report_runs.seed_order([a, b])] == [
        ("x", 1),
        ("y", 1),
        ("x", 2),
        ("y", 2),
        ("x", 3),
    ]


def test_commands_train_one_seed_per_call_and_report_the_sweeps_that_exist(tmp_path):
    sweeps_dir = str(tmp_path / "sweeps")
    os.makedirs(os.path.join(sweeps_dir, "ner_1pct_baseline"))
    cmds = report_runs.commands(["ner_1pct", "report"], "PY", sweeps_dir, "R.md", "P.md")
    assert len(cmds) == 18 and cmds[0][-1] == "--only=cnn_lstm_s_forward,backward_512_256_cpu"
    assert cmds[2] == [
        "PY",
        "-m",
        "experiments.run_seeds",
        "--task=ner",
        "--flagfile=experiments/flags/ner_1pct_taglm_cnn_word_cpu.cfg",
        "--label=ner_1pct_taglm",
        f"--sweep_dir={sweeps_dir}/ner_1pct_taglm_cnn_word_cpu",
        "--first_seed=1",
        "--seeds=1",
    ]
    assert cmds[-1] == [
        "PY",
        "-m",
        "experiments.report",
        "--output=R.md",
        "--preamble=P.md",
        "--",
        f"{sweeps_dir}/ner_1pct_baseline",
    ]
    indomain = report_runs.commands(["indomain"], "PY", sweeps_dir, "R.md", "P.md")
    assert (
        indomain[0][-1] == "--only=cnn_lstm_s_forward_conll,backward_512_256_conll_cpu" and len(indomain) == 5
    )


def test_sweeps_keeps_only_the_named_sweeps_of_the_stages_seed_by_seed(tmp_path):
    args = ("PY", str(tmp_path), "R.md", "P.md")
    only = ["chunk_baseline_cpu", "ner_baseline_big_rnn2_cpu"]
    plan = report_runs.plan(["chunking", "analysis"], *args, only=only)
    assert [(step.seed[0].flagfile, step.seed[1]) for step in plan] == [
        (name, seed) for name in only for seed in range(1, 5)
    ]  # baselines: no LM to build
    # every stage, as make report-runs SWEEPS=... runs them: the stages without a chosen sweep drop out
    assert report_runs.plan(report_runs.ORDER, *args, only=only)[:-1] == plan
    with pytest.raises(
        report_runs.InputError, match="--sweeps: ner_baseline_cpu is no sweep of the stages chunking;"
    ):
        report_runs.plan(["chunking"], *args, only=["ner_baseline_cpu"])
    with pytest.raises(report_runs.InputError, match="--stages names no training stage"):
        report_runs.plan(["report"], *args, only=only)


def test_a_stage_builds_the_lms_its_chosen_sweeps_read_before_them(tmp_path):
    args = ("PY", str(tmp_path), "R.md", "P.md")
    build, *chunking = report_runs.plan(["cnn_pair", "chunking"], *args)
    assert build.argv == ["PY", "-m", "experiments.cpu_lms", "--only=cnn_lstm_s_forward,backward_512_256_cpu"]
    assert build.seed is None and build.lms == ("cnn_lstm_s_forward", "backward_512_256_cpu")
    assert [(step.seed[0].flagfile, step.lms) for step in chunking[:2]] == [
        ("chunk_baseline_cpu", ()),
        ("chunk_taglm_cnn_word_cpu", build.lms),
    ]
    pair = chunking[8]
    assert pair.seed is None and pair.argv[-1] == "--only=cnn_lstm_s_forward,cnn_lstm_s_backward"


def test_every_lm_a_sweep_reads_is_a_cpu_lm_and_every_cpu_lm_is_read():
    from experiments import cpu_lms

    read = {name for s in ALL_SWEEPS for name in cpu_lms.lms_read_by(s.flagfile_path)}
    assert read == {lm.name for lm in cpu_lms.CPU_LMS}
    assert cpu_lms.lms_read_by("experiments/flags/ner_taglm_cnn_cpu.cfg") == [
        "cnn_lstm_s_forward",
        "cnn_lstm_s_backward",
    ]


def test_the_lms_a_flagfile_reads_are_read_as_absl_reads_the_flagfile(tmp_path, monkeypatch):
    from experiments import cpu_lms

    monkeypatch.chdir(tmp_path)
    forward = "lm1b:runs/lms/cnn_lstm_s_forward/ckpt-*,runs/lms/cnn_lstm_s_forward/vocab.txt"
    (tmp_path / "base.cfg").write_text(
        "# --backward_lm=lstm_lm:runs/lms/commented\n--forward_lm=lstm_lm:runs/lms/backward_512_256_cpu\n"
    )
    (tmp_path / "top.cfg").write_bytes(  # a byte-order mark, CRLF, one dash: as the tools read them
        f"\ufeff--flagfile=base.cfg\r\n-forward_lm={forward}\r\n--backward_lm=lstm_lm:elsewhere/lm\r\n".encode()
    )
    assert cpu_lms.flagfile_lm_specs("top.cfg") == {
        "forward_lm": forward,
        "backward_lm": "lstm_lm:elsewhere/lm",
    }
    assert cpu_lms.lms_read_by("top.cfg") == ["cnn_lstm_s_forward"]  # an LM outside runs/lms is the user's
    assert cpu_lms.lms_read_by("base.cfg") == ["backward_512_256_cpu"]
    (tmp_path / "other.cfg").write_text("--backward_lm=lstm_lm:runs/lms/forward_2048_512\n")
    with pytest.raises(cpu_lms.InputError, match="other.cfg: reads lstm_lm:runs/lms/forward_2048_512, which"):
        cpu_lms.lms_read_by("other.cfg")
    with pytest.raises(cpu_lms.InputError, match="missing.cfg: cannot read the flagfile"):
        cpu_lms.lms_read_by("missing.cfg")


def test_an_unknown_stage_is_one_line_and_exit_1():
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.report_runs", "--stages=ner,tables"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "error: --stages: unknown stage tables; expected some of " + ", ".join(report_runs.ORDER)
    )
    empty = subprocess.run(
        [sys.executable, "-m", "experiments.report_runs", "--stages="],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert empty.returncode == 1 and "(none given)" in empty.stderr


def test_a_dry_run_reports_every_sweep_of_the_plan(tmp_path):
    cmds = report_runs.commands(["report"], "PY", str(tmp_path), "R.md", "P.md", existing_only=False)
    assert cmds[0][cmds[0].index("--") + 1 :] == [str(tmp_path / s.flagfile) for s in ALL_SWEEPS]


# One right chunk, one of the wrong type and one missed (token, gold tag, predicted tag).
PREDICTIONS = "Kim I-PER I-PER\nsaw O O\nAcme I-ORG I-LOC\n\nRome I-LOC O\n"
FAKE_RUN_SEEDS = (
    f"PREDICTIONS = {PREDICTIONS!r}\n"
    + """\
import json, os, sys
if sys.argv[2] == "experiments.cpu_lms":  # the LMs the stage's TagLM sweep reads
    sys.exit(1 if os.environ.get("FAKE_LM_BUILD_FAILS") else 0)
args = dict(a[2:].split("=", 1) for a in sys.argv[3:])
run = os.path.join(args["sweep_dir"], "seed_" + args["first_seed"])
trained = not os.path.exists(os.path.join(run, "results.json"))
if trained:
    os.makedirs(run, exist_ok=True)
    lms = {"forward_lm": os.environ.get("FAKE_FORWARD_LM", "f" * 64)} if "taglm" in args["flagfile"] else {}
    json.dump({"seed": int(args["first_seed"]), "lm_fingerprints": lms}, open(os.path.join(run, "config.json"), "w"))
    scores = {"test_f1": 80.0 + int(args["first_seed"]), "dev_f1": 85.0}
    json.dump(scores, open(os.path.join(run, "results.json"), "w"))
    bad = os.environ.get("FAKE_BAD_PREDICTIONS")  # sweeps whose runs write a malformed file
    open(os.path.join(run, "test_predictions.txt"), "w").write(
        "Kim I-PER\\n" if bad and bad in args["flagfile"] else PREDICTIONS
    )
    json.dump({"label": args["label"]}, open(os.path.join(args["sweep_dir"], "sweep.json"), "w"))
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(("trained " if trained else "skipped ") + run + "\\n")
"""
)


def _runner(tmp_path, *extra, env=None, returncode=0):
    """Run the runner over ``ner_10pct`` with the fake run_seeds; returns its stdout and stderr
    (one text) and the fake's calls, ``(trained | skipped, sweep folder)``."""
    python = tmp_path / "python"
    python.write_text(f"#!{sys.executable}\n" + FAKE_RUN_SEEDS)
    python.chmod(0o755)
    log = tmp_path / "calls.log"
    log.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.report_runs",
            "--stages=ner_10pct",
            f"--python={python}",
            f"--sweeps_dir={tmp_path / 'sweeps'}",
            f"--record_dir={tmp_path / 'records'}",
            f"--lms_dir={tmp_path / 'lms'}",
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "FAKE_LOG": str(log), **(env or {})},
    )
    assert proc.returncode == returncode, proc.stderr
    calls = [line.split(" ", 1) for line in log.read_text().splitlines()]
    return proc.stdout + proc.stderr, [(what, os.path.basename(os.path.dirname(run))) for what, run in calls]


OUTCOMES = run_dir.CHUNK_OUTCOMES


def assert_outcomes_of_predictions(path):
    """The outcome file holds PREDICTIONS' counts."""
    outcomes = chunk_outcomes.read_outcomes(str(path))
    assert outcomes.gold == {
        "PER": TypeOutcomes(correct=1),
        "ORG": TypeOutcomes(wrong_type={"LOC": 1}),
        "LOC": TypeOutcomes(unmatched=1),
    }
    assert outcomes.predicted == {"PER": TypeOutcomes(correct=1), "LOC": TypeOutcomes(wrong_type={"ORG": 1})}


def _tree(folder):
    """``{relative path: bytes}`` of every file under ``folder``."""
    return {
        os.path.relpath(os.path.join(d, name), folder): open(os.path.join(d, name), "rb").read()
        for d, _, names in os.walk(folder)
        for name in names
    }


def test_finished_seeds_are_recorded_and_restored_in_a_new_checkout(tmp_path):
    import json
    import shutil

    sweeps = [s.flagfile for s in report_runs.STAGES["ner_10pct"]]
    _, calls = _runner(tmp_path)
    assert calls == [("trained", sweeps[seed % 2]) for seed in range(8)]
    for flagfile in sweeps:
        records = tmp_path / "records" / flagfile
        assert sorted(os.listdir(records)) == ["seed_1", "seed_2", "seed_3", "seed_4", "sweep.json"]
        assert sorted(os.listdir(records / "seed_2")) == ["config.json", "results.json", OUTCOMES]
        assert json.loads((records / "seed_2" / "results.json").read_text()) == {
            "test_f1": 82.0,
            "dev_f1": 85.0,
        }
        assert_outcomes_of_predictions(records / "seed_2" / OUTCOMES)
        summary = json.loads((records / "sweep.json").read_text())  # of the records, by this code
        assert summary["n"] == 4 and [r["test_f1"] for r in summary["runs"]] == [81.0, 82.0, 83.0, 84.0]
        taglm = "taglm" in flagfile
        assert summary["setting"]["lm_builds"] == ("fwd ffffffffffff" if taglm else None)
    recorded = _tree(tmp_path / "records")

    # The run directories are lost; the LMs were rebuilt with the same fingerprint.
    shutil.rmtree(tmp_path / "sweeps")
    (tmp_path / "lms").mkdir()
    (tmp_path / "lms" / "fingerprints.json").write_text(json.dumps({"cnn_lstm_s_forward": "f" * 64}))
    out, calls = _runner(tmp_path)
    assert calls == [("skipped", sweeps[seed % 2]) for seed in range(8)]
    assert out.count(": restored from ") == 8
    assert json.loads((tmp_path / "sweeps" / sweeps[1] / "seed_3" / "results.json").read_text()) == {
        "test_f1": 83.0,
        "dev_f1": 85.0,
    }
    # Restored seeds have no predictions; recorded again, they keep the outcomes they had.
    assert sorted(os.listdir(tmp_path / "sweeps" / sweeps[1] / "seed_3")) == sorted(
        ["config.json", "results.json", OUTCOMES]
    )
    assert _tree(tmp_path / "records") == recorded

    # Rebuilt LMs that differ: the TagLM seeds train again, the baseline's are restored.
    shutil.rmtree(tmp_path / "sweeps")
    (tmp_path / "lms" / "fingerprints.json").write_text(json.dumps({"cnn_lstm_s_forward": "e" * 64}))
    out, calls = _runner(tmp_path, env={"FAKE_FORWARD_LM": "e" * 64})
    assert calls == [("skipped" if seed % 2 == 0 else "trained", sweeps[seed % 2]) for seed in range(8)]
    assert out.count("trained with other LMs (forward_lm) than those built here") == 4
    taglm_records = tmp_path / "records" / sweeps[1]
    assert [line for line in out.splitlines() if "replaces" in line] == [
        f"{taglm_records / f'seed_{seed}'}: replaces the recorded seed "
        f"(test_f1 {80 + seed}.00 -> {80 + seed}.00, trained with other LMs (forward_lm))"
        for seed in range(1, 5)
    ]

    shutil.rmtree(tmp_path / "sweeps")
    _, calls = _runner(tmp_path, "--norestore")
    assert {what for what, _ in calls} == {"trained"}


def _sweep(sweeps_dir, sweep, seeds, predictions=PREDICTIONS, updated="2026-01-01T00:00:00+0000"):
    """A finished sweep as run_seeds leaves it: seeds with their records and predictions."""
    import json

    folder = os.path.join(sweeps_dir, sweep.flagfile)
    for seed in seeds:
        run = os.path.join(folder, f"seed_{seed}")
        os.makedirs(os.path.join(run, "checkpoints"))
        with open(os.path.join(run, "config.json"), "w") as f:
            json.dump({"seed": seed, "task": sweep.task}, f)
        with open(os.path.join(run, "results.json"), "w") as f:
            metric = report_runs.TASKS[sweep.task].metric
            json.dump(
                {"task": sweep.task, "seed": seed, f"test_{metric}": 80.0 + seed, f"dev_{metric}": 85.0}, f
            )
        if predictions is not None:
            with open(os.path.join(run, "test_predictions.txt"), "w") as f:
                f.write(predictions)
    with open(os.path.join(folder, "sweep.json"), "w") as f:
        json.dump({"label": sweep.label, "runs": list(seeds), "updated_at": updated}, f)
    return folder


def _record_only(tmp_path, *extra):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.report_runs",
            "--record_only",
            f"--sweeps_dir={tmp_path / 'pinned'}",
            f"--record_dir={tmp_path / 'records'}",
            "--python=/nonexistent/python",  # nothing may run
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )


def test_record_only_records_another_checkouts_finished_seeds_and_trains_nothing(tmp_path):
    import json

    base, taglm = report_runs.STAGES["ner_10pct"]
    pos = report_runs.STAGES["pos"][0]
    _sweep(tmp_path / "pinned", base, [1, 2])
    _sweep(tmp_path / "pinned", taglm, [1])
    _sweep(tmp_path / "pinned", pos, [1], predictions=None)  # token labels: no chunks
    os.makedirs(tmp_path / "pinned" / taglm.flagfile / "seed_2")  # unfinished: not recorded
    proc = _record_only(tmp_path, "--stages=ner_10pct,pos,report", f"--report={tmp_path / 'R.md'}")
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout.splitlines()[-1] == f"record-only: 4 finished seed(s) recorded in {tmp_path / 'records'}"
    )
    assert proc.stdout.count("with its test chunk outcomes") == 3
    records = _tree(tmp_path / "records")
    assert sorted(records) == sorted(
        [
            f"{base.flagfile}/seed_{seed}/{name}"
            for seed in (1, 2)
            for name in ("config.json", "results.json", OUTCOMES)
        ]
        + [f"{taglm.flagfile}/seed_1/{name}" for name in ("config.json", "results.json", OUTCOMES)]
        + [f"{pos.flagfile}/seed_1/config.json", f"{pos.flagfile}/seed_1/results.json"]
        + [f"{s.flagfile}/sweep.json" for s in (base, taglm, pos)]
    )
    pinned = _tree(tmp_path / "pinned")
    copied = [path for path in records if not path.endswith((OUTCOMES, "sweep.json"))]
    assert all(records[path] == pinned[path] for path in copied)
    for sweep, seeds in ((base, [1, 2]), (taglm, [1]), (pos, [1])):  # each folder's own summary
        summary = json.loads(records[f"{sweep.flagfile}/sweep.json"])
        assert (summary["label"], summary["flagfile"]) == (sweep.label, sweep.flagfile_path)
        assert [r["seed"] for r in summary["runs"]] == seeds and summary["n"] == len(seeds)
    assert_outcomes_of_predictions(tmp_path / "records" / base.flagfile / "seed_2" / OUTCOMES)
    assert not os.path.exists(tmp_path / "R.md")

    # Again, from a sweep.json written later with the same content: every record stays as it was.
    _sweep(tmp_path / "again", base, [1, 2], updated="2026-02-02T00:00:00+0000")
    os.rename(tmp_path / "pinned", tmp_path / "first")
    os.rename(tmp_path / "again", tmp_path / "pinned")
    proc = _record_only(tmp_path, "--stages=ner_10pct")
    assert proc.returncode == 0, proc.stderr
    assert _tree(tmp_path / "records") == records
    # A new seed: the folder's summary is written again.
    _sweep(tmp_path / "more", base, [3])
    os.rename(tmp_path / "more" / base.flagfile / "seed_3", tmp_path / "pinned" / base.flagfile / "seed_3")
    os.replace(
        tmp_path / "more" / base.flagfile / "sweep.json", tmp_path / "pinned" / base.flagfile / "sweep.json"
    )
    assert _record_only(tmp_path, "--stages=ner_10pct").returncode == 0
    now = _tree(tmp_path / "records")
    assert json.loads(now[f"{base.flagfile}/sweep.json"])["seeds"] == "seeds 1–3"
    assert f"{base.flagfile}/seed_3/{OUTCOMES}" in now


def test_recording_names_each_record_it_replaces_with_another_score_or_other_lms(tmp_path):
    import json

    taglm = report_runs.STAGES["ner_10pct"][1]
    folder = _sweep(tmp_path / "pinned", taglm, [1, 2])

    def rerun(seed, test_f1, forward):
        run = os.path.join(folder, f"seed_{seed}")
        with open(os.path.join(run, "config.json"), "w") as f:
            json.dump({"seed": seed, "task": "ner", "lm_fingerprints": {"forward_lm": forward}}, f)
        with open(os.path.join(run, "results.json"), "w") as f:
            json.dump({"task": "ner", "seed": seed, "test_f1": test_f1, "dev_f1": 85.0}, f)

    rerun(1, 81.0, "a" * 64)
    rerun(2, 82.0, "a" * 64)
    first = _record_only(tmp_path, "--stages=ner_10pct")
    assert first.returncode == 0, first.stderr
    assert "replaces" not in first.stdout  # nothing was recorded before
    again = _record_only(tmp_path, "--stages=ner_10pct")
    assert again.returncode == 0 and "replaces" not in again.stdout  # the same records

    rerun(1, 81.5, "b" * 64)  # another build of the forward LM
    rerun(2, 82.0 + 1e-9, "a" * 64)  # the same LMs, a score that differs beyond 2 decimals
    lines = _record_only(tmp_path, "--stages=ner_10pct").stdout.splitlines()
    records = tmp_path / "records" / taglm.flagfile
    assert lines[:2] == [
        f"{records / 'seed_1'}: recorded from {folder}/seed_1 with its test chunk outcomes; "
        "replaces the recorded seed (test_f1 81.00 -> 81.50, trained with other LMs (forward_lm))",
        f"{records / 'seed_2'}: recorded from {folder}/seed_2 with its test chunk outcomes; "
        f"replaces the recorded seed (test_f1 82.0 -> {82.0 + 1e-9!r})",
    ]
    assert json.loads((records / "seed_1" / "results.json").read_text())["test_f1"] == 81.5

    # A recorded seed without the score, and one that cannot be read: replaced, and said so,
    # after every note is made (the unreadable one comes second).
    (records / "seed_1" / "results.json").write_text('{"task": "ner", "seed": 1, "dev_f1": 85.0}')
    (records / "seed_2" / "config.json").write_text("{")
    rerun(1, 81.0, "b" * 64)
    proc = _record_only(tmp_path, "--stages=ner_10pct")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].endswith("; replaces the recorded seed (test_f1 none -> 81.00)")
    assert (
        lines[1].startswith(f"{records / 'seed_2'}: recorded from ")
        and "replaces an unreadable record (" in lines[1]
    )
    assert str(records / "seed_2" / "config.json") in lines[1]
    assert json.loads((records / "seed_2" / "config.json").read_text())["lm_fingerprints"] == {
        "forward_lm": "a" * 64
    }


def test_record_only_records_only_the_named_sweeps(tmp_path):
    base, taglm = report_runs.STAGES["ner_10pct"]
    _sweep(tmp_path / "pinned", base, [1])
    _sweep(tmp_path / "pinned", taglm, [1])
    proc = _record_only(tmp_path, "--stages=ner_10pct", f"--sweeps={taglm.flagfile}")
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(tmp_path / "records")) == [taglm.flagfile]
    refused = _record_only(tmp_path, "--stages=ner_10pct", "--sweeps=chunk_baseline_cpu")
    assert refused.returncode == 1 and refused.stderr.startswith(
        "error: --sweeps: chunk_baseline_cpu is no sweep"
    )


def test_record_only_stops_at_a_bad_predictions_file_before_writing(tmp_path):
    base, taglm = report_runs.STAGES["ner_10pct"]
    _sweep(tmp_path / "pinned", base, [1, 2])
    _sweep(tmp_path / "pinned", taglm, [1, 2], predictions="Kim I-PER I-PER\nsaw O\n")
    proc = _record_only(tmp_path, "--stages=ner_10pct")
    assert proc.returncode == 1 and proc.stdout == ""
    bad = tmp_path / "pinned" / taglm.flagfile / "seed_1"
    assert proc.stderr.strip() == (
        f"error: {bad}/test_predictions.txt:2: expected a token, a gold tag and a predicted tag, "
        "found 'saw O'"
    )
    assert not os.path.exists(tmp_path / "records")


def test_an_unreadable_record_in_the_folder_stops_recording_before_anything_is_written(tmp_path):
    """The folder's summary reads every run recorded there: a damaged one is refused first."""
    base, taglm = report_runs.STAGES["ner_10pct"]
    _sweep(tmp_path / "pinned", base, [1])
    _sweep(tmp_path / "pinned", taglm, [1])
    _sweep(tmp_path / "records", taglm, [4])  # recorded earlier, then damaged
    damaged = tmp_path / "records" / taglm.flagfile / "seed_4" / OUTCOMES
    damaged.write_text("{}")
    before = _tree(tmp_path / "records")
    proc = _record_only(tmp_path, "--stages=ner_10pct")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: {damaged}: ")
    assert _tree(tmp_path / "records") == before


def test_a_folder_summary_carries_the_sweeps_arguments_and_failures_and_needs_no_sweep_json(tmp_path):
    import json

    base, taglm = report_runs.STAGES["ner_10pct"]
    _sweep(tmp_path / "pinned", base, [1])
    os.remove(tmp_path / "pinned" / base.flagfile / "sweep.json")
    _sweep(tmp_path / "pinned", taglm, [1])
    failed = [{"seed": 2, "returncode": 1}]
    sweep_file = tmp_path / "pinned" / taglm.flagfile / "sweep.json"
    sweep_file.write_text(json.dumps({"label": taglm.label, "extra_args": ["--x=1"], "failed": failed}))
    assert _record_only(tmp_path, "--stages=ner_10pct").returncode == 0
    without = json.loads((tmp_path / "records" / base.flagfile / "sweep.json").read_text())
    assert (without["label"], without["extra_args"], without["failed"], without["n"]) == (
        base.label,
        [],
        [],
        1,
    )
    summary = json.loads((tmp_path / "records" / taglm.flagfile / "sweep.json").read_text())
    assert (summary["extra_args"], summary["failed"]) == (["--x=1"], failed)


def test_a_seed_without_outcomes_or_predictions_is_recorded_without_them(tmp_path):
    """A seed restored from a record made before runs counted their chunk outcomes: one warning,
    its record copied, and the outcomes recorded for it before, if any, kept."""
    import json

    base, taglm = report_runs.STAGES["ner_10pct"]
    _sweep(tmp_path / "pinned", base, [1])
    _sweep(tmp_path / "pinned", taglm, [1], predictions=None)
    kept = tmp_path / "records" / taglm.flagfile / "seed_1" / OUTCOMES
    kept.parent.mkdir(parents=True)
    before = chunk_outcomes.to_json(
        chunk_outcomes.ChunkOutcomes(
            gold={"PER": TypeOutcomes(correct=2)}, predicted={"PER": TypeOutcomes(correct=2)}
        )
    )
    kept.write_text(before)
    proc = _record_only(tmp_path, "--stages=ner_10pct")
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "pinned" / taglm.flagfile / "seed_1"
    assert proc.stderr.strip() == (
        f"warning: {run}: neither {OUTCOMES} nor test_predictions.txt (a record made before runs "
        "counted their chunk outcomes): recorded without them"
    )
    assert kept.read_text() == before
    assert json.loads((kept.parent / "results.json").read_text())["test_f1"] == 81.0
    assert_outcomes_of_predictions(tmp_path / "records" / base.flagfile / "seed_1" / OUTCOMES)


def test_a_failed_lm_build_skips_the_seeds_that_read_its_lms_and_the_others_go_on(tmp_path):
    out, calls = _runner(tmp_path, env={"FAKE_LM_BUILD_FAILS": "1"}, returncode=1)
    base, taglm = (s.flagfile for s in report_runs.STAGES["ner_10pct"])
    assert calls == [("trained", base)] * 4
    assert out.count("skipped (LM not built: backward_512_256_cpu, cnn_lstm_s_forward): ") == 4
    assert "failed: skipped " in out and "failed: " + f"{tmp_path / 'python'} -m experiments.cpu_lms" in out


def test_finished_seeds_are_kept_when_their_lms_fail_to_build(tmp_path):
    _runner(tmp_path)
    out, calls = _runner(tmp_path, env={"FAKE_LM_BUILD_FAILS": "1"}, returncode=1)
    assert calls == [("skipped", s.flagfile) for _ in range(4) for s in report_runs.STAGES["ner_10pct"]]
    assert "skipped (LM not built" not in out and out.count("failed: ") == 1  # the LM build itself


def test_a_seed_that_cannot_be_recorded_fails_its_call_and_the_others_go_on(tmp_path):
    out, calls = _runner(tmp_path, env={"FAKE_BAD_PREDICTIONS": "taglm"}, returncode=1)
    base, taglm = (s.flagfile for s in report_runs.STAGES["ner_10pct"])
    assert calls == [("trained", (base, taglm)[seed % 2]) for seed in range(8)]
    assert sorted(os.listdir(tmp_path / "records" / base)) == [f"seed_{n}" for n in (1, 2, 3, 4)] + [
        "sweep.json"
    ]
    assert not os.path.exists(tmp_path / "records" / taglm)
    for seed in (1, 2, 3, 4):
        bad = tmp_path / "sweeps" / taglm / f"seed_{seed}" / "test_predictions.txt"
        assert f"error: {bad}:1: expected a token, a gold tag and a predicted tag, found 'Kim I-PER'" in out
    assert out.count("failed: recording ") == 4


RECORDS = os.path.join(REPO, "results", "runs")


def _recorded_sweeps():
    return [s for s in ALL_SWEEPS if os.path.isdir(os.path.join(RECORDS, s.flagfile))]


def test_each_committed_record_folder_is_a_sweep_its_sweep_json_describes():
    """A record folder reads as a sweep by itself (``make report``): its ``sweep.json`` has the
    plan's label, lists exactly the recorded seeds with the scores of their results, and is
    what the runs give today (settings included)."""
    from taglm_tf import run_dir
    from taglm_tf.reports import sweeps

    recorded = _recorded_sweeps()
    assert recorded and {s.flagfile for s in recorded} == set(os.listdir(RECORDS))
    for sweep in recorded:
        folder = os.path.join(RECORDS, sweep.flagfile)
        assert sweeps.sweep_label(folder) == sweep.label
        listed = run_dir.read_json(os.path.join(folder, sweeps.SWEEP_FILE))["runs"]
        runs = sweeps.collect_sweep(folder)
        assert [r["seed"] for r in listed] == [r.seed for r in runs] == list(range(1, len(runs) + 1))
        metric = runs[0].metric
        assert [r[f"test_{metric}"] for r in listed] == [r.test_score for r in runs]
        stored = run_dir.read_json(os.path.join(folder, sweeps.SWEEP_FILE))
        args = (sweep.task, sweep.flagfile_path, sweep.label, stored["extra_args"], stored["failed"])
        assert sweeps.same_summary(stored, sweeps.sweep_summary(folder, *args)), folder  # not stale


def test_the_committed_report_is_what_the_records_give(tmp_path, monkeypatch):
    """results/REPORT.md is `make report`'s output for the committed records (all but the line
    saying when it was generated): a record added without rebuilding the report fails here."""
    from experiments.report import read_preamble, write_report

    monkeypatch.chdir(REPO)  # the report names its sources as given, relative to the checkout
    folders = [os.path.join("results", "runs", s.flagfile) for s in _recorded_sweeps()]
    preamble = read_preamble(os.path.join("results", "REPORT_PREAMBLE.md"))
    text = write_report(folders, str(tmp_path / "REPORT.md"), preamble=preamble)
    with open(os.path.join(REPO, "results", "REPORT.md"), encoding="utf-8") as f:
        committed = f.read().splitlines()
    rebuilt = text.splitlines()
    assert rebuilt[2].startswith("Generated ") and committed[2].startswith("Generated ")
    assert rebuilt[:2] + rebuilt[3:] == committed[:2] + committed[3:]
