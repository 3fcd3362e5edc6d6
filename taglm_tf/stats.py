"""Summary statistics and the two-sided Welch t-test (paper §3.1), without scipy.stats.

The Student t CDF comes from ``scipy.special.stdtr`` when scipy is importable, otherwise from
a regularized incomplete beta function (Lentz's continued fraction).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence

from taglm_tf.errors import InputError

try:  # scipy is a dependency of seqeval (via scikit-learn), but keep a fallback
    from scipy.special import stdtr as _scipy_stdtr
except ImportError:  # pragma: no cover - exercised through the fallback functions directly
    _scipy_stdtr = None


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


def _checked(values, name):
    values = [float(v) for v in values]
    if len(values) < 2:
        raise InputError(f"sample {name} has {len(values)} value(s); the t-test needs at least 2")
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"sample {name} holds a non-finite value")
    return values


def two_sided_p(t: float, df: float) -> float:
    """``P(|T| >= |t|)`` for Student's t with ``df`` degrees of freedom."""
    return 2.0 * student_t_cdf(-abs(t), df)


def student_t_cdf(t: float, df: float) -> float:
    """Student t CDF; scipy's ``stdtr`` when available."""
    if _scipy_stdtr is not None:
        return float(_scipy_stdtr(df, t))
    return student_t_cdf_fallback(t, df)


def student_t_cdf_fallback(t: float, df: float) -> float:
    """Student t CDF through the regularized incomplete beta function."""
    if math.isinf(t):
        return 0.0 if t < 0 else 1.0
    tail = 0.5 * betainc_regularized(df / 2.0, 0.5, df / (df + t * t), t * t / (df + t * t))
    return tail if t < 0 else 1.0 - tail


def betainc_regularized(a: float, b: float, x: float, y: Optional[float] = None) -> float:
    """``I_x(a, b)`` by the continued fraction on the side where it converges fast.

    ``y = 1 - x`` may be given when it is known more precisely than ``1 - x`` computes it.
    """
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1], not {x}")
    y = 1.0 - x if y is None else y
    if x == 0.0 or y == 0.0:
        return 0.0 if x == 0.0 else 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log(y))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, y) / b


def _beta_cf(a, b, x, eps=1e-16, tiny=1e-300, max_iter=10000):
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, max_iter + 1):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            return h
    raise ArithmeticError("incomplete beta continued fraction did not converge")
