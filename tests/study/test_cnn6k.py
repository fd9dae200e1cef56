"""The cnn6k study: cnn20k's sampler over a narrower space, its warm start, its 6,000 limit."""

from __future__ import annotations

import optuna
from space_helpers import random_proposals

from search.engine.profile import profile
from search.engine.train import seeded_build
from search.study.definitions import RunOptions
from studies import STUDIES
from studies.cnn6k import MAX_PARAMS, SPACE_6K
from studies.cnn20k import sample as sample_20k

STUDY = STUDIES["cnn6k"]


def test_warm_start_is_cnn20ks_three_small_winners_at_19_epochs():
    counts = []
    for params in STUDY.enqueued(RunOptions()):
        proposal = STUDY.sample(optuna.trial.FixedTrial(params))
        assert proposal == sample_20k(optuna.trial.FixedTrial(params))  # same names, same nets
        assert proposal.recipe.epochs == 19
        counts.append(profile(seeded_build(proposal.spec, 1)).params)
    assert counts == [5_816, 4_758, 5_016]  # cnn20k trials 42, 47, 50


def test_samples_stay_in_the_narrow_space_and_the_limit_is_6000_inclusive():
    verdicts = []
    for _, proposal in random_proposals(STUDY.sample, 30, seed=3):
        if proposal is None:  # an invalid spec
            continue
        assert proposal.recipe.epochs == 19
        assert all(SPACE_6K.widths[0] <= w <= 28 for block in proposal.spec.blocks for w in block)
        assert proposal.spec.bn != "none" and proposal.spec.head != "conv_gap"
        model = seeded_build(proposal.spec, 1)
        found = profile(model)
        params_rule = STUDY.limits.check(model, found, 19)[0]
        assert params_rule.passed == (found.params <= MAX_PARAMS)
        verdicts.append(params_rule.passed)
    assert True in verdicts and False in verdicts  # both sides of the boundary were drawn
