"""ablation: one factor at a time, on a base architecture, each variant over several seeds.

`python -m search.run --study ablation [--base baseline | --base trial:N --from cnn20k]`.
Variants (VARIANTS) change one factor of the base's spec or recipe: the BN position, no BN (at an
SGD learning rate it survives), no dropout, no 1x1 transition, the other head, no augmentation, a
step schedule or SGD instead of the base's one-cycle AdamW, no label smoothing, no moving average
of the weights, widths x0.75 or x1.25. `--variants` picks some; by default every one that changes
the base runs. Each is trained on all 60,000 training images once per seed (default 1-5, the same
seeds as the base, so every delta can be paired by seed); the value is the test accuracy after the
last epoch (nothing is selected on it). Variants that break a limit are pruned before training and
shown as such. The study is stored as `ablation` for the baseline and `ablation.<study>-trial<N>`
for a stored trial.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import optuna

from archs import BASELINE, ArchSpec
from search.errors import UsageError
from search.study import CnnStudy, Proposal, RunOptions
from search.study.nets import load_net, load_recipe
from search.study.recipe import REFERENCE_RECIPE, Recipe


def _widths(spec: ArchSpec, factor: float) -> ArchSpec:
    scale = lambda width: max(1, math.floor(width * factor + 0.5))  # noqa: E731 - half up
    blocks = tuple(tuple(scale(w) for w in block) for block in spec.blocks)
    transitions = tuple(
        dataclasses.replace(t, width=scale(t.width) if t.width else 0) for t in spec.transitions
    )
    return dataclasses.replace(spec, blocks=blocks, transitions=transitions)


Change = Callable[[ArchSpec, Recipe], "tuple[ArchSpec, Recipe] | None"]
# Without BN the default init shrinks the signal ~6x per layer: SGD at lr 0.1, 0.03, 0.01 and
# 0.003 stayed at chance (11.35% test after 2 epochs on 15,000 images); Adam at 1e-3 trains.
NO_BN_ADAM_LR = 0.001
STEP_EPOCHS, STEP_GAMMA = 8, 0.1  # step schedule: lr x0.1 after epochs 8 and 16
SGD_ONECYCLE_LR = 0.05  # peak lr of the SGD one-cycle variant (momentum 0.9)


def _spec(change: Callable[[ArchSpec], ArchSpec], when: Callable[[ArchSpec], bool]) -> Change:
    return lambda s, r: (change(s), r) if when(s) else None


def _recipe(changes: dict, when: Callable[[Recipe], bool]) -> Change:
    return lambda s, r: (s, r.replace(**changes)) if when(r) else None


def _no_bn(spec: ArchSpec, recipe: Recipe) -> tuple[ArchSpec, Recipe] | None:
    if spec.bn == "none":
        return None
    if recipe.optimizer == "sgd":
        recipe = recipe.replace(optimizer="adam", lr=NO_BN_ADAM_LR)
    return dataclasses.replace(spec, bn="none"), recipe


def _has_transition(spec: ArchSpec) -> bool:
    return any(t.width for t in spec.transitions)


def _no_transition(spec: ArchSpec) -> ArchSpec:
    transitions = tuple(dataclasses.replace(t, width=0) for t in spec.transitions)
    return dataclasses.replace(spec, transitions=transitions)


# name -> (what changes, (spec, recipe) -> (spec, recipe), or None where it does not apply).
# The base comes first; the order is the table's order. A variant that leaves the base as it
# is (no dropout to remove, say) does not apply either.
VARIANTS: dict[str, tuple[str, Change]] = {
    "base": ("the base as it is", lambda s, r: (s, r)),
    "bn_before_relu": (
        "BatchNorm before ReLU",
        _spec(lambda s: dataclasses.replace(s, bn="before_relu"), lambda s: s.bn == "after_relu"),
    ),
    "bn_after_relu": (
        "BatchNorm after ReLU",
        _spec(lambda s: dataclasses.replace(s, bn="after_relu"), lambda s: s.bn == "before_relu"),
    ),
    "no_bn": (
        f"no BatchNorm anywhere; an SGD base trains with Adam lr {NO_BN_ADAM_LR:g} instead (SGD"
        " at lr 0.003-0.1 stays at chance without BN)",
        _no_bn,
    ),
    "no_dropout": (
        "no dropout",
        _spec(lambda s: dataclasses.replace(s, dropout=0.0), lambda s: s.dropout > 0),
    ),
    "no_transition": ("no 1x1 transition conv", _spec(_no_transition, _has_transition)),
    "head_conv_gap": (
        "head: 1x1 conv to 10, then GAP",
        _spec(lambda s: dataclasses.replace(s, head="conv_gap"), lambda s: s.head == "gap_conv"),
    ),
    "head_gap_conv": (
        "head: GAP, then 1x1 conv to 10 (instead of a conv reducing to 1x1)",
        _spec(
            lambda s: dataclasses.replace(s, head="gap_conv"), lambda s: s.head == "conv_reduce"
        ),
    ),
    "no_augment": (
        "no augmentation",
        _recipe(
            {"augment_degrees": 0.0, "augment_translate": 0.0},
            lambda r: r.augment_degrees > 0 or r.augment_translate > 0,
        ),
    ),
    "step_schedule": (
        f"step schedule instead of one-cycle: the base's peak lr, x{STEP_GAMMA:g} after epochs"
        f" {STEP_EPOCHS} and {2 * STEP_EPOCHS}",
        _recipe(
            {"schedule": "step", "step_epochs": STEP_EPOCHS, "step_gamma": STEP_GAMMA},
            lambda r: r.schedule == "onecycle",
        ),
    ),
    "sgd_onecycle": (
        f"SGD momentum 0.9, one-cycle, peak lr {SGD_ONECYCLE_LR:g} (instead of Adam/AdamW)",
        _recipe(
            {"optimizer": "sgd", "momentum": 0.9, "lr": SGD_ONECYCLE_LR, "schedule": "onecycle"},
            lambda r: r.optimizer != "sgd",
        ),
    ),
    "no_label_smoothing": (
        "no label smoothing",
        _recipe({"label_smoothing": 0.0}, lambda r: r.label_smoothing > 0),
    ),
    "no_ema": (
        "the raw weights evaluated (no moving average of the weights)",
        _recipe({"ema": 0.0}, lambda r: r.ema > 0),
    ),
    "widths_x0.75": ("every width x0.75 (rounded)", _spec(lambda s: _widths(s, 0.75), bool)),
    "widths_x1.25": ("every width x1.25 (rounded)", _spec(lambda s: _widths(s, 1.25), bool)),
}


def variants_of(
    base: ArchSpec, recipe: Recipe, chosen: tuple[str, ...] | None = None
) -> dict[str, tuple[ArchSpec, Recipe]]:
    """Each variant's (spec, recipe): `chosen` (the base always first), else every one that
    applies. A variant identical to the base or an earlier one is left out; a chosen variant
    that does not apply to this base is a UsageError."""
    unknown = sorted(set(chosen or ()) - set(VARIANTS))
    if unknown:
        raise UsageError(
            f"--variants: unknown {', '.join(unknown)}; known: {', '.join(list(VARIANTS)[1:])}"
        )
    names = ["base", *(n for n in chosen if n != "base")] if chosen else list(VARIANTS)
    found: dict[str, tuple[ArchSpec, Recipe]] = {}
    for name in names:
        changed = VARIANTS[name][1](base, recipe)
        if changed is not None and changed not in found.values():
            found[name] = changed
        elif chosen and name != "base":
            raise UsageError(f"--variants: {name} does not change this base")
    return found


class Base(NamedTuple):
    """The net a fixed-net study runs on: its study name, spec and recipe, and, in words, what
    it is (stored on the study as its `about`)."""

    name: str
    spec: ArchSpec
    recipe: Recipe
    net_text: str  # e.g. "trial 30 of study cnn5k (its stored spec)"
    recipe_text: str  # e.g. "its stored recipe"

    @property
    def text(self) -> str:
        return f"{self.net_text}, with {self.recipe_text}"


def base_from(options: RunOptions, prefix: str = "ablation") -> Base:
    """The base from --base / --from / --recipe; the name is `prefix` for the baseline,
    `prefix.<study>-trial<N>` for a stored trial, `prefix.<stem>-<hash>` for a net from a file.
    The recipe: --recipe, else the one the --base file carries, else the stored trial's, else
    the reference recipe."""
    base = _base(options, prefix)
    if not options.recipe:
        return base
    recipe = load_recipe(options.recipe)
    digest = hashlib.sha256(json.dumps(recipe.to_dict()).encode()).hexdigest()[:4]
    given = f"the recipe given by --recipe ({options.recipe})"
    return base._replace(name=f"{base.name}+recipe-{digest}", recipe=recipe, recipe_text=given)


def _base(options: RunOptions, prefix: str) -> Base:
    base = options.base or "baseline"
    if base == "baseline":
        if options.base_study:
            raise UsageError("--from applies to --base trial:N only")
        name = prefix if prefix == "ablation" else f"{prefix}.baseline"
        net = "the pinned baseline (archs.BASELINE)"
        return Base(name, BASELINE, REFERENCE_RECIPE, net, "the reference recipe")
    if not base.startswith("trial:"):
        if options.base_study:
            raise UsageError("--from applies to --base trial:N only")
        net = load_net(base)
        carried = "the recipe the file carries" if net.recipe else "the reference recipe"
        where = "inline JSON" if net.stem == "inline" else f"`{net.source}`"
        text = f"the net in {where} given as --base (spec hash {net.digest})"
        return Base(f"{prefix}.{net.key}", net.spec, net.recipe or REFERENCE_RECIPE, text, carried)
    if not base[len("trial:") :].isdigit():
        raise UsageError(f"--base trial:N needs a trial number, got {base!r}")
    if not options.base_study:
        raise UsageError("--base trial:N needs --from STUDY (the study trial N belongs to)")
    from search.store.trials import load_existing, stored_proposal, trial_by_number

    number = int(base[len("trial:") :])
    trial = trial_by_number(load_existing(options.base_study, options), number)
    spec, recipe = stored_proposal(trial)
    text = f"trial {number} of study {options.base_study} (its stored spec)"
    name = f"{prefix}.{options.base_study}-trial{number}"
    return Base(name, spec, recipe, text, "its stored recipe")


@dataclass(frozen=True)
class AblationStudy(CnnStudy):
    base_spec: ArchSpec = BASELINE
    base_recipe: Recipe = REFERENCE_RECIPE
    variants: dict[str, tuple[ArchSpec, Recipe]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "ablation"

    def configure(self, options: RunOptions) -> AblationStudy:
        base = base_from(options)
        variants = variants_of(base.spec, base.recipe, options.variants)
        seeds = self.run_seeds(options)
        return dataclasses.replace(
            self,
            name=base.name,
            about=base.text,
            base_spec=base.spec,
            base_recipe=base.recipe,
            variants=variants,
            sample=_sampler(variants),
            # seed-major: a run cut short still holds every variant at the seeds it reached
            warm_start=tuple({"variant": v, "seed": s} for s in seeds for v in variants),
            n_trials=len(variants) * len(seeds),
        )


def _sampler(variants: dict[str, tuple[ArchSpec, Recipe]]):
    def sample(trial: optuna.trial.BaseTrial) -> Proposal:
        name = trial.suggest_categorical("variant", list(VARIANTS))
        trial.suggest_int("seed", 0, 2**31 - 1)  # fixed per trial by the enqueued runs
        if name not in variants:
            raise UsageError(f"variant {name} does not apply to this base")
        return Proposal(*variants[name])

    return sample


STUDY = AblationStudy(
    name="ablation",
    description="one-factor-at-a-time ablation of a base net (--base baseline|trial:N --from S)",
    direction="maximize",
    n_trials=0,  # set by configure: variants x seeds
    seed=1,
    make_sampler=lambda seed: optuna.samplers.RandomSampler(seed=seed),
    seeds=(1, 2, 3, 4, 5),  # paired with the base's; n = 5 for a paired t interval
    val_size=0,  # train on all 60,000 images; report the final test accuracy
    value="final_test_acc",
    queue_only=True,
)
