"""Summary statistics, the two-sided Welch t-test (paper §3.1) and the paired t-test over
per-seed differences; the t distribution and the paired test are scipy's."""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import scipy.stats

from taglm_tf.errors import InputError


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
    """Two-sided Welch t-test; ``t > 0`` when ``a`` has the larger mean."""
    a, b = _checked(a, "A"), _checked(b, "B")
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    va, vb = sa ** 2 / len(a), sb ** 2 / len(b)
    if va + vb == 0.0:
        raise InputError("both samples have zero variance: the Welch t-test is undefined")
    t = (ma - mb) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return WelchResult(t, df, two_sided_p(t, df), ma, mb, sa, sb, len(a), len(b))


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
    result = scipy.stats.ttest_rel(a, b)
    return PairedResult(float(result.statistic), len(a) - 1, float(result.pvalue), math.fsum(diffs) / len(a), len(a))


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple:
    """``(mean, half-width)`` of the two-sided Student-t confidence interval of the mean; the
    half-width is ``None`` for fewer than two values."""
    mean, std = mean_std(values)
    if std is None:
        return mean, None
    n = len(values)
    return mean, float(scipy.stats.t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)


def _checked(values, name):
    values = [float(v) for v in values]
    if len(values) < 2:
        raise InputError(f"sample {name} has {len(values)} value(s); the t-test needs at least 2")
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"sample {name} holds a non-finite value")
    return values


def two_sided_p(t: float, df: float) -> float:
    """``P(|T| >= |t|)`` for Student's t with ``df`` degrees of freedom."""
    return float(2.0 * scipy.stats.t.sf(abs(t), df))
