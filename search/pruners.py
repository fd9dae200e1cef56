"""Pruners composed: a trial stops as soon as any one of several pruners says so.

Hyperband alone keeps a trial in its most patient bracket running to the last rung, even when
the trial is plainly dead (chance accuracy after two epochs). `AnyPruner` pairs a multi-fidelity
pruner with such common-sense floors; `which` names the pruner that fired, for the trial's
stored end reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna
from optuna.trial import FrozenTrial


class AnyPruner(optuna.pruners.BasePruner):
    def __init__(self, pruners: Sequence[optuna.pruners.BasePruner]):
        self.pruners = tuple(pruners)

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        return any(pruner.prune(study, trial) for pruner in self.pruners)

    def which(self, study: optuna.Study, trial: FrozenTrial) -> str:
        """A description of the first pruner that prunes `trial` now (its class name)."""
        for pruner in self.pruners:
            if pruner.prune(study, trial):
                return describe(pruner)
        return type(self).__name__


def describe(pruner: optuna.pruners.BasePruner) -> str:
    if isinstance(pruner, optuna.pruners.ThresholdPruner):  # bounds are not public attributes
        lower, upper = pruner._lower, pruner._upper  # -inf / inf when unset
        bounds = [f"below {lower}"] if lower not in (None, float("-inf")) else []
        bounds += [f"above {upper}"] if upper not in (None, float("inf")) else []
        return f"ThresholdPruner (score {' or '.join(bounds)})"
    return type(pruner).__name__


def pruner_name(study: optuna.Study, trial: FrozenTrial) -> str:
    pruner = study.pruner
    return pruner.which(study, trial) if isinstance(pruner, AnyPruner) else describe(pruner)
