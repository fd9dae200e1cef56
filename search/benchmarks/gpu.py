"""`python -m search.bench --device cuda`: the GPU path, measured (see search.bench).

`data --device cuda`: training images/s of two nets at their own batch sizes, fp32 and bf16, one
epoch on all 60,000 training images each (after a warm-up), with the host's synchronisations per
epoch counted on a shorter epoch (search.engine.syncs). `workers --device cuda`: trials/hour of a
short real study (the baseline repeat study, one epoch per trial) with 1, 2, 4 and 8 worker
processes sharing the GPU, and the count that did best. `--json FILE` writes the numbers too.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from archs import BASELINE, ArchSpec
from search.engine.data import Split, load_mnist, prepare
from search.engine.syncs import counting_syncs
from search.engine.train import resolve_device, seeded_build, train
from search.errors import UsageError
from search.store.provenance import machine
from search.study.recipe import REFERENCE_RECIPE, Recipe

# cnn5k trial 30 (reports/cnn5k/trial30/spec.json): 4,686 parameters, the <= 5,000-parameter
# winner, trained at batch 32 with augmentation; pinned here so the bench needs no checkout.
WINNER_SPEC = {
    "blocks": [[10], [12], [14]],
    "transitions": [
        {"pool": "max", "pool_bn": False, "width": 6},
        {"pool": "max", "pool_bn": False, "width": 0},
    ],
    "padding": [1, 0, 0],
    "bn": "before_relu",
    "dropout": 0.02,
    "dropout_at": "every_conv",
    "head": "conv_reduce",
    "bias": True,
}
WINNER_RECIPE = {
    "optimizer": "adamw",
    "lr": 0.0020110418432896827,
    "schedule": "onecycle",
    "batch_size": 32,
    "epochs": 19,
    "augment_degrees": 15.0,
    "augment_translate": 0.05,
}
WORKER_COUNTS = (1, 2, 4, 8)


def nets() -> list[tuple[str, ArchSpec, Recipe]]:
    winner = ArchSpec.from_dict(WINNER_SPEC)
    return [
        ("baseline (10,066 params)", BASELINE, REFERENCE_RECIPE),
        ("cnn5k trial 30 (4,686 params)", winner, REFERENCE_RECIPE.replace(**WINNER_RECIPE)),
    ]


def bench_device(
    data_root: str | None,
    device_name: str,
    batches: int,
    json_path: str | None = None,
    train_limit: int | None = None,
) -> int:
    """Images/s per net and precision on `device_name`, and the syncs of an epoch (the timed
    epoch on all training images, or the first `train_limit`)."""
    device = resolve_device(device_name)
    arrays = load_mnist(data_root)
    data = prepare(arrays, val_size=0, train_limit=train_limit, device=device)  # on it once
    results = {"machine": machine(), "device": str(device), "nets": []}
    print(f"machine: {results['machine']}", flush=True)
    print(f"one epoch on all {len(data.train):,} training images per row, after a warm-up")
    for name, spec, base in nets():
        for precision in ("fp32", "bf16"):
            recipe = base.replace(epochs=1, precision=precision)
            row = measure_net(arrays, data, spec, recipe, device, batches)
            row |= {"net": name, "precision": precision}
            results["nets"].append(row)
            print(
                f"{name:<30} batch {recipe.batch_size:>3} {precision}:"
                f" {row['images_per_second']:>9,.0f} img/s, test {row['test_acc']:.2f}% after"
                f" 1 epoch; syncs per epoch of {row['sync_batches']} batches:"
                f" {sync_text(row)}",
                flush=True,
            )
    write_json(json_path, results)
    return 0


def measure_net(arrays, data, spec, recipe: Recipe, device, batches: int) -> dict:
    """One warm-up epoch of `batches` batches, one timed epoch on all images, and one counted
    epoch of `batches` batches (the counting slows it: never the timed one)."""
    short = prepare(arrays, val_size=0, train_limit=batches * recipe.batch_size, device=device)
    one_batch = Split(
        short.test.images[: recipe.batch_size], short.test.labels[: recipe.batch_size]
    )
    warm = dataclasses.replace(short, test=one_batch)  # the warm-up evaluates one test batch
    train(seeded_build(spec, 1), warm, recipe, device)  # warm-up: kernels, allocator
    synchronize(device)
    history = train(seeded_build(spec, 1), data, recipe, device)
    layout = torch.channels_last if recipe.channels_last else torch.contiguous_format
    model = seeded_build(spec, 1).to(device=device, memory_format=layout)  # copied in, uncounted
    with counting_syncs(device) as syncs:
        train(model, short, recipe, device)
    record = history.epochs[0]
    return {
        "batch_size": recipe.batch_size,
        "images_per_second": record.images_per_second,
        "epoch_seconds": record.epoch_seconds,
        "test_acc": record.test_acc,
        "sync_batches": -(-len(short.train) // recipe.batch_size),
        "syncs_cuda": syncs.cuda,
        "host_reads": syncs.host_reads,
    }


def sync_text(row: dict) -> str:
    cuda = "" if row["syncs_cuda"] is None else f"{row['syncs_cuda']} CUDA synchronisations, "
    return f"{cuda}{row['host_reads']} host reads of device values"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_workers_device(
    data_root: str | None,
    device_name: str,
    counts: tuple[int, ...],
    train_images: int,
    trials: int,
    json_path: str | None = None,
) -> int:
    """Trials/hour of the baseline repeat study (1 epoch per trial) with each worker count."""
    device = resolve_device(device_name)
    counts = tuple(c for c in counts if c <= (os.cpu_count() or 1)) or (1,)
    if trials < max(counts):
        raise UsageError(f"--trials {trials}: give every worker a trial (at least {max(counts)})")
    load_mnist(data_root)  # fetched once here if missing, before any worker reads it
    results = {"machine": machine(), "device": str(device), "trials": trials}
    print(f"machine: {results['machine']}", flush=True)
    results["runs"] = _runs_by_count(data_root, device, counts, train_images, trials)
    results["best_workers"] = best_count(results["runs"])
    one = results["runs"][0]["trials_per_hour"]
    print(
        "trials/hour against 1 worker: "
        + ", ".join(f"{r['workers']}: {r['trials_per_hour'] / one:.2f}x" for r in results["runs"])
        + f"; best: {results['best_workers']} workers",
        flush=True,
    )
    write_json(json_path, results)
    return 0


def _runs_by_count(
    data_root: str | None, device, counts: tuple[int, ...], train_images: int, trials: int
) -> list[dict]:
    """One study run per worker count, each on its own storage in a temporary folder removed
    at the end: its seconds and trials/hour, printed as it finishes."""
    from search.benchmarks.cpu import workers_run

    runs = []
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    try:
        for count in counts:
            storage = f"sqlite:///{folder}/w{count}.db"
            seconds, in_trials = workers_run(
                storage, data_root, count, train_images, trials, device.type
            )
            run = {
                "workers": count,
                "seconds": seconds,
                "seconds_in_trials": in_trials,
                "trials_per_hour": 3600 * trials / in_trials,
                "trials_per_hour_end_to_end": 3600 * trials / seconds,
            }
            runs.append(run)
            print(
                f"{count} worker(s) on {device}: {trials} trials x 1 epoch x {train_images:,}"
                f" images: in trials {in_trials:.1f}s = {run['trials_per_hour']:,.0f}"
                f" trials/hour; end to end {seconds:.1f}s ="
                f" {run['trials_per_hour_end_to_end']:,.0f} trials/hour",
                flush=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return runs


def best_count(runs: list[dict], within: float = 0.05) -> int:
    """The fewest workers within `within` of the highest trials/hour (fewer processes hold less
    GPU memory and fewer cores for the same throughput)."""
    top = max(r["trials_per_hour"] for r in runs)
    return min(r["workers"] for r in runs if r["trials_per_hour"] >= (1 - within) * top)


def write_json(path: str | None, results: dict) -> None:
    if path:
        staging = Path(f"{path}.partial")
        staging.write_text(json.dumps(results, indent=2) + "\n")
        staging.replace(path)


def evidence(
    storage: str, study_name: str, started: float, seeds: int = 3, json_path: str | None = None
) -> dict:
    """What a timed search and its confirmation achieved, read back from the storage: trials by
    state and per hour, and the first net whose confirmation (all `seeds` seeds done) has a mean
    final test accuracy >= 99.40%, in seconds after `started` (a Unix time: the search's start)."""
    import datetime

    import optuna

    from search.store.record import TrialRecord

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    begin = datetime.datetime.fromtimestamp(started)
    search = optuna.load_study(study_name=study_name, storage=storage)
    trials = search.get_trials(deepcopy=False)
    trained = [t for t in trials if t.datetime_complete and TrialRecord.of(t).test_acc_pct]
    states: dict[str, int] = {}
    for trial in trials:
        states[trial.state.name] = states.get(trial.state.name, 0) + 1
    ends = [t.datetime_complete for t in trained]
    span = (max(ends) - begin).total_seconds() if ends else 0.0
    confirmations, first_confirmed = _confirmations(storage, study_name, begin, seeds)
    result = {
        "study": study_name,
        "trial_states": states,
        "trials_trained": len(trained),
        "search_seconds": span,
        "trials_per_hour": 3600 * len(trained) / span if span else 0.0,
        "confirmations": confirmations,
        "first_confirmed_seconds": first_confirmed,
    }
    write_json(json_path, result)
    return result


def _confirmations(
    storage: str, study_name: str, begin, seeds: int
) -> tuple[list[dict], float | None]:
    """The companion study's summary rows, each with the seconds after `begin` when its last
    seed ended, and the first of those that met the target with all `seeds` seeds; no companion
    yet: ([], None)."""
    import optuna

    from search.reports.confirmations import confirmation_summaries
    from search.study.claim import TARGET_ACC

    try:
        companion = optuna.load_study(study_name=f"{study_name}.confirm", storage=storage)
    except KeyError:
        return [], None
    done_at = _last_seed_ends(companion)
    confirmations = []
    for row in confirmation_summaries(companion):
        row["done_seconds"] = (done_at[row["source_trial"]] - begin).total_seconds()
        confirmations.append(row)
    met = [
        r["done_seconds"]
        for r in confirmations
        if r["mean"] >= TARGET_ACC and len(r["seeds"]) >= seeds
    ]
    return confirmations, min(met) if met else None


def _last_seed_ends(companion) -> dict:
    """When the last seed of each confirmed trial ended (a datetime per source trial number)."""
    from optuna.trial import TrialState

    done_at = {}
    for run in companion.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        source = run.params["source_trial"]
        done_at[source] = max(done_at.get(source, run.datetime_complete), run.datetime_complete)
    return done_at
