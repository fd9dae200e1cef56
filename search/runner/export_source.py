"""The standalone `model.py` of an export: the built network as plain torch modules (the same
state_dict keys as archs.build), laid out as `ruff format` lays it out, so it passes a linter."""

from __future__ import annotations

import json

import torch

from archs import ArchSpec, build


def standalone_source(spec: ArchSpec) -> str:
    """Python source of `Net`, the built network as plain torch modules (same state_dict keys),
    laid out as `ruff format` would lay it out (88 columns), the spec one field per line."""
    lines = []
    for name, module in build(spec).named_children():
        lines.append(f"                    ({json.dumps(name)}, {_constructor(module)}),")
    body = "\n".join(lines)
    return f'''"""Exported network {json.dumps(spec.summary)}: needs only torch.

Use: net = Net(); net.load_state_dict(torch.load("weights.pt")); net.eval()
Input: (N, 1, 28, 28) float32, normalised with mean 0.1307 and std 0.3081.
"""

from collections import OrderedDict

from torch import nn

# The spec this network was built from, as the toolkit stores it.
SPEC = {_spec_literal(spec.to_dict())}


class Net(nn.Sequential):
    def __init__(self):
        super().__init__(
            OrderedDict(
                [
{body}
                ]
            )
        )
'''


def _spec_literal(spec: dict) -> str:
    """A dict literal, one key per line; a value too long for one line is split per item."""
    lines = ["{"]
    for key, value in spec.items():
        line = f"    {json.dumps(key)}: {_literal(value)},"
        if len(line) > 88 and isinstance(value, list):
            lines.append(f"    {json.dumps(key)}: [")
            lines.extend(f"        {_literal(item)}," for item in value)
            lines.append("    ],")
        else:
            lines.append(line)
    return "\n".join([*lines, "}"])


def _literal(value) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(k)}: {_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    return repr(value)


def _constructor(module: torch.nn.Module) -> str:
    kind = type(module).__name__
    if isinstance(module, torch.nn.Conv2d):
        more = "".join(
            f", {name}={getattr(module, name)[0] if name != 'groups' else module.groups}"
            for name, default in (("stride", 1), ("dilation", 1), ("groups", 1))
            if (module.groups if name == "groups" else getattr(module, name)[0]) != default
        )
        return (
            f"nn.Conv2d({module.in_channels}, {module.out_channels}, {module.kernel_size[0]},"
            f" padding={module.padding[0]}{more}, bias={module.bias is not None})"
        )
    if isinstance(module, torch.nn.BatchNorm2d):
        return f"nn.BatchNorm2d({module.num_features})"
    if isinstance(module, torch.nn.Dropout):
        return f"nn.Dropout({module.p})"
    if isinstance(module, torch.nn.MaxPool2d):
        return f"nn.MaxPool2d({module.kernel_size})"
    if isinstance(module, torch.nn.AdaptiveAvgPool2d):
        return f"nn.AdaptiveAvgPool2d({module.output_size})"
    if isinstance(module, torch.nn.LogSoftmax):
        return f"nn.LogSoftmax(dim={module.dim})"
    if kind in ("ReLU", "Flatten"):
        return f"nn.{kind}()"
    raise ValueError(f"no standalone constructor for {kind}")
