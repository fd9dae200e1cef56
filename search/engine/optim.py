"""What a recipe builds for a training run: the optimizer, the learning-rate schedule, the
moving average of the weights, and the loss (with label smoothing)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from search.study.recipe import Recipe


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    params = model.parameters()
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=recipe.lr,
            momentum=recipe.momentum,
            nesterov=recipe.nesterov and recipe.momentum > 0,
            weight_decay=recipe.weight_decay,
        )
    kind = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[recipe.optimizer]
    return kind(params, lr=recipe.lr, weight_decay=recipe.weight_decay)


def make_schedule(optimizer, recipe: Recipe, steps_per_epoch: int):
    """(scheduler or None, steps per batch?): onecycle steps per batch, step per epoch."""
    if recipe.schedule == "onecycle":
        total = recipe.epochs * steps_per_epoch
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, recipe.lr, total_steps=total), True
    if recipe.schedule == "step":
        schedule = torch.optim.lr_scheduler.StepLR(
            optimizer, recipe.step_epochs, recipe.step_gamma
        )
        return schedule, False
    return None, False


def ema_model(model: nn.Module, decay: float) -> AveragedModel | None:
    """An exponential moving average of `model`'s weights and BatchNorm buffers (None: off)."""
    if not decay:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def nll(output: torch.Tensor, labels: torch.Tensor, smoothing: float) -> torch.Tensor:
    """Negative log-likelihood of log-probabilities, with label smoothing: (1 - s) of the target
    on the true class and s spread evenly over all classes (as F.cross_entropy does)."""
    loss = F.nll_loss(output, labels)
    if not smoothing:
        return loss
    return (1 - smoothing) * loss + smoothing * (-output.mean(dim=1)).mean()
