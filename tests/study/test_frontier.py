"""The frontier study: the richer vocabulary as a search space, its 4,000 limit, its recipe."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
from space_helpers import random_proposals

from search.engine.profile import profile
from search.engine.train import seeded_build
from studies import STUDIES
from studies.frontier import CNN5K_TRIAL_30, MAX_PARAMS, WARM_START

STUDY = STUDIES["frontier"]


def test_samples_use_the_new_vocabulary_and_the_limit_is_4000_inclusive():
    seen = {"kernel 5": 0, "dilation 2": 0, "separable": 0, "strided": 0, "linear 1x1": 0}
    recipes = {"label smoothing": 0, "ema": 0}
    verdicts = []
    for params, proposal in random_proposals(STUDY.sample, 60, seed=3):
        assert {"b1_k1", "b1_d1", "b1_sep1", "t1_pool", "t2_pool_bn"} <= set(params)
        if proposal is None:  # an invalid spec (the map collapses): pruned as invalid
            continue
        assert {"lr", "label_smoothing", "ema"} <= set(params)
        spec, recipe = proposal.spec, proposal.recipe
        assert len(spec.blocks) == 3 and spec.bn == "before_relu"
        assert recipe.optimizer == "adamw" and recipe.schedule == "onecycle"
        assert recipe.epochs == 19 and recipe.batch_size in (32, 64)
        seen["kernel 5"] += any(5 in block for block in spec.kernels)
        seen["dilation 2"] += any(2 in block for block in spec.dilations)
        seen["separable"] += any(True in block for block in spec.separable)
        seen["strided"] += any(t.pool == "conv" for t in spec.transitions)
        seen["linear 1x1"] += any(t.width and not t.act for t in spec.transitions)
        recipes["label smoothing"] += recipe.label_smoothing > 0
        recipes["ema"] += recipe.ema > 0
        model = seeded_build(spec, 1)
        counted = profile(model)
        rule = STUDY.limits.check(model, counted, 19)[0]
        assert rule.passed == (counted.params <= MAX_PARAMS)
        verdicts.append(rule.passed)
    assert all(seen.values()) and all(recipes.values()), (seen, recipes)
    assert True in verdicts and False in verdicts  # both sides of the boundary were drawn
    assert STUDY.limits.describe() == "params <= 4,000, epochs <= 19, no fully connected layer"
    assert STUDY.seeds == (1, 2, 3, 4, 5) and STUDY.confirm_top == 3


def test_warm_start_rebuilds_the_cnn5k_winner_and_each_entry_fits_the_limit():
    exported = json.loads(
        (Path(__file__).parents[2] / "reports/cnn5k/trial30/spec.json").read_text()
    )
    reference = STUDY.sample(optuna.trial.FixedTrial(CNN5K_TRIAL_30))
    assert reference.spec.summary == exported["summary"]
    assert profile(seeded_build(reference.spec, 1)).params == exported["params"] == 4686
    for key in ("optimizer", "lr", "schedule", "batch_size", "augment_degrees",
                "augment_translate"):  # fmt: skip
        assert getattr(reference.recipe, key) == exported["recipe"][key], key
    counts = []
    for params in WARM_START:
        proposal = STUDY.sample(optuna.trial.FixedTrial(params))
        model = seeded_build(proposal.spec, 1)
        counted = profile(model)
        assert STUDY.limits.check(model, counted, 19)[0].passed
        counts.append(counted.params)
    assert counts == [3814, 3902, 3786, 3886]
    assert STUDY.warm_start == WARM_START and CNN5K_TRIAL_30 not in WARM_START
