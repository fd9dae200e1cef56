"""A spec's one-line name: `8-16-16|P|T8|16-32|GAP` for the baseline.

Blocks as their conv widths joined by `-` (`s` after a padded block; a conv that is not a plain
3x3 carries `k5`, `d2`, `dw`), `P`/`Pn` a max-pool with/without BN (`S`/`Sn` a strided conv),
`T8` a 1x1 transition to 8 channels (`l` without its ReLU, `nb` without its BN), the head (`GAP`,
`C1-GAP`, `CR`), then every setting that differs from the reference's. Settings equal to the
reference's are left out; every other setting is shown, so two different specs never share a
summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archs.spec import ArchSpec


def summary_of(spec: ArchSpec) -> str:
    """The spec's one-line name (ArchSpec.summary)."""
    parts = []
    for index, block in enumerate(spec.blocks):
        same = "s" if spec.padding[index] == 1 else ""
        parts.append("-".join(conv_token(spec, index, i) for i in range(len(block))) + same)
        if index < len(spec.transitions):
            transition = spec.transitions[index]
            letter = "P" if transition.pool == "max" else "S"  # S: strided conv
            parts.append(letter if transition.pool_bn or spec.bn == "none" else f"{letter}n")
            if transition.width:
                linear = ("" if transition.act else "l") + ("" if transition.bn else "nb")
                parts.append(f"T{transition.width}{linear}")
    parts.append({"gap_conv": "GAP", "conv_gap": "C1-GAP", "conv_reduce": "CR"}[spec.head])
    flags = []
    if spec.bn != "after_relu":
        flags.append({"before_relu": "bn:pre", "none": "bn:none"}[spec.bn])
    if spec.dropout_at == "none":
        flags.append("drop:0")
    elif spec.dropout != 0.1 or spec.dropout_at != "every_conv":
        where = "" if spec.dropout_at == "every_conv" else "@end"
        flags.append(f"drop:{float(spec.dropout)!r}{where}")  # repr: exact, so unique
    if spec.bias is False:
        flags.append("nobias")
    elif spec.bias == "needed":
        flags.append("bias:needed")
    if (spec.in_channels, spec.input_size, spec.classes) != (1, 28, 10):
        flags.append(f"in:{spec.in_channels}x{spec.input_size} classes:{spec.classes}")
    return " ".join(["|".join(parts), *flags])


def conv_token(spec: ArchSpec, block: int, position: int) -> str:
    """`16`, or `16k5`, `16d2`, `16dw`, `16k5d2dw`: width, then what is not 3x3 plain."""
    kernel, dilation, separable = spec.conv_at(block, position)
    token = str(spec.blocks[block][position])
    token += f"k{kernel}" if kernel != 3 else ""
    token += f"d{dilation}" if dilation != 1 else ""
    return token + ("dw" if separable else "")
