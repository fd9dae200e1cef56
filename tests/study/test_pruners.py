"""The composed pruner of the cnn20k study: Hyperband plus a floor for dead trials."""

from __future__ import annotations

import optuna

from search.study.pruners import AnyPruner, pruner_name
from studies.cnn20k import make_pruner


def reported(study: optuna.Study, values: list[float]) -> optuna.trial.FrozenTrial:
    trial = study.ask()
    for step, value in enumerate(values, start=1):
        trial.report(value, step)
    return study._storage.get_trial(trial._trial_id)


def test_a_dead_trial_is_pruned_at_epoch_2_whatever_its_bracket():
    study = optuna.create_study(direction="maximize", pruner=make_pruner(1))
    dead = reported(study, [10.75, 10.75])
    assert pruner_name(study, dead) == "AnyPruner"  # nothing decided yet
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


def test_the_pruner_named_is_the_one_that_decided_even_for_hyperband():
    pruner = AnyPruner(
        [optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)]
    )
    # Hyperband assigns brackets by a hash of the study name and trial number: with a random
    # name all nine bad trials missed the brackets that prune at epoch 1 about once in 1,500.
    study = optuna.create_study(study_name="hyperband-rungs", direction="maximize", pruner=pruner)
    for _ in range(9):  # fill the brackets' first rungs with good trials
        trial = study.ask()
        trial.report(99.0, 1)
        assert not trial.should_prune()  # records the rung, as a running trial would
        study.tell(trial, 99.0)
    bad = [reported(study, [20.0]) for _ in range(9)]
    fired = [t for t in bad if study.pruner.prune(study, t)]
    assert fired  # some bad trial lands in a bracket that prunes at epoch 1
    assert {pruner_name(study, t) for t in fired} == {"HyperbandPruner"}


def test_nothing_is_pruned_after_the_last_step():
    always = optuna.pruners.ThresholdPruner(upper=0.0)
    study = optuna.create_study(pruner=AnyPruner([always], last_step=15))
    assert study.pruner.prune(study, reported(study, [1.0] * 15))
    assert not study.pruner.prune(study, reported(study, [1.0] * 16))
    assert make_pruner(1).last_step == 15


def test_hyperbands_late_rung_no_longer_stops_a_leader():
    """Rung 18 of cnn20k's Hyperband: a trial behind its rung mates there finishes anyway."""
    # Hyperband assigns brackets by a hash of the study name and trial number: a fixed name
    # puts these trials where, without the cut-off, it prunes one at epoch 18.
    study = optuna.create_study(
        study_name="late-rung", direction="maximize", pruner=make_pruner(1)
    )
    ahead = [reported(study, [99.0] * 18) for _ in range(6)]
    behind = reported(study, [98.0] * 18)
    assert all(not study.pruner.prune(study, trial) for trial in [*ahead, behind])
    late = AnyPruner(study.pruner.pruners)  # the same pruners without the cut-off
    assert any(late.prune(study, trial) for trial in [*ahead, behind])


def test_an_enqueued_trial_runs_to_the_end_but_still_sets_the_bar():
    pruner = AnyPruner(
        [optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)]
    )
    study = optuna.create_study(study_name="hyperband-rungs", direction="maximize", pruner=pruner)
    for _ in range(9):  # fill the brackets' first rungs with good trials (a fixed name: above)
        trial = study.ask()
        trial.report(99.0, 1)
        assert not trial.should_prune()
        study.tell(trial, 99.0)
    for _ in range(9):
        study.enqueue_trial({}, user_attrs={"enqueued": True})  # warm starts, as runner marks
    warm = [reported(study, [20.0]) for _ in range(9)]
    assert not any(study.pruner.prune(study, t) for t in warm)
    recorded = [study._storage.get_trial(t._trial_id).system_attrs for t in warm]
    assert any(any(key.startswith("completed_rung") for key in attrs) for attrs in recorded)
    for _ in range(9):
        study.enqueue_trial({})  # queued, not by the study (a retry of a sampled trial)
    sampled = [reported(study, [20.0]) for _ in range(9)]  # the same scores, not spared
    assert any(study.pruner.prune(study, t) for t in sampled)
