"""ablation: one factor at a time, on a base architecture, each variant over several seeds.

`python -m search.run --study ablation [--base baseline | --base trial:N --from cnn20k]`.
Variants of the base: BN before ReLU, no BN, no dropout, no 1x1 transition, the GAP head
replaced (1x1 conv then GAP; one conv reducing to 1x1), widths halved and doubled. Each is
trained with the base's recipe on all 60,000 training images once per seed (default 1, 2, 3);
the value is the test accuracy after the last epoch (nothing is selected on it). Variants that
break a limit are pruned before training and shown as such. The study is stored as `ablation`
for the baseline and `ablation.<study>-trial<N>` for a stored trial.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import optuna

from archs import BASELINE, ArchSpec
from search.errors import UsageError
from search.recipe import REFERENCE_RECIPE, Recipe
from search.study import CnnStudy, Proposal, RunOptions


def _widths(spec: ArchSpec, factor: float) -> ArchSpec:
    scale = lambda width: max(1, math.floor(width * factor))  # noqa: E731
    blocks = tuple(tuple(scale(w) for w in block) for block in spec.blocks)
    transitions = tuple(
        dataclasses.replace(t, width=scale(t.width) if t.width else 0) for t in spec.transitions
    )
    return dataclasses.replace(spec, blocks=blocks, transitions=transitions)


# name -> (what changes, spec -> spec). The base comes first; the order is the table's order.
VARIANTS: dict[str, tuple[str, Callable[[ArchSpec], ArchSpec]]] = {
    "base": ("the base as it is", lambda s: s),
    "bn_before_relu": (
        "BatchNorm before ReLU",
        lambda s: dataclasses.replace(s, bn="before_relu"),
    ),
    "no_bn": ("no BatchNorm anywhere", lambda s: dataclasses.replace(s, bn="none")),
    "no_dropout": ("no dropout", lambda s: dataclasses.replace(s, dropout=0.0)),
    "no_transition": (
        "no 1x1 transition conv",
        lambda s: dataclasses.replace(
            s, transitions=tuple(dataclasses.replace(t, width=0) for t in s.transitions)
        ),
    ),
    "head_conv_gap": (
        "head: 1x1 conv to 10, then GAP",
        lambda s: dataclasses.replace(s, head="conv_gap"),
    ),
    "head_conv_reduce": (
        "head: one conv reducing to 1x1, no GAP",
        lambda s: dataclasses.replace(s, head="conv_reduce"),
    ),
    "half_widths": ("every width halved", lambda s: _widths(s, 0.5)),
    "double_widths": ("every width doubled", lambda s: _widths(s, 2.0)),
}


def variants_of(base: ArchSpec) -> dict[str, ArchSpec]:
    """Each variant's spec; one identical to the base or an earlier one (no dropout to remove,
    say) is left out."""
    found = {"base": base}
    for name, (_, change) in VARIANTS.items():
        spec = change(base)
        if name != "base" and spec not in found.values():
            found[name] = spec
    return found


def base_from(options: RunOptions, prefix: str = "ablation") -> tuple[str, ArchSpec, Recipe]:
    """(study name, base spec, base recipe) from --base / --from; the name is `prefix` for the
    baseline, else `prefix.<study>-trial<N>`."""
    base = options.base or "baseline"
    if base == "baseline":
        if options.base_study:
            raise UsageError("--from applies to --base trial:N only")
        return prefix if prefix == "ablation" else f"{prefix}.baseline", BASELINE, REFERENCE_RECIPE
    if not base.startswith("trial:") or not base[len("trial:") :].isdigit():
        raise UsageError(f"--base must be 'baseline' or 'trial:N', got {base!r}")
    if not options.base_study:
        raise UsageError("--base trial:N needs --from STUDY (the study trial N belongs to)")
    from search.confirm import load_existing, stored_proposal
    from search.runner import trial_by_number

    number = int(base[len("trial:") :])
    trial = trial_by_number(load_existing(options.base_study, options), number)
    spec, recipe = stored_proposal(trial)
    return f"{prefix}.{options.base_study}-trial{number}", spec, recipe


@dataclass(frozen=True)
class AblationStudy(CnnStudy):
    base_spec: ArchSpec = BASELINE
    base_recipe: Recipe = REFERENCE_RECIPE
    variants: dict[str, ArchSpec] = field(default_factory=dict)

    def configure(self, options: RunOptions) -> AblationStudy:
        name, spec, recipe = base_from(options)
        variants = variants_of(spec)
        seeds = self.run_seeds(options)
        return dataclasses.replace(
            self,
            name=name,
            base_spec=spec,
            base_recipe=recipe,
            variants=variants,
            sample=_sampler(variants, recipe),
            warm_start=tuple({"variant": v, "seed": s} for v in variants for s in seeds),
            n_trials=len(variants) * len(seeds),
        )


def _sampler(variants: dict[str, ArchSpec], recipe: Recipe):
    def sample(trial: optuna.trial.BaseTrial) -> Proposal:
        name = trial.suggest_categorical("variant", list(VARIANTS))
        trial.suggest_int("seed", 0, 2**31 - 1)  # fixed per trial by the enqueued runs
        if name not in variants:
            raise UsageError(f"variant {name} does not apply to this base")
        return Proposal(variants[name], recipe)

    return sample


STUDY = AblationStudy(
    name="ablation",
    description="one-factor-at-a-time ablation of a base net (--base baseline|trial:N --from S)",
    direction="maximize",
    n_trials=0,  # set by configure: variants x seeds
    seed=1,
    make_sampler=lambda seed: optuna.samplers.RandomSampler(seed=seed),
    seeds=(1, 2, 3),
    val_size=0,  # train on all 60,000 images; report the final test accuracy
    value="final_test_acc",
    queue_only=True,
)
