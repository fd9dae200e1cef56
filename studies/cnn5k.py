"""cnn5k: the issue's goal, nets of at most 5,000 parameters, 19 epochs each, searched narrowly.

cnn6k's score stopped pressing at 5,000 parameters, so below it TPE chased validation accuracy
alone and spent its sessions on 1,500-4,000-parameter nets. Here the goal is the hard limit
(params <= 5,000, a pruning rule before training) and the score is validation accuracy alone,
over the choices every confirmed winner of cnn20k, cnn6k and the recipe studies shares: BN
before ReLU, AdamW with one-cycle, rotation plus shift, the conv-reduce or GAP-conv head, three
blocks, 19 epochs. Warm start: cnn6k's trial 45 (4,348 parameters, 99.35 +- 0.04 over 3 seeds),
the same net with a wider last conv (4,854), and cnn6k's trial 0 narrowed to 4,826 parameters
with the recipe that took it to 99.40 (recipe.cnn6k-trial0's trial 24).

The pruner's rungs all fall before the epoch-15 cut-off: Hyperband from epoch 1 with reduction
factor 3 has brackets with rungs at 1, 3, 9 / 3, 9 / 9, so every bracket prunes (cnn6k's factor
4 put its rungs at 1, 4, 16, and the rung at 16, past the cut-off, never fired, so its most
patient bracket pruned nothing). Selection is on the validation split; winners are confirmed
on all 60,000 training images over 3 seeds.
"""

from __future__ import annotations

from functools import partial

from search.study import CnnStudy
from search.study.limits import Limits
from studies import cnn6k, cnn20k
from studies.cnn20k import SPACE, sampler

MAX_PARAMS = 5_000  # inclusive, the goal

SPACE_5K = SPACE.replace(
    blocks=(3, 3),
    widths=(4, 28, 2),
    transition_widths=(0, 4, 6, 8, 10, 12),
    dropouts=(0.0, 0.02, 0.05),
    bn=("before_relu",),
    heads=("conv_reduce", "gap_conv"),
    optimizers=("adamw",),
    lr=(2e-3, 0.05),
    schedules=("onecycle",),
    batch_sizes=(32, 64),
    augment_degrees=(5.0, 10.0, 15.0),
    augment_translate=(0.0, 0.05),
    epochs=(19,),
)

# cnn6k's trial 45, 4,348 parameters, its own recipe (reports/cnn6k): cnn6k's shared choices
# for its small winners (three blocks, BN before ReLU, AdamW one-cycle, batch 64, ...) plus these.
_TRIAL_45 = cnn6k.SMALL_WINNER | {
    "b1_convs": 3,
    "b1_w1": 8,
    "b1_w2": 10,
    "b1_w3": 14,
    "b2_convs": 1,
    "b2_w1": 10,
    "b3_convs": 1,
    "b3_w1": 6,
    "t1_width": 6,
    "t2_width": 0,
    "dropout": 0.02,
    "dropout_at": "every_conv",
    "lr": 0.012529569186303805,
    "augment_degrees": 10.0,
}
# cnn6k's trial 0 (cnn20k's 42, 5,816 parameters; cnn6k's first warm start) with its third-block
# conv at 22 instead of 28 channels, and the recipe of recipe.cnn6k-trial0's trial 24 (99.40 +-
# 0.01 on the 5,816 net): AdamW lr 0.0037 one-cycle, batch 32, rotation 15, shift 0.05.
_TRIAL_0_NARROW = cnn6k.WARM_START[0] | {
    "b3_w1": 22,
    "lr": 0.0037344470457402242,
    "batch_size": 32,
    "augment_degrees": 15.0,
}
WARM_START = (_TRIAL_45, _TRIAL_45 | {"b3_w1": 8}, _TRIAL_0_NARROW)

make_sampler = partial(cnn20k.make_sampler, startup_trials=8)

# Hyperband from epoch 1, reduction factor 3: rungs at 1, 3 and 9, all before the cut-off at 15;
# a third of a rung goes on. The floor (under 50% is dead) applies after the first epoch.
make_pruner = partial(cnn20k.make_pruner, min_epochs=1, reduction_factor=3)


STUDY = CnnStudy(
    name="cnn5k",
    description="the goal: <= 5,000 params, 19 epochs, narrow space, rungs at epochs 1, 3, 9",
    direction="maximize",
    n_trials=40,
    seed=1,
    make_sampler=make_sampler,
    make_pruner=make_pruner,
    sample=sampler(SPACE_5K),
    limits=Limits(max_params=MAX_PARAMS + 1, max_epochs=19, no_fc=True),
    seeds=(1, 2, 3, 4, 5),  # confirmation: a claim needs >= 5 seeds (search.study.claim)
    val_size=10_000,
    warm_start=WARM_START,
    confirm_top=3,
)  # no params_target: under a hard 5,000 limit the score is validation accuracy alone
