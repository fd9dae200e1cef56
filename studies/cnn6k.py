"""cnn6k: the cnn20k space narrowed to nets of at most 6,000 parameters, 19 epochs each.

A second, focused search after cnn20k: the same sampler and parameter names over a narrower
space (3x3 widths up to 28, BN with ReLU, the two GAP heads, the recipes cnn20k's winners used,
always the full 19 epochs), with the hard limit params <= 6,000 as a pruning rule before
training, so the sampler learns that boundary instead of training past it. Warm start: the three
cnn20k winners under 6,000 parameters (trials 42, 47 and 50), trial 42 at 19 epochs instead of
its 12. The pruner is stricter than cnn20k's (Hyperband from epoch 1, keeping the top quarter at
each rung), since every trial here costs the full 19 epochs unless pruned. Selection is on the
validation split; winners are confirmed on all 60,000 training images over 3 seeds.
"""

from __future__ import annotations

from functools import partial

from search.study import CnnStudy
from search.study.limits import Limits
from studies import cnn20k
from studies.cnn20k import SPACE, sampler

MAX_PARAMS = 6_000  # inclusive, the target; the score's pressure aims at 5,000

SPACE_6K = SPACE.replace(
    widths=(4, 28, 2),
    transition_widths=(0, 4, 6, 8, 10, 12),
    dropouts=(0.0, 0.02, 0.05, 0.1),
    bn=("before_relu", "after_relu"),
    heads=("conv_reduce", "gap_conv"),
    optimizers=("adamw", "sgd"),
    lr=(3e-3, 0.2),
    schedules=("onecycle", "step"),
    epochs=(19,),
)

# cnn20k's three winners under 6,000 parameters (reports/cnn20k), all at 19 epochs.
SMALL_WINNER = {
    "blocks": 3,
    "pool_bn": False,
    "b1_padding": 1,
    "bn": "before_relu",
    "head": "conv_reduce",
    "bias": True,
    "optimizer": "adamw",
    "schedule": "onecycle",
    "batch_size": 64,
    "augment_translate": 0.05,
    "epochs": 19,
}
WARM_START = (
    SMALL_WINNER  # cnn20k trial 42: 5,816 params
    | {"b1_convs": 1, "b1_w1": 18, "b2_convs": 1, "b2_w1": 6, "b3_convs": 2, "b3_w1": 28}
    | {"b3_w2": 10, "t1_width": 6, "t2_width": 8, "dropout": 0.0}
    | {"lr": 0.01676513602257331, "augment_degrees": 5.0},
    SMALL_WINNER  # cnn20k trial 47: 4,758 params
    | {"b1_convs": 3, "b1_w1": 4, "b1_w2": 14, "b1_w3": 16, "b2_convs": 1, "b2_w1": 8}
    | {"b3_convs": 2, "b3_w1": 8, "b3_w2": 8, "t1_width": 6, "t2_width": 0}
    | {"dropout": 0.1, "dropout_at": "block_end", "lr": 0.013575346605018674}
    | {"augment_degrees": 10.0},
    SMALL_WINNER  # cnn20k trial 50: 5,016 params
    | {"b1_convs": 3, "b1_w1": 6, "b1_w2": 14, "b1_w3": 12, "b2_convs": 1, "b2_w1": 8}
    | {"b3_convs": 2, "b3_w1": 8, "b3_w2": 8, "t1_width": 12, "t2_width": 0}
    | {"dropout": 0.1, "dropout_at": "block_end", "lr": 0.10450615737667503}
    | {"augment_degrees": 10.0},
)


# As cnn20k's sampler, with fewer random startup trials: the warm start marks good ground.
make_sampler = partial(cnn20k.make_sampler, startup_trials=8)

# cnn20k's pruner, stricter: Hyperband brackets start at epochs 1, 4 and 16 (reduction factor
# 4), a quarter of a rung goes on; the floor (under 50% is dead) applies after the first epoch.
make_pruner = partial(cnn20k.make_pruner, min_epochs=1, reduction_factor=4)


STUDY = CnnStudy(
    name="cnn6k",
    description="focused search: <= 6,000 params, 19 epochs, warm-started from cnn20k's winners",
    direction="maximize",
    n_trials=24,
    seed=1,
    make_sampler=make_sampler,
    make_pruner=make_pruner,
    sample=sampler(SPACE_6K),
    limits=Limits(max_params=MAX_PARAMS + 1, max_epochs=19, no_fc=True),
    seeds=(1, 2, 3, 4, 5),  # confirmation: a claim needs >= 5 seeds (search.study.claim)
    val_size=10_000,
    warm_start=WARM_START,
    confirm_top=3,
    params_target=5_000,
    params_penalty=0.1,
)
