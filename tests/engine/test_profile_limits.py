"""Profiling (fvcore) and the limits as rules: exact counts worked by hand, reasons word for word.

FLOPs follow fvcore's convention: one multiply-add is one FLOP; a conv costs
Cout * Cin * k * k * Hout * Wout, BatchNorm (eval) 2 per output element, adaptive average pooling
1 per input element.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from random_specs import random_specs
from torch import nn

from archs import BASELINE, build, conv_flops, layer_geometry
from search.engine.profile import profile
from search.study.limits import (
    MAX_PARAMS,
    Limits,
    Verdict,
    epochs_rule,
    failures,
    no_fc_rule,
    params_rule,
)

# Conv FLOPs of the baseline, Cout * Cin * k^2 * Hout * Wout per conv:
#   conv1   8 *  1 * 9 * 26 * 26 =    48,672
#   conv2  16 *  8 * 9 * 24 * 24 =   663,552
#   conv3  16 * 16 * 9 * 22 * 22 = 1,115,136
#   trans1  8 * 16 * 1 * 11 * 11 =    15,488
#   conv4  16 *  8 * 9 *  9 *  9 =    93,312
#   conv5  32 * 16 * 9 *  7 *  7 =   225,792
#   head   10 * 32 * 1 *  1 *  1 =       320
#   total                          2,162,272
BASELINE_CONV_FLOPS = 2_162_272
# BatchNorm, 2 per element: 2 * (8*26*26 + 16*24*24 + 16*22*22 + 16*11*11 + 8*11*11 + 16*9*9
# + 32*7*7) = 2 * 28,136 = 56,272; the GAP reads 32 * 7 * 7 = 1,568 values.
BASELINE_FVCORE_FLOPS = BASELINE_CONV_FLOPS + 56_272 + 1_568  # 2,220,112


@pytest.fixture(scope="module")
def baseline_profile():
    return profile(build(BASELINE))


def test_baseline_profile_totals(baseline_profile):
    assert baseline_profile.params == baseline_profile.trainable_params == 10_066
    assert baseline_profile.conv_flops == BASELINE_CONV_FLOPS == 2_162_272
    assert baseline_profile.flops == BASELINE_FVCORE_FLOPS == 2_220_112
    assert baseline_profile.flops_by_operator == {
        "conv": 2_162_272,
        "batch_norm": 56_272,
        "adaptive_avg_pool2d": 1_568,
    }
    assert baseline_profile.unsupported == {"aten::max_pool2d": 1, "aten::log_softmax": 1}


def test_baseline_conv_flops_per_layer_follow_the_formula(baseline_profile):
    by_name = {layer.name: layer for layer in baseline_profile.layers}
    convs = [layer for layer in layer_geometry(BASELINE) if conv_flops(layer)]
    assert [layer.name for layer in convs] == [
        "conv1", "conv2", "conv3", "trans1", "conv4", "conv5", "head",
    ]  # fmt: skip
    expected = [48_672, 663_552, 1_115_136, 15_488, 93_312, 225_792, 320]
    assert [by_name[layer.name].flops for layer in convs] == expected
    for layer in convs:
        assert conv_flops(layer) == (
            layer.out_channels * layer.in_channels * layer.kernel**2 * layer.size**2
        )
        assert by_name[layer.name].flops == conv_flops(layer)
        assert by_name[layer.name].output_shape == (1, layer.out_channels, layer.size, layer.size)
    assert by_name["bn1"].flops == 2 * 8 * 26 * 26
    assert by_name["gap"].flops == 32 * 7 * 7
    assert by_name["log_softmax"].output_shape == (1, 10)


@pytest.mark.parametrize("spec", random_specs(8, seed=99), ids=lambda spec: spec.summary)
def test_conv_flops_of_sampled_specs_follow_the_geometry(spec):
    result = profile(build(spec))
    by_name = {layer.name: layer.flops for layer in result.layers}
    convs = [layer for layer in layer_geometry(spec) if layer.kind.startswith("conv")]
    for layer in convs:
        assert by_name[layer.name] == conv_flops(layer) > 0, layer
    assert result.conv_flops == sum(conv_flops(layer) for layer in convs)


def test_profiling_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = build(BASELINE)
    with torch.no_grad():  # batch statistics would move these if profiling ran in train mode
        model(torch.randn(8, 1, 28, 28))
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    result = profile(model)
    assert result.params == 10_066
    assert model.training and all(m.training for m in model.modules())
    after = model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    model.eval()
    profile(model)
    assert not any(m.training for m in model.modules())


def test_profiling_emits_no_warnings_and_prints_nothing(capsys):
    model = build(BASELINE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        profile(model)
    assert [f"{w.category.__name__}: {w.message} ({w.filename})" for w in caught] == []
    assert capsys.readouterr() == ("", "")


def test_profile_to_dict_is_plain_data(baseline_profile):
    data = baseline_profile.to_dict()
    assert data["params"] == 10_066
    assert data["layers"][0] == {
        "name": "conv1",
        "kind": "Conv2d",
        "params": 80,
        "flops": 48_672,
        "output_shape": (1, 8, 26, 26),
    }


# --- limits -------------------------------------------------------------------------------------


def test_params_rule_reasons(baseline_profile):
    # Conv2d(74, 32, 3): 32 * (74 * 3 * 3 + 1) = 32 * 667 = 21,344 parameters
    big = nn.Conv2d(74, 32, 3)
    big_profile = profile(big, input_shape=(1, 74, 28, 28))
    assert big_profile.params == 21_344
    # violation = params - 20,000 + 1: 21,344 - 19,999 = 1,345; 10,066 - 19,999 = -9,933
    assert params_rule(big_profile) == Verdict("params", False, "params 21,344 >= 20,000", 1345.0)
    assert params_rule(baseline_profile) == Verdict(
        "params", True, "params 10,066 < 20,000", -9933.0
    )


@pytest.mark.parametrize(
    ("params", "passed", "reason"),
    [
        (19_999, True, "params 19,999 < 20,000"),
        (20_000, False, "params 20,000 >= 20,000"),
        (20_001, False, "params 20,001 >= 20,000"),
    ],
)
def test_params_rule_boundary(baseline_profile, params, passed, reason):
    verdict = params_rule(dataclasses.replace(baseline_profile, params=params))
    assert (verdict.rule, verdict.passed, verdict.reason) == ("params", passed, reason)


@pytest.mark.parametrize(
    ("epochs", "passed", "reason", "violation"),
    [(19, True, "epochs 19 <= 19", 0.0), (20, False, "epochs 20 > 19", 1.0)],
)
def test_epochs_rule(epochs, passed, reason, violation):
    verdict = epochs_rule(epochs)
    assert (verdict.rule, verdict.passed, verdict.reason, verdict.violation) == (
        "epochs",
        passed,
        reason,
        violation,
    )


class FunctionalLinear(nn.Module):
    """No nn.Linear anywhere, but a fully connected layer all the same."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.weight = nn.Parameter(torch.zeros(10, 4 * 26 * 26))

    def forward(self, x):
        return F.linear(self.conv(x).flatten(1), self.weight)


class MatmulHead(FunctionalLinear):
    def forward(self, x):
        return self.conv(x).flatten(1) @ self.weight.t()


def test_no_fc_rule_finds_a_linear_module():
    model = nn.Sequential(
        OrderedDict(conv=nn.Conv2d(1, 4, 3), flatten=nn.Flatten(), classifier=nn.Linear(2704, 10))
    )
    verdict = no_fc_rule(model, profile(model))
    assert (verdict.passed, verdict.reason, verdict.violation) == (
        False,
        "fully connected layer: module classifier, operator linear",
        2.0,
    )


@pytest.mark.parametrize(
    ("model", "operator"), [(FunctionalLinear(), "linear"), (MatmulHead(), "matmul")]
)
def test_no_fc_rule_finds_a_functional_fully_connected_layer(model, operator):
    verdict = no_fc_rule(model, profile(model))
    assert (verdict.passed, verdict.reason, verdict.violation) == (
        False,
        f"fully connected layer: operator {operator}",
        1.0,
    )


def test_no_fc_rule_passes_the_baseline(baseline_profile):
    verdict = no_fc_rule(build(BASELINE), baseline_profile)
    assert (verdict.passed, verdict.reason, verdict.violation) == (
        True,
        "no fully connected layer",
        0.0,
    )


def test_limits_check_and_describe(baseline_profile):
    limits = Limits()
    assert limits.describe() == "params < 20,000, epochs <= 19, no fully connected layer"
    verdicts = limits.check(build(BASELINE), baseline_profile, epochs=19)
    assert [(v.rule, v.passed) for v in verdicts] == [
        ("params", True),
        ("epochs", True),
        ("no_fc", True),
    ]
    assert failures(verdicts) == []
    over = limits.check(build(BASELINE), baseline_profile, epochs=20)
    assert [v.reason for v in failures(over)] == ["epochs 20 > 19"]
    without_fc_rule = Limits(no_fc=False)
    assert [v.rule for v in without_fc_rule.check(FunctionalLinear(), baseline_profile, 1)] == [
        "params",
        "epochs",
    ]


def test_violation_is_at_most_zero_exactly_when_the_rule_passes(baseline_profile):
    verdicts = [
        params_rule(dataclasses.replace(baseline_profile, params=params))
        for params in range(MAX_PARAMS - 50, MAX_PARAMS + 50)
    ]
    verdicts += [epochs_rule(epochs) for epochs in range(1, 40)]
    verdicts += [params_rule(baseline_profile, max_params=limit) for limit in (10_066, 10_067)]
    verdicts += [no_fc_rule(build(BASELINE), baseline_profile)]
    model = FunctionalLinear()
    verdicts += [no_fc_rule(model, profile(model))]
    assert {v.passed for v in verdicts} == {True, False}
    assert all((v.violation <= 0) == v.passed for v in verdicts)


def test_a_budget_is_inclusive_and_only_tightens(baseline_profile):
    from search.errors import UsageError

    assert (baseline_profile.params, baseline_profile.flops) == (10_066, 2_220_112)
    model = build(BASELINE)
    at = Limits().tightened(10_066, 2_220_112)  # exactly the baseline: inside both budgets
    assert at.describe() == (
        "params <= 10,066, epochs <= 19, FLOPs <= 2,220,112, no fully connected layer"
    )
    verdicts = at.check(model, baseline_profile, epochs=19)
    assert [(v.rule, v.passed, v.reason) for v in verdicts] == [
        ("params", True, "params 10,066 <= 10,066"),
        ("epochs", True, "epochs 19 <= 19"),
        ("no_fc", True, "no fully connected layer"),
        ("flops", True, "FLOPs 2,220,112 <= 2,220,112"),
    ]
    below = Limits().tightened(10_065, 2_220_111)
    assert [
        (v.reason, v.violation) for v in failures(below.check(model, baseline_profile, 1))
    ] == [
        ("params 10,066 > 10,065", 1.0),
        ("FLOPs 2,220,112 > 2,220,111", 1.0),
    ]
    assert Limits().tightened(4_000, None).max_flops is None
    for looser, message in (
        ((20_000, None), "--max-params 20,000: the study already allows at most 19,999"),
        ((None, 3_000_000), "--max-flops 3,000,000: the study already allows at most 2,220,11"),
    ):
        limits = Limits().tightened(None, 2_220_112) if looser[1] else Limits()
        with pytest.raises(UsageError, match=message):
            limits.tightened(*looser)
