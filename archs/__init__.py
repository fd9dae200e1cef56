"""Architectures as data: the spec, the pure builder, geometry, the pinned baseline, the toy net.

No Optuna and no data loading here. Public API:

    from archs import BASELINE, build
    model = build(BASELINE)  # the reference network, 10,066 parameters
"""

from archs.baseline import (
    BASELINE,
    BASELINE_LAYER_PARAMS,
    BASELINE_PARAMS,
    PINNED,
    ReferenceNet,
)
from archs.build import build
from archs.geometry import LayerGeometry, conv_flops, conv_params, layer_geometry
from archs.spec import ArchSpec, SpecError, Transition
from archs.toy import (
    INITIAL_WEIGHTS,
    ToyForward,
    descend,
    sheet_gradients,
)
from archs.toy import forward as toy_forward
from archs.toy import gradients as toy_gradients
from archs.toy import step as toy_step

__all__ = [
    "BASELINE",
    "BASELINE_LAYER_PARAMS",
    "BASELINE_PARAMS",
    "INITIAL_WEIGHTS",
    "PINNED",
    "ArchSpec",
    "LayerGeometry",
    "ReferenceNet",
    "SpecError",
    "ToyForward",
    "Transition",
    "build",
    "conv_flops",
    "conv_params",
    "descend",
    "layer_geometry",
    "sheet_gradients",
    "toy_forward",
    "toy_gradients",
    "toy_step",
]
