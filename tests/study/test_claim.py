"""The claim rule (search.study.claim) and the interval the confirmation table shows."""

from __future__ import annotations

import math

import pytest

from search.reports.stats import mean_interval
from search.study.claim import claim


@pytest.mark.parametrize(
    ("finals", "said"),
    [
        ([99.45, 99.41, 99.38, 99.50, 99.40], "meets"),  # mean 99.428, min 99.38
        ([99.45, 99.41, 99.38, 99.50], "no: 4 seeds (< 5)"),
        ([99.40] * 5, "meets"),  # the bar is inclusive
        ([99.39] * 6, "no: mean 99.39 < 99.40"),
        ([99.60, 99.60, 99.60, 99.60, 99.24], "no: a seed at 99.24 < 99.25"),  # mean 99.528
        ([99.20, 99.30], "no: 2 seeds (< 5), mean 99.25 < 99.40, a seed at 99.20 < 99.25"),
        ([99.41], "no: 1 seed (< 5)"),  # one lucky run is never a claim
    ],
)
def test_a_claim_needs_five_seeds_a_mean_at_the_bar_and_no_seed_below_the_floor(finals, said):
    assert claim(finals) == said


def test_the_interval_is_the_t_interval_of_the_mean_over_seeds():
    low, high = mean_interval([99.3, 99.4, 99.5, 99.4, 99.4])
    half = 2.7764451051977987 * math.sqrt(0.005) / math.sqrt(5)  # t(0.975, 4) * s / sqrt(n)
    assert low == pytest.approx(99.4 - half, abs=1e-9)
    assert high == pytest.approx(99.4 + half, abs=1e-9)
    assert (round(low, 2), round(high, 2)) == (99.31, 99.49)
    assert mean_interval([99.4]) is None
