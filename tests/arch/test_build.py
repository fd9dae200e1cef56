"""The builder and the cheap dropout: exact parameter counts, equality with the reference module,
properties over every pinned spec and 50 sampled specs, purity, and the dropout mask's statistics.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from random_specs import random_specs
from torch import nn

from archs import (
    BASELINE,
    BASELINE_LAYER_PARAMS,
    BASELINE_PARAMS,
    PINNED,
    ReferenceNet,
    build,
    conv_params,
    layer_geometry,
)
from archs.layers import Dropout

SPECS = {**PINNED, **{f"random{i}": s for i, s in enumerate(random_specs(50, seed=2024))}}
BATCH = 3


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def layer_counts(model: nn.Module) -> tuple[int, ...]:
    """Parameters of each module that owns some, in module order."""
    counts = (count(m) for m in model.modules() if not list(m.children()))
    return tuple(n for n in counts if n)


def set_dropout(model: nn.Module, p: float) -> None:
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = p


def output_shapes(model: nn.Module, names: list[str], x: torch.Tensor) -> dict[str, tuple]:
    shapes, modules = {}, dict(model.named_modules())
    hooks = [
        modules[name].register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape))
        )
        for name in names
    ]
    model(x)
    for hook in hooks:
        hook.remove()
    return shapes


# --- exact counts -------------------------------------------------------------------------------


def test_conv_parameter_counts_by_hand():
    # 3x3 conv 8 -> 16: 16 * 8 * 3 * 3 = 1,152 weights, plus 16 biases = 1,168
    assert count(nn.Conv2d(8, 16, 3)) == 1_168
    assert count(nn.Conv2d(8, 16, 3, bias=False)) == 1_152
    conv2 = layer_geometry(BASELINE)[1]
    assert (conv2.in_channels, conv2.out_channels, conv2.kernel) == (8, 16, 3)
    assert conv_params(conv2, bias=True) == 1_168
    assert conv_params(conv2, bias=False) == 1_152


def test_baseline_parameter_counts():
    # conv 1*8*9+8 = 80, bn 2*8 = 16, conv 8*16*9+16 = 1,168, bn 32, conv 16*16*9+16 = 2,320,
    # bn 32, pool bn 32, 1x1 16*8+8 = 136, bn 16, conv 8*16*9+16 = 1,168, bn 32,
    # conv 16*32*9+32 = 4,640, bn 64, head 32*10+10 = 330: 10,066 in all
    assert BASELINE_LAYER_PARAMS == (
        80, 16, 1_168, 32, 2_320, 32, 32, 136, 16, 1_168, 32, 4_640, 64, 330,
    )  # fmt: skip
    assert sum(BASELINE_LAYER_PARAMS) == BASELINE_PARAMS == 10_066
    model = build(BASELINE)
    assert count(model) == 10_066
    assert layer_counts(model) == BASELINE_LAYER_PARAMS
    assert count(ReferenceNet()) == 10_066
    assert layer_counts(ReferenceNet()) == BASELINE_LAYER_PARAMS


def test_baseline_without_bias_drops_one_parameter_per_conv_channel():
    # conv biases: 8 + 16 + 16 + 8 (1x1) + 16 + 32 + 10 (head) = 106
    spec = dataclasses.replace(BASELINE, bias=False)
    assert count(build(spec)) == 10_066 - 106


# --- the reference module -----------------------------------------------------------------------


def twin_models(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """build(BASELINE) and ReferenceNet with the same parameters and BN statistics."""
    torch.manual_seed(seed)
    built, reference = build(BASELINE), ReferenceNet()
    built_tensors = [*built.parameters(), *built.buffers()]
    reference_tensors = [*reference.parameters(), *reference.buffers()]
    assert [t.shape for t in built_tensors] == [t.shape for t in reference_tensors]
    with torch.no_grad():
        for mine, theirs in zip(built_tensors, reference_tensors, strict=True):
            theirs.copy_(mine)
        for module in built.modules():  # non-trivial running statistics, the same on both
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
        for mine, theirs in zip(built.buffers(), reference.buffers(), strict=True):
            theirs.copy_(mine)
    return built, reference


def gap_inputs_and_outputs(model: nn.Module, x: torch.Tensor):
    seen = []
    hook = model.gap.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0]))
    output = model(x)
    hook.remove()
    return seen[0], output


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_build_matches_the_reference_module(mode):
    built, reference = twin_models()
    set_dropout(built, 0.0)  # train mode: dropout off on both, so BN batch statistics must match
    set_dropout(reference, 0.0)
    built.train(mode == "train")
    reference.train(mode == "train")
    x = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    built_features, built_output = gap_inputs_and_outputs(built, x)
    reference_features, reference_output = gap_inputs_and_outputs(reference, x)
    # Everything up to the global average pool is bit-identical ...
    assert built_features.shape == (16, 32, 7, 7)
    assert torch.equal(built_features, reference_features)
    # ... and the pool itself differs only in rounding: the reference's AvgPool2d(7) and the
    # builder's AdaptiveAvgPool2d(1) sum the 49 values in different orders (~1 ulp apart).
    assert torch.allclose(built_output, reference_output, rtol=0, atol=1e-6)
    assert built_output.argmax(1).tolist() == reference_output.argmax(1).tolist()
    if mode == "train":  # the batch statistics went into the running statistics identically
        for mine, theirs in zip(built.buffers(), reference.buffers(), strict=True):
            assert torch.equal(mine, theirs)


def test_baseline_output_shapes_match_the_reference_table():
    x = torch.zeros(BATCH, 1, 28, 28)
    built = build(BASELINE).eval()
    names = ["conv1", "conv2", "conv3", "pool1", "trans1", "conv4", "conv5", "gap", "head"]
    expected = [(8, 26), (16, 24), (16, 22), (16, 11), (8, 11), (16, 9), (32, 7), (32, 1), (10, 1)]
    assert output_shapes(built, names, x) == {
        name: (BATCH, channels, size, size)
        for name, (channels, size) in zip(names, expected, strict=True)
    }
    reference_names = ["conv1", "conv2", "conv3", "pool", "trans", "conv4", "conv5", "gap", "head"]
    reference_shapes = output_shapes(ReferenceNet().eval(), reference_names, x)
    assert list(reference_shapes.values()) == [
        (BATCH, channels, size, size) for channels, size in expected
    ]
    assert built(x).shape == (BATCH, 10)


# --- every pinned spec and 50 sampled specs ------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_spec_builds_a_working_network(spec):
    torch.manual_seed(0)
    model = build(spec)
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == (spec.bn != "none")
    x = torch.randn(BATCH, spec.in_channels, spec.input_size, spec.input_size)
    output = model(x)
    assert output.shape == (BATCH, spec.classes) == (BATCH, 10)
    assert torch.isfinite(output).all()
    assert torch.allclose(output.exp().sum(dim=1), torch.ones(BATCH), atol=1e-5)
    output[torch.arange(BATCH), torch.tensor([0, 3, 9])].sum().neg().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_built_shapes_and_counts_follow_the_geometry(spec):
    model = build(spec).eval()
    modules = dict(model.named_modules())
    layers = layer_geometry(spec)
    x = torch.zeros(1, spec.in_channels, spec.input_size, spec.input_size)
    shapes = output_shapes(model, [layer.name for layer in layers], x)
    for layer in layers:
        assert shapes[layer.name] == (1, layer.out_channels, layer.size, layer.size), layer
        if layer.kind.startswith("conv"):
            assert count(modules[layer.name]) == conv_params(layer, spec.bias), layer


def test_build_is_pure(capsys):
    settings = (
        torch.get_default_dtype(),
        torch.is_grad_enabled(),
        torch.get_num_threads(),
        torch.are_deterministic_algorithms_enabled(),
    )
    for spec in SPECS.values():
        torch.manual_seed(5)
        first = build(spec).state_dict()
        torch.manual_seed(5)
        second_model = build(spec)
        second = second_model.state_dict()
        assert list(first) == list(second)
        assert all(torch.equal(first[key], second[key]) for key in first)
        assert all(
            p.device.type == "cpu" and p.dtype == torch.float32 for p in second_model.parameters()
        )
        assert second_model.training  # a fresh module, in train mode as torch makes them
    settings_after = (
        torch.get_default_dtype(),
        torch.is_grad_enabled(),
        torch.get_num_threads(),
        torch.are_deterministic_algorithms_enabled(),
    )
    assert settings_after == settings
    assert capsys.readouterr() == ("", "")


def test_build_does_not_seed_the_generator_itself():
    torch.manual_seed(5)
    first, second = build(BASELINE), build(BASELINE)
    assert not torch.equal(first.conv1.weight, second.conv1.weight)


# --- the cheap dropout --------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.05, 0.1, 0.5])
def test_dropout_keeps_one_minus_p_and_scales_the_kept(p):
    torch.manual_seed(0)
    x = torch.rand(1_000_000) + 0.5  # no zeros: a zero output means dropped
    output = Dropout(p).train()(x)
    kept = output != 0
    keep_rate = kept.double().mean().item()
    assert abs(keep_rate - (1 - p)) <= 0.005 * (1 - p)  # 0.5% relative; sd is <= 0.1% here
    assert torch.allclose(output[kept], x[kept] / (1 - p), rtol=1e-6, atol=0)


def test_dropout_is_the_identity_in_eval_mode():
    x = torch.randn(4, 8, 5, 5)
    assert torch.equal(Dropout(0.5).eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)


def test_dropout_on_channels_last_keeps_the_layout_and_masks_element_wise():
    torch.manual_seed(1)
    x = (torch.rand(4, 8, 5, 5) + 0.5).contiguous(memory_format=torch.channels_last)
    output = Dropout(0.5).train()(x)
    assert output.is_contiguous(memory_format=torch.channels_last)
    dropped = output == 0
    assert 0.3 < dropped.float().mean().item() < 0.7  # 800 elements, p = 0.5
    assert torch.equal(output[~dropped], x[~dropped] * 2.0)


def test_dropout_on_a_strided_view_falls_back_to_torch_dropout():
    torch.manual_seed(1)
    x = (torch.rand(64, 64) + 0.5).t()[:, ::2]  # neither contiguous nor channels_last
    output = Dropout(0.5).train()(x)
    kept = output != 0
    assert torch.equal(output[kept], x[kept] * 2.0)
    assert 0.4 < kept.float().mean().item() < 0.6


def test_dropout_mask_follows_the_torch_seed():
    x = torch.rand(10_000) + 0.5
    dropout = Dropout(0.3).train()
    torch.manual_seed(42)
    first = dropout(x)
    torch.manual_seed(42)
    second = dropout(x)
    third = dropout(x)
    assert torch.equal(first, second)
    assert not torch.equal(second, third)


def test_dropout_gradient_flows_only_through_kept_elements():
    torch.manual_seed(3)
    x = (torch.rand(2, 4, 6, 6) + 0.5).requires_grad_()
    output = Dropout(0.25).train()(x)
    output.sum().backward()
    kept = output.detach() != 0
    assert torch.equal(x.grad[kept], torch.full_like(x.grad[kept], 1 / 0.75))
    assert torch.equal(x.grad[~kept], torch.zeros_like(x.grad[~kept]))
    assert 0 < (~kept).sum() < kept.sum()


def test_archs_show_prints_the_baseline_totals_and_verdicts(capsys):
    from search.show import main

    assert main(["show", "baseline", "--plain"]) == 0
    out = capsys.readouterr().out
    total = next(line for line in out.splitlines() if "total" in line)
    assert "10,066" in total and "2,220,112" in total
    assert "PASS  params 10,066 < 20,000" in out
    assert "PASS  no fully connected layer" in out
    assert main(["show", "baseline", "--epochs", "20", "--plain"]) == 1  # a limit fails: 1, not 2
    assert "FAIL  epochs 20 > 19" in capsys.readouterr().out


def test_archs_show_rejects_a_bad_spec_with_one_line_and_exit_2(capsys):
    from search.show import main

    assert main(["show", '{"blocks": [[8, 0]], "dropout": 1.5}']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "width" in err[0] and "dropout" in err[0]
