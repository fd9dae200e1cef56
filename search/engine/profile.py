"""Parameters and FLOPs of a model, counted by fvcore, returned as plain data.

FLOP convention (fvcore's): one multiply-add counts as one FLOP. A conv layer costs
Cout * Cin/groups * k * k * Hout * Wout (bias not counted); BatchNorm in eval mode costs 2 per
element (1 without affine); adaptive average pooling 1 per input element; ReLU, max-pool, dropout
and log-softmax are not counted by fvcore and are listed in `unsupported`. Counting runs a traced
forward of one input (batch 1) in eval mode, so BatchNorm running statistics are not touched; the
model's train/eval mode is restored afterwards. Printing lives in the console module.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LayerProfile:
    name: str  # module name in the model, e.g. conv1
    kind: str  # module class, e.g. Conv2d
    params: int
    flops: int
    output_shape: tuple[int, ...]  # batch 1


@dataclass(frozen=True)
class Profile:
    params: int
    trainable_params: int
    flops: int
    conv_flops: int  # convolutions only: the part comparable across FLOP conventions
    layers: tuple[LayerProfile, ...]
    flops_by_operator: dict[str, int]
    unsupported: dict[str, int]  # operator -> times seen, not counted by fvcore

    def to_dict(self) -> dict:
        return asdict(self)


def profile(model: nn.Module, input_shape: tuple[int, ...] = (1, 1, 28, 28)) -> Profile:
    """Count `model`'s parameters and FLOPs (see the module docstring for the convention)."""
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    example = torch.zeros(input_shape, device=device)
    was_training = model.training
    model.eval()
    try:
        shapes = _output_shapes(model, example)
        by_module, by_operator, unsupported, total = _fvcore_counts(model, example)
    finally:
        model.train(was_training)
    layers = _leaf_layers(model, shapes, by_module)
    return Profile(
        params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        flops=int(total),
        conv_flops=int(by_operator.get("conv", 0)),
        layers=layers,
        flops_by_operator={k: int(v) for k, v in by_operator.items()},
        unsupported={k: int(v) for k, v in unsupported.items()},
    )


def _fvcore_counts(model: nn.Module, example: torch.Tensor) -> tuple[dict, dict, dict, int]:
    """fvcore's FLOPs for one forward of `example`: by module, by operator, the operators it
    does not count (with how often each was seen), and the total."""
    with _quiet():
        from fvcore.nn import FlopCountAnalysis  # here: slow to import, deprecation noise

        analysis = FlopCountAnalysis(model, example)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        analysis.tracer_warnings("none")
        by_module = analysis.by_module()
        by_operator = dict(analysis.by_operator())
        unsupported = dict(analysis.unsupported_ops())
        total = analysis.total()
    return by_module, by_operator, unsupported, total


def _leaf_layers(
    model: nn.Module, shapes: dict[str, tuple[int, ...]], by_module: dict
) -> tuple[LayerProfile, ...]:
    """One profile per module without children, in the model's order."""
    return tuple(
        LayerProfile(
            name=name,
            kind=type(module).__name__,
            params=sum(p.numel() for p in module.parameters(recurse=False)),
            flops=int(by_module.get(name, 0)),
            output_shape=shapes.get(name, ()),
        )
        for name, module in model.named_modules()
        if name and not list(module.children())
    )


def _output_shapes(model: nn.Module, example: torch.Tensor) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        module.register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape))
        )
        for name, module in model.named_modules()
        if name and not list(module.children())
    ]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for hook in hooks:
            hook.remove()
    return shapes


class _quiet:
    """Silence fvcore's logger and the JIT tracer's warnings for one count; errors still raise."""

    def __enter__(self):
        self._logger = logging.getLogger("fvcore")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", module=r"fvcore\..*")
        warnings.filterwarnings("ignore", module=r"torch\.jit\..*")
        return self

    def __exit__(self, *exc):
        self._warnings.__exit__(*exc)
        self._logger.setLevel(self._level)
        return False
