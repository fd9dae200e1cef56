"""`build(spec) -> nn.Module`: the one pure function from a spec to a network.

Pure: no trial, no device, no printing, no seeding. Parameter initialisation draws from torch's
global generator, so callers seed it (`torch.manual_seed`) when they want a repeatable model.
The result is an `nn.Sequential` whose module names match `archs.geometry` (conv1, bn1, pool1,
trans1, head, ...) and whose output is log-probabilities of shape (N, classes).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from archs import layers
from archs.geometry import has_bias, layer_geometry
from archs.spec import ArchSpec


def build(spec: ArchSpec) -> nn.Sequential:
    """The network `spec` describes; see the module docstring."""
    modules: OrderedDict[str, nn.Module] = OrderedDict()
    geometry = {layer.name: layer for layer in layer_geometry(spec)}
    channels, conv_index = spec.in_channels, 0

    def bias(name: str, depthwise: bool = False) -> bool:
        return has_bias(spec.bias, geometry[name].bn_follows, depthwise)

    for block_index, block in enumerate(spec.blocks):
        for position, width in enumerate(block):
            conv_index += 1
            name = f"conv{conv_index}"
            kernel, dilation, separable = spec.conv_at(block_index, position)
            padding = dilation * (kernel - 1) // 2 if spec.padding[block_index] else 0
            if separable:  # depthwise kxk, then pointwise 1x1 to the width
                modules[name] = layers.conv(
                    channels,
                    channels,
                    kernel,
                    padding,
                    bias(name, True),
                    dilation,
                    groups=channels,
                )
                modules[f"{name}_pw"] = layers.conv(channels, width, 1, 0, bias(name))
            else:
                modules[name] = layers.conv(channels, width, kernel, padding, bias(name), dilation)
            block_end = position == len(block) - 1
            names = (f"relu{conv_index}", f"bn{conv_index}", f"drop{conv_index}")
            _activation(modules, spec, names, width, drop=_drops(spec, block_end))
            channels = width
        if block_index < len(spec.transitions):
            transition = spec.transitions[block_index]
            tag = str(block_index + 1)
            modules[f"pool{tag}"] = layers.pool(transition.pool, channels, bias(f"pool{tag}"))
            if transition.pool_bn:
                modules[f"pool{tag}_bn"] = nn.BatchNorm2d(channels)
            if spec.dropout_at == "every_conv":
                modules[f"pool{tag}_drop"] = layers.Dropout(spec.dropout)
            if transition.width:
                modules[f"trans{tag}"] = layers.conv(
                    channels, transition.width, 1, 0, bias(f"trans{tag}")
                )
                names = (f"trans{tag}_relu", f"trans{tag}_bn", f"trans{tag}_drop")
                drop = spec.dropout_at == "every_conv"
                _activation(
                    modules, spec, names, transition.width, drop, transition.act, transition.bn
                )
                channels = transition.width
    _head(modules, spec, channels, geometry["head"].kernel, bias("head"))
    return nn.Sequential(modules)


def _drops(spec: ArchSpec, block_end: bool) -> bool:
    return spec.dropout_at == "every_conv" or (spec.dropout_at == "block_end" and block_end)


def _activation(
    modules: OrderedDict,
    spec: ArchSpec,
    names: tuple[str, str, str],
    width: int,
    drop: bool,
    act: bool = True,
    norm: bool = True,
) -> None:
    """ReLU and BN in the spec's order (each unless `act`/`norm` say not), then dropout when
    `drop`; `names`: relu, bn, dropout."""
    relu, bn, dropout = names
    if norm and spec.bn == "before_relu":
        modules[bn] = nn.BatchNorm2d(width)
    if act:
        modules[relu] = nn.ReLU()
    if norm and spec.bn == "after_relu":
        modules[bn] = nn.BatchNorm2d(width)
    if drop:
        modules[dropout] = layers.Dropout(spec.dropout)


def _head(modules: OrderedDict, spec: ArchSpec, channels: int, kernel: int, bias: bool) -> None:
    if spec.head == "gap_conv":
        modules["gap"] = nn.AdaptiveAvgPool2d(1)
        modules["head"] = layers.conv(channels, spec.classes, 1, 0, bias)
    elif spec.head == "conv_gap":
        modules["head"] = layers.conv(channels, spec.classes, 1, 0, bias)
        modules["gap"] = nn.AdaptiveAvgPool2d(1)
    else:
        modules["head"] = layers.conv(channels, spec.classes, kernel, 0, bias)
    modules["flatten"] = nn.Flatten()
    modules["log_softmax"] = nn.LogSoftmax(dim=1)
