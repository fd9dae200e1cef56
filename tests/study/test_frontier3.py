"""frontier3: frontier2's space with biases only where needed and convs up to 24 wide."""

from __future__ import annotations

import dataclasses

import optuna
from space_helpers import random_proposals

from search.engine.profile import profile
from search.engine.train import seeded_build
from search.study.definitions import RunOptions
from studies import STUDIES

STUDY = STUDIES["frontier3"]


def test_warm_starts_are_trial_53_at_18_channels_and_trial_39_without_their_cancelled_biases():
    enqueued = STUDY.enqueued(RunOptions())
    first_round = STUDIES["frontier2"].enqueued(RunOptions())
    assert enqueued[0] == first_round[0] | {"b1_w1": 18} and enqueued[1] == first_round[1]
    proposals = [STUDY.sample(optuna.trial.FixedTrial(params)) for params in enqueued]
    assert [p.spec.summary for p in proposals] == [
        "18s|Pn|T6|10|Pn|12|CR bn:pre drop:0.02 bias:needed",
        "8s|Sn|T6|10|Pn|10|CR bn:pre drop:0.02 bias:needed",
    ]
    # trial 53 at 18 channels: 3,902 without any conv bias (reports/frontier), plus the head's
    # 10; trial 39: its 3,856 less conv1's 8, the 1x1's 6, conv2's 10 and conv3's 10 (BN follows
    # each); the strided conv keeps its 8 (no BN after it)
    assert [profile(seeded_build(p.spec, 1)).params for p in proposals] == [3_912, 3_822]
    assert all(p.recipe.lr in (0.00557705171495303, 0.003053112253803049) for p in proposals)


def test_the_space_is_frontier2s_with_biases_only_where_needed_and_wider_convs():
    frontier2 = STUDIES["frontier2"]
    widths = set()
    for params, proposal in random_proposals(STUDY.sample, 40, seed=5):
        if proposal is None:  # an invalid spec, as in frontier
            continue
        assert proposal.spec.bias == "needed"  # BN before ReLU everywhere: always some to drop
        widths.update(w for block in proposal.spec.blocks for w in block)
        if max(w for block in proposal.spec.blocks for w in block) <= 16:
            same = frontier2.sample(optuna.trial.FixedTrial(params))
            assert same.spec == dataclasses.replace(proposal.spec, bias=True)
            assert same.recipe == proposal.recipe
    assert max(widths) > 16 and widths <= set(range(4, 25, 2))
    assert STUDY.limits is frontier2.limits and STUDY.confirm_top == 3
    assert STUDY.make_pruner is frontier2.make_pruner and STUDY.seeds == (1, 2, 3, 4, 5)
