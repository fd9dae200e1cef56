"""frontier3: frontier2 with conv biases only where they change the output, and wider convs.

Under BatchNorm before ReLU (every net of the frontier spaces), a conv's bias is subtracted again
by the BN right after it: trial 53 (3,922 parameters) carries 44 such biases. In training their
gradient is zero, so dropping them changes neither what the net computes nor the gradients of
its other weights (tests/arch/test_vocabulary.py); it frees about 1% of the budget for width.
Spent on trial 53's first block (16 -> 18 channels, no conv biases at all,
reports/baseline.trial53-18s-nobias-908c) it gave 99.38 +- 0.05 over seeds 1-5, the best at
<= 4,000 so far. So this round:

- frontier2's space, parameter names, limit, learning-rate band, rungs and confirmation, with
  the spec's `bias: "needed"` on every net (a setting, not a choice: the same nets with fewer
  parameters);
- conv widths up to 24 instead of 16 (the freed parameters buy wider first blocks; a net over
  the limit is still pruned before training, at no cost);
- warm starts: trial 53 with an 18-channel first block (3,912 parameters with the head's bias
  kept) and the first round's trial 39 (3,822 without its cancelled biases).
"""

from __future__ import annotations

import dataclasses
from functools import partial

from studies import frontier2

WIDTHS = (4, 24, 2)  # low, high, step

TRIAL_53_18S = frontier2.FRONTIER_TRIAL_53 | {"b1_w1": 18}
WARM_START = (TRIAL_53_18S, frontier2.FRONTIER_TRIAL_39)

STUDY = dataclasses.replace(  # frontier2's study: its limit, rungs, sampler and confirmation
    frontier2.STUDY,
    name="frontier3",
    description="frontier2's space with biases only where needed and convs up to 24 wide,"
    " warm-started from trial 53 at 18 channels",
    seed=3,
    sample=partial(frontier2.STUDY.sample, widths=WIDTHS, bias="needed"),
    warm_start=WARM_START,
)
