"""Confirmation, replay and export of stored trials.

Confirm: the top K trials of study NAME (by their validation score) are retrained on all 60,000
training images, once per seed, as the trials of a companion study `NAME.confirm` run by the
same runner; so confirmation resumes, runs on many workers, and stores its numbers like any study.
Replay: retrain one trial from its stored spec, recipe, seed and data sizes and compare epoch by
epoch. Export: a trial's spec JSON, weights, and a standalone module file that needs only torch.
"""

from __future__ import annotations

import json

import optuna
import torch
from optuna.trial import TrialState

from search.engine import data as mnist
from search.engine.objective import save_weights
from search.engine.train import resolve_device, seeded_build, train
from search.errors import UsageError
from search.events import Log
from search.reports.confirmations import confirmation_summaries, format_summary
from search.runner.session import open_study, run_study
from search.store.provenance import study_uuid
from search.store.record import TrialRecord
from search.store.storage import open_storage
from search.store.trials import load_existing, queued_params, stored_proposal, trial_by_number
from search.study.definitions import (
    CONFIRM_SUFFIX,
    TRAIN_IMAGES,
    CnnStudy,
    Proposal,
    RunOptions,
    validate_options,
)

REPLAYED_KEY = "replayed_weights"  # study attr: {trial number: {path, sha256}} saved by --replay


def top_trials(optuna_study: optuna.Study, k: int) -> list[optuna.trial.FrozenTrial]:
    """The best K complete trials with distinct spec and recipe (seed aside), best first."""
    complete = optuna_study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    reverse = optuna_study.direction == optuna.study.StudyDirection.MAXIMIZE
    chosen, seen = [], set()
    for trial in sorted(complete, key=lambda t: (t.value, -t.number), reverse=reverse):
        record = TrialRecord.of(trial)
        key = json.dumps([record.spec, {**record.recipe, "seed": None}], sort_keys=True)
        if key not in seen:
            seen.add(key)
            chosen.append(trial)
        if len(chosen) == k:
            break
    return chosen


def confirm_study(study: CnnStudy, sources: list[optuna.trial.FrozenTrial], seeds) -> CnnStudy:
    """The companion study: one trial per (source trial, seed), trained on all 60,000 images."""
    proposals = {t.number: Proposal(*stored_proposal(t)) for t in sources}

    def sample(trial: optuna.trial.BaseTrial) -> Proposal:
        source = trial.suggest_int("source_trial", 0, 10**9)
        trial.suggest_int("seed", 0, 2**31 - 1)
        if source not in proposals:
            raise UsageError(f"confirmation of trial {source}: not among the chosen trials")
        return proposals[source]

    pairs = tuple({"source_trial": n, "seed": s} for n in proposals for s in seeds)
    return CnnStudy(
        name=study.name + CONFIRM_SUFFIX,
        description=f"confirmation of {study.name}'s top trials on all training images",
        direction="maximize",
        n_trials=len(pairs),
        seed=study.seed,
        make_sampler=lambda seed: optuna.samplers.RandomSampler(seed=seed),
        sample=sample,
        limits=study.limits,
        seeds=tuple(seeds),
        val_size=0,
        value="final_test_acc",
        warm_start=pairs,
        queue_only=True,
    )


def confirm_worker_study(study, options: RunOptions, k: int) -> CnnStudy:
    """The companion study definition for the current top `k` trials of `study`."""
    if not isinstance(study, CnnStudy) or study.repeat_seeds:
        raise UsageError(f"--confirm applies to search studies; {study.name} is not one")
    validate_options(study, options)
    parent = load_existing(study.name, options)
    sources = top_trials(parent, k)
    if not sources:
        raise UsageError(f"study {study.name} has no complete trial to confirm yet")
    chosen = {t.number for t in sources}
    for number in sorted(_queued_sources(study.name + CONFIRM_SUFFIX, options) - chosen):
        sources.append(trial_by_number(parent, number))  # left waiting by an earlier run
    return confirm_study(study, sources, study.run_seeds(options))


def _queued_sources(name: str, options: RunOptions) -> set[int]:
    """Source trials of the confirmation runs waiting or running in the companion study."""
    try:
        companion = optuna.load_study(study_name=name, storage=open_storage(options.storage))
    except KeyError:
        return set()
    queued = companion.get_trials(deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING))
    found = map(queued_params, queued)
    return {params["source_trial"] for params in found if "source_trial" in params}


def prepare_confirm(study, options: RunOptions, k: int, workers: int = 1) -> CnnStudy:
    """Create the companion study and enqueue its (trial, seed) runs once, before workers."""
    companion = confirm_worker_study(study, options, k)
    open_study(companion, options, workers)  # the report's header names the confirming commands
    return companion


def confirm(study, options: RunOptions, k: int, emit=lambda event: None) -> list[dict]:
    """Run (or resume) the confirmation of the top `k` trials; returns per-trial summaries."""
    companion = confirm_worker_study(study, options, k)
    run_study(companion, options, emit)
    summaries = confirmation_summaries(load_existing(companion.name, options))
    for row in summaries:
        emit(Log(format_summary(row)).to_dict())
    return summaries


def replay_trial(study, options: RunOptions, number: int, emit=lambda event: None) -> int:
    """Retrain trial `number` as stored; 0 when every stored epoch is reproduced exactly. A
    complete trial reproduced exactly gets its weights saved again (under the run folder, by
    the study's UUID), recorded on the study, so that export finds them when the trial's own
    are not on this machine."""
    optuna_study = load_existing(study.name, options)
    trial = trial_by_number(optuna_study, number)
    spec, recipe = stored_proposal(trial)
    kept = TrialRecord.of(trial)
    if not kept.test_acc_pct:
        raise UsageError(f"trial {number} trained no epoch ({kept.end_reason})")
    device = resolve_device(options.device)
    data = _replay_data(options, kept, device)
    threads = options.threads or kept.threads
    if threads:  # reduction order, hence the last bits, can depend on the thread count
        torch.set_num_threads(threads)
    model = seeded_build(spec, recipe.seed)
    epochs = len(kept.test_acc_pct)
    history = train(model, data, recipe, device, on_epoch=lambda r: r.epoch >= epochs)
    same = _same_epochs(history, kept, emit)
    verdict = "reproduced exactly" if same else "NOT reproduced"
    emit(Log(f"trial {number}: {verdict} on {device} (stored on {kept.device})").to_dict())
    if same and trial.state == TrialState.COMPLETE:
        _keep_replayed_weights(optuna_study, model, number, emit)
    return 0 if same else 1


def _replay_data(options: RunOptions, kept: TrialRecord, device):
    """The trial's data as it trained on it: its validation split, training and test images."""
    arrays = mnist.load_mnist(options.data_root, options.offline or None)
    val_size = kept.val_images or 0
    full = TRAIN_IMAGES - val_size
    train_limit = kept.train_images if kept.train_images < full else None
    return mnist.prepare(arrays, val_size, train_limit, device, test_limit=kept.test_images)


def _same_epochs(history, kept: TrialRecord, emit) -> bool:
    """Whether the replay gave each stored epoch's accuracies to the stored digits (one log line
    an epoch) and as many epochs."""
    stored = kept.test_acc_pct
    stored_val = kept.val_acc_pct or (None,) * len(stored)
    rows = [len(history.epochs) == len(stored)]
    for record, val, test in zip(history.epochs, stored_val, stored, strict=False):
        replay_val = None if record.val_acc is None else round(record.val_acc, 6)
        same = round(record.test_acc, 6) == test and replay_val == val
        rows.append(same)
        message = (
            f"epoch {record.epoch}: stored val {val} test {test} | replay val {replay_val}"
            f" test {round(record.test_acc, 6)} | {'same' if same else 'DIFFERENT'}"
        )
        emit(Log(message).to_dict())
    return all(rows)


def _keep_replayed_weights(optuna_study, model, number: int, emit) -> None:
    path, digest = save_weights(model, study_uuid(optuna_study), f"{number}.replay")
    saved = dict(optuna_study.user_attrs.get(REPLAYED_KEY, {}))
    saved[str(number)] = {"path": str(path.resolve()), "sha256": digest}
    optuna_study.set_user_attr(REPLAYED_KEY, saved)
    message = f"trial {number}: the replayed weights saved to {path} (export uses them)"
    emit(Log(message).to_dict())
