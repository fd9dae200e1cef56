"""cnn20k: small CNNs for MNIST under the task's hard limits, searched with pruning.

Limits (rules, checked before training): params < 20,000, epochs <= 19, no fully connected layer.
Selection is on a 10,000-image validation split carved from the training set; test accuracy is
stored for every epoch and never used to rank, prune or stop. The score adds pressure towards
small nets: val_acc - 0.1 points per 1,000 parameters over 5,000 (see CnnStudy.score), so the
search looks for the most accurate net near 5,000 parameters rather than the most accurate of
all (which sits near the 20,000 limit). Winners are then confirmed on all 60,000 training images
over 3 seeds (`--confirm K`, also run when the budget ends).

`sample(trial)` is the only place that calls `trial.suggest_*`; `params_for(proposal)` is its
inverse, used to enqueue the pinned baseline as the first trial (warm start).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import optuna

from archs import BASELINE, ArchSpec, Transition
from search.study import CnnStudy, Proposal
from search.study.limits import Limits
from search.study.pruners import AnyPruner
from search.study.recipe import REFERENCE_RECIPE, Recipe


@dataclass(frozen=True)
class Space:
    """The choices `sample` draws from. A narrower study (studies/cnn6k.py) replaces some; the
    parameter names stay the same, so trials of both studies share their columns."""

    blocks: tuple[int, int] = (2, 3)  # low, high
    convs: tuple[int, int] = (1, 3)  # 3x3 convs per block, low, high
    widths: tuple[int, int, int] = (4, 32, 2)  # output channels of a 3x3 conv: low, high, step
    transition_widths: tuple[int, ...] = (0, 4, 6, 8, 10, 12, 16)  # 0 = no 1x1 after the pool
    pool_bn: tuple[bool, ...] = (True, False)
    dropouts: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1, 0.15)
    dropout_at: tuple[str, ...] = ("every_conv", "block_end")
    paddings: tuple[int, ...] = (0, 1)  # of the first block
    bn: tuple[str, ...] = ("after_relu", "before_relu", "none")
    heads: tuple[str, ...] = ("gap_conv", "conv_gap", "conv_reduce")
    bias: tuple[bool, ...] = (True, False)
    optimizers: tuple[str, ...] = ("sgd", "adamw")
    lr: tuple[float, float] = (1e-3, 0.5)  # peak learning rate, log scale
    schedules: tuple[str, ...] = ("none", "step", "onecycle")
    batch_sizes: tuple[int, ...] = (64, 128)
    augment_degrees: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0)
    augment_translate: tuple[float, ...] = (0.0, 0.05, 0.1)  # fraction of the side
    epochs: tuple[int, ...] = (12, 15, 19)

    def replace(self, **changes) -> Space:
        return dataclasses.replace(self, **changes)


SPACE = Space()


def sampler(space: Space) -> Callable[[optuna.trial.BaseTrial], Proposal]:
    """`sample(trial)` over `space`: architecture and recipe, stable parameter names."""

    def sample(trial: optuna.trial.BaseTrial) -> Proposal:
        blocks, transitions = [], []
        block_count = trial.suggest_int("blocks", *space.blocks)
        for b in range(1, block_count + 1):
            convs = trial.suggest_int(f"b{b}_convs", *space.convs)
            low, high, step = space.widths
            blocks.append(
                tuple(
                    trial.suggest_int(f"b{b}_w{c}", low, high, step=step)
                    for c in range(1, convs + 1)
                )
            )
        pool_bn = trial.suggest_categorical("pool_bn", list(space.pool_bn))
        for t in range(1, block_count):
            width = trial.suggest_categorical(f"t{t}_width", list(space.transition_widths))
            transitions.append(Transition(pool="max", pool_bn=pool_bn, width=width))
        dropout = trial.suggest_categorical("dropout", list(space.dropouts))
        dropout_at = "none"
        if dropout > 0:
            dropout_at = trial.suggest_categorical("dropout_at", list(space.dropout_at))
        padding = trial.suggest_categorical("b1_padding", list(space.paddings))
        spec = ArchSpec(
            blocks=tuple(blocks),
            transitions=tuple(transitions),
            padding=(padding,) + (0,) * (block_count - 1),
            bn=trial.suggest_categorical("bn", list(space.bn)),
            dropout=dropout,
            dropout_at=dropout_at,
            head=trial.suggest_categorical("head", list(space.heads)),
            bias=trial.suggest_categorical("bias", list(space.bias)),
        )
        return Proposal(spec, _recipe(trial, space))

    return sample


def _recipe(trial: optuna.trial.BaseTrial, space: Space) -> Recipe:
    return REFERENCE_RECIPE.replace(
        optimizer=trial.suggest_categorical("optimizer", list(space.optimizers)),
        lr=trial.suggest_float("lr", *space.lr, log=True),
        schedule=trial.suggest_categorical("schedule", list(space.schedules)),
        batch_size=trial.suggest_categorical("batch_size", list(space.batch_sizes)),
        augment_degrees=trial.suggest_categorical("augment_degrees", list(space.augment_degrees)),
        augment_translate=trial.suggest_categorical(
            "augment_translate", list(space.augment_translate)
        ),
        epochs=trial.suggest_categorical("epochs", list(space.epochs)),
    )


sample = sampler(SPACE)


def params_for(proposal: Proposal) -> dict:
    """The trial params that make `sample` return `proposal` (the inverse of `sample`)."""
    spec, recipe = proposal.spec, proposal.recipe
    params: dict = {"blocks": len(spec.blocks)}
    for b, block in enumerate(spec.blocks, start=1):
        params[f"b{b}_convs"] = len(block)
        params.update({f"b{b}_w{c}": width for c, width in enumerate(block, start=1)})
    params["pool_bn"] = spec.transitions[0].pool_bn if spec.transitions else True
    params.update({f"t{t}_width": tr.width for t, tr in enumerate(spec.transitions, start=1)})
    params["dropout"] = spec.dropout
    if spec.dropout > 0:
        params["dropout_at"] = spec.dropout_at
    params.update(
        b1_padding=spec.padding[0],
        bn=spec.bn,
        head=spec.head,
        bias=spec.bias,
        optimizer=recipe.optimizer,
        lr=recipe.lr,
        schedule=recipe.schedule,
        batch_size=recipe.batch_size,
        augment_degrees=recipe.augment_degrees,
        augment_translate=recipe.augment_translate,
        epochs=recipe.epochs,
    )
    return params


def make_sampler(seed: int, startup_trials: int = 16) -> optuna.samplers.BaseSampler:
    # Multivariate TPE models interactions (optimizer x lr, width x width); the constant liar
    # keeps parallel workers from proposing the same point.
    return optuna.samplers.TPESampler(
        seed=seed,
        multivariate=True,
        group=True,
        n_startup_trials=startup_trials,
        constant_liar=True,
    )


def make_pruner(
    seed: int, min_epochs: int = 2, reduction_factor: int = 3, last_epoch: int = 15
) -> optuna.pruners.BasePruner:
    # Hyperband: brackets start at epochs 2, 6 and 18 (reduction factor 3); only the top third
    # of a rung goes on. Bracket assignment is a hash of the trial number, so it is
    # deterministic. The floor: a score under 50% after `min_epochs` (2) is a dead trial (MNIST
    # nets that learn are above 90% by then), whatever its bracket. Nothing is pruned after
    # `last_epoch` (15 of 19): a rung at 16 or 18 saves at most 3 epochs and can stop the best
    # trial (the recipe study's trial 18, its best validation accuracy, was pruned at epoch 18).
    return AnyPruner(
        [
            optuna.pruners.HyperbandPruner(
                min_resource=min_epochs, max_resource=19, reduction_factor=reduction_factor
            ),
            optuna.pruners.ThresholdPruner(lower=50.0, n_warmup_steps=min_epochs),
        ],
        last_step=last_epoch,
    )


STUDY = CnnStudy(
    name="cnn20k",
    description="search small CNNs: >= 99.4% MNIST test, < 20k params, <= 19 epochs, no FC",
    direction="maximize",
    n_trials=120,
    seed=1,
    make_sampler=make_sampler,
    make_pruner=make_pruner,
    sample=sample,
    limits=Limits(max_params=20_000, max_epochs=19, no_fc=True),
    seeds=(1, 2, 3, 4, 5),  # confirmation: a claim needs >= 5 seeds (search.study.claim)
    val_size=10_000,
    warm_start=(params_for(Proposal(BASELINE, REFERENCE_RECIPE)),),
    confirm_top=3,
    params_target=5_000,
    params_penalty=0.1,
)
