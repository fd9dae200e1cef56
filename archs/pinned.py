"""The pinned specs: the reference network as data (no torch here, so reading a spec is cheap).

`build(BASELINE)` must equal `archs.baseline.ReferenceNet`, the module as the reference writes it.
"""

from __future__ import annotations

from archs.spec import ArchSpec, Transition

BASELINE = ArchSpec(
    blocks=((8, 16, 16), (16, 32)),
    transitions=(Transition(pool="max", pool_bn=True, width=8),),
    padding=(0, 0),
    bn="after_relu",
    dropout=0.10,
    dropout_at="every_conv",
    head="gap_conv",
    bias=True,
)

BASELINE_PARAMS = 10_066
# Per-layer parameters in module order, from the reference (conv, bn, ..., head).
BASELINE_LAYER_PARAMS = (80, 16, 1168, 32, 2320, 32, 32, 136, 16, 1168, 32, 4640, 64, 330)

PINNED: dict[str, ArchSpec] = {"baseline": BASELINE}
