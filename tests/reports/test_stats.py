"""Welch t-test and summary statistics against scipy.stats and numpy."""

import math
import re

import numpy as np
import pytest
from scipy import stats as scipy_stats

from taglm_tf.reports import stats
from taglm_tf.utils.errors import InputError

NER_TAGLM = [91.93, 91.70, 92.12, 91.81, 92.33, 91.62, 91.95, 92.05, 91.74, 92.01]
NER_BASE = [90.87, 90.70, 91.02, 90.91, 90.80]
SAMPLES = [
    (NER_TAGLM, NER_BASE),  # unequal n
    ([1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 3.5, 4.5]),  # equal n
    ([95.0, 95.1], [96.3, 96.4, 96.38, 96.35, 96.31, 96.4, 96.33]),
    ([10.0, 10.0, 10.0], [9.0, 11.5, 10.7, 9.9]),  # one sample without variance
    ([0.0, 100.0], [50.0, 50.1, 49.9]),  # large p
]


@pytest.mark.parametrize("a,b", SAMPLES)
def test_matches_the_welch_satterthwaite_formula(a, b):
    """Welch's t and the Welch-Satterthwaite degrees of freedom, by hand; the p-value from the t
    distribution with those degrees of freedom."""
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    t = (np.mean(a) - np.mean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    ours = stats.welch_ttest(a, b)
    assert ours.t == pytest.approx(t, abs=1e-10, rel=1e-9)
    assert ours.df == pytest.approx(df, rel=1e-9)
    assert ours.p == pytest.approx(2 * scipy_stats.t.sf(abs(t), df), abs=1e-10)
    assert (ours.n_a, ours.n_b) == (len(a), len(b))


def test_sign_and_symmetry():
    ab, ba = stats.welch_ttest(NER_TAGLM, NER_BASE), stats.welch_ttest(NER_BASE, NER_TAGLM)
    assert ab.t > 0 and ba.t == pytest.approx(-ab.t) and ab.p == pytest.approx(ba.p)


@pytest.mark.parametrize(
    "a,b,message",
    [
        ([91.0], [90.0, 90.5], "sample A has 1 value"),
        ([91.0, 91.2], [], "sample B has 0 value"),
        ([91.0, 91.0], [90.0, 90.0], "zero variance"),
        ([91.0, float("nan")], [90.0, 90.2], "non-finite"),
    ],
)
def test_clear_errors(a, b, message):
    with pytest.raises(InputError, match=message):
        stats.welch_ttest(a, b)


def test_mean_std_is_sample_std():
    mean, std = stats.mean_std(NER_TAGLM)
    assert mean == pytest.approx(np.mean(NER_TAGLM), abs=1e-12)
    assert std == pytest.approx(np.std(NER_TAGLM, ddof=1), abs=1e-12)
    assert stats.mean_std([90.0]) == (90.0, None)


def pool_scores(spec, metric):
    """The ``metric`` of each run that ``experiments.compare`` pools for ``spec``."""
    from taglm_tf.reports import sweeps

    return [r.score(metric) for r in sweeps.load_pool(spec)]


def test_compare_pools_sweeps_runs_and_results_files(tmp_path):
    import fake_runs
    from experiments import compare

    a = fake_runs.write_sweep(str(tmp_path / "a"), "ner_taglm", [(91.9, 95.0), (92.1, 95.1), (91.7, 94.9)])
    b1 = fake_runs.write_run(str(tmp_path / "b1"), 1, 90.8, 94.0)
    b2 = fake_runs.write_run(str(tmp_path / "b2"), 2, 90.9, 94.2)
    assert pool_scores(a, "test_f1") == [91.9, 92.1, 91.7]
    b = pool_scores(f"{b1},{b2}/results.json", "dev_f1")
    assert b == [94.0, 94.2]
    result = stats.welch_ttest(pool_scores(a, "dev_f1"), b)
    text = compare.format_comparison(a, "B", result, "dev_f1")
    assert f"p = {result.p:.4g}" in text and "(n=3)" in text and "(n=2)" in text
    with pytest.raises(InputError, match="neither a sweep directory nor a finished run"):
        pool_scores(str(tmp_path / "b1" / "nothing"), "test_f1")


def test_compare_counts_each_seed_once(tmp_path):
    """A run and its copy (a resumed or moved run dir) are one seed, not two samples; nor may a
    run, or a copy of it, be on both sides. A run reached twice by one pool counts once."""
    import shutil

    import fake_runs
    from experiments import compare

    a = fake_runs.write_sweep(str(tmp_path / "a"), "ner_taglm", [(91.9, 95.0), (92.1, 95.1)])
    copy = shutil.copytree(f"{a}/seed_2", tmp_path / "seed_2_resumed")
    with pytest.raises(InputError) as info:
        pool_scores(f"{a},{copy}", "test_f1")
    assert str(info.value) == (
        f"{a},{copy}: seed 2 twice ({a}/seed_2 and {copy}): each seed is one sample, so pool runs of other seeds"
    )
    assert pool_scores(f"{a},{a}/seed_1/results.json", "test_f1") == [91.9, 92.1]
    b = fake_runs.write_sweep(str(tmp_path / "b"), "ner_baseline", [(90.1, 94.0), (90.3, 94.2)])
    for other in (f"{a}/seed_2", copy):
        with pytest.raises(
            InputError, match=f"^{re.escape(str(other))} is {re.escape(a)}/seed_2 or a copy of it, in both A "
        ):
            compare.samples(a, f"{other}", "test_f1")
    assert compare.samples(a, b, "test_f1") == ([91.9, 92.1], [90.1, 90.3])


def test_paired_ttest_matches_scipy_and_a_hand_computation():
    from taglm_tf.reports.stats import paired_ttest

    taglm, base = [71.0, 69.5, 72.25, 70.0], [67.5, 68.0, 68.25, 67.0]
    r = paired_ttest(taglm, base)
    ref = scipy_stats.ttest_rel(taglm, base)
    assert (r.t, r.p) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    diffs = [3.5, 1.5, 4.0, 3.0]  # by hand: mean 3.0, sample std sqrt(7/6), t = 3 / (std / 2)
    assert r.mean_diff == pytest.approx(3.0) and r.df == 3 and r.n == 4
    assert r.t == pytest.approx(3.0 / (math.sqrt(sum((d - 3.0) ** 2 for d in diffs) / 3) / 2))
    assert paired_ttest(base, taglm).t == pytest.approx(-r.t)


@pytest.mark.parametrize(
    "a,b,message",
    [([1.0, 2.0, 3.0], [1.0, 2.0], "needs pairs: 3 against 2"), ([2.0, 3.0], [1.0, 2.0], "same amount")],
)
def test_paired_ttest_errors(a, b, message):
    from taglm_tf.reports.stats import paired_ttest

    with pytest.raises(InputError, match=message):
        paired_ttest(a, b)


def test_mean_ci_is_scipys_t_interval():
    import scipy.stats

    from taglm_tf.reports.stats import mean_ci

    values = [1.2, -0.4, 2.9, 0.7, 1.1]
    mean, half = mean_ci(values)
    low, high = scipy.stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=scipy.stats.sem(values)
    )
    assert mean == pytest.approx(np.mean(values)) and (mean - half, mean + half) == pytest.approx((low, high))
    assert mean_ci([3.0]) == (3.0, None)


def test_the_drivers_that_start_runs_import_scipy_only_when_they_test():
    """scipy.stats takes seconds to import; ``run_seeds`` and ``report_runs`` start runs and
    summarize with ``mean_std`` alone, so they start without it, and a test loads it."""
    import subprocess
    import sys

    code = (
        "import sys, experiments.run_seeds, experiments.report_runs\n"
        "before = 'scipy.stats' in sys.modules\n"
        "from taglm_tf.reports import stats\n"
        "stats.mean_std([1.0, 2.0])\n"
        "after_mean_std = 'scipy.stats' in sys.modules\n"
        "stats.welch_ttest([1.0, 2.0], [1.5, 2.5, 3.0])\n"
        "print(before, after_mean_std, 'scipy.stats' in sys.modules)"
    )
    repo = __file__.rsplit("/tests/", 1)[0]
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]
