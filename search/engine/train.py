"""The training engine: `train(model, data, recipe)` -> a per-epoch `History`.

Batches come from `search.engine.data.batches` (tensor indexing on the training device). The
engine's default path on CPU is channels_last with the builder's cheap dropout mask (see
archs.layers); `recipe.precision="bf16"` adds bf16 autocast to the training forward. Evaluation
always runs in fp32. A NaN or exploding loss ends the run with status "diverged" instead of
raising; a callback returning True ends it with status "stopped" (the runner's pruning hook).
Accuracies are percent.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from archs import ArchSpec, build
from search.engine.data import Augment, Data, Split, batches
from search.engine.optim import ema_model, make_optimizer, make_schedule, nll
from search.errors import UsageError
from search.study.recipe import Recipe

CHECK_EVERY = 50  # batches between divergence checks
DIVERGED_LOSS = 100.0  # mean nats per image over a check window; chance level is ln 10 = 2.3
PROGRESS_EVERY = 25  # batches between progress callbacks
# Images per evaluation forward. On CPU 256 evaluates 10,000 test images 1.5-2.7x faster than
# 1,000 (nets of 4,686 to 20,210 parameters, 1 and 2 threads; 2-core Xeon VM, 2026-11-28): the
# activations of a smaller batch stay in cache. Accelerators keep the larger batch.
EVAL_BATCH_CPU = 256
EVAL_BATCH = 1000


@dataclass
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float  # mean nats per image over the epoch
    train_acc: float  # percent, on the (augmented, dropout-on) training batches
    val_acc: float | None  # percent; None when there is no validation split
    test_acc: float  # percent
    epoch_seconds: float  # training and evaluation
    images_per_second: float  # training only
    lr: float  # at the end of the epoch


@dataclass
class History:
    epochs: list[EpochRecord] = field(default_factory=list)
    status: str = "complete"  # complete | stopped | diverged
    message: str = ""
    device: str = "cpu"

    def column(self, name: str) -> list:
        return [getattr(record, name) for record in self.epochs]

    def to_dict(self) -> dict:
        return {
            "epochs": [asdict(r) for r in self.epochs],
            "status": self.status,
            "message": self.message,
            "device": self.device,
        }


OnEpoch = Callable[[EpochRecord], bool | None]
OnProgress = Callable[[int, int, int, float], None]  # epoch, batch, batches, images/s


def resolve_device(name: str = "auto") -> torch.device:
    """auto: cuda when available, else cpu. Asking for cuda without one is a usage error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available here; use --device cpu")
    if name not in ("cpu", "cuda"):
        raise UsageError(f"unknown device {name!r}: use auto, cpu or cuda")
    return torch.device(name)


def seeded_build(spec: ArchSpec, seed: int) -> nn.Module:
    """build(spec) with torch's global generator seeded first: the same seed, the same weights."""
    torch.manual_seed(seed)
    return build(spec)


def warm_up() -> None:
    """Import now what the first trial would import on its clock: building the first optimizer
    imports torch._dynamo (~1.5-2 s of CPU on 2 cores)."""
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def evaluate(model: nn.Module, split: Split, channels_last: bool = False) -> float:
    """Accuracy in percent, fp32, eval mode, no gradients; the count stays on the device and is
    read once, at the end."""
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=split.labels.device)
    with torch.inference_mode():
        size = EVAL_BATCH_CPU if split.images.device.type == "cpu" else EVAL_BATCH
        for start in range(0, len(split), size):
            images = _layout(split.images[start : start + size], channels_last)
            predicted = model(images).argmax(dim=1)
            correct += (predicted == split.labels[start : start + size]).sum()
    return 100.0 * int(correct) / len(split)


def _layout(images: torch.Tensor, channels_last: bool) -> torch.Tensor:
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def train(
    model: nn.Module,
    data: Data,
    recipe: Recipe,
    device: str | torch.device = "auto",
    on_epoch: OnEpoch | None = None,
    on_progress: OnProgress | None = None,
) -> History:
    """Train `model` on `data.train` per `recipe`; evaluate val and test after every epoch."""
    device = resolve_device(device) if isinstance(device, str) else device
    data = data.to(device)
    loop = _Loop.start(model, recipe, device, len(data.train))
    history = History(device=str(device))
    for epoch in range(1, recipe.epochs + 1):
        record = _train_and_evaluate(loop, data, epoch, on_progress)
        if record is None:
            history.status, history.message = (
                "diverged",
                f"loss not finite or > {DIVERGED_LOSS} in epoch {epoch}",
            )
            break
        history.epochs.append(record)
        if on_epoch is not None and on_epoch(record):
            history.status, history.message = "stopped", f"stopped by callback after epoch {epoch}"
            break
    if loop.averaged is not None:  # the evaluated weights are the ones kept (saved, exported)
        model.load_state_dict(loop.averaged.module.state_dict())
    return history


def _train_and_evaluate(
    loop: _Loop, data: Data, epoch: int, on_progress: OnProgress | None
) -> EpochRecord | None:
    """Train one epoch, then evaluate val and test; None when the loss diverged."""
    started = time.perf_counter()
    outcome = _train_epoch(loop, data.train, epoch, on_progress)
    if outcome is None:
        return None
    train_seconds = time.perf_counter() - started
    if loop.epoch_schedule is not None:
        loop.epoch_schedule.step()
    channels_last = loop.recipe.channels_last
    return EpochRecord(
        epoch=epoch,
        train_loss=outcome[0],
        train_acc=outcome[1],
        val_acc=evaluate(loop.evaluated, data.val, channels_last) if data.val else None,
        test_acc=evaluate(loop.evaluated, data.test, channels_last),
        epoch_seconds=time.perf_counter() - started,
        images_per_second=len(data.train) / train_seconds,
        lr=loop.optimizer.param_groups[0]["lr"],
    )


@dataclass
class _Loop:
    """What one training run carries from batch to batch and epoch to epoch."""

    model: nn.Module
    recipe: Recipe
    optimizer: torch.optim.Optimizer
    batch_schedule: torch.optim.lr_scheduler.LRScheduler | None  # stepped after every batch
    epoch_schedule: torch.optim.lr_scheduler.LRScheduler | None  # stepped after every epoch
    generator: torch.Generator  # shuffling (and augmentation on CPU)
    augment: Augment | None
    draws: torch.Generator  # augmentation draws (see augment_generator)
    averaged: AveragedModel | None  # the moving average of the weights, when the recipe has one

    @classmethod
    def start(cls, model: nn.Module, recipe: Recipe, device: torch.device, images: int):
        """Move the model, seed the generators, build optimizer, schedule and average."""
        memory_format = torch.channels_last if recipe.channels_last else torch.contiguous_format
        model.to(device=device, memory_format=memory_format)
        torch.manual_seed(recipe.seed)  # dropout masks draw from the global generator
        generator = torch.Generator().manual_seed(recipe.seed)
        draws = augment_generator(generator, device, recipe.seed)
        optimizer = make_optimizer(model, recipe)
        steps = math.ceil(images / recipe.batch_size)
        schedule, per_batch = make_schedule(optimizer, recipe, steps)
        augment = Augment(recipe.augment_degrees, recipe.augment_translate)
        return cls(
            model,
            recipe,
            optimizer,
            schedule if per_batch else None,
            None if per_batch else schedule,
            generator,
            augment if augment.active else None,
            draws,
            ema_model(model, recipe.ema),
        )

    @property
    def evaluated(self) -> nn.Module:
        """The weights evaluated (and kept): the moving average when there is one."""
        return self.model if self.averaged is None else self.averaged.module


def augment_generator(generator: torch.Generator, device: torch.device, seed: int):
    """Where augmentation draws come from: the shuffling generator on CPU (so CPU runs keep
    their numbers), a generator on the device itself elsewhere (seeded from the recipe), so no
    draw crosses from host to device inside an epoch."""
    if device.type == "cpu":
        return generator
    return torch.Generator(device).manual_seed(seed)


def reads_each_window(device: torch.device) -> bool:
    """Whether the divergence check is read every CHECK_EVERY batches (CPU: reading a CPU
    tensor waits for nothing, and a diverged run stops early) or once per epoch (a GPU: each
    read would make the host wait for the device)."""
    return device.type == "cpu"


def _train_epoch(
    loop: _Loop, split: Split, epoch: int, on_progress: OnProgress | None
) -> tuple[float, float] | None:
    """One pass over `split`; (mean loss, accuracy %), or None when the loss diverged.

    The loss sum, the correct count and the worst check window stay on the device; on a GPU
    the host reads them once, at the end of the epoch (one synchronisation per epoch)."""
    recipe = loop.recipe
    loop.model.train()
    device = split.images.device
    autocast = _autocast(recipe, device)
    total_batches = math.ceil(len(split) / recipe.batch_size)
    each_window = reads_each_window(device)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    worst = torch.zeros((), device=device)  # largest window loss so far; NaN stays NaN
    window_start, seen, started = loss_sum.clone(), 0, time.perf_counter()
    for index, (images, labels) in enumerate(
        batches(split, recipe.batch_size, loop.generator, loop.augment, loop.draws)
    ):
        loss, output = _step(loop, images, labels, autocast)
        loss_sum += loss.detach() * len(labels)
        correct += (output.argmax(dim=1) == labels).sum()
        seen += len(labels)
        if (index + 1) % CHECK_EVERY == 0 or index + 1 == total_batches:
            window = (loss_sum - window_start) / (CHECK_EVERY * recipe.batch_size)
            worst = torch.maximum(worst, window)
            window_start = loss_sum.clone()
            if each_window and _diverged(float(worst)):
                return None
        if on_progress is not None and (index + 1) % PROGRESS_EVERY == 0:
            on_progress(epoch, index + 1, total_batches, seen / (time.perf_counter() - started))
    worst_loss, loss_total, correct_total = torch.stack(
        [worst, loss_sum, correct.to(loss_sum.dtype)]
    ).tolist()  # the one read of the epoch
    if _diverged(worst_loss):
        return None
    return loss_total / seen, 100.0 * correct_total / seen


def _step(
    loop: _Loop, images: torch.Tensor, labels: torch.Tensor, autocast
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step on one batch, then the average and per-batch schedule; returns the
    batch's mean loss and the model's output."""
    with autocast:
        output = loop.model(_layout(images, loop.recipe.channels_last))
    loss = nll(output.float(), labels, loop.recipe.label_smoothing)
    loop.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    loop.optimizer.step()
    if loop.averaged is not None:
        loop.averaged.update_parameters(loop.model)
    if loop.batch_schedule is not None:
        loop.batch_schedule.step()
    return loss, output


def _diverged(window_loss: float) -> bool:
    return not math.isfinite(window_loss) or window_loss > DIVERGED_LOSS


def _autocast(recipe: Recipe, device: torch.device):
    if recipe.precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
