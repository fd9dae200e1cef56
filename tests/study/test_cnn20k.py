"""The cnn20k search space on its own: round trip, stable names, 20 seeded samples, limits."""

from __future__ import annotations

import optuna
import pytest
import torch
from space_helpers import random_proposals

from archs import BASELINE, SpecError
from search.engine.profile import profile
from search.engine.train import seeded_build
from search.study.definitions import Proposal, RunOptions
from search.study.limits import Limits
from search.study.recipe import REFERENCE_RECIPE
from studies import STUDIES
from studies.cnn20k import params_for, sample

# Every parameter name the space can use; a trial uses a subset (conditional parameters).
NAMES = {
    "blocks",
    "pool_bn",
    "dropout",
    "dropout_at",
    "b1_padding",
    "bn",
    "head",
    "bias",
    "optimizer",
    "lr",
    "schedule",
    "batch_size",
    "augment_degrees",
    "augment_translate",
    "epochs",
    *(f"b{b}_convs" for b in (1, 2, 3)),
    *(f"b{b}_w{c}" for b in (1, 2, 3) for c in (1, 2, 3)),
    "t1_width",
    "t2_width",
}


def test_space_contains_the_baseline_and_params_round_trip():
    baseline = Proposal(BASELINE, REFERENCE_RECIPE)
    assert sample(optuna.trial.FixedTrial(params_for(baseline))) == baseline
    for _, proposal in random_proposals(sample, 20):
        if proposal is not None:
            assert sample(optuna.trial.FixedTrial(params_for(proposal))) == proposal


def test_parameter_names_are_stable():
    for params, proposal in random_proposals(sample, 40, seed=1):
        assert set(params) <= NAMES
        if proposal is not None:  # an invalid spec stops sampling before the recipe
            assert {"blocks", "bn", "head", "lr", "optimizer", "epochs"} <= set(params)


def test_the_warm_start_is_the_baseline_first():
    study = STUDIES["cnn20k"]
    assert study.enqueued(RunOptions())[0] == params_for(Proposal(BASELINE, REFERENCE_RECIPE))


@pytest.mark.parametrize("index", range(20))
def test_twenty_seeded_samples_build_train_and_respect_limits(index):
    params, proposal = random_proposals(sample, 20, seed=7)[index]
    if proposal is None:  # an invalid point is pruned by the runner; it must say why
        with pytest.raises(SpecError, match="collapses"):
            sample(optuna.trial.FixedTrial(params))
        return
    model = seeded_build(proposal.spec, 0)
    measured = profile(model)
    verdicts = Limits().check(model, measured, proposal.recipe.epochs)
    assert proposal.recipe.epochs <= 19
    assert verdicts[0].passed == (measured.params < 20_000)
    assert all(v.passed for v in verdicts[1:])  # no FC layer, epochs within the cap
    model.train()
    images = torch.randn(4, 1, 28, 28)
    output = model(images)
    assert output.shape == (4, 10)
    assert not torch.isnan(output).any()
    assert torch.allclose(output.exp().sum(dim=1), torch.ones(4), atol=1e-5)
    output[:, 3].sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
