"""Receptive-field and output-size arithmetic for a spec, layer by layer, without building it.

Receptive field (rf) and jump follow the usual recurrence for a layer of kernel k and stride s:
rf_out = rf_in + (k - 1) * jump_in, jump_out = jump_in * s; the input pixel has rf 1, jump 1. A
conv dilated by d spans d * (k - 1) + 1 pixels, so that span stands for k. "same" padding keeps
the size: d * (k - 1) / 2 on each side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archs.spec import ArchSpec, Transition


@dataclass(frozen=True)
class LayerGeometry:
    name: str  # conv1, pool1, trans1, gap, head: the builder's module names
    kind: str  # conv3x3 (conv5x5, ...), maxpool, conv1x1, gap, conv (the head), strided conv
    in_channels: int
    out_channels: int
    kernel: int
    size: int  # output height = width, pixels
    rf: int  # receptive field of one output pixel, input pixels
    jump: int  # input pixels between neighbouring output pixels
    dilation: int = 1
    separable: bool = False  # a depthwise kxk conv then a 1x1 conv (builder: NAME, NAME_pw)
    stride: int = 1
    bn_follows: bool = False  # a BatchNorm directly after this conv (its bias then does nothing)


def layer_geometry(spec: ArchSpec) -> list[LayerGeometry]:
    """Every spatial layer of `spec` in order, with output size and receptive field."""
    trace = _Trace(spec.in_channels, spec.input_size)
    conv_index = 0
    for block_index, block in enumerate(spec.blocks):
        same = spec.padding[block_index] == 1
        for position, width in enumerate(block):
            conv_index += 1
            kernel, dilation, separable = spec.conv_at(block_index, position)
            span = dilation * (kernel - 1) + 1
            kind = _conv_kind(kernel, dilation, separable)
            new_size = trace.size if same else trace.size - span + 1
            trace.add(f"conv{conv_index}", kind, width, kernel, 1, new_size,
                      dilation=dilation, separable=separable,
                      bn_follows=spec.bn == "before_relu")  # fmt: skip
        if block_index < len(spec.transitions):
            _add_transition(trace, spec.transitions[block_index], block_index + 1, spec.bn)
    _add_head(trace, spec)
    return trace.layers


@dataclass
class _Trace:
    """The walk through a spec so far: the layers added, and the channels, size, rf and jump
    after the last of them."""

    channels: int
    size: int
    rf: int = 1
    jump: int = 1
    layers: list[LayerGeometry] = field(default_factory=list)

    def add(
        self, name: str, kind: str, out: int, kernel: int, stride: int, new_size: int, **more
    ) -> None:
        span = more.get("dilation", 1) * (kernel - 1) + 1
        self.rf, self.jump = self.rf + (span - 1) * self.jump, self.jump * stride
        geometry = (self.channels, out, kernel, new_size, self.rf, self.jump)
        self.layers.append(LayerGeometry(name, kind, *geometry, stride=stride, **more))
        self.channels, self.size = out, new_size


def _conv_kind(kernel: int, dilation: int, separable: bool) -> str:
    """conv3x3, sepconv5x5, conv3x3 d2, ..."""
    return f"{'sep' if separable else ''}conv{kernel}x{kernel}" + (
        f" d{dilation}" if dilation > 1 else ""
    )


def _add_transition(trace: _Trace, transition: Transition, number: int, bn: str) -> None:
    """The downsampling after block `number`, then its optional 1x1 conv; `bn`: the spec's."""
    if transition.pool == "conv":  # 3x3, stride 2, padding 1: ceil(size / 2)
        size = (trace.size - 1) // 2 + 1
        trace.add(f"pool{number}", "conv3x3 s2", trace.channels, 3, 2, size,
                  bn_follows=transition.pool_bn)  # fmt: skip
    else:
        trace.add(f"pool{number}", "maxpool", trace.channels, 2, 2, trace.size // 2)
    if transition.width:
        # its BN comes first when the spec puts BN before ReLU, or when it has no ReLU
        bn_follows = bn != "none" and transition.bn and (bn == "before_relu" or not transition.act)
        trace.add(f"trans{number}", "conv1x1", transition.width, 1, 1, trace.size,
                  bn_follows=bn_follows)  # fmt: skip


def _add_head(trace: _Trace, spec: ArchSpec) -> None:
    """The classifier's layers, in the order `spec.head` names them."""
    if spec.head == "gap_conv":
        trace.add("gap", "gap", trace.channels, trace.size, 1, 1)
        trace.add("head", "conv1x1", spec.classes, 1, 1, 1)
    elif spec.head == "conv_gap":
        trace.add("head", "conv1x1", spec.classes, 1, 1, trace.size)
        trace.add("gap", "gap", trace.channels, trace.size, 1, 1)
    else:  # conv_reduce: one conv whose kernel covers the whole remaining map
        trace.add("head", "conv", spec.classes, max(trace.size, 1), 1, 1)


def is_conv(layer: LayerGeometry) -> bool:
    return layer.kind not in ("maxpool", "gap")


def conv_flops(layer: LayerGeometry) -> int:
    """Multiply-adds of a conv layer: Cout * Cin * k * k * Hout * Wout (fvcore's convention);
    depthwise-separable: Cin * k * k * H * W (depthwise) + Cout * Cin * H * W (pointwise)."""
    if not is_conv(layer):
        return 0
    area, k2 = layer.size**2, layer.kernel**2
    if layer.separable:
        return layer.in_channels * k2 * area + layer.out_channels * layer.in_channels * area
    return layer.out_channels * layer.in_channels * k2 * area


def has_bias(setting: bool | str, bn_follows: bool, depthwise: bool = False) -> bool:
    """Whether a conv gets a bias under the spec's `bias` setting. "needed" drops two kinds of
    bias that cannot change the output: on a conv a BatchNorm directly follows (it subtracts the
    batch mean, the bias with it), and on the depthwise half of a separable conv (its bias
    leaves the pointwise 1x1 as a constant per channel, which that conv's own bias or its
    BatchNorm takes up)."""
    if setting == "needed":
        return not (bn_follows or depthwise)
    return bool(setting)


def conv_params(layer: LayerGeometry, bias: bool | str) -> int:
    """Weights (Cout * Cin * k * k) plus one bias per output channel where the spec's `bias`
    setting gives this conv one (`has_bias`); depthwise-separable C -> D:
    (C * k * k + C) + (C * D + D) with both biases."""
    if not is_conv(layer):
        return 0
    own = int(has_bias(bias, layer.bn_follows))
    if layer.separable:
        c, d, k2 = layer.in_channels, layer.out_channels, layer.kernel**2
        return c * k2 + c * int(has_bias(bias, layer.bn_follows, depthwise=True)) + c * d + d * own
    return layer.out_channels * (layer.in_channels * layer.kernel**2 + own)
