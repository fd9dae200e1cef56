"""What counts as meeting the task: a claim rests on seeds, never on one lucky run.

A net meets the target only when its final test accuracy (after the last epoch, nothing chosen on
the test set) averages >= 99.40% over at least 5 seeds and no seed ends below 99.25%. On 10,000
test images one image is 0.01 points and the binomial standard error near 99.4% is ~0.08 points,
so one run at 99.41% says little.
"""

from __future__ import annotations

import statistics

TARGET_ACC = 99.40  # percent: the task's bar, for the mean over seeds
SEED_FLOOR = 99.25  # percent: no seed may end below it
MIN_SEEDS = 5


def claim(finals: list[float]) -> str:
    """ "meets" or why not, e.g. "no: 3 seeds (< 5)", "no: mean 99.38 < 99.40"."""
    reasons = []
    if len(finals) < MIN_SEEDS:
        reasons.append(f"{len(finals)} seed{'s' * (len(finals) != 1)} (< {MIN_SEEDS})")
    mean = statistics.fmean(finals) if finals else float("nan")
    if not mean >= TARGET_ACC:
        reasons.append(f"mean {mean:.2f} < {TARGET_ACC:.2f}")
    if finals and min(finals) < SEED_FLOOR:
        reasons.append(f"a seed at {min(finals):.2f} < {SEED_FLOOR:.2f}")
    return "meets" if not reasons else "no: " + ", ".join(reasons)
