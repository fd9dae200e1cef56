"""The richer layer vocabulary: kernel 5/7, dilation, depthwise-separable convs, a strided conv
instead of a max-pool, a linear 1x1 transition, biases only where needed. Counts by hand
formulas, geometry, errors, summaries, the standalone export, and older specs unchanged."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import pytest
import torch
from torch import nn

from archs import BASELINE, ArchSpec, SpecError, Transition, build, conv_params, layer_geometry
from search.engine.profile import profile
from search.runner.export_source import standalone_source


def params_of(spec: ArchSpec) -> int:
    return sum(p.numel() for p in build(spec).parameters())


def test_a_depthwise_separable_3x3_conv_costs_9c_plus_c_plus_cd_plus_d():
    for c, d in ((8, 16), (12, 10)):
        plain = ArchSpec(blocks=((c, c),), padding=(1,), bn="none", dropout=0)
        separable = ArchSpec(
            blocks=((c, d),), padding=(1,), bn="none", dropout=0, separable=((False, True),)
        )
        conv2 = {layer.name: layer for layer in layer_geometry(separable)}["conv2"]
        assert conv_params(conv2, bias=True) == 9 * c + c + c * d + d
        # the rest of the net is the same but for the head's input width and conv2
        head_delta = (d - c) * 10
        expected = params_of(plain) - (9 * c * c + c) + (9 * c + c + c * d + d) + head_delta
        assert params_of(separable) == expected


def test_the_notebook_net_with_a_linear_1x1_has_its_11106_parameters():
    # 1->16->16->16, pool, linear 1x1 to 8, 8->16->16->16, GAP, 1x1 to 10; BN after each 3x3
    spec = ArchSpec(
        blocks=((16, 16, 16), (16, 16, 16)),
        transitions=(Transition(pool_bn=False, width=8, act=False, bn=False),),
        dropout=0,
    )
    assert params_of(spec) == 11_106
    relu_bn = ArchSpec(
        blocks=((16, 16, 16), (16, 16, 16)),
        transitions=(Transition(pool_bn=False, width=8),),
        dropout=0,
    )
    assert params_of(relu_bn) == 11_122  # the 1x1 with ReLU and BN: 16 more (BN's 8 + 8)
    names = [name for name, _ in build(spec).named_children()]
    assert "trans1" in names and "trans1_relu" not in names and "trans1_bn" not in names
    assert spec.summary == "16-16-16|Pn|T8lnb|16-16-16|GAP drop:0"


def test_kernel_dilation_and_strided_conv_geometry_params_and_flops_by_hand():
    spec = ArchSpec(
        blocks=((8, 16), (16,)),
        transitions=(Transition(pool="conv", width=8, act=False, bn=False),),
        padding=(1, 0),
        kernels=((5, 3), (3,)),
        dilations=((1, 2), (1,)),
        separable=((False, True), (True,)),
    )
    geometry = {layer.name: layer for layer in layer_geometry(spec)}
    # conv1 5x5 same: 28; conv2 3x3 dilation 2 (spans 5) same: 28; strided conv: 14; conv3 3x3
    # valid: 12. Receptive fields: 5, 5 + 4 = 9, 9 + 2 = 11, 11, 11 + 2 * 2 = 15.
    assert [(n, g.size, g.rf) for n, g in geometry.items() if n != "gap" and n != "head"] == [
        ("conv1", 28, 5), ("conv2", 28, 9), ("pool1", 14, 11), ("trans1", 14, 11),
        ("conv3", 12, 15),
    ]  # fmt: skip
    model = build(spec)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    measured = profile(model)
    by_hand = {
        "conv1": (8 * 25 + 8, 8 * 1 * 25 * 28 * 28),
        "conv2": (8 * 9 + 8 + 8 * 16 + 16, 8 * 9 * 28 * 28 + 16 * 8 * 28 * 28),
        "pool1": (16 * 16 * 9 + 16, 16 * 16 * 9 * 14 * 14),
        "trans1": (16 * 8 + 8, 8 * 16 * 14 * 14),
        "conv3": (8 * 9 + 8 + 8 * 16 + 16, 8 * 9 * 12 * 12 + 16 * 8 * 12 * 12),
        "head": (16 * 10 + 10, 10 * 16),
    }
    bn = 8 * 2 + 16 * 2 + 16 * 2 + 16 * 2  # bn1, bn2, pool1_bn, bn3
    assert measured.params == sum(p for p, _ in by_hand.values()) + bn == 3_394
    assert measured.conv_flops == sum(f for _, f in by_hand.values()) == 819_232
    assert spec.summary == "8k5-16d2dws|S|T8lnb|16dw|GAP"


def test_older_specs_load_and_build_as_before():
    stored = {  # the baseline as every earlier version stored it
        "blocks": [[8, 16, 16], [16, 32]],
        "transitions": [{"pool": "max", "pool_bn": True, "width": 8}],
        "padding": [0, 0], "bn": "after_relu", "dropout": 0.1, "dropout_at": "every_conv",
        "head": "gap_conv", "bias": True, "in_channels": 1, "input_size": 28, "classes": 10,
    }  # fmt: skip
    spec = ArchSpec.from_dict(stored)
    assert spec == BASELINE and spec.to_dict() == stored and params_of(spec) == 10_066
    assert spec.summary == "8-16-16|P|T8|16-32|GAP"
    # the defaults written out are the same network, the same spec, the same stored form
    explicit = ArchSpec.from_dict(
        stored | {"kernels": [[3, 3, 3], [3, 3]], "dilations": [[1, 1, 1], [1, 1]]}
    )
    assert explicit == BASELINE and explicit.to_dict() == stored
    assert list(build(explicit).state_dict()) == list(build(BASELINE).state_dict())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kernels": [[3, 3, 3], [3]]}, "kernels: one value per conv, shaped as blocks [3, 2]"),
        ({"kernels": [[3, 4, 3], [3, 3]]}, "kernels: block 1: 4 is not one of 3, 5, 7"),
        ({"dilations": [[1, 1, 1], [1, 5]]}, "dilations: block 2: 5 is not one of 1, 2, 3"),
        ({"separable": [[1, 0, 0], [0, 0]]}, "separable: block 1: must be true or false, got 1"),
        ({"kernels": 3}, "kernels: must be a list of lists, as blocks, got 3"),
        (
            {"transitions": [{"pool": "avg", "pool_bn": True, "width": 8}]},
            "transition 1: unknown pool kind 'avg' (known: max, conv)",
        ),
        (
            {"transitions": [{"pool": "max", "pool_bn": True, "width": 0, "act": False}]},
            "transition 1: act and bn describe the 1x1 conv; width 0 has none",
        ),
    ],
)
def test_each_new_field_names_its_own_problem(changes, message):
    with pytest.raises(SpecError) as caught:
        ArchSpec.from_dict(BASELINE.to_dict() | changes)
    assert message in str(caught.value)


def test_summaries_tell_every_new_choice_apart():
    base = dict(blocks=((8, 16), (16,)), transitions=(Transition(width=8),), padding=(1, 0))
    variants = [
        ArchSpec(**base),
        ArchSpec(**base, kernels=((5, 3), (3,))),
        ArchSpec(**base, kernels=((3, 3), (5,))),
        ArchSpec(**base, dilations=((2, 1), (1,))),
        ArchSpec(**base, separable=((True, False), (False,))),
        ArchSpec(**base | {"transitions": (Transition(pool="conv", width=8),)}),
        ArchSpec(**base | {"transitions": (Transition(width=8, act=False),)}),
        ArchSpec(**base | {"transitions": (Transition(width=8, bn=False),)}),
        ArchSpec(**base | {"transitions": (Transition(pool="conv", pool_bn=False, width=8),)}),
    ]
    summaries = [spec.summary for spec in variants]
    assert len(set(summaries)) == len(variants), summaries
    assert len({json.dumps(spec.to_dict()) for spec in variants}) == len(variants)
    for spec in variants:
        assert ArchSpec.from_dict(spec.to_dict()) == spec


# Every place a BN can directly follow a conv: BN before ReLU, a strided conv with its BN, a
# linear 1x1 that keeps its BN; and a separable conv, whose depthwise bias is never needed.
NEEDED = ArchSpec(
    blocks=((8, 12), (10,), (12,)),
    transitions=(
        Transition(pool="conv", pool_bn=True, width=6, act=False, bn=True),
        Transition(pool="conv", pool_bn=False, width=0),
    ),
    padding=(1, 1, 0),
    bn="before_relu",
    dropout=0,
    separable=((False, True), (False,), (False,)),
    bias="needed",
)


def test_bias_needed_keeps_only_the_biases_no_batchnorm_cancels_counted_by_hand():
    with_all = dataclasses.replace(NEEDED, bias=True)
    modules = dict(build(NEEDED).named_modules())
    convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d) and m.bias is not None]
    # pool2 (a strided conv with no BN after it) and the head keep theirs; conv1, conv2's
    # pointwise half, pool1 (its BN on), trans1, conv3 and conv4 feed a BN directly; conv2's
    # depthwise half feeds the pointwise conv
    assert sorted(convs) == ["head", "pool2"]
    # conv1, conv2 (depthwise + pointwise), pool1, trans1, conv3, conv4
    dropped = 8 + (8 + 12) + 12 + 6 + 10 + 12
    assert params_of(NEEDED) == params_of(with_all) - dropped
    geometry = {layer.name: layer for layer in layer_geometry(NEEDED)}
    # conv2, separable 8 -> 12: no depthwise bias, no pointwise bias (BN follows)
    assert conv_params(geometry["conv2"], "needed") == 9 * 8 + 8 * 12
    for layer in geometry.values():
        halves = [m for n, m in modules.items() if n in (layer.name, f"{layer.name}_pw")]
        if layer.kind not in ("maxpool", "gap"):
            own = sum(p.numel() for m in halves for p in m.parameters())
            assert own == conv_params(layer, "needed"), layer
    assert NEEDED.summary.endswith(" bias:needed")
    assert ArchSpec.from_dict(json.loads(NEEDED.to_json())) == NEEDED


def test_the_biases_needed_drops_do_not_change_what_the_net_computes():
    # In training mode every BN normalises with the batch's own mean, so the dropped biases
    # cannot matter: the net with every bias (random, far from 0) and the one without give the
    # same output for the same other weights.
    torch.manual_seed(0)
    with_all = build(dataclasses.replace(NEEDED, bias=True)).train()
    for name, parameter in with_all.named_parameters():
        if name.endswith(".bias"):
            torch.nn.init.uniform_(parameter, -2, 2)
    needed = build(NEEDED).train()
    missing, _ = needed.load_state_dict(with_all.state_dict(), strict=False)
    assert missing == []
    x = torch.randn(16, 1, 28, 28)
    assert torch.allclose(needed(x), with_all(x), atol=1e-4)
    # and they get no gradient, while every other weight gets the same one in both nets
    needed(x)[:, 0].sum().backward()
    with_all(x)[:, 0].sum().backward()
    kept = dict(needed.named_parameters())
    for name, parameter in with_all.named_parameters():
        if name in kept:
            assert torch.allclose(kept[name].grad, parameter.grad, atol=1e-4), name
        else:
            assert name.endswith(".bias") and parameter.grad.abs().max() < 1e-4, name
    # and the one it keeps does matter: the head's bias for one class changes the output
    needed.head.bias.data[3] += 1
    assert not torch.allclose(needed(x), with_all(x), atol=1e-4)


def test_bias_needed_is_bias_true_where_nothing_is_dropped_and_a_typo_is_named():
    # BN after ReLU and plain convs: every bias changes the output, so "needed" keeps them all,
    # and the spec is the one `bias: true` gives (one network, one spec, one summary)
    spec = ArchSpec.from_dict(BASELINE.to_dict() | {"bias": "needed"})
    assert spec == BASELINE and spec.bias is True and params_of(spec) == 10_066
    pre = ArchSpec.from_dict(BASELINE.to_dict() | {"bias": "needed", "bn": "before_relu"})
    # conv biases 8 + 16 + 16 + 8 (1x1) + 16 + 32 go; the head's 10 stays
    assert params_of(pre) == 10_066 - 96 and pre.bias == "needed"
    # BN after ReLU, one separable conv 8 -> 12: only its depthwise bias (8) goes
    separable = dict(blocks=((8, 12),), padding=(1,), separable=((False, True),))
    kept = ArchSpec(**separable, bias="needed")
    assert kept.bias == "needed"
    assert params_of(kept) == params_of(ArchSpec(**separable, bias=True)) - 8
    with pytest.raises(SpecError) as caught:
        ArchSpec.from_dict(BASELINE.to_dict() | {"bias": "auto"})
    assert str(caught.value) == "invalid spec: bias: must be true, false or \"needed\", got 'auto'"


SEPARABLE_STRIDED = ArchSpec(
    blocks=((8, 12), (16,)),
    transitions=(Transition(pool="conv", width=6, act=False),),
    padding=(1, 0),
    dilations=((1, 2), (1,)),
    separable=((False, True), (True,)),
    head="conv_reduce",
)


@pytest.mark.parametrize("spec", [SEPARABLE_STRIDED, NEEDED], ids=["separable", "bias-needed"])
def test_the_standalone_module_rebuilds_a_separable_strided_net(tmp_path, spec):
    (tmp_path / "model.py").write_text(standalone_source(spec))
    loaded = importlib.util.spec_from_file_location("exported_vocabulary", tmp_path / "model.py")
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    torch.manual_seed(0)
    reference = build(spec).eval()
    net = module.Net().eval()
    net.load_state_dict(reference.state_dict())
    images = torch.randn(3, 1, 28, 28)
    assert torch.equal(net(images), reference(images))
    assert ArchSpec.from_dict(module.SPEC) == spec


def test_archs_show_prints_the_new_layers_and_a_spec_that_reads_back(tmp_path):
    import subprocess
    import sys

    spec = ArchSpec(
        blocks=((8, 16), (16,)),
        transitions=(Transition(pool="conv", width=8, act=False, bn=False),),
        padding=(1, 0),
        kernels=((5, 3), (3,)),
        separable=((False, True), (True,)),
    )
    shown = subprocess.run(
        [sys.executable, "-m", "archs", "show", spec.to_json(), "--plain"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any(line.split("│")[1].strip() == "conv2_pw" for line in lines if "│" in line)
    printed = next(line for line in lines if line.startswith("spec: "))
    assert ArchSpec.from_json(printed[len("spec: ") :]) == spec  # nothing eaten as markup
    assert f"{params_of(spec):,}" in shown.stdout
