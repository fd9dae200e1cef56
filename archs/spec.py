"""The architecture spec: a small, frozen, JSON-serialisable description of a CNN.

A spec is data, never code: `archs.build(spec)` turns it into a module, `to_dict`/`from_dict`
store it, `summary` names it in one line. Validation happens on construction, so an `ArchSpec`
that exists is one that builds.

Layout of the network a spec describes:

    block 1 (convs) -> transition 1 (max-pool | strided conv, [BN], [1x1 conv]) -> block 2
        -> ... -> head

Each conv is followed by ReLU and BatchNorm (in the order `bn` says) and by dropout (where
`dropout_at` says). The reference network puts BN after ReLU and dropout after every conv.
A conv is 3x3 unless `kernels` says 5 or 7 for it, dilated when `dilations` says 2 or 3, and
depthwise-separable (a depthwise kxk conv, then a 1x1 conv to its width) when `separable` says
so; empty `kernels`, `dilations`, `separable` mean 3x3, undilated, plain everywhere (the
specs stored before these fields existed load and build as they did).

`bias`: true, every conv has a bias (the reference); false, none has, the head's included;
"needed", none where a BatchNorm right after the conv cancels it or the conv is the depthwise
half of a separable conv (`geometry.has_bias`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from archs.naming import summary_of

BN_POSITIONS = ("after_relu", "before_relu", "none")
DROPOUT_PLACES = ("every_conv", "block_end", "none")
HEADS = ("gap_conv", "conv_gap", "conv_reduce")
POOLS = ("max", "conv")  # conv: a 3x3 conv with stride 2 (same channels), instead of a max-pool
PADDINGS = (0, 1)  # per block: 0 = valid (the size shrinks), 1 = same
KERNELS = (3, 5, 7)
DILATIONS = (1, 2, 3)
MAX_WIDTH = 4096  # a guard against typos, not a design limit


class SpecError(ValueError):
    """An invalid spec; `problems` holds one clear message per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid spec: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Transition:
    """What sits between two blocks: a max-pool (or a strided 3x3 conv), optional BN after it,
    optional 1x1 conv, itself followed by ReLU and BN unless `act`/`bn` say not (a linear 1x1)."""

    pool: str = "max"
    pool_bn: bool = True  # BatchNorm right after the pool, as the reference does
    width: int = 0  # output channels of the 1x1 conv after the pool; 0 = no 1x1 conv
    act: bool = True  # ReLU after the 1x1 conv
    bn: bool = True  # BatchNorm on the 1x1 conv (where the spec's `bn` puts it)

    def to_dict(self) -> dict[str, Any]:
        """The three fields always; act and bn only when off (older specs stay byte-equal)."""
        found = {"pool": self.pool, "pool_bn": self.pool_bn, "width": self.width}
        return found | {name: False for name in ("act", "bn") if getattr(self, name) is False}

    def problems(self, where: str) -> list[str]:
        found = []
        if self.pool not in POOLS:
            found.append(f"{where}: unknown pool kind {self.pool!r} (known: {', '.join(POOLS)})")
        if not _is_int(self.width) or self.width < 0 or self.width > MAX_WIDTH:
            found.append(
                f"{where}: 1x1 width must be an integer in 0..{MAX_WIDTH}, got {self.width!r}"
            )
        for name in ("pool_bn", "act", "bn"):
            if not isinstance(getattr(self, name), bool):
                found.append(f"{where}: {name} must be true or false, got {getattr(self, name)!r}")
        if not self.width and (self.act is False or self.bn is False):
            found.append(f"{where}: act and bn describe the 1x1 conv; width 0 has none")
        return found


@dataclass(frozen=True)
class ArchSpec:
    """A CNN for small images, as data. See the module docstring for the layout."""

    blocks: tuple[tuple[int, ...], ...]  # output widths of the convs, block by block
    transitions: tuple[Transition, ...] = ()  # one fewer than blocks
    padding: tuple[int, ...] = ()  # per block, 0 or 1; empty = 0 everywhere
    bn: str = "after_relu"
    dropout: float = 0.1  # drop probability
    dropout_at: str = "every_conv"
    head: str = "gap_conv"
    bias: bool | str = True  # true: every conv; false: none; "needed" (module docstring)
    in_channels: int = 1
    input_size: int = 28  # square inputs, pixels
    classes: int = 10
    kernels: tuple[tuple[int, ...], ...] = ()  # per conv, shaped as blocks; empty = all 3
    dilations: tuple[tuple[int, ...], ...] = ()  # per conv; empty = all 1
    separable: tuple[tuple[bool, ...], ...] = ()  # per conv: depthwise-separable; empty = none

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name, convert, shape in (
            ("blocks", lambda v: tuple(tuple(b) for b in v), "a list of lists of widths"),
            ("transitions", lambda v: tuple(_as_transition(t) for t in v), "a list of objects"),
            ("padding", lambda v: tuple(v) or (0,) * len(self.blocks), "a list of 0 or 1"),
            ("kernels", lambda v: tuple(tuple(b) for b in v), "a list of lists, as blocks"),
            ("dilations", lambda v: tuple(tuple(b) for b in v), "a list of lists, as blocks"),
            ("separable", lambda v: tuple(tuple(b) for b in v), "a list of lists, as blocks"),
        ):
            try:
                set_(self, name, convert(getattr(self, name)))
            except TypeError:  # e.g. blocks given as a number
                found = getattr(self, name)
                raise SpecError([f"{name}: must be {shape}, got {found!r}"]) from None
        # One network, one spec: settings that cannot change the network are normalised.
        if self.dropout_at == "none" or self.dropout == 0:
            set_(self, "dropout", 0.0)
            set_(self, "dropout_at", "none")
        if self.bn == "none":
            set_(self, "transitions", tuple(replace_pool_bn(t) for t in self.transitions))
        for name, default in (("kernels", 3), ("dilations", 1), ("separable", False)):
            value = getattr(self, name)
            shaped = [len(b) for b in value] == [len(b) for b in self.blocks]
            values = [v for block in value for v in block]
            if shaped and all(v == default and type(v) is type(default) for v in values):
                set_(self, name, ())  # all default: the same network as no field at all
        problems = self.problems()
        if problems:
            raise SpecError(problems)
        if self.bias == "needed" and not _drops_a_bias(self):
            set_(self, "bias", True)  # every conv keeps its bias: the network of `bias: true`

    def problems(self) -> list[str]:
        """Every problem with this spec, one message each (empty when valid)."""
        found = _choice_problems(self)
        if not self.blocks:
            found.append("blocks: at least one block of 3x3 convs is needed")
        for index, block in enumerate(self.blocks, start=1):
            if not block:
                found.append(f"block {index}: a block needs at least one 3x3 conv")
            for width in block:
                if not _is_int(width) or not 0 < width <= MAX_WIDTH:
                    found.append(
                        f"block {index}: width must be an integer in 1..{MAX_WIDTH}, got {width!r}"
                    )
        if len(self.transitions) != max(len(self.blocks) - 1, 0):
            found.append(
                f"transitions: {len(self.blocks)} blocks need {max(len(self.blocks) - 1, 0)}"
                f" transitions, got {len(self.transitions)}"
            )
        for index, transition in enumerate(self.transitions, start=1):
            if isinstance(transition, Transition):  # others are reported by _choice_problems
                found.extend(transition.problems(f"transition {index}"))
        found.extend(_per_conv_problems(self))
        if len(self.padding) != len(self.blocks) or any(p not in PADDINGS for p in self.padding):
            found.append(f"padding: one of {PADDINGS} per block, got {list(self.padding)}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)):
            found.append(f"dropout: must be a number in [0, 1), got {self.dropout!r}")
        elif not 0 <= self.dropout < 1:
            found.append(f"dropout: must be in [0, 1), got {self.dropout}")
        for name in ("in_channels", "input_size", "classes"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                found.append(f"{name}: must be a positive integer, got {value!r}")
        if not found:
            found.extend(_geometry_problems(self))
        return found

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only; `ArchSpec.from_dict(spec.to_dict()) == spec`."""
        return {
            "blocks": [list(b) for b in self.blocks],
            "transitions": [t.to_dict() for t in self.transitions],
            "padding": list(self.padding),
            "bn": self.bn,
            "dropout": float(self.dropout),
            "dropout_at": self.dropout_at,
            "head": self.head,
            "bias": self.bias,
            "in_channels": self.in_channels,
            "input_size": self.input_size,
            "classes": self.classes,
        } | {  # the newer fields only when set: older specs keep their stored form
            name: [list(b) for b in getattr(self, name)]
            for name in ("kernels", "dilations", "separable")
            if getattr(self, name)
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchSpec:
        if not isinstance(data, dict):
            raise SpecError([f"a spec must be a JSON object, got {type(data).__name__}"])
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(
                [f"unknown field {name!r} (known: {', '.join(sorted(known))})" for name in unknown]
            )
        if "blocks" not in data:
            raise SpecError(["blocks: missing"])
        try:
            return cls(**data)
        except TypeError as error:  # e.g. blocks given as a number
            raise SpecError([f"malformed spec: {error}"]) from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ArchSpec:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as error:
            raise SpecError([f"not valid JSON: {error}"]) from None

    @property
    def summary(self) -> str:
        """One line naming the network, e.g. `8-16-16|P|T8|16-32|GAP` for the baseline (see
        archs.naming: settings equal to the reference's are left out, so two different specs
        never share a summary)."""
        return summary_of(self)

    def conv_at(self, block: int, position: int) -> tuple[int, int, bool]:
        """(kernel, dilation, separable) of conv `position` of block `block` (0-based)."""
        kernel = self.kernels[block][position] if self.kernels else 3
        dilation = self.dilations[block][position] if self.dilations else 1
        separable = self.separable[block][position] if self.separable else False
        return kernel, dilation, separable


def replace_pool_bn(transition: Transition) -> Transition:
    return dataclasses.replace(transition, pool_bn=False, bn=True)  # no BN anywhere


def _as_transition(value: Any) -> Any:
    if isinstance(value, dict):
        unknown = sorted(set(value) - {f.name for f in dataclasses.fields(Transition)})
        if unknown:
            known = ", ".join(f.name for f in dataclasses.fields(Transition))
            raise SpecError(
                [f"transition: unknown field {name!r} (known: {known})" for name in unknown]
            )
        return Transition(**value)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choice_problems(spec: ArchSpec) -> list[str]:
    found = []
    for name, allowed in (("bn", BN_POSITIONS), ("dropout_at", DROPOUT_PLACES), ("head", HEADS)):
        value = getattr(spec, name)
        if value not in allowed:
            found.append(f"{name}: unknown kind {value!r} (known: {', '.join(allowed)})")
    if not isinstance(spec.bias, bool) and spec.bias != "needed":
        found.append(f'bias: must be true, false or "needed", got {spec.bias!r}')
    if any(not isinstance(t, Transition) for t in spec.transitions):
        found.append("transitions: each must be a Transition or an object with its fields")
    return found


def _per_conv_problems(spec: ArchSpec) -> list[str]:
    """kernels, dilations, separable: empty, or one value per conv, shaped as blocks."""
    found = []
    shape = [len(block) for block in spec.blocks]
    for name, allowed in (("kernels", KERNELS), ("dilations", DILATIONS), ("separable", None)):
        value = getattr(spec, name)
        if not value:
            continue
        if [len(block) for block in value] != shape:
            found.append(f"{name}: one value per conv, shaped as blocks {shape}, got {value}")
            continue
        for index, block in enumerate(value, start=1):
            for item in block:
                if allowed is None and not isinstance(item, bool):
                    found.append(f"{name}: block {index}: must be true or false, got {item!r}")
                elif allowed is not None and (not _is_int(item) or item not in allowed):
                    known = ", ".join(map(str, allowed))
                    found.append(f"{name}: block {index}: {item!r} is not one of {known}")
    return found


def _drops_a_bias(spec: ArchSpec) -> bool:
    """Whether `bias: "needed"` leaves out any bias `bias: true` would have."""
    from archs.geometry import conv_params, layer_geometry  # geometry imports this module

    return any(
        conv_params(layer, "needed") < conv_params(layer, True) for layer in layer_geometry(spec)
    )


def _geometry_problems(spec: ArchSpec) -> list[str]:
    from archs.geometry import layer_geometry  # geometry imports this module

    for layer in layer_geometry(spec):
        if layer.size < 1:
            return [f"spatial size collapses to {layer.size} at {layer.name}, before the head"]
    return []
