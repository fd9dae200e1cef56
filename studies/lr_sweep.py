"""lr-sweep: the Part-A toy network's error curve at each learning rate the reference asks about.

One trial per learning rate (Optuna's grid sampler), 100 plain gradient-descent updates of the
2-2-2 network from the reference's initial weights (archs.toy); E_total after every update is the
trial's intermediate value at that step. No data, no training of a CNN: it runs in seconds.
"""

from __future__ import annotations

import optuna

from search.study import ToyStudy

LEARNING_RATES = (0.1, 0.2, 0.5, 0.8, 1.0, 2.0)  # the reference's six charts

STUDY = ToyStudy(
    name="lr-sweep",
    description="Part-A toy 2-2-2 network: E_total over 100 gradient steps at six learning rates",
    direction="minimize",
    n_trials=len(LEARNING_RATES),
    seed=1,
    make_sampler=lambda seed: optuna.samplers.GridSampler({"lr": list(LEARNING_RATES)}, seed=seed),
    learning_rates=LEARNING_RATES,
    steps=100,
)
