"""Receptive-field and output-size arithmetic for a spec, layer by layer, without building it.

Receptive field (rf) and jump follow the usual recurrence for a layer of kernel k and stride s:
rf_out = rf_in + (k - 1) * jump_in, jump_out = jump_in * s; the input pixel has rf 1, jump 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archs.spec import ArchSpec


@dataclass(frozen=True)
class LayerGeometry:
    name: str  # conv1, pool1, trans1, gap, head: the builder's module names
    kind: str  # conv3x3, maxpool, conv1x1, gap, conv
    in_channels: int
    out_channels: int
    kernel: int
    size: int  # output height = width, pixels
    rf: int  # receptive field of one output pixel, input pixels
    jump: int  # input pixels between neighbouring output pixels


def layer_geometry(spec: ArchSpec) -> list[LayerGeometry]:
    """Every spatial layer of `spec` in order, with output size and receptive field."""
    layers: list[LayerGeometry] = []
    channels, size, rf, jump = spec.in_channels, spec.input_size, 1, 1

    def add(name: str, kind: str, out: int, kernel: int, stride: int, new_size: int) -> None:
        nonlocal channels, size, rf, jump
        rf, jump = rf + (kernel - 1) * jump, jump * stride
        layers.append(LayerGeometry(name, kind, channels, out, kernel, new_size, rf, jump))
        channels, size = out, new_size

    conv_index = 0
    for block_index, block in enumerate(spec.blocks):
        padding = spec.padding[block_index]
        for width in block:
            conv_index += 1
            add(f"conv{conv_index}", "conv3x3", width, 3, 1, size - 2 + 2 * padding)
        if block_index < len(spec.transitions):
            transition = spec.transitions[block_index]
            add(f"pool{block_index + 1}", "maxpool", channels, 2, 2, size // 2)
            if transition.width:
                add(f"trans{block_index + 1}", "conv1x1", transition.width, 1, 1, size)
    if spec.head == "gap_conv":
        add("gap", "gap", channels, size, 1, 1)
        add("head", "conv1x1", spec.classes, 1, 1, 1)
    elif spec.head == "conv_gap":
        add("head", "conv1x1", spec.classes, 1, 1, size)
        add("gap", "gap", channels, size, 1, 1)
    else:  # conv_reduce: one conv whose kernel covers the whole remaining map
        add("head", "conv", spec.classes, max(size, 1), 1, 1)
    return layers


def conv_flops(layer: LayerGeometry) -> int:
    """Multiply-adds of a conv layer: Cout * Cin * k * k * Hout * Wout (fvcore's convention)."""
    if layer.kind not in ("conv3x3", "conv1x1", "conv"):
        return 0
    return layer.out_channels * layer.in_channels * layer.kernel**2 * layer.size**2


def conv_params(layer: LayerGeometry, bias: bool) -> int:
    """Weights (Cout * Cin * k * k) plus one bias per output channel when `bias`."""
    if layer.kind not in ("conv3x3", "conv1x1", "conv"):
        return 0
    return layer.out_channels * (layer.in_channels * layer.kernel**2 + int(bias))
