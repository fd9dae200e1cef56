"""frontier2: frontier's space with the learning-rate band narrowed, its first Hyperband rung at
epoch 3, and the first round's confirmed nets as warm starts."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
from space_helpers import random_proposals, stopped_epochs

from search.engine.profile import profile
from search.engine.train import seeded_build
from search.study.definitions import RunOptions
from studies import STUDIES
from studies.frontier2 import LR_BAND

STUDY = STUDIES["frontier2"]
FIRST_ROUND = Path(__file__).parents[2] / "reports/frontier/data.json"


def test_warm_starts_are_the_first_rounds_trials_53_and_39_as_they_were_sampled():
    trials = {t["number"]: t for t in json.loads(FIRST_ROUND.read_text())["trials"]}
    enqueued = STUDY.enqueued(RunOptions())
    assert [params["lr"] for params in enqueued] == [0.00557705171495303, 0.003053112253803049]
    for number, params in zip((53, 39), enqueued, strict=True):
        first = trials[number]
        assert params == first["sampled"]  # every choice, not only the ones the net shows
        proposal = STUDY.sample(optuna.trial.FixedTrial(params))
        assert proposal.spec.summary == first["summary"]
        assert profile(seeded_build(proposal.spec, 1)).params == first["params"]
        recipe = {key: value for key, value in first["recipe"].items() if key != "seed"}
        assert {key: getattr(proposal.recipe, key) for key in recipe} == recipe
    assert [t["params"] for t in map(trials.get, (53, 39))] == [3922, 3856]


def test_the_space_is_frontiers_with_the_learning_rate_in_its_narrow_band_and_no_smoothing():
    frontier = STUDIES["frontier"]
    assert LR_BAND == (2.5e-3, 8e-3)
    emas = set()
    for params, proposal in random_proposals(STUDY.sample, 40, seed=4):
        if proposal is None:  # an invalid spec, as in frontier
            continue
        assert LR_BAND[0] <= proposal.recipe.lr <= LR_BAND[1]
        assert params["label_smoothing"] == proposal.recipe.label_smoothing == 0.0
        emas.add(proposal.recipe.ema)
        same = frontier.sample(optuna.trial.FixedTrial(params))
        assert same.spec == proposal.spec and same.recipe == proposal.recipe
    assert emas == {0.0, 0.99, 0.999}  # the moving average is still chosen
    smoothed = {
        p.recipe.label_smoothing for _, p in random_proposals(frontier.sample, 40, seed=4) if p
    }
    assert smoothed == {0.0, 0.05, 0.1}  # frontier itself keeps its three
    assert STUDY.limits is frontier.limits and STUDY.confirm_top == 3
    assert STUDY.seeds == (1, 2, 3, 4, 5) and STUDY.val_size == 10_000


def test_hyperband_stops_trials_only_at_epochs_3_and_9():
    stopped_at = stopped_epochs(STUDY.make_pruner(1))
    assert set(stopped_at) == {3, 9}
    assert len(stopped_at) > 30
