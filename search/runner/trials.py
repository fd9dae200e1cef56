"""The trials of a study as the runner handles them: the queue (enqueued parameter sets and
retries), claims and the recovery of trials whose process died, and the budget lock.

Optuna has no public API for three things done here: a study's storage (`study._storage`), a
trial's storage id (`trial._trial_id`), and marking another process's RUNNING trial FAIL
(`storage.set_trial_state_values`); they are used here, and the first two once more in
search/engine/objective.py (to read the trial as the pruner judged it).
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import os
import socket
import warnings

import optuna
from optuna.trial import TrialState

from search.errors import UsageError
from search.store.run_dir import locks_dir
from search.store.storage import heartbeat_settings
from search.study.pruners import ENQUEUED

ACTIVE = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


def queued_params(trial: optuna.trial.FrozenTrial) -> dict:
    """The trial's parameters, or, for an enqueued trial that has not drawn them yet (WAITING,
    or RUNNING just taken from the queue), the parameters it was enqueued with."""
    return trial.system_attrs.get("fixed_params") or trial.params


def enqueue_missing(optuna_study: optuna.Study, wanted: list[dict]) -> int:
    """Enqueue each parameter set that no active trial has yet; returns how many were added.
    Each is marked `enqueued` (a user attribute its retries keep): search.study.pruners spares
    it."""
    have = [queued_params(t) for t in optuna_study.get_trials(deepcopy=False, states=ACTIVE)]
    added = 0
    for params in wanted:
        if params not in have:
            optuna_study.enqueue_trial(params, user_attrs={ENQUEUED: True})
            added += 1
    return added


class BudgetGate:
    """Cross-process lock around "is there budget left? then take a trial" on one machine."""

    def __init__(self, url: str, name: str):
        digest = hashlib.sha1(f"{url}\n{name}".encode()).hexdigest()[:16]
        self.path = locks_dir() / f"{digest}.lock"
        self._file = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w")  # noqa: SIM115 - held across calls on purpose
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def heartbeats(optuna_study: optuna.Study) -> bool:
    storage = optuna_study._storage  # Optuna exposes no public accessor for a study's storage
    return getattr(storage, "get_heartbeat_interval", lambda: None)() is not None


def claim(optuna_study: optuna.Study, trial: optuna.trial.Trial) -> None:
    """Mark a trial as owned by a live process, its first heartbeat written before the mark.

    Optuna's stale check skips RUNNING trials that have no heartbeat yet, so a worker killed
    between taking a trial and its heartbeat thread's first write would leave it RUNNING forever.
    A claimed trial always has a heartbeat; an unclaimed one older than the grace period is dead.
    """
    storage = optuna_study._storage
    if heartbeats(optuna_study):
        storage.record_heartbeat(trial._trial_id)
    trial.set_user_attr("claimed_by", f"{socket.gethostname()}:{os.getpid()}")


def recover_dead_trials(optuna_study: optuna.Study) -> None:
    """FAIL (then retry) RUNNING trials whose process died: stale heartbeats, or never claimed."""
    with warnings.catch_warnings():  # experimental since v2.9
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(optuna_study)
    storage = optuna_study._storage
    _, grace = heartbeat_settings()
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=grace)
    for trial in optuna_study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if "claimed_by" in trial.user_attrs or trial.datetime_start > cutoff:
            continue
        try:
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another process got there first
        retry = storage.get_heartbeat_stale_trial_callback()
        if retry is not None:
            retry(optuna_study, storage.get_trial(trial._trial_id))


def trial_by_number(optuna_study: optuna.Study, number: int) -> optuna.trial.FrozenTrial:
    for trial in optuna_study.get_trials(deepcopy=False):
        if trial.number == number:
            return trial
    raise UsageError(f"study {optuna_study.study_name} has no trial {number}")


def requeue(optuna_study: optuna.Study, number: int) -> None:
    """Enqueue an interrupted trial again: same params, same seed, marked as its retry."""
    trial = trial_by_number(optuna_study, number)
    attrs = {"retry_of": number}
    for key in ("seed", ENQUEUED):
        if key in trial.user_attrs:
            attrs[key] = trial.user_attrs[key]
    optuna_study.enqueue_trial(trial.params, user_attrs=attrs)
