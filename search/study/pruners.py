"""Pruners composed: a trial stops as soon as any one of several pruners says so.

Hyperband alone keeps a trial in its most patient bracket running to the last rung, even when
the trial is plainly dead (chance accuracy after two epochs). `AnyPruner` pairs a multi-fidelity
pruner with such common-sense floors; `which` names the pruner that fired, for the trial's
stored end reason. Enqueued trials (warm starts: a known recipe, a sibling study's winner) are
never pruned: they were put there on purpose, and a slow starter among them is the very trial an
early rung would wrongly stop (the cnn6k recipe winner, a batch-32 one-cycle recipe with 15°
rotation, was pruned at epoch 6 on the 4,348-parameter net while still behind the base's own).
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna
from optuna.trial import FrozenTrial

from search.store.record import enqueued_of


class AnyPruner(optuna.pruners.BasePruner):
    """Prunes when any of `pruners` does; remembers which one, per trial, for the end reason.

    The decision is recorded when it is made: Hyperband writes its rung bookkeeping into the
    trial on the first call, so asking it again afterwards would not give the same answer.
    """

    def __init__(self, pruners: Sequence[optuna.pruners.BasePruner], last_step: int | None = None):
        self.pruners = tuple(pruners)
        self.last_step = last_step  # no pruning after this step (None: any step)
        self._fired: dict[int, str] = {}  # trial number -> pruner that pruned it

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        step = trial.last_step
        if self.last_step is not None and step is not None and step > self.last_step:
            return False  # too late to save much: let the trial finish
        enqueued = enqueued_of(trial)  # by the study (a retry keeps its original's)
        for pruner in self.pruners:
            # An enqueued trial is still shown to every pruner (Hyperband records its value in
            # the rung, where it becomes the bar for the others) but runs to the end.
            if pruner.prune(study, trial) and not enqueued:
                self._fired[trial.number] = describe(pruner)
                return True
        return False

    def which(self, trial: FrozenTrial) -> str:
        return self._fired.get(trial.number, type(self).__name__)


def describe(pruner: optuna.pruners.BasePruner) -> str:
    if isinstance(pruner, optuna.pruners.ThresholdPruner):  # bounds are not public attributes
        lower, upper = pruner._lower, pruner._upper  # -inf / inf when unset
        bounds = [f"below {lower}"] if lower not in (None, float("-inf")) else []
        bounds += [f"above {upper}"] if upper not in (None, float("inf")) else []
        return f"ThresholdPruner (score {' or '.join(bounds)})"
    return type(pruner).__name__


def pruner_name(study: optuna.Study, trial: FrozenTrial) -> str:
    pruner = study.pruner
    return pruner.which(trial) if isinstance(pruner, AnyPruner) else describe(pruner)
