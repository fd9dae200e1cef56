"""Small statistics for reports: mean ± std over seeds, and Welch's interval for a difference.

Pure functions on lists of numbers. The t quantile comes from scipy when it imports (it is not a
declared dependency); otherwise from the two-sided 95% table below, with the Welch degrees of
freedom rounded down (a wider, conservative interval), and the normal 1.96 past 120. Every
interval says which of the two it used.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

CONFIDENCE = 0.95  # two-sided
# Two-sided 95% critical values of Student's t (upper 2.5% point) by degrees of freedom.
T_TABLE_95 = {
    1: 12.7062047,
    2: 4.3026527,
    3: 3.1824463,
    4: 2.7764451,
    5: 2.5705818,
    6: 2.4469119,
    7: 2.3646243,
    8: 2.3060041,
    9: 2.2621572,
    10: 2.2281389,
    11: 2.2009852,
    12: 2.1788128,
    13: 2.1603687,
    14: 2.1447867,
    15: 2.1314495,
    16: 2.1199053,
    17: 2.1098155,
    18: 2.1009220,
    19: 2.0930241,
    20: 2.0859634,
    25: 2.0595386,
    30: 2.0422725,
    40: 2.0210754,
    60: 2.0002978,
    120: 1.9799304,
}
NORMAL_95 = 1.9599640  # beyond the table's last row


@dataclass(frozen=True)
class Spread:
    """Mean, sample standard deviation (None for one value), minimum and count."""

    mean: float
    std: float | None
    min: float
    n: int


@dataclass(frozen=True)
class Interval:
    """A confidence interval for `delta` = mean(variant) − mean(base)."""

    delta: float
    low: float
    high: float
    df: float  # Welch–Satterthwaite degrees of freedom
    method: str  # "scipy" or "t table (df rounded down)"


def spread(values: list[float]) -> Spread:
    std = statistics.stdev(values) if len(values) > 1 else None
    return Spread(statistics.fmean(values), std, min(values), len(values))


def t_quantile(df: float, use_scipy: bool = True) -> tuple[float, str]:
    """The upper 2.5% point of Student's t with `df` degrees of freedom, and its source."""
    if use_scipy:
        try:
            from scipy import stats
        except ImportError:
            pass
        else:
            return float(stats.t.ppf(1 - (1 - CONFIDENCE) / 2, df)), "scipy"
    floor = max(1, math.floor(df))
    rows = [row for row in T_TABLE_95 if row <= floor]
    value = NORMAL_95 if floor > max(T_TABLE_95) else T_TABLE_95[max(rows)]
    return value, "t table (df rounded down)"


def welch_interval(
    base: list[float], variant: list[float], use_scipy: bool = True
) -> Interval | None:
    """95% Welch t interval for mean(variant) − mean(base); None with fewer than 2 values each."""
    if len(base) < 2 or len(variant) < 2:
        return None
    share_base = statistics.variance(base) / len(base)
    share_variant = statistics.variance(variant) / len(variant)
    delta = statistics.fmean(variant) - statistics.fmean(base)
    squared_error = share_base + share_variant
    if squared_error == 0:  # identical runs within each group: no spread to scale by
        return Interval(delta, delta, delta, math.inf, "no spread")
    df = squared_error**2 / (
        share_base**2 / (len(base) - 1) + share_variant**2 / (len(variant) - 1)
    )
    quantile, method = t_quantile(df, use_scipy)
    half = quantile * math.sqrt(squared_error)
    return Interval(delta, delta - half, delta + half, df, method)
