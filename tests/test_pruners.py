"""The composed pruner of the cnn20k study: Hyperband plus a floor for dead trials."""

from __future__ import annotations

import optuna

from search.pruners import AnyPruner, pruner_name
from studies.cnn20k import make_pruner


def reported(study: optuna.Study, values: list[float]) -> optuna.trial.FrozenTrial:
    trial = study.ask()
    for step, value in enumerate(values, start=1):
        trial.report(value, step)
    return study._storage.get_trial(trial._trial_id)


def test_a_dead_trial_is_pruned_at_epoch_2_whatever_its_bracket():
    study = optuna.create_study(direction="maximize", pruner=make_pruner(1))
    dead = reported(study, [10.75, 10.75])
    assert study.pruner.prune(study, dead)
    assert pruner_name(study, dead) == "ThresholdPruner (score below 50.0)"
    early = reported(study, [10.75])  # one epoch is too early to judge
    assert not study.pruner.prune(study, early)
    alive = reported(study, [97.0, 98.2])  # the first trial of its bracket: nothing to compare
    assert not study.pruner.prune(study, alive)


def test_any_pruner_prunes_when_one_of_its_pruners_does():
    never, always = optuna.pruners.NopPruner(), optuna.pruners.ThresholdPruner(upper=0.0)
    study = optuna.create_study(pruner=AnyPruner([never, always]))
    trial = reported(study, [1.0])
    assert study.pruner.prune(study, trial)
    assert pruner_name(study, trial) == "ThresholdPruner (score above 0.0)"
    assert not AnyPruner([never]).prune(study, trial)
