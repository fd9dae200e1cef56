"""Drawing a study's proposals at random, for the tests of its search space."""

from __future__ import annotations

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
