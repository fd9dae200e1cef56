"""The task's limits as rules: each returns a verdict with a reason, before any training.

Rules: parameters < 20,000 (or at most a tighter budget, `--max-params N`); epochs <= 19; no
fully connected layer; and, when a study is given one, FLOPs per image at most `--max-flops N`.
The FC rule looks at the built module (nn.Linear, nn.Bilinear and lazy variants) and at the
traced operators (linear, addmm, matmul, ...), so a hand-written model calling F.linear is caught
too. Each verdict also
carries a constraint value for Optuna (<= 0 feasible, > 0 by how much it is violated).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from search.study.recipe import MAX_EPOCHS

if TYPE_CHECKING:  # the engine measures a model into a Profile; the rules only read it
    from torch import nn

    from search.engine.profile import Profile

MAX_PARAMS = 20_000  # parameters must be strictly fewer
FC_MODULES = (
    "Linear",
    "Bilinear",
    "LazyLinear",
)  # torch.nn classes, by name: no torch import here
FC_OPERATORS = ("linear", "addmm", "matmul", "mm", "bmm", "einsum")  # fvcore operator names


@dataclass(frozen=True)
class Verdict:
    rule: str  # params | epochs | no_fc | flops
    passed: bool
    reason: str  # e.g. "params 21,344 >= 20,000"
    violation: float  # Optuna constraint value: <= 0 feasible

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Limits:
    max_params: int = MAX_PARAMS  # exclusive
    max_epochs: int = MAX_EPOCHS  # inclusive
    no_fc: bool = True
    max_flops: int | None = None  # inclusive; None: no FLOP budget

    def check(self, model: nn.Module, profile: Profile, epochs: int) -> list[Verdict]:
        verdicts = [params_rule(profile, self.max_params), epochs_rule(epochs, self.max_epochs)]
        if self.no_fc:
            verdicts.append(no_fc_rule(model, profile))
        if self.max_flops is not None:
            verdicts.append(flops_rule(profile, self.max_flops))
        return verdicts

    def describe(self) -> str:
        fc = ", no fully connected layer" if self.no_fc else ""
        flops = f", FLOPs <= {self.max_flops:,}" if self.max_flops is not None else ""
        return f"{_params_bound(self.max_params)}, epochs <= {self.max_epochs}{flops}{fc}"

    def tightened(self, max_params: int | None, max_flops: int | None) -> Limits:
        """These limits with a budget of at most `max_params` parameters and `max_flops` FLOPs
        per image (each inclusive); a budget looser than the study's own is a UsageError."""
        from search.errors import UsageError

        changes = {}
        if max_params is not None:
            if max_params + 1 > self.max_params:
                raise UsageError(
                    f"--max-params {max_params:,}: the study already allows at most"
                    f" {self.max_params - 1:,} parameters; a budget can only tighten it"
                )
            changes["max_params"] = max_params + 1
        if max_flops is not None:
            if self.max_flops is not None and max_flops > self.max_flops:
                raise UsageError(
                    f"--max-flops {max_flops:,}: the study already allows at most"
                    f" {self.max_flops:,} FLOPs; a budget can only tighten it"
                )
            changes["max_flops"] = max_flops
        return dataclasses.replace(self, **changes)


def _params_bound(max_params: int) -> str:
    """The task's "params < 20,000"; a tighter budget reads "params <= N"."""
    if max_params == MAX_PARAMS:
        return f"params < {MAX_PARAMS:,}"
    return f"params <= {max_params - 1:,}"


def params_rule(profile: Profile, max_params: int = MAX_PARAMS) -> Verdict:
    passed = profile.params < max_params
    if max_params == MAX_PARAMS:
        reason = f"params {profile.params:,} {'<' if passed else '>='} {max_params:,}"
    else:
        reason = f"params {profile.params:,} {'<=' if passed else '>'} {max_params - 1:,}"
    return Verdict("params", passed, reason, float(profile.params - max_params + 1))


def flops_rule(profile: Profile, max_flops: int) -> Verdict:
    passed = profile.flops <= max_flops
    reason = f"FLOPs {profile.flops:,} {'<=' if passed else '>'} {max_flops:,}"
    return Verdict("flops", passed, reason, float(profile.flops - max_flops))


def epochs_rule(epochs: int, max_epochs: int = MAX_EPOCHS) -> Verdict:
    passed = epochs <= max_epochs
    reason = f"epochs {epochs} {'<=' if passed else '>'} {max_epochs}"
    return Verdict("epochs", passed, reason, float(epochs - max_epochs))


def no_fc_rule(model: nn.Module, profile: Profile) -> Verdict:
    from torch import nn

    fc_classes = tuple(getattr(nn, name) for name in FC_MODULES)
    modules = [name for name, m in model.named_modules() if isinstance(m, fc_classes)]
    operators = [op for op in FC_OPERATORS if profile.flops_by_operator.get(op)]
    found = [f"module {name}" for name in modules] + [f"operator {op}" for op in operators]
    if found:
        return Verdict(
            "no_fc", False, "fully connected layer: " + ", ".join(found), float(len(found))
        )
    return Verdict("no_fc", True, "no fully connected layer", 0.0)


def failures(verdicts: list[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if not v.passed]
