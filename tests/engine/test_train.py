"""The recipe and the training engine, on real MNIST.

Fast tests train the baseline on 2,000 real training images (1,000 validation and 1,000 test
images) for one or two epochs; one slow test trains a full epoch of the reference recipe on all
60,000 and checks the test accuracy the reference run reached.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from archs import BASELINE
from search.engine import train as engine
from search.engine.data import Data, Split, prepare
from search.engine.syncs import counting_syncs
from search.engine.train import EpochRecord, History, evaluate, resolve_device, seeded_build, train
from search.errors import UsageError
from search.study.recipe import MAX_EPOCHS, REFERENCE_RECIPE, Recipe, RecipeError

RECIPE = Recipe(epochs=2, seed=1)  # the reference recipe (SGD 0.1, momentum 0.9, batch 64)
TIMINGS = ("epoch_seconds", "images_per_second")  # wall-clock numbers, never repeatable


@pytest.fixture(scope="module")
def small_data(mnist_arrays) -> Data:
    """2,000 training images; the first 1,000 of the validation split and of the test set."""
    data = prepare(mnist_arrays, train_limit=2_000)
    return Data(
        train=data.train,
        val=Split(data.val.images[:1_000], data.val.labels[:1_000]),
        test=Split(data.test.images[:1_000], data.test.labels[:1_000]),
    )


@pytest.fixture(scope="module")
def tiny_data(small_data) -> Data:
    """640 training images (10 batches of 64), no validation split, 200 test images."""
    return Data(
        train=Split(small_data.train.images[:640], small_data.train.labels[:640]),
        val=None,
        test=Split(small_data.test.images[:200], small_data.test.labels[:200]),
    )


def run(data: Data, recipe: Recipe, **callbacks) -> History:
    return train(seeded_build(BASELINE, recipe.seed), data, recipe, device="cpu", **callbacks)


@pytest.fixture(scope="module")
def seed1_history(small_data) -> History:
    return run(small_data, RECIPE)


def numbers(history: History) -> list[dict]:
    """Every recorded number except the wall-clock ones."""
    return [
        {k: v for k, v in dataclasses.asdict(r).items() if k not in TIMINGS}
        for r in history.epochs
    ]


# --- the recipe ---------------------------------------------------------------------------------


def test_reference_recipe_is_the_reference():
    assert REFERENCE_RECIPE.to_dict() == {
        "optimizer": "sgd",
        "lr": 0.1,
        "momentum": 0.9,
        "nesterov": False,
        "weight_decay": 0.0,
        "schedule": "none",
        "step_epochs": 6,
        "step_gamma": 0.1,
        "batch_size": 64,
        "epochs": 19,
        "seed": 1,
        "precision": "fp32",
        "channels_last": True,
        "augment_degrees": 0.0,
        "augment_translate": 0.0,
    }


def test_twenty_epochs_is_not_a_recipe():
    assert MAX_EPOCHS == 19
    assert Recipe(epochs=19).epochs == 19
    with pytest.raises(RecipeError) as caught:
        Recipe(epochs=20)
    assert str(caught.value) == "invalid recipe: epochs 20 > 19: the limit is at most 19"
    with pytest.raises(RecipeError, match="at most 19"):
        REFERENCE_RECIPE.replace(epochs=20)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"optimizer": "rmsprop"}, "optimizer 'rmsprop' unknown (known: sgd, adam, adamw)"),
        ({"schedule": "cosine"}, "schedule 'cosine' unknown (known: none, step, onecycle)"),
        ({"precision": "fp16"}, "precision 'fp16' unknown (known: fp32, bf16)"),
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"epochs": 2.5}, "epochs must be a positive integer, got 2.5"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"lr": 0}, "lr must be a positive number, got 0"),
        ({"momentum": -0.1}, "momentum must be a number >= 0, got -0.1"),
        ({"augment_translate": "0.1"}, "augment_translate must be a number >= 0, got '0.1'"),
        ({"step_epochs": 0}, "step_epochs must be a positive integer, got 0"),
        ({"seed": 1.5}, "seed must be an integer, got 1.5"),
    ],
)
def test_each_invalid_recipe_names_its_problem(changes, message):
    with pytest.raises(RecipeError) as caught:
        Recipe(**changes)
    assert str(caught.value) == f"invalid recipe: {message}"


def test_every_problem_is_named_at_once():
    with pytest.raises(RecipeError) as caught:
        Recipe(optimizer="x", epochs=25, lr=-1)
    assert str(caught.value) == (
        "invalid recipe: optimizer 'x' unknown (known: sgd, adam, adamw);"
        " epochs 25 > 19: the limit is at most 19; lr must be a positive number, got -1"
    )


@pytest.mark.parametrize(
    "recipe",
    [
        REFERENCE_RECIPE,
        Recipe(optimizer="adamw", lr=3e-3, weight_decay=0.01, schedule="onecycle", epochs=15),
        Recipe(schedule="step", step_epochs=4, step_gamma=0.3, precision="bf16", seed=-7),
        Recipe(augment_degrees=10.0, augment_translate=0.1, channels_last=False, nesterov=True),
    ],
)
def test_recipe_round_trips(recipe):
    data = recipe.to_dict()
    assert Recipe.from_dict(data) == recipe
    assert Recipe.from_dict(json.loads(json.dumps(data))) == recipe


def test_recipe_from_dict_names_unknown_fields():
    with pytest.raises(RecipeError) as caught:
        Recipe.from_dict({**REFERENCE_RECIPE.to_dict(), "warmup": 1, "amp": True})
    assert str(caught.value) == "invalid recipe: unknown field(s) amp, warmup"


# --- devices ------------------------------------------------------------------------------------


def test_resolve_device_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(UsageError) as caught:
        resolve_device("cuda")
    assert str(caught.value) == "--device cuda: no CUDA device is available here; use --device cpu"
    with pytest.raises(UsageError) as caught:
        resolve_device("tpu")
    assert str(caught.value) == "unknown device 'tpu': use auto, cpu or cuda"


# --- evaluation ---------------------------------------------------------------------------------


class AlwaysOne(nn.Module):
    """Predicts digit 1 for every image."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(len(images), 10)
        logits[:, 1] = 1.0
        return F.log_softmax(logits, dim=1)


def test_evaluate_is_percent_correct(mnist_arrays):
    test = prepare(mnist_arrays, val_size=0, train_limit=1).test
    # 1,135 of the 10,000 test images are ones
    assert evaluate(AlwaysOne(), test) == 100.0 * 1_135 / 10_000 == 11.35


def test_evaluate_in_cpu_batches_counts_as_one_forward_over_the_whole_set(mnist_arrays):
    """Evaluation batches (256 on CPU, for speed) change nothing: the count equals one forward
    over all 10,000 test images, with the last batch short (10,000 = 39 x 256 + 16)."""
    from archs import BASELINE, build
    from search.engine.train import EVAL_BATCH_CPU

    assert EVAL_BATCH_CPU == 256 and 10_000 % EVAL_BATCH_CPU == 16
    test = prepare(mnist_arrays, val_size=0, train_limit=1).test
    torch.manual_seed(0)
    model = build(BASELINE).eval()
    with torch.inference_mode():
        correct = int((model(test.images).argmax(dim=1) == test.labels).sum())
    assert evaluate(model, test) == 100.0 * correct / 10_000
    assert 0 < correct < 10_000


# --- training -----------------------------------------------------------------------------------


def test_same_seed_same_history(small_data, seed1_history):
    again = run(small_data, RECIPE)
    assert (again.status, again.message, again.device) == ("complete", "", "cpu")
    assert numbers(again) == numbers(seed1_history)
    assert len(again.epochs) == 2
    assert [r.epoch for r in again.epochs] == [1, 2]
    assert all(r.epoch_seconds > 0 and r.images_per_second > 0 for r in again.epochs)
    assert again.column("lr") == [0.1, 0.1]
    assert seed1_history.epochs[1].train_loss < seed1_history.epochs[0].train_loss


def test_different_seed_different_numbers(small_data, seed1_history):
    other = run(small_data, RECIPE.replace(seed=2))
    assert other.status == "complete"
    for mine, theirs in zip(numbers(seed1_history), numbers(other), strict=True):
        assert mine["train_loss"] != theirs["train_loss"]


def test_an_exploding_loss_ends_the_run_as_diverged(small_data):
    history = run(small_data, RECIPE.replace(lr=1e6))
    assert (history.status, history.message) == (
        "diverged",
        "loss not finite or > 100.0 in epoch 1",
    )
    assert history.epochs == []


def test_on_a_gpu_an_epoch_reads_the_device_once_however_many_batches(monkeypatch, small_data):
    # The GPU policy (reads_each_window False), run on the CPU: the host reads tensor values
    # once per epoch (loss, accuracy, divergence together) plus once per evaluated split, with
    # augmentation on, whether the epoch has 40 batches or 125; the CPU policy reads every
    # CHECK_EVERY (50) batches as well (it stops a diverged run early).
    recipe = RECIPE.replace(epochs=1, batch_size=16, augment_degrees=10.0, augment_translate=0.1)
    tiny = Data(
        train=Split(small_data.train.images[:640], small_data.train.labels[:640]),
        val=small_data.val,
        test=small_data.test,
    )
    reads = {}
    for policy in (False, True):
        monkeypatch.setattr(engine, "reads_each_window", lambda device, policy=policy: policy)
        for name, data in (("40 batches", tiny), ("125 batches", small_data)):
            with counting_syncs("cpu") as syncs:
                history = run(data, recipe)
            assert history.status == "complete"
            reads[policy, name] = syncs.host_reads
    assert reads[False, "40 batches"] == reads[False, "125 batches"] == 3  # epoch, val, test
    assert reads[True, "40 batches"] == 3 + 1  # one window check (after the last batch)
    assert reads[True, "125 batches"] == 3 + 3  # after batches 50, 100 and the last


def test_read_once_per_epoch_a_diverged_run_still_ends_as_diverged(monkeypatch, small_data):
    monkeypatch.setattr(engine, "reads_each_window", lambda device: False)
    history = run(small_data, RECIPE.replace(lr=1e6))
    assert (history.status, history.message, history.epochs) == (
        "diverged",
        "loss not finite or > 100.0 in epoch 1",
        [],
    )


def test_both_read_policies_give_the_same_numbers(monkeypatch, small_data, seed1_history):
    monkeypatch.setattr(engine, "reads_each_window", lambda device: False)
    assert numbers(run(small_data, RECIPE)) == numbers(seed1_history)


class Poisoned(nn.Module):
    """The baseline whose output turns NaN: a finite model fed to a broken loss."""

    def __init__(self):
        super().__init__()
        self.inner = seeded_build(BASELINE, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.inner(images) * float("nan")


def test_a_nan_output_ends_the_run_as_diverged(tiny_data):
    calls = []
    history = train(
        Poisoned(), tiny_data, RECIPE, device="cpu", on_epoch=lambda r: calls.append(r)
    )
    assert (history.status, history.message) == (
        "diverged",
        "loss not finite or > 100.0 in epoch 1",
    )
    assert history.epochs == calls == []


def test_a_callback_returning_true_stops_the_run(tiny_data):
    seen: list[EpochRecord] = []

    def stop_after_two(record: EpochRecord) -> bool:
        seen.append(record)
        return record.epoch == 2

    history = run(tiny_data, RECIPE.replace(epochs=5), on_epoch=stop_after_two)
    assert (history.status, history.message) == ("stopped", "stopped by callback after epoch 2")
    assert history.epochs == seen
    assert [r.epoch for r in seen] == [1, 2]
    assert [r.val_acc for r in seen] == [None, None]  # tiny_data has no validation split


@pytest.mark.parametrize(("step_epochs", "gamma"), [(1, 0.1), (2, 0.5)])
def test_step_schedule_lr_per_epoch(tiny_data, step_epochs, gamma):
    recipe = RECIPE.replace(epochs=3, schedule="step", step_epochs=step_epochs, step_gamma=gamma)
    history = run(tiny_data, recipe)
    # torch's StepLR: after e epochs, lr = lr0 * gamma ** (e // step_epochs)
    expected = [0.1 * gamma ** (epoch // step_epochs) for epoch in (1, 2, 3)]
    assert history.column("lr") == pytest.approx(expected, rel=1e-12)


def onecycle_lr(step: int, total: int, peak: float) -> float:
    """torch's OneCycleLR with its defaults (pct_start 0.3, div 25, final div 1e4, cosine).

    Phase 1 anneals peak / 25 -> peak over steps 0..0.3 * total - 1; phase 2 anneals peak ->
    peak / 25 / 1e4 up to step total - 1 (and, stepped once after the last batch, a hair past).
    """
    start, low = peak / 25, peak / 25 / 1e4
    first_end = 0.3 * total - 1
    if step <= first_end:
        high_from, to, fraction = start, peak, step / first_end
    else:
        high_from, to, fraction = peak, low, (step - first_end) / (total - 1 - first_end)
    return to + (high_from - to) / 2 * (math.cos(math.pi * fraction) + 1)


def test_onecycle_lr_per_epoch(small_data):
    recipe = RECIPE.replace(schedule="onecycle", batch_size=16)  # 125 steps per epoch
    history = run(small_data, recipe)
    expected = [onecycle_lr(step, 250, 0.1) for step in (125, 250)]
    assert history.column("lr") == pytest.approx(expected, rel=1e-9)
    floor = 0.1 / (25 * 1e4)  # 4e-7
    assert floor < history.epochs[-1].lr < floor + 1e-5  # annealed to (nearly) the floor
    assert history.status == "complete"


def test_bf16_stays_close_to_fp32(small_data, seed1_history):
    bf16 = run(small_data, RECIPE.replace(epochs=1, precision="bf16")).epochs[0]
    fp32 = seed1_history.epochs[0]
    assert bf16.train_loss != fp32.train_loss  # autocast did change the arithmetic
    assert abs(bf16.train_loss - fp32.train_loss) < 0.1  # nats per image; ~1.7 after 1 epoch
    assert abs(bf16.train_acc - fp32.train_acc) < 5.0  # percentage points


def test_callbacks_receive_percent_accuracies(small_data):
    model = seeded_build(BASELINE, 1)
    received, independent, progress = [], [], []

    def percent(split: Split) -> float:
        with torch.no_grad():
            predicted = model.eval()(split.images).argmax(dim=1)
        return 100.0 * (predicted == split.labels).sum().item() / len(split)

    def on_epoch(record: EpochRecord) -> None:
        received.append(record)
        independent.append((percent(small_data.val), percent(small_data.test)))

    history = train(
        model,
        small_data,
        RECIPE.replace(epochs=1),
        device="cpu",
        on_epoch=on_epoch,
        on_progress=lambda *args: progress.append(args),
    )
    assert history.epochs == received
    (record,) = received
    (val_acc, test_acc) = independent[0]
    # 1,000 images each: accuracies are multiples of 0.1 percent; allow one image of rounding
    assert record.val_acc == pytest.approx(val_acc, abs=0.1 + 1e-9)
    assert record.test_acc == pytest.approx(test_acc, abs=0.1 + 1e-9)
    assert 10.0 < record.val_acc <= 100.0 and 10.0 < record.test_acc <= 100.0
    assert record.train_acc > 10.0 and math.isfinite(record.train_loss)
    assert [(epoch, batch, batches) for epoch, batch, batches, _ in progress] == [(1, 25, 32)]


@pytest.mark.slow
def test_one_reference_epoch_on_all_training_images(mnist_arrays):
    # The reference run reached 98.18% test accuracy after its first epoch; this one, 98.09%.
    data = prepare(mnist_arrays, val_size=0)
    recipe = REFERENCE_RECIPE.replace(epochs=1, seed=1)
    history = run(data, recipe)
    assert history.status == "complete"
    (record,) = history.epochs
    assert record.val_acc is None
    assert record.test_acc >= 97.5


def test_label_smoothing_is_cross_entropys():
    from search.engine.optim import nll

    logits = torch.randn(32, 10, generator=torch.Generator().manual_seed(3))
    labels = torch.randint(0, 10, (32,), generator=torch.Generator().manual_seed(4))
    output = F.log_softmax(logits, dim=1)
    for smoothing in (0.0, 0.1, 0.3):
        expected = F.cross_entropy(logits, labels, label_smoothing=smoothing)
        assert torch.allclose(nll(output, labels, smoothing), expected, atol=1e-6)


def test_ema_weights_are_the_ones_evaluated_and_kept(tiny_data):
    recipe = RECIPE.replace(epochs=2)
    raw_model = seeded_build(BASELINE, recipe.seed)
    raw = train(raw_model, tiny_data, recipe, device="cpu")
    # a decay near 0: the average is the latest weights, so everything matches the raw run
    near = seeded_build(BASELINE, recipe.seed)
    same = train(near, tiny_data, recipe.replace(ema=1e-12), device="cpu")
    assert numbers(same) == numbers(raw)
    theirs = raw_model.state_dict()
    for name, mine in near.state_dict().items():
        assert torch.allclose(mine.float(), theirs[name].float(), atol=1e-6), name
    # a real decay: other weights (BatchNorm buffers too), evaluated and kept
    averaged_model = seeded_build(BASELINE, recipe.seed)
    averaged = train(averaged_model, tiny_data, recipe.replace(ema=0.9), device="cpu")
    assert averaged.column("train_loss") == raw.column("train_loss")  # training is the same
    state, raw_state = averaged_model.state_dict(), raw_model.state_dict()
    assert not torch.allclose(state["conv1.weight"], raw_state["conv1.weight"])
    assert not torch.allclose(state["bn1.running_mean"], raw_state["bn1.running_mean"])
    assert evaluate(averaged_model, tiny_data.test) == averaged.epochs[-1].test_acc


def test_the_averages_decay_warms_up_as_the_hand_formula_says():
    from search.engine.optim import ema_model

    model = nn.Linear(1, 1, bias=False)
    averaged = ema_model(model, 0.5)
    expected = None
    for step, weight in enumerate([0.0, 1.0, 2.0, 4.0, 8.0, 1.0, 3.0, 5.0, 7.0, 9.0, 11.0]):
        with torch.no_grad():
            model.weight.fill_(weight)
        averaged.update_parameters(model)
        decay = min(0.5, (1 + step) / (10 + step))  # step 0 copies: no decay yet
        expected = weight if step == 0 else decay * expected + (1 - decay) * weight
        assert averaged.module.weight.item() == pytest.approx(expected, rel=1e-6), step
    assert decay == 0.5  # reached at the 8th update: (1 + 8) / (10 + 8)
    assert int(averaged.n_averaged) == 11


def test_an_average_of_the_first_epochs_is_as_good_as_the_weights(small_data, seed1_history):
    # 64 steps at decay 0.999 from the first step left 94% of the initial weights in the
    # average (10% test accuracy); warmed up, it follows the weights (same training run).
    averaged = run(small_data, RECIPE.replace(ema=0.999))
    assert averaged.column("train_loss") == seed1_history.column("train_loss")
    raw, mean = seed1_history.epochs[-1], averaged.epochs[-1]
    assert raw.test_acc > 70.0
    assert mean.test_acc >= raw.test_acc - 2.0 and mean.val_acc >= raw.val_acc - 2.0


def test_label_smoothing_and_ema_are_validated_and_summarised():
    with pytest.raises(RecipeError, match=r"label_smoothing must be in \[0, 1\), got 1.0"):
        RECIPE.replace(label_smoothing=1.0)
    with pytest.raises(RecipeError, match=r"ema must be a decay in \[0, 1\) \(0 = off\), got 1"):
        RECIPE.replace(ema=1)
    assert (
        RECIPE.replace(label_smoothing=0.1, ema=0.999).summary == "sgd 0.1 none b64 ls0.1 ema0.999"
    )
