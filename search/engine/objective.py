"""One CNN trial: propose, measure, apply the limits, train, store everything on the trial.

Order matters and is tested: the proposal is built and profiled and the limits are checked
before a single batch runs; a failing rule prunes the trial with its reason and tells the sampler
the point is infeasible (`trial.set_constraint`). Only validation accuracy reaches the pruner
(`trial.report`) and the trial's value; test accuracy is stored per epoch and nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna
import torch

from archs import SpecError
from search.engine.data import Data
from search.engine.profile import profile
from search.engine.train import EpochRecord, seeded_build, train
from search.events import EpochEnded, Progress, TrialEnded, TrialStarted
from search.store.optuna_private import stored
from search.store.provenance import study_uuid
from search.store.record import End, TrialRecord, write
from search.store.run_dir import weights_dir
from search.study.definitions import CnnStudy, RunOptions, derive_seed
from search.study.limits import failures
from search.study.pruners import pruner_name
from search.study.recipe import RecipeError

Emit = Callable[[dict], None]


@dataclass(frozen=True)
class TrialContext:
    data: Data | None
    device: torch.device
    options: RunOptions
    study_seed: int
    emit: Emit


def trial_seed(trial: optuna.trial.Trial, study_seed: int) -> int:
    """The training seed: the trial's own "seed" param or attr, else derived from its number."""
    if "seed" in trial.params:
        return int(trial.params["seed"])
    stored = TrialRecord.of(trial).seed  # a retried trial keeps its seed
    return int(stored) if stored is not None else derive_seed(study_seed, trial.number)


def end(trial: optuna.trial.Trial, kind: End, reason: str) -> None:
    write(trial, end=kind, end_reason=reason)


def constrain(trial: optuna.trial.Trial, rule: str, violation: float) -> None:
    """Tell the sampler how far a point is from feasible (<= 0: feasible), once per trial: a
    retried trial inherits its original's constraints, which hold for the same point."""
    if rule not in trial.constraints:
        trial.set_constraint(rule, violation)


def recorded(
    run: Callable[[optuna.trial.Trial], float],
) -> Callable[[optuna.trial.Trial], float]:
    """The objective `run`, with how a trial ended stored on it when it raises: interrupted
    (Ctrl-C or SIGTERM) or failed; a pruned trial has stored its own reason."""

    def objective(trial: optuna.trial.Trial) -> float:
        try:
            return run(trial)
        except optuna.TrialPruned:
            raise
        except KeyboardInterrupt as stop:
            # a stop must stop: were this write to fail (a storage busy with the other stopped
            # workers' writes), the study would catch its error as a failed trial and go on
            with contextlib.suppress(Exception):
                end(trial, End.INTERRUPTED, "interrupted (Ctrl-C or SIGTERM); rerun to resume")
            raise stop
        except Exception as error:
            end(trial, End.FAILED, f"failed: {type(error).__name__}: {error}")
            raise

    return objective


def cnn_objective(study: CnnStudy, context: TrialContext) -> Callable[[optuna.trial.Trial], float]:
    return recorded(lambda trial: _run(study, context, trial))


def _run(study: CnnStudy, context: TrialContext, trial: optuna.trial.Trial) -> float:
    started = time.perf_counter()
    proposal, seed, recipe = _propose(study, context, trial, started)
    spec = proposal.spec
    model = seeded_build(spec, seed)
    measured = profile(model)
    verdicts = study.limits.check(model, measured, recipe.epochs)
    write(
        trial,
        spec=spec.to_dict(),
        summary=spec.summary,
        recipe=recipe.to_dict(),
        n_params=measured.params,
        flops_per_image=measured.flops,
        conv_flops_per_image=measured.conv_flops,
        limits=[v.to_dict() for v in verdicts],
        device=str(context.device),
        torch_version=torch.__version__,
        threads=torch.get_num_threads(),
        train_steps=0,
    )
    _enforce_limits(context, trial, spec.summary, measured, recipe.epochs, verdicts, started)
    return _train_trial(study, context, trial, model, recipe, measured.params, started)


def _propose(study: CnnStudy, context: TrialContext, trial: optuna.trial.Trial, started: float):
    """The trial's proposal, its seed (stored on the trial) and the recipe it trains with; an
    invalid proposal prunes the trial and marks the point infeasible."""
    try:
        proposal = study.sample(trial)  # first: an enqueued "seed" param exists only after it
        seed = trial_seed(trial, context.study_seed)
        write(trial, seed=seed)
        recipe = proposal.recipe.replace(seed=seed)
        if context.options.epochs is not None:
            recipe = recipe.replace(epochs=context.options.epochs)
    except (SpecError, RecipeError) as error:
        constrain(trial, "valid", 1.0)
        end(trial, End.INVALID, f"pruned: {error}")
        _emit_end(context, trial, "PRUNED", started)
        raise optuna.TrialPruned(str(error)) from None
    return proposal, seed, recipe


def _enforce_limits(context, trial, summary, measured, epochs, verdicts, started) -> None:
    """Give the sampler every rule's violation and announce the trial; prune it, with the
    reasons, when a rule fails."""
    for verdict in verdicts:
        constrain(trial, verdict.rule, verdict.violation)
    failed = failures(verdicts)
    context.emit(_start_event(trial, summary, measured, epochs, failed))
    if failed:
        reason = "pruned: " + "; ".join(v.reason for v in failed)
        end(trial, End.LIMIT, reason)
        _emit_end(context, trial, "PRUNED", started)
        raise optuna.TrialPruned(reason)


def _train_trial(study, context, trial, model, recipe, params: int, started) -> float:
    data = context.data
    write(
        trial,
        train_images=len(data.train),
        val_images=len(data.val) if data.val else 0,
        test_images=len(data.test),
    )
    columns: dict[str, list] = {  # the trial record's per-epoch fields, filled by on_epoch
        "val_acc_pct": [],
        "test_acc_pct": [],
        "train_loss": [],
        "epoch_seconds": [],
    }
    pruned_at: list[tuple[int, str]] = []
    on_epoch = _epoch_recorder(study, context, trial, recipe.epochs, params, columns, pruned_at)

    def on_progress(epoch: int, batch: int, batches: int, images_per_second: float) -> None:
        event = Progress(trial.number, epoch, recipe.epochs, batch, batches, images_per_second)
        context.emit(event.to_dict())

    history = train(model, data, recipe, context.device, on_epoch, on_progress)
    steps_per_epoch = -(-len(data.train) // recipe.batch_size)
    write(trial, train_steps=steps_per_epoch * len(history.epochs))
    _prune_if_cut_short(context, trial, history, pruned_at, started)
    value = _value(study, columns, params)
    _store_best(trial, columns)
    path, digest = save_weights(model, study_uuid(trial.study), trial.number)
    write(trial, weights_path=str(path.resolve()), weights_sha256=digest)
    end(trial, End.COMPLETE, "complete")
    _emit_end(context, trial, "COMPLETE", started, value)
    return value


def _epoch_recorder(
    study, context, trial, epochs: int, params: int, columns: dict[str, list], pruned_at: list
) -> Callable[[EpochRecord], bool]:
    """The per-epoch callback: append the epoch to `columns` and store them, emit the epoch's
    event, and report validation to the pruner; when it prunes, note (epoch, pruner name) in
    `pruned_at` and return True, which stops training."""
    source = {"val_acc_pct": "val_acc", "test_acc_pct": "test_acc"}  # record field: attribute

    def on_epoch(record: EpochRecord) -> bool:
        for name, values in columns.items():
            value = getattr(record, source.get(name, name))
            values.append(round(value, 6) if value is not None else None)
        write(trial, **columns)
        context.emit(EpochEnded(trial.number, epochs, **vars(record)).to_dict())
        if record.val_acc is None:
            return False
        score = study.score(record.val_acc, params)
        trial.report(score, record.epoch)  # validation only: test never reaches the pruner
        if trial.should_prune():
            frozen = stored(trial)  # what the pruner judged
            pruned_at.append((record.epoch, pruner_name(trial.study, frozen)))
            return True
        return False

    return on_epoch


def _prune_if_cut_short(context, trial, history, pruned_at: list, started: float) -> None:
    """Prune, with its reason, a trial whose training diverged or that the pruner stopped."""
    if history.status == "diverged":
        end(trial, End.DIVERGED, f"pruned: diverged ({history.message})")
        _emit_end(context, trial, "PRUNED", started)
        raise optuna.TrialPruned(history.message)
    if pruned_at:
        epoch, pruner = pruned_at[0]
        end(trial, End.PRUNER, f"pruned by {pruner} at epoch {epoch}")
        _emit_end(context, trial, "PRUNED", started)
        raise optuna.TrialPruned(f"pruned by {pruner} at epoch {epoch}")


def save_weights(model, study_id: str, number: int | str) -> tuple[Path, str]:
    """The final-epoch weights (no checkpoint picking) under <run dir>/weights/<study uuid>/, so
    two storages holding studies of one name never share a file; returns the path and the
    SHA-256 of the file's bytes, which the trial records and export checks."""
    path = weights_dir() / study_id / f"trial{number}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        name: tensor.detach().to("cpu", memory_format=torch.contiguous_format)
        for name, tensor in model.state_dict().items()
    }
    partial = path.with_suffix(".pt.partial")
    torch.save(state, partial)
    os.replace(partial, path)
    return path, file_sha256(path)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _value(study: CnnStudy, columns: dict[str, list], params: int) -> float:
    if study.value == "final_test_acc":  # repeat studies select nothing: report what happened
        return columns["test_acc_pct"][-1]
    return study.score(max(columns["val_acc_pct"]), params)


def _store_best(trial: optuna.trial.Trial, columns: dict[str, list]) -> None:
    """The best-validation epoch (first on ties) and the test accuracy at that epoch."""
    val = columns["val_acc_pct"]
    if val and val[0] is not None:
        best = max(range(len(val)), key=lambda i: (val[i], -i))
        write(trial, best_epoch=best + 1, test_at_best_pct=columns["test_acc_pct"][best])


def _start_event(trial, summary, measured, epochs, failed) -> dict:
    return TrialStarted(
        trial.number, summary, measured.params, measured.flops, epochs, [v.reason for v in failed]
    ).to_dict()


def _emit_end(context: TrialContext, trial, state: str, started: float, value=None) -> None:
    record = TrialRecord.of(trial)
    event = TrialEnded(
        trial=trial.number,
        state=state,
        value=value,
        end_kind=record.end.value,
        end_reason=record.end_reason,
        summary=record.summary,
        params=record.n_params,
        flops=record.flops_per_image,
        epochs_run=len(record.val_acc_pct),
        best_val_acc=record.best_val_acc_pct,
        seconds=time.perf_counter() - started,
    )
    context.emit(event.to_dict())
