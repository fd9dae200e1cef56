"""Small statistics for reports: mean ± std over seeds, and paired intervals for ablations.

Pure functions on lists of numbers; the t quantile comes from scipy. An ablation pairs each
variant's run with the base's run of the same seed (same data order and augmentation draws), so
the interval is the one-sample t interval of the per-seed deltas, and the verdict says in words
whether that interval excludes zero.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95  # two-sided


@dataclass(frozen=True)
class Spread:
    """Mean, sample standard deviation (None for one value), minimum and count."""

    mean: float
    std: float | None
    min: float
    n: int


@dataclass(frozen=True)
class Interval:
    """A 95% t interval for the mean of paired deltas (variant − base, accuracy points)."""

    delta: float
    low: float
    high: float
    df: int  # n − 1
    n: int  # pairs


def spread(values: list[float]) -> Spread:
    std = statistics.stdev(values) if len(values) > 1 else None
    return Spread(statistics.fmean(values), std, min(values), len(values))


def t_quantile(df: float) -> float:
    """The upper 2.5% point of Student's t with `df` degrees of freedom."""
    return float(stats.t.ppf(1 - (1 - CONFIDENCE) / 2, df))


def mean_interval(values: list[float]) -> tuple[float, float] | None:
    """The 95% t interval of the mean of `values` (seeds); None with fewer than 2."""
    n = len(values)
    if n < 2:
        return None
    mean = statistics.fmean(values)
    half = t_quantile(n - 1) * statistics.stdev(values) / math.sqrt(n)
    return mean - half, mean + half


def paired_deltas(base: dict[int, float], variant: dict[int, float]) -> dict[int, float]:
    """variant − base for every seed both have, by seed."""
    return {seed: variant[seed] - base[seed] for seed in sorted(set(base) & set(variant))}


def paired_interval(deltas: list[float]) -> Interval | None:
    """95% t interval of the mean delta; None with fewer than 2 pairs, or when every pair moved
    by the same delta (a zero-width interval would read as certainty)."""
    bounds = mean_interval(deltas)
    if bounds is None or no_spread(deltas):
        return None
    return Interval(statistics.fmean(deltas), *bounds, len(deltas) - 1, len(deltas))


# Accuracies on 10,000 test images move in steps of 0.01 points: deltas closer than half a step
# are the same delta (their float differences are rounding).
SAME_DELTA = 0.005


def no_spread(deltas: list[float]) -> bool:
    return len(deltas) > 1 and max(deltas) - min(deltas) < SAME_DELTA


def verdict(deltas: list[float]) -> str:
    """The paired result in plain words, e.g. 'lowers accuracy by 0.21 [0.09, 0.33] points'."""
    if not deltas:
        return "no pair with the base"
    if len(deltas) == 1:
        return f"one pair only (delta {deltas[0]:+.2f}): no interval"
    interval = paired_interval(deltas)
    if interval is None:
        return (
            f"every seed moved by the same {statistics.fmean(deltas):+.2f} (no spread at"
            f" n = {len(deltas)}, so no interval)"
        )
    if interval.low > 0:
        return (
            f"raises accuracy by {interval.delta:.2f} [{interval.low:.2f}, {interval.high:.2f}]"
            " points"
        )
    if interval.high < 0:
        return (
            f"lowers accuracy by {-interval.delta:.2f} [{-interval.high:.2f}, {-interval.low:.2f}]"
            " points"
        )
    return (
        f"no detectable effect at n = {interval.n} (delta {interval.delta:+.2f}"
        f" [{interval.low:+.2f}, {interval.high:+.2f}])"
    )


def chance_exclusions(intervals: int) -> tuple[float, float]:
    """With no effect anywhere: the expected number of 95% intervals (of `intervals`) that
    exclude zero, and the probability that at least one does (independent intervals)."""
    return intervals * (1 - CONFIDENCE), 1 - CONFIDENCE**intervals
