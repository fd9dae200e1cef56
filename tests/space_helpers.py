"""Drawing a study's proposals at random, and running its pruner on made-up curves, for the tests
of its search space."""

from __future__ import annotations

import random
from collections.abc import Callable

import optuna

from archs import SpecError
from search.study.definitions import Proposal


def random_proposals(
    sample: Callable[[optuna.trial.BaseTrial], Proposal], count: int, seed: int = 0
) -> list[tuple[dict, Proposal | None]]:
    """`count` random points of `sample`'s space: (params, proposal or None when the spec is
    invalid)."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    found = []
    while len(found) < count:
        trial = study.ask()
        try:
            proposal = sample(trial)
        except SpecError:
            proposal = None
        found.append((trial.params, proposal))  # params: only after sample() drew them
        study.tell(trial, 0.0)
    return found


def stopped_epochs(pruner: optuna.pruners.BasePruner, trials: int = 60) -> list[int]:
    """The epochs at which `pruner` stops `trials` made-up trials: each a random level in 90-99
    rising 0.05 per epoch with +-0.3 of noise (seeded), over 19 epochs."""
    study = optuna.create_study(direction="maximize", pruner=pruner)
    rng = random.Random(0)
    stopped_at = []

    def objective(trial: optuna.trial.Trial) -> float:
        quality = rng.uniform(90.0, 99.0)
        for epoch in range(1, 20):
            trial.report(quality + epoch * 0.05 + rng.uniform(-0.3, 0.3), epoch)
            if trial.should_prune():
                stopped_at.append(epoch)
                raise optuna.TrialPruned
        return quality

    study.optimize(objective, n_trials=trials)
    return stopped_at
