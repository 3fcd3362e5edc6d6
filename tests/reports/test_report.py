"""The reproduction report on fake sweeps: paper rows, our numbers, settings, plots."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import fake_runs
from experiments.report import write_report
from taglm_tf.reports import paper_tables
from taglm_tf.reports import plots as report_plots
from taglm_tf.reports.stats import welch_ttest
from taglm_tf.utils.errors import InputError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = [(90.4, 94.5), (90.7, 94.6), (90.5, 94.2)]
TAGLM = [(91.6, 95.0), (91.9, 95.2), (91.7, 95.1)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    fake_runs.write_sweep(
        str(root / "sweep_a"),
        "ner_baseline",
        BASE,
        train_with_dev=True,
        dev_curve=(90.0, 93.0, 94.0),
        tensorboard=True,
    )
    fake_runs.write_sweep(
        str(root / "sweep_b"),
        "ner_taglm",
        TAGLM,
        train_with_dev=True,
        dev_curve=(91.0, 94.0),
        lm_perplexity={"forward": 80.5, "backward": 82.0},
        forward_lm="/lms/fwd_cpu",
        backward_lm="/lms/bwd_cpu",
    )
    fake_runs.write_run(str(root / "chunk_baseline_s1"), 1, 94.1, 95.3)  # label from the dir name
    fake_runs.write_run(str(root / "my_probe"), 5, 80.0, 81.0, embeddings=None)
    os.makedirs(root / "ner_taglm_rnn1_input_s1")  # started, unfinished
    (root / "ner_taglm_rnn1_input_s1" / "config.json").write_text("{}")
    return root


def make(runs, out_dir, **kw):
    specs = [str(runs / d) for d in ("sweep_a", "sweep_b", "chunk_baseline_s1", "ner_taglm_rnn1_input_s1")]
    specs.append(f"probe={runs / 'my_probe'}")
    output = os.path.join(out_dir, "results", "REPORT.md")
    text = write_report(specs, output, **kw)
    assert open(output).read() == text
    return text


def line_with(text, *parts):
    found = [line for line in text.splitlines() if all(p in line for p in parts)]
    assert found, parts
    return found[0]


def test_tables_hold_paper_and_our_numbers(runs, tmp_path):
    text = make(runs, str(tmp_path))
    base = [t for t, _ in BASE]
    ours = f"{np.mean(base):.2f} ± {np.std(base, ddof=1):.2f} (n=3)"
    row = line_with(text, "| Our baseline without LM | 90.87 ± 0.13 |")
    assert ours in row and "train+dev, GloVe 6B 50d, LMs: none, paper schedule, seeds 1–3" in row
    assert "train+dev, Senna 50d, LMs: none, 10 seeds" in row
    taglm = line_with(text, "| TagLM | 91.93 ± 0.19 |")
    assert "LMs: bwd: bwd_cpu; fwd: fwd_cpu" in taglm and "(n=3)" in taglm
    assert "94.10 (n=1)" in line_with(text, "| Our baseline without LM | 95.00 ± 0.08 |")
    assert "not run" in line_with(text, "| input to the first RNN layer | 91.55 ± 0.21 |")
    assert "80.5 / 82.0" in line_with(text, "| CNN-BIG-LSTM / LSTM-2048-512 | 91.93 ± 0.19 |")
    for number in (
        "88.17",
        "67.66",
        "71.01",
        "92.00 ± 0.11",
        "90.79 ± 0.15",
        "106.9 / 104.2",
        "baseline − 0.15",
    ):
        assert number in text
    assert "`probe` (not in the paper's tables)" in text
    assert "ner_taglm_rnn1_input_s1" in line_with(text, "Unfinished runs")


def test_significance_row_matches_welch(runs, tmp_path):
    text = make(runs, str(tmp_path))
    row = line_with(text, "| `ner_taglm` − `ner_baseline` | +1.06 |")
    r = welch_ttest([t for t, _ in TAGLM], [t for t, _ in BASE])
    assert f"t = {r.t:.2f}, df = {r.df:.1f}, p = {r.p:.3g}" in row
    assert "needs ≥ 2 runs" not in row


def test_every_table_row_has_a_setting():
    for table in paper_tables.TABLES:
        for row in table.rows:
            assert row.setting and (row.label is None or row.f1 is None or "LMs:" in row.setting), row
    assert "ner_taglm" in paper_tables.known_labels()


def test_tensorboard_scalars_last_write_per_step_wins(runs, tmp_path):
    curve = report_plots.tensorboard_scalars(str(runs / "sweep_a" / "seed_1" / "tensorboard"), "dev/f1")
    assert curve == [(1, pytest.approx(90.0)), (2, pytest.approx(93.0)), (3, pytest.approx(94.0))]
    log_dir = str(tmp_path / "tb")  # a resumed run writes epoch 2 again
    fake_runs.write_scalars(log_dir, "dev/f1", [(1, 80.0), (2, 81.0)])
    fake_runs.write_scalars(log_dir, "dev/f1", [(2, 82.0), (3, 83.0)])
    assert [v for _, v in report_plots.tensorboard_scalars(log_dir, "dev/f1")] == pytest.approx([80, 82, 83])
    assert report_plots.tensorboard_scalars(log_dir, "train/loss") == []


def test_without_matplotlib_plots_are_skipped_with_a_note(runs, tmp_path, monkeypatch):
    monkeypatch.setattr(report_plots, "_pyplot", lambda: None)
    text = make(runs, str(tmp_path))
    assert "Plots skipped: matplotlib is not installed" in text
    assert not os.path.exists(tmp_path / "results" / "plots")


def test_plots_written_and_linked_relatively(runs, tmp_path):
    pytest.importorskip("matplotlib")
    text = make(runs, str(tmp_path))
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert "plots/test_f1_vs_lm_perplexity.png" in links
    # dev curves of the two sweeps (TensorBoard, history), perplexity, TagLM's gain at 100% of the data
    assert len(links) == 4
    assert "probe: no dev F1 per epoch" in text
    for link in links:
        with open(tmp_path / "results" / link, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_new_report_removes_its_own_stale_plots_only(runs, tmp_path):
    pytest.importorskip("matplotlib")
    plots_dir = tmp_path / "results" / "plots"
    os.makedirs(plots_dir)
    for name in ("dev_f1_gone_group_0123abcd.png", "mine.png", "dev_f1_notes.txt"):
        (plots_dir / name).write_bytes(b"x")
    text = make(runs, str(tmp_path))
    linked = {os.path.basename(link) for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)}
    assert set(os.listdir(plots_dir)) == linked | {"mine.png", "dev_f1_notes.txt"}
    # A later report without LM runs drops the perplexity plot it no longer shows.
    write_report([str(runs / "sweep_a")], str(tmp_path / "results" / "REPORT.md"))
    assert not (plots_dir / report_plots.PPL_PLOT).exists()
    (kept,) = [n for n in os.listdir(plots_dir) if n.startswith("dev_f1_") and n.endswith(".png")]
    assert kept in linked  # a group's plot keeps its name when other groups go


def test_cli_errors_are_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "experiments.report", f"--runs={tmp_path}/nope", f"--output={tmp_path}/R.md"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"error: {tmp_path}/nope: no such run or sweep directory"


def test_preamble_follows_the_intro(runs, tmp_path):
    text = make(runs, str(tmp_path), preamble="## What was run\n\nTwo CPU cores, a short schedule.\n")
    assert (
        text.index("reports 10 seeds per configuration.")
        < text.index("## What was run")
        < text.index("## Table 1")
    )
    assert "## What was run\n\nTwo CPU cores, a short schedule.\n" in text


def test_cli_refuses_a_missing_preamble(runs, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.report",
            f"--runs={runs / 'sweep_a'}",
            f"--output={tmp_path}/R.md",
            f"--preamble={tmp_path}/missing.md",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and not os.path.exists(tmp_path / "R.md")
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {tmp_path}/missing.md: cannot read")


def test_comparisons_pair_only_runs_with_the_same_schedule(tmp_path):
    budget = {"seed": 1, "max_constant_epochs": 6, "anneal_epochs": 2, "anneal_steps": 1}
    storage = {"lm_cache_dir": "runs/lm_cache", "lm_cache_dtype": "float16"}
    fake_runs.write_sweep(str(tmp_path / "base_cpu"), "ner_baseline", BASE, train=budget, **storage)
    fake_runs.write_sweep(
        str(tmp_path / "taglm_cpu"),
        "ner_taglm",
        TAGLM,
        train=budget,
        forward_lm="/lms/f",
        backward_lm="/lms/b",
        lm_fingerprints={"forward_lm": "ab", "backward_lm": "cd"},
        **storage,
    )
    fake_runs.write_run(str(tmp_path / "ner_baseline_s1"), 1, 90.4, 94.6, **storage)  # paper schedule
    specs = [str(tmp_path / d) for d in ("base_cpu", "taglm_cpu", "ner_baseline_s1")]
    text = write_report(specs, str(tmp_path / "R.md"))
    rows = [line for line in text.splitlines() if line.startswith("| `ner_taglm` − `ner_baseline` |")]
    assert len(rows) == 1 and "(n=3 vs 3)" in rows[0] and "≤ 6 + 1×2 epochs" in rows[0]
    assert rows[0].endswith("; LMs: none → bwd: b; fwd: f (builds bwd cd, fwd ab) |")
    baseline_rows = [line for line in text.splitlines() if line.startswith("| `ner_baseline` |")]
    assert len(baseline_rows) == 2 and all("LMs: none" in line for line in baseline_rows)
    assert "LMs: bwd: b; fwd: f (builds bwd cd, fwd ab), ≤ 6 + 1×2 epochs, seeds 1–3" in line_with(
        text, "| `ner_taglm` |"
    )


def test_per_type_section_compares_each_type_with_welch(tmp_path):
    base_types = [
        {"LOC": 92.0, "PER": 95.0, "MISC": 78.0},
        {"LOC": 92.4, "PER": 95.5, "MISC": 79.0},
        {"LOC": 91.8, "PER": 94.9, "MISC": 78.2},
    ]
    taglm_types = [{"LOC": 93.0, "PER": 95.1}, {"LOC": 93.5, "PER": 95.0}, {"LOC": 92.9, "PER": 95.6}]
    fake_runs.write_sweep(str(tmp_path / "b"), "ner_baseline", BASE, per_type=base_types)
    fake_runs.write_sweep(str(tmp_path / "t"), "ner_taglm", TAGLM, per_type=taglm_types)
    fake_runs.write_run(str(tmp_path / "chunk_baseline_s1"), 1, 94.1, 95.3, per_type={"NP": 94.0})
    text = write_report([str(tmp_path / d) for d in ("b", "t", "chunk_baseline_s1")], str(tmp_path / "R.md"))
    section = text.split("## Test F1 per type", 1)[1].split("\n## ", 1)[0]
    assert section.count("### ") == 1 and "### `ner_taglm` − `ner_baseline`" in section
    for t in ("LOC", "PER"):
        a, b = [x[t] for x in base_types], [x[t] for x in taglm_types]
        r = welch_ttest(b, a)
        row = line_with(section, f"| {t} |")
        assert (
            f"| {np.mean(a):.2f} | {np.mean(b):.2f} | {np.mean(b) - np.mean(a):+.2f} | "
            f"t = {r.t:.2f}, df = {r.df:.1f}, p = {r.p:.3g} |"
        ) in row
    assert "MISC" not in section and "NP" not in section  # MISC: not scored in every run


def _history(*epochs):
    """History entries ``(lr, loss, dev F1)`` numbered from epoch 1."""
    return [{"epoch": i, "lr": lr, "loss": loss, "dev_f1": f1} for i, (lr, loss, f1) in enumerate(epochs, 1)]


def test_fitting_section_reads_the_best_constant_epoch(tmp_path):
    # Annealing epochs (lr 1e-4) score higher on dev but do not count; ties keep the first epoch.
    base = [
        _history((1e-3, 0.9, 80.0), (1e-3, 0.5, 85.0), (1e-3, 0.4, 84.0), (1e-4, 0.3, 90.0)),
        _history((1e-3, 0.8, 81.0), (1e-3, 0.6, 82.0), (1e-3, 0.3, 86.0), (1e-4, 0.2, 90.0)),
        _history((1e-3, 0.7, 83.0), (1e-3, 0.5, 83.0), (1e-4, 0.1, 95.0)),
    ]
    taglm = [_history((1e-3, 0.2, 84.0), (1e-3, 0.1, 83.0))] * 3
    fake_runs.write_sweep(str(tmp_path / "b"), "ner_baseline", BASE, histories=base)
    fake_runs.write_sweep(str(tmp_path / "t"), "ner_taglm", TAGLM, histories=taglm)
    text = write_report([str(tmp_path / d) for d in ("b", "t")], str(tmp_path / "R.md"))
    section = text.split("## How fast each arm fits", 1)[1].split("\n## ", 1)[0]
    # base best epochs 2, 3, 1: mean 2.0; losses 0.5, 0.3, 0.7: 0.5; dev 85, 86, 83: 84.67.
    assert "| `ner_taglm` − `ner_baseline` | 2.0 → 1.0 | 0.500 → 0.200 | 84.7 → 84.0 |" in section


def test_no_per_type_section_without_per_type_scores(runs, tmp_path):
    assert "## Test F1 per type" not in make(runs, str(tmp_path))


def test_significance_row_has_the_paired_test_by_seed(runs, tmp_path):
    from taglm_tf.reports.stats import paired_ttest

    text = make(runs, str(tmp_path))
    row = line_with(text, "| `ner_taglm` − `ner_baseline` | +1.06 |")
    r = paired_ttest([t for t, _ in TAGLM], [t for t, _ in BASE])  # seeds 1-3 in both sweeps
    assert f"t = {r.t:.2f}, df = 2, p = {r.p:.3g} (3 seeds)" in row
    assert "| Paired t-test by seed (two-sided) |" in text


def test_data_size_rows_pair_by_seed_and_are_plotted(runs, tmp_path):
    import scipy.stats

    pytest.importorskip("matplotlib")
    one_pct = {"train_fraction": 0.01}
    base = [(60.0, 70.0), (62.5, 71.0), (61.0, 70.5), (59.0, 69.0)]
    taglm = [(63.0, 72.0), (63.1, 72.5), (64.2, 73.0)]  # seed 4 not run yet
    fake_runs.write_sweep(str(tmp_path / "b1"), "ner_1pct_baseline", base, **one_pct)
    fake_runs.write_sweep(str(tmp_path / "t1"), "ner_1pct_taglm", taglm, forward_lm="/lms/f", **one_pct)
    specs = [str(runs / "sweep_a"), str(runs / "sweep_b"), str(tmp_path / "b1"), str(tmp_path / "t1")]
    text = write_report(specs, str(tmp_path / "out" / "R.md"))
    section = text.split("## NER: TagLM's gain against the amount of labelled data", 1)[1].split("\n## ", 1)[
        0
    ]
    diffs = [t - b for (t, _), (b, _) in zip(taglm, base)]
    low, high = scipy.stats.t.interval(0.95, len(diffs) - 1, loc=np.mean(diffs), scale=scipy.stats.sem(diffs))
    paired = scipy.stats.ttest_rel([t for t, _ in taglm], [b for b, _ in base[:3]])
    row = line_with(section, "| 1% | +3.35 |")
    assert f"| {np.mean(diffs):+.2f} | [{low:+.2f}, {high:+.2f}] |" in row
    assert f"p = {paired.pvalue:.3g} (3 seeds)" in row and "| seeds 1–3 |" in row
    full = [t - b for (t, _), (b, _) in zip(TAGLM, BASE)]
    assert f"| {np.mean(full):+.2f} |" in line_with(section, "| 100% | +1.06 |")
    assert "| 10% |" not in section  # no runs: no row
    assert os.path.getsize(tmp_path / "out" / "plots" / report_plots.DATA_SIZE_PLOT) > 0
    assert f"(plots/{report_plots.DATA_SIZE_PLOT})" in text
    assert "| `ner_10pct_taglm` − `ner_10pct_baseline` | — | not run |" in text


def test_no_data_size_section_without_paired_runs(runs, tmp_path):
    text = write_report([str(runs / "sweep_a")], str(tmp_path / "R.md"))
    assert "TagLM's gain against" not in text
    assert not os.path.exists(tmp_path / "plots" / report_plots.DATA_SIZE_PLOT)


def test_tagger_only_variants_pair_with_the_taglm_of_the_same_lms(tmp_path):
    """Pairs by LM name; runs that recorded no LM fingerprint cannot be known to read one build,
    and the row says so (a recorded build against an unrecorded one too)."""
    fake_runs.write_sweep(str(tmp_path / "t_a"), "ner_taglm", TAGLM, forward_lm="/lms/a")
    fake_runs.write_sweep(str(tmp_path / "t_b"), "ner_taglm", BASE, forward_lm="/lms/b")
    fake_runs.write_sweep(str(tmp_path / "small"), "ner_taglm_small_rnn2", TAGLM, forward_lm="/lms/a")
    text = write_report([str(tmp_path / d) for d in ("t_a", "t_b", "small")], str(tmp_path / "R.md"))
    rows = [line for line in text.splitlines() if line.startswith("| `ner_taglm_small_rnn2` − `ner_taglm` |")]
    assert len(rows) == 1 and "LMs: fwd: a → fwd: a |" in rows[0]
    assert "| +0.00 (n=3 vs 3; an LM both read has no recorded build) |" in rows[0]
    build = {"forward_lm": "98f" * 4 + "0" * 52}
    fake_runs.write_sweep(
        str(tmp_path / "t_c"), "ner_taglm", BASE, forward_lm="/lms/c", lm_fingerprints=build
    )
    fake_runs.write_sweep(str(tmp_path / "small_c"), "ner_taglm_small_rnn2", BASE, forward_lm="/lms/c")
    text = write_report([str(tmp_path / d) for d in ("t_c", "small_c")], str(tmp_path / "R.md"))
    (row,) = [
        line for line in text.splitlines() if line.startswith("| `ner_taglm_small_rnn2` − `ner_taglm` |")
    ]
    assert "| +0.00 (n=3 vs 3; an LM both read has no recorded build) |" in row


def test_each_lm_build_is_its_own_row_and_tagger_variants_pair_with_their_own_build_first(tmp_path):
    """The same LMs trained on two CPU models are other bits: runs of each build pool apart and
    every row names its build. A tagger-only variant pairs with the TagLM of its own build where
    there is one; otherwise with every build of the same LMs, and the row says so."""
    amd, intel, third = ({"forward_lm": digits * 4 + "0" * 52} for digits in ("2cc", "98f", "c0f"))
    fake_runs.write_sweep(str(tmp_path / "t"), "ner_taglm", TAGLM, forward_lm="/lms/a", lm_fingerprints=amd)
    fake_runs.write_run(
        str(tmp_path / "t" / "seed_4"), 4, 99.0, 99.0, forward_lm="/lms/a", lm_fingerprints=intel
    )
    for name, build in (("small", intel), ("small_third", third)):
        fake_runs.write_sweep(
            str(tmp_path / name), "ner_taglm_small_rnn2", BASE, forward_lm="/lms/a", lm_fingerprints=build
        )
    text = write_report([str(tmp_path / d) for d in ("t", "small", "small_third")], str(tmp_path / "R.md"))
    taglm = " ".join(line for line in text.splitlines() if line.startswith("| `ner_taglm` |"))
    assert "LMs: fwd: a (builds fwd 2cc2cc2cc2cc), paper schedule, seeds 1–3" in taglm
    assert "LMs: fwd: a (builds fwd 98f98f98f98f), paper schedule, seed 4" in taglm
    rows = [line for line in text.splitlines() if line.startswith("| `ner_taglm_small_rnn2` − `ner_taglm` |")]
    ends = sorted(r.rsplit("; LMs: ", 1)[1] for r in rows)
    assert ends == [
        "fwd: a (builds fwd 2cc2cc2cc2cc) → fwd: a (builds fwd c0fc0fc0fc0f) |",
        "fwd: a (builds fwd 98f98f98f98f) → fwd: a (builds fwd 98f98f98f98f) |",
        "fwd: a (builds fwd 98f98f98f98f) → fwd: a (builds fwd c0fc0fc0fc0f) |",
    ]
    for row in rows:
        assert ("other builds of the LMs both read" in row) == ("c0fc0fc0fc0f" in row)


def test_an_lm_both_arms_read_pairs_build_with_build(tmp_path):
    """TagLM − forward-only: the arms read other LMs, but the forward one is shared. TagLM of each
    build pairs with the forward-only runs of its own forward build; a TagLM build without such
    runs pairs with the others, and the row says so."""
    amd = {"forward_lm": "2cc" * 4 + "0" * 52, "backward_lm": "ba3" * 4 + "0" * 52}
    intel = {"forward_lm": "98f" * 4 + "0" * 52, "backward_lm": "a1a" * 4 + "0" * 52}
    lms = {"forward_lm": "/lms/f", "backward_lm": "/lms/b"}
    fake_runs.write_sweep(str(tmp_path / "t_amd"), "ner_taglm", TAGLM, lm_fingerprints=amd, **lms)
    fake_runs.write_sweep(str(tmp_path / "t_intel"), "ner_taglm", BASE, lm_fingerprints=intel, **lms)
    for name, build in (("fwd_intel", intel), ("fwd_amd", amd)):
        fake_runs.write_sweep(
            str(tmp_path / name),
            "ner_cnnbig_fwd",
            BASE,
            forward_lm="/lms/f",
            lm_fingerprints={"forward_lm": build["forward_lm"]},
        )

    def rows(*sweep_dirs):
        text = write_report([str(tmp_path / d) for d in sweep_dirs], str(tmp_path / "R.md"))
        return [line for line in text.splitlines() if line.startswith("| `ner_taglm` − `ner_cnnbig_fwd` |")]

    def forward_builds(row):  # (base, variant)
        lms = row.rsplit("; LMs: ", 1)[1]
        return tuple(part.split("fwd ", 2)[-1][:3] for part in lms.split(" → "))

    only_intel = rows("t_amd", "t_intel", "fwd_intel")
    assert sorted(map(forward_builds, only_intel)) == [("98f", "2cc"), ("98f", "98f")]
    for row in only_intel:
        assert ("other builds of the LMs both read" in row) == (forward_builds(row) == ("98f", "2cc"))
    both = rows("t_amd", "t_intel", "fwd_intel", "fwd_amd")
    assert sorted(map(forward_builds, both)) == [("2cc", "2cc"), ("98f", "98f")]
    assert not any("other builds" in row for row in both)
    assert "| +0.00 (n=3 vs 3) |" in next(r for r in both if forward_builds(r) == ("98f", "98f"))


def test_the_data_size_plot_draws_each_lm_build_as_its_own_line():
    from types import SimpleNamespace

    def point(builds):
        setting = {"schedule": "paper schedule", "lms": "fwd: a", "lm_builds": builds}
        return SimpleNamespace(
            base=SimpleNamespace(setting={"schedule": "paper schedule"}),
            variant=SimpleNamespace(setting=setting),
        )

    assert report_plots._series(point("fwd 111111111111")) != report_plots._series(point("fwd 222222222222"))
    assert report_plots._series(point("fwd 111111111111")) == (
        "paper schedule",
        "fwd: a (builds fwd 111111111111)",
    )


def _outcomes(org_correct, org_as_loc, spurious):
    """One run's chunk outcomes: gold ORG chunks (123 of them) correct, taken for LOC, for MISC
    (3), boundary (5) or missed (5); every PER chunk right."""
    from taglm_tf.reports.chunk_outcomes import ChunkOutcomes, TypeOutcomes

    return ChunkOutcomes(
        gold={
            "ORG": TypeOutcomes(org_correct, {"LOC": org_as_loc, "MISC": 3}, 5, 5),
            "PER": TypeOutcomes(50),
        },
        predicted={
            "ORG": TypeOutcomes(org_correct, {}, 4, spurious),
            "LOC": TypeOutcomes(0, {"ORG": org_as_loc}, 0, 2),
            "MISC": TypeOutcomes(0, {"ORG": 3}),
            "PER": TypeOutcomes(50),
        },
    )


def test_outcome_section_per_type_and_side_with_the_paired_test(tmp_path):
    from taglm_tf.reports.stats import paired_ttest

    base = [_outcomes(100, 10, 7), _outcomes(102, 8, 9), _outcomes(98, 12, 8)]
    taglm = [_outcomes(95, 15, 6), _outcomes(96, 14, 6), _outcomes(90, 20, 6)]
    fake_runs.write_sweep(str(tmp_path / "b"), "ner_baseline", BASE, outcomes=base)
    fake_runs.write_sweep(str(tmp_path / "t"), "ner_taglm", TAGLM, outcomes=taglm)
    # A comparison with a run that has no outcomes is left out.
    one_pct = {"train_fraction": 0.01}
    fake_runs.write_sweep(
        str(tmp_path / "b1"), "ner_1pct_baseline", BASE, outcomes=base[:2] + [None], **one_pct
    )
    fake_runs.write_sweep(str(tmp_path / "t1"), "ner_1pct_taglm", TAGLM, outcomes=taglm, **one_pct)
    text = write_report([str(tmp_path / d) for d in ("b", "t", "b1", "t1")], str(tmp_path / "R.md"))
    section = text.split("## What the test chunks become", 1)[1].split("\n## ", 1)[0]
    assert section.count("### ") == 1 and "ner_1pct" not in section
    assert "chunk outcomes: `ner_taglm` − `ner_baseline` (seeds 1–3)." in section
    r = paired_ttest([95, 96, 90], [100, 102, 98])
    assert line_with(section, "| ORG |") == (
        f"| ORG | 123 | 100.0 → 93.7 | {r.mean_diff:+.1f} (t = {r.t:.2f}, df = 2, p = {r.p:.3g}) | "
        "13.0 → 19.3 (ORG→LOC: 10.0 → 16.3) | 5 | 5 |"
    )
    # Every run the same: one number; no paired test without differences.
    assert line_with(section, "| PER |") == (
        "| PER | 50 | 50 | +0.0 (every pair differs by the same amount: the paired t-test is undefined) "
        "| 0 | 0 | 0 |"
    )
    gold_header, predicted_header = [
        line for line in section.splitlines() if line.startswith("| Gold type")
    ] + [line for line in section.splitlines() if line.startswith("| Predicted type")]
    assert gold_header.endswith("| Wrong type | Boundary | Missed |")
    assert predicted_header == "| Predicted type | Predicted chunks | Wrong type | Boundary | Spurious |"
    predicted = section.split(predicted_header, 1)[1]
    assert (
        line_with(predicted, "| LOC |")
        == "| LOC | 12.0 → 18.3 | 10.0 → 16.3 (ORG→LOC: 10.0 → 16.3) | 0 | 2 |"
    )
    assert line_with(predicted, "| ORG |") == "| ORG | 112.0 → 103.7 | 0 | 4 | 8.0 → 6.0 |"


def test_no_outcome_section_without_recorded_outcomes(runs, tmp_path):
    assert "## What the test chunks become" not in make(runs, str(tmp_path))


def test_all_runs_table_names_the_code_commits_each_group_started_at(tmp_path):
    """Each commit once, shortened as every tool shows it, in seed order, ``-dirty`` kept; a run
    without a recorded commit adds nothing, and a group with none reads "—"."""
    a, b = "a" * 40, "b" * 40
    commits = {1: a, 2: a, 3: f"{b}-dirty", 4: None}
    specs = []
    for seed, commit in commits.items():
        extra = {"git_commit": commit} if commit else {}
        fake_runs.write_run(str(tmp_path / f"base_{seed}"), seed, 90.0 + seed / 10, 94.0, **extra)
        specs.append(f"ner_baseline={tmp_path / f'base_{seed}'}")
    fake_runs.write_run(str(tmp_path / "probe"), 1, 80.0, 81.0, embeddings=None)
    text = write_report([*specs, f"probe={tmp_path / 'probe'}"], str(tmp_path / "REPORT.md"))
    assert "Code: the commits the group's runs started at; `-dirty`" in text
    header = line_with(text, "| Experiment | Setting | Metric |")
    assert header.endswith("| Hours per run | Code |")
    assert line_with(text, "| `ner_baseline` |", "90.10, 90.20, 90.30, 90.40").endswith(
        f"| {a[:12]}, {b[:12]}-dirty |"
    )
    assert line_with(text, "| `probe`").endswith("| — |")


def test_the_perplexity_plot_takes_f1_runs_only():
    from taglm_tf.reports.run_groups import Group
    from taglm_tf.reports.sweeps import RunResult

    def run(score, metric, ppl=300.0):
        return RunResult(
            path="r", seed=1, test_score=score, dev_score=score, lm_perplexity=ppl, metric=metric
        )

    groups = [
        Group("ner_taglm", {}, [run(90.0, "f1"), run(89.0, "f1", None)]),
        Group("pos_taglm", {}, [run(98.3, "accuracy")]),
    ]
    assert report_plots.ppl_points(groups) == [("ner_taglm", 300.0, 90.0)]


def test_a_run_and_its_copy_are_refused_not_pooled(runs, tmp_path):
    """A resumed or moved copy of a run is the same seed: pooled, or under another label, it
    would count twice. Two runs of one seed in one group are refused too."""
    import shutil

    copy = shutil.copytree(runs / "sweep_b" / "seed_2", tmp_path / "seed_2_moved")
    for label in ("ner_taglm", "ner_baseline"):
        with pytest.raises(InputError) as info:
            write_report([str(runs / "sweep_b"), f"{label}={copy}"], str(tmp_path / "R.md"))
        assert str(info.value) == (
            f"{copy}: a copy of {runs / 'sweep_b' / 'seed_2'} (the same seed, scores and training time): "
            "give one of them"
        )
    rerun = tmp_path / "rerun" / "seed_2"  # seed 2 trained again: another run, the same seed
    fake_runs.write_run(
        str(rerun), 2, 91.8, 95.0, train_with_dev=True, forward_lm="/lms/fwd_cpu", backward_lm="/lms/bwd_cpu"
    )
    with pytest.raises(
        InputError, match=f"seed 2 twice .* and {re.escape(str(rerun))}\\): each seed is one sample"
    ):
        write_report([str(runs / "sweep_b"), f"ner_taglm={rerun}"], str(tmp_path / "R.md"))
    assert not (tmp_path / "R.md").exists()
    write_report(
        [str(runs / "sweep_b"), str(runs / "sweep_b" / "seed_2")], str(tmp_path / "R.md")
    )  # given twice
