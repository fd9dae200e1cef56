"""The training recipe: optimiser, schedule, batch, epochs (hard cap 19), seed, precision.

A `Recipe` is frozen plain data with `to_dict`/`from_dict`, validated on construction, so a
recipe asking for more than `MAX_EPOCHS` epochs cannot exist.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

MAX_EPOCHS = 19  # the task's hard limit
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "step", "onecycle")
PRECISIONS = ("fp32", "bf16")  # bf16 = autocast on the training forward; evaluation is fp32


class RecipeError(ValueError):
    """An invalid recipe; the message names every problem."""


NEWER_FIELDS = ("label_smoothing", "ema")  # written only when set


@dataclass(frozen=True)
class Recipe:
    optimizer: str = "sgd"
    lr: float = 0.1  # peak learning rate for onecycle
    momentum: float = 0.9  # SGD only
    nesterov: bool = False  # SGD only
    weight_decay: float = 0.0
    schedule: str = "none"
    step_epochs: int = 6  # step schedule: multiply lr by step_gamma every step_epochs epochs
    step_gamma: float = 0.1
    batch_size: int = 64  # images per step
    epochs: int = MAX_EPOCHS
    seed: int = 1  # model init, shuffling, dropout and augmentation draws
    precision: str = "fp32"
    channels_last: bool = True  # NHWC memory format: faster convs on CPU, same numbers
    augment_degrees: float = 0.0  # random rotation in +-degrees per image
    augment_translate: float = 0.0  # random shift in +-fraction of the side per image
    label_smoothing: float = 0.0  # share of the target spread evenly over the 10 classes
    ema: float = 0.0  # decay of an exponential moving average of the weights; 0 = off. When on,
    # the averaged weights (BatchNorm buffers too) are the ones evaluated, saved and exported

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise RecipeError("invalid recipe: " + "; ".join(problems))

    def problems(self) -> list[str]:
        found = []
        for name, allowed in (
            ("optimizer", OPTIMIZERS),
            ("schedule", SCHEDULES),
            ("precision", PRECISIONS),
        ):
            if getattr(self, name) not in allowed:
                found.append(
                    f"{name} {getattr(self, name)!r} unknown (known: {', '.join(allowed)})"
                )
        if not isinstance(self.epochs, int) or self.epochs < 1:
            found.append(f"epochs must be a positive integer, got {self.epochs!r}")
        elif self.epochs > MAX_EPOCHS:
            found.append(f"epochs {self.epochs} > {MAX_EPOCHS}: the limit is at most {MAX_EPOCHS}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            found.append(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            found.append(f"lr must be a positive number, got {self.lr!r}")
        for name in ("momentum", "weight_decay", "augment_degrees", "augment_translate"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                found.append(f"{name} must be a number >= 0, got {value!r}")
        if not (isinstance(self.label_smoothing, (int, float)) and 0 <= self.label_smoothing < 1):
            found.append(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        if not (isinstance(self.ema, (int, float)) and 0 <= self.ema < 1):
            found.append(f"ema must be a decay in [0, 1) (0 = off), got {self.ema!r}")
        if not (isinstance(self.step_epochs, int) and self.step_epochs >= 1):
            found.append(f"step_epochs must be a positive integer, got {self.step_epochs!r}")
        if not isinstance(self.seed, int):
            found.append(f"seed must be an integer, got {self.seed!r}")
        return found

    def to_dict(self) -> dict[str, Any]:
        """Every field; label_smoothing and ema only when on, so recipes stored before they
        existed keep their stored form (and the keys derived from it)."""
        found = dataclasses.asdict(self)
        return {k: v for k, v in found.items() if k not in NEWER_FIELDS or v != 0}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RecipeError(f"invalid recipe: unknown field(s) {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> Recipe:
        return dataclasses.replace(self, **changes)

    @property
    def summary(self) -> str:
        """One short line for tables: what differs between trials of a recipe search, e.g.
        `adamw 0.0037 onecycle b32 rot15 shift0.05` (weight decay and augmentation when set)."""
        parts = [self.optimizer, f"{self.lr:.2g}", self.schedule, f"b{self.batch_size}"]
        if self.weight_decay:
            parts.append(f"wd{self.weight_decay:g}")
        if self.augment_degrees:
            parts.append(f"rot{self.augment_degrees:g}")
        if self.augment_translate:
            parts.append(f"shift{self.augment_translate:g}")
        if self.label_smoothing:
            parts.append(f"ls{self.label_smoothing:g}")
        if self.ema:
            parts.append(f"ema{self.ema:g}")
        return " ".join(parts)


# The reference recipe: SGD lr 0.1 momentum 0.9, batch 64, no schedule, no augmentation.
REFERENCE_RECIPE = Recipe(precision="fp32")

# Test accuracy (%) after epochs 1..17 of the reference's single run of the pinned baseline
# (archs.BASELINE) with this recipe: what the baseline report draws beside the seeds' curves.
REFERENCE_CURVE = (
    98.18,
    98.48,
    98.85,
    99.06,
    99.16,
    99.11,
    99.20,
    99.23,
    99.16,
    99.13,
    99.33,
    99.22,
    99.19,
    99.33,
    99.28,
    99.20,
    99.41,
)
