"""The cnn5k study: cnn20k's sampler over the winners' choices, its warm start, its 5,000 limit,
and a pruner whose rungs all fall before the epoch-15 cut-off."""

from __future__ import annotations

import optuna
from space_helpers import random_proposals, stopped_epochs

from search.engine.profile import profile
from search.engine.train import seeded_build
from search.study.definitions import RunOptions
from studies import STUDIES
from studies.cnn5k import MAX_PARAMS, SPACE_5K

STUDY = STUDIES["cnn5k"]


def test_warm_start_is_trial_45_a_wider_45_and_a_narrowed_trial_0_all_under_5000():
    found = []
    for params in STUDY.enqueued(RunOptions()):
        proposal = STUDY.sample(optuna.trial.FixedTrial(params))
        assert proposal.recipe.epochs == 19
        model = seeded_build(proposal.spec, 1)
        counted = profile(model)
        assert all(rule.passed for rule in STUDY.limits.check(model, counted, 19))
        found.append((counted.params, proposal.recipe.batch_size))
    assert found == [(4_348, 64), (4_854, 64), (4_826, 32)]


def test_samples_stay_in_the_space_and_the_limit_is_5000_inclusive():
    verdicts = []
    for _, proposal in random_proposals(STUDY.sample, 40, seed=5):
        if proposal is None:  # an invalid spec
            continue
        spec, recipe = proposal.spec, proposal.recipe
        assert len(spec.blocks) == 3 and spec.bn == "before_relu"
        assert spec.head in SPACE_5K.heads and spec.dropout in SPACE_5K.dropouts
        assert recipe.optimizer == "adamw" and recipe.schedule == "onecycle"
        assert recipe.epochs == 19 and recipe.batch_size in (32, 64)
        assert 2e-3 <= recipe.lr <= 0.05
        model = seeded_build(spec, 1)
        counted = profile(model)
        params_rule = STUDY.limits.check(model, counted, 19)[0]
        assert params_rule.passed == (counted.params <= MAX_PARAMS)
        verdicts.append(params_rule.passed)
    assert True in verdicts and False in verdicts  # both sides of the boundary were drawn


def test_the_score_is_validation_accuracy_alone():
    assert STUDY.score(99.3, 4_999) == 99.3
    assert STUDY.score(99.3, 1_000) == 99.3


def test_every_hyperband_bracket_prunes_before_the_cut_off():
    # 60 trials with noisy rising curves through the study's own pruner (AnyPruner: Hyperband,
    # the 50% floor, nothing after epoch 15): trials stop only at the rungs 1, 3 and 9, and
    # each of the three brackets (first rungs 1, 3, 9) stops some.
    pruner = STUDY.make_pruner(1)
    stopped_at = stopped_epochs(pruner)
    hyperband = pruner.pruners[0]
    first_rungs = sorted(
        bracket._min_resource * 3**bracket._min_early_stopping_rate
        for bracket in hyperband._pruners
    )
    assert first_rungs == [1, 3, 9]
    assert set(stopped_at) <= {1, 3, 9} and 9 in stopped_at
    assert max(stopped_at) <= pruner.last_step == 15
    assert len(stopped_at) > 30  # most of 60 random trials are stopped early
