"""The measurements behind `python -m search.bench` (see that module for what each does)."""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from archs import BASELINE, ReferenceNet
from search.engine.data import MEAN, STD, load_mnist, prepare
from search.engine.train import evaluate, seeded_build, train
from search.errors import UsageError
from search.store.provenance import machine
from search.study.recipe import REFERENCE_RECIPE


class PerSampleMnist(torch.utils.data.Dataset):
    """The conventional path: one normalised (1, 28, 28) tensor per __getitem__."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        image = (self.images[index].float() / 255.0 - MEAN) / STD
        return image.unsqueeze(0), int(self.labels[index])


def conventional_epoch(arrays, batches: int | None, seed: int = 1) -> tuple[float, ReferenceNet]:
    """(a): images/s over `batches` batches (None: one whole epoch), and the model."""
    torch.manual_seed(seed)
    model = ReferenceNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    dataset = PerSampleMnist(arrays.train_images, arrays.train_labels)
    loader = torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=True)
    model.train()
    seen, started = 0, time.perf_counter()
    for index, (images, labels) in enumerate(loader):
        if batches is not None and index == batches:
            break
        loss = F.nll_loss(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(labels)
    return seen / (time.perf_counter() - started), model


def compute_floor(arrays, batches: int, seed: int = 1) -> float:
    """(b): the same module and steps on batches made before the clock starts."""
    torch.manual_seed(seed)
    model = ReferenceNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    data = prepare(arrays, val_size=0)
    order = torch.randperm(len(data.train))[: batches * 64]
    made = [(data.train.images[i], data.train.labels[i]) for i in order.split(64)]
    model.train()
    started = time.perf_counter()
    for images, labels in made:
        loss = F.nll_loss(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return len(made) * 64 / (time.perf_counter() - started)


def engine_rate(arrays, batches: int, precision: str = "fp32") -> float:
    """(c)/(d): the engine's own loop over `batches` batches (one short epoch)."""
    # images/s counts training only: the test set's evaluation after the epoch is cut to one
    # batch (it took as long as the timed batches of a short bench, and measured nothing)
    data = prepare(arrays, val_size=0, train_limit=batches * 64, test_limit=64)
    recipe = REFERENCE_RECIPE.replace(epochs=1, precision=precision)
    history = train(seeded_build(BASELINE, 1), data, recipe, "cpu")
    return history.epochs[0].images_per_second


def peak_memory_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # ru_maxrss is KiB


def bench_data(data_root: str | None, batches: int, quick: bool, offline: bool = False) -> int:
    arrays = load_mnist(data_root, offline or None)
    print(f"machine: {machine()}", flush=True)
    print(f"baseline net (10,066 params), batch 64, {batches} batches per path after 20 warm-up")
    engine_rate(arrays, 20)  # warm-up: allocator, oneDNN kernels
    conventional_epoch(arrays, 20)
    rates = {
        "a": conventional_epoch(arrays, batches)[0],
        "b": compute_floor(arrays, batches),
        "c": engine_rate(arrays, batches),
        "d": engine_rate(arrays, batches, "bf16"),
    }
    names = {
        "a": "(a) conventional: per-sample Dataset + DataLoader, fp32, eager",
        "b": "(b) compute floor: reference module on pre-made batches, fp32",
        "c": "(c) engine default: indexed batches, channels_last, fast dropout, fp32",
        "d": "(d) engine + bf16 autocast",
    }
    for key, rate in rates.items():
        print(f"{names[key]:<76} {rate:>7,.0f} img/s", flush=True)
    print(f"ratio (c)/(a) = {rates['c'] / rates['a']:.2f}   (target >= 1.6, goal 2.0)")
    print(f"ratio (c)/(b) = {rates['c'] / rates['b']:.2f}")
    print(f"ratio (d)/(a) = {rates['d'] / rates['a']:.2f}")
    if not quick:
        accuracy_check(arrays)
    print(f"peak memory (max RSS) = {peak_memory_gb():.2f} GB   (target < 1.5 GB)")
    return 0


def accuracy_check(arrays) -> None:
    """One epoch on all 60,000 images, seed 1: the fast paths must stay within 0.3 points."""
    data = prepare(arrays, val_size=0)
    _, model = conventional_epoch(arrays, None)
    reference = evaluate(model, data.test)
    print(f"1 epoch, test accuracy: (a) fp32 conventional {reference:.2f}%", flush=True)
    for precision in ("fp32", "bf16"):
        recipe = REFERENCE_RECIPE.replace(epochs=1, precision=precision)
        accuracy = train(seeded_build(BASELINE, 1), data, recipe, "cpu").epochs[0].test_acc
        delta = accuracy - reference
        verdict = "ok" if abs(delta) <= 0.3 else "OUTSIDE 0.3"
        line = f"engine {precision} {accuracy:.2f}% ({delta:+.2f}, {verdict})"
        print(f"1 epoch, test accuracy: {line}", flush=True)


def bench_workers(
    data_root: str | None,
    workers: int,
    train_images: int,
    trials: int,
    repeats: int,
    batches: int = 300,
) -> int:
    """Images/s of the baseline repeat study: 1 process x all threads vs N x 1 thread.

    The two configurations alternate (1, N, 1, N, ...) so that a slow spell of the machine
    does not land on one of them only; the ratios compare the fastest run of each.
    """
    if workers < 2:
        raise UsageError(f"--workers: compare 1 worker with 2 or more, got {workers}")
    load_mnist(data_root)  # fetched once here if missing, before any process reads it
    print(f"machine: {machine()}", flush=True)
    ceiling = loop_ceiling(data_root, workers, batches)
    runs = _alternating_runs(data_root, workers, train_images, trials, repeats)
    _print_ratios(runs, workers, repeats, ceiling)
    return 0


def _alternating_runs(
    data_root: str | None, workers: int, train_images: int, trials: int, repeats: int
) -> dict[int, list[tuple[float, float]]]:
    """(end-to-end seconds, seconds in trials) of each run, by worker count, printed as they
    finish; every run gets its own storage, all in one temporary folder removed at the end."""
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    runs: dict[int, list[tuple[float, float]]] = {1: [], workers: []}
    images = trials * train_images
    try:
        for repeat in range(1, repeats + 1):
            for count in (1, workers):
                storage = f"sqlite:///{folder}/w{count}-{repeat}.db"
                seconds, in_trials = workers_run(storage, data_root, count, train_images, trials)
                runs[count].append((seconds, in_trials))
                print(
                    f"run {repeat}/{repeats}, {count} worker(s): {trials} trials x"
                    f" {train_images:,} images: end to end {seconds:.1f}s ="
                    f" {images / seconds:,.0f} img/s ({3600 * trials / seconds:,.0f} trials/hour);"
                    f" in trials {in_trials:.1f}s = {images / in_trials:,.0f} img/s",
                    flush=True,
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return runs


def _print_ratios(
    runs: dict[int, list[tuple[float, float]]], workers: int, repeats: int, ceiling: float
) -> None:
    """N workers against 1 on the fastest run of each, then per repeat when there are several."""
    fastest = {
        count: [min(clock) for clock in zip(*times, strict=True)] for count, times in runs.items()
    }
    (wall_n, span_n), (wall_1, span_1) = fastest[workers], fastest[1]
    print(
        f"ratio {workers} workers / 1 worker, fastest run of each: end to end"
        f" {wall_1 / wall_n:.2f}, in trials {span_1 / span_n:.2f}   (target >= 1.4;"
        f" training loop alone {ceiling:.2f})"
    )
    if repeats > 1:
        pairs = list(zip(runs[1], runs[workers], strict=True))
        print(
            "ratio per repeat: end to end "
            + ", ".join(f"{one[0] / many[0]:.2f}" for one, many in pairs)
            + "; in trials "
            + ", ".join(f"{one[1] / many[1]:.2f}" for one, many in pairs)
        )


def loop_ceiling(data_root: str | None, workers: int, batches: int) -> float:
    """Images/s of the bare training loop: 1 process x all threads, then `workers` processes x
    1 thread training at the same moment (a barrier after loading and warm-up); prints both and
    returns their ratio, the most the workers can gain per trial on this machine."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    threads = os.cpu_count() or 1
    rates = {}
    for count in (1, workers):
        barrier, results = context.Barrier(count), context.Queue()
        each = threads if count == 1 else max(1, threads // workers)
        processes = [
            context.Process(target=_loop_rate, args=(data_root, each, batches, barrier, results))
            for _ in range(count)
        ]
        for process in processes:
            process.start()
        rates[count] = sum(results.get(timeout=600) for _ in processes)
        for process in processes:
            process.join()
        print(
            f"training loop alone, {count} process(es) x {each} thread(s), {batches} batches"
            f" each: {rates[count]:,.0f} img/s",
            flush=True,
        )
    return rates[workers] / rates[1]


def _loop_rate(data_root, threads: int, batches: int, barrier, results) -> None:
    torch.set_num_threads(threads)
    arrays = load_mnist(data_root)
    engine_rate(arrays, 20)  # warm-up: imports, allocator, oneDNN kernels
    barrier.wait()
    results.put(engine_rate(arrays, batches))


def workers_run(
    storage: str,
    data_root: str | None,
    count: int,
    train_images: int,
    trials: int,
    device: str = "cpu",
) -> tuple[float, float]:
    """One `search.run --study baseline` of `trials` 1-epoch seeds on `count` workers: its wall
    seconds and its seconds in trials (storage timestamps)."""
    import subprocess

    command = [sys.executable, "-m", "search.run", "--study", "baseline", "--storage", storage]
    command += ["--epochs", "1", "--train-limit", str(train_images), "--plain"]
    command += ["--device", device]
    command += ["--seeds", *(str(s) for s in range(1, trials + 1)), "--workers", str(count)]
    if data_root:
        command += ["--data-root", data_root]
    if count == 1:
        command += ["--threads", str(os.cpu_count() or 1)]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, trial_span(storage)


def trial_span(storage: str) -> float:
    """Seconds from the first trial's start to the last trial's end, from the storage."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="baseline", storage=storage)
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    starts = [t.datetime_start for t in done]
    ends = [t.datetime_complete for t in done]
    return (max(ends) - min(starts)).total_seconds()
