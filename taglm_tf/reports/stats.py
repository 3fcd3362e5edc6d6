"""Summary statistics, the two-sided Welch t-test (paper §3.1), the paired t-test over per-seed
differences and t confidence intervals; the tests are scipy's, with the project's errors."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from collections.abc import Sequence

from taglm_tf.utils.errors import InputError


def _scipy_stats():
    # Imported on first use: scipy.stats takes one to three seconds to import here, and the
    # drivers that start runs (run_seeds, report_runs) read this module for mean_std alone.
    import scipy.stats

    return scipy.stats


@dataclasses.dataclass(frozen=True)
class WelchResult:
    """Welch's unequal-variance t-test of ``mean(a) - mean(b)``."""

    t: float
    df: float
    p: float
    mean_a: float
    mean_b: float
    std_a: float
    std_b: float
    n_a: int
    n_b: int


def mean_std(values: Sequence[float]) -> tuple:
    """``(mean, sample std with ddof=1)``; std is ``None`` for fewer than two values."""
    values = [float(v) for v in values]
    if not values:
        raise InputError("no values to summarize")
    mean = math.fsum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, math.sqrt(_sum_sq(values, mean) / (len(values) - 1))


def _sum_sq(values, mean):
    return math.fsum((v - mean) ** 2 for v in values)


def welch_ttest(a: Sequence[float], b: Sequence[float]) -> WelchResult:
    """Two-sided Welch t-test (``scipy.stats.ttest_ind`` with ``equal_var=False``); ``t > 0``
    when ``a`` has the larger mean.

    Raises:
        InputError: fewer than 2 values in a sample, a non-finite value, or two samples without
            variance (the statistic is undefined).
    """
    a, b = _checked(a, "A"), _checked(b, "B")
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    if sa == 0.0 and sb == 0.0:
        raise InputError("both samples have zero variance: the Welch t-test is undefined")
    with _quiet_precision_warning():
        result = _scipy_stats().ttest_ind(a, b, equal_var=False)
    return WelchResult(
        float(result.statistic), float(result.df), float(result.pvalue), ma, mb, sa, sb, len(a), len(b)
    )


@dataclasses.dataclass(frozen=True)
class PairedResult:
    """The paired t-test of ``mean(a - b)`` over pairs (here: runs with the same seed)."""

    t: float
    df: int
    p: float
    mean_diff: float
    n: int


def paired_ttest(a: Sequence[float], b: Sequence[float]) -> PairedResult:
    """Two-sided paired t-test (``scipy.stats.ttest_rel``) of ``a[i] - b[i]``; ``t > 0`` when
    ``a`` is larger on average. The pairing removes what both arms of one seed share (the
    training subset, the initialisation seed), which Welch's test counts as noise.

    Raises:
        InputError: unequal lengths, fewer than 2 pairs, a non-finite value, or differences
            that are all equal (the statistic is undefined).
    """
    a, b = _checked(a, "A"), _checked(b, "B")
    if len(a) != len(b):
        raise InputError(f"the paired t-test needs pairs: {len(a)} against {len(b)} values")
    diffs = [x - y for x, y in zip(a, b)]
    if max(diffs) == min(diffs):
        raise InputError("every pair differs by the same amount: the paired t-test is undefined")
    with _quiet_precision_warning():
        result = _scipy_stats().ttest_rel(a, b)
    return PairedResult(
        float(result.statistic), len(a) - 1, float(result.pvalue), math.fsum(diffs) / len(a), len(a)
    )


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple:
    """``(mean, half-width)`` of the two-sided Student-t confidence interval of the mean; the
    half-width is ``None`` for fewer than two values."""
    mean, std = mean_std(values)
    if std is None:
        return mean, None
    n = len(values)
    return mean, float(_scipy_stats().t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)


@contextlib.contextmanager
def _quiet_precision_warning():
    """SciPy warns of "precision loss" when a sample's values nearly coincide (F1 scores of a
    rare class across seeds often do); the statistic is still what it computes, and a report
    should not print a traceback-like warning for it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Precision loss occurred", category=RuntimeWarning)
        yield


def _checked(values, name):
    values = [float(v) for v in values]
    if len(values) < 2:
        raise InputError(f"sample {name} has {len(values)} value(s); the t-test needs at least 2")
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"sample {name} holds a non-finite value")
    return values
