"""Architectures as data: the spec, the pure builder, geometry, the pinned baseline, the toy net.

No Optuna and no data loading here. Public API:

    from archs import BASELINE, build
    model = build(BASELINE)  # the reference network, 10,066 parameters
"""

import importlib

# Each public name and the module it lives in. They load on first use (PEP 562), so that reading
# or validating a spec does not import torch: a command that stops at bad input then answers in
# a fraction of a second instead of the ~2 s torch's import takes.
_HOMES = {
    "BASELINE": "pinned",
    "BASELINE_LAYER_PARAMS": "pinned",
    "BASELINE_PARAMS": "pinned",
    "PINNED": "pinned",
    "ReferenceNet": "baseline",
    "build": "builder",
    "LayerGeometry": "geometry",
    "conv_flops": "geometry",
    "conv_params": "geometry",
    "layer_geometry": "geometry",
    "ArchSpec": "spec",
    "SpecError": "spec",
    "Transition": "spec",
    "INITIAL_WEIGHTS": "toy",
    "ToyForward": "toy",
    "descend": "toy",
    "sheet_gradients": "toy",
}
_RENAMED = {"toy_forward": "forward", "toy_gradients": "gradients", "toy_step": "step"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"archs.{_HOMES[name]}"), name)
    if name in _RENAMED:
        return getattr(importlib.import_module("archs.toy"), _RENAMED[name])
    raise AttributeError(f"module 'archs' has no attribute {name!r}")


__all__ = sorted([*_HOMES, *_RENAMED])  # every name above, nothing written twice
