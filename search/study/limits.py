"""The task's limits as rules: each returns a verdict with a reason, before any training.

Rules: parameters < 20,000; epochs <= 19; no fully connected layer. The FC rule looks at the
built module (nn.Linear, nn.Bilinear and lazy variants) and at the traced operators (linear,
addmm, matmul, ...), so a hand-written model calling F.linear is caught too. Each verdict also
carries a constraint value for Optuna (<= 0 feasible, > 0 by how much it is violated).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

from search.engine.profile import Profile
from search.study.recipe import MAX_EPOCHS

MAX_PARAMS = 20_000  # parameters must be strictly fewer
FC_MODULES = (nn.Linear, nn.Bilinear, nn.LazyLinear)
FC_OPERATORS = ("linear", "addmm", "matmul", "mm", "bmm", "einsum")  # fvcore operator names


@dataclass(frozen=True)
class Verdict:
    rule: str  # params | epochs | no_fc
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

    def check(self, model: nn.Module, profile: Profile, epochs: int) -> list[Verdict]:
        verdicts = [params_rule(profile, self.max_params), epochs_rule(epochs, self.max_epochs)]
        if self.no_fc:
            verdicts.append(no_fc_rule(model, profile))
        return verdicts

    def describe(self) -> str:
        fc = ", no fully connected layer" if self.no_fc else ""
        return f"params < {self.max_params:,}, epochs <= {self.max_epochs}{fc}"


def params_rule(profile: Profile, max_params: int = MAX_PARAMS) -> Verdict:
    passed = profile.params < max_params
    sign = "<" if passed else ">="
    reason = f"params {profile.params:,} {sign} {max_params:,}"
    return Verdict("params", passed, reason, float(profile.params - max_params + 1))


def epochs_rule(epochs: int, max_epochs: int = MAX_EPOCHS) -> Verdict:
    passed = epochs <= max_epochs
    reason = f"epochs {epochs} {'<=' if passed else '>'} {max_epochs}"
    return Verdict("epochs", passed, reason, float(epochs - max_epochs))


def no_fc_rule(model: nn.Module, profile: Profile) -> Verdict:
    modules = [name for name, m in model.named_modules() if isinstance(m, FC_MODULES)]
    operators = [op for op in FC_OPERATORS if profile.flops_by_operator.get(op)]
    found = [f"module {name}" for name in modules] + [f"operator {op}" for op in operators]
    if found:
        return Verdict(
            "no_fc", False, "fully connected layer: " + ", ".join(found), float(len(found))
        )
    return Verdict("no_fc", True, "no fully connected layer", 0.0)


def failures(verdicts: list[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if not v.passed]
