"""The trials of a study as the runner handles them: the queue (enqueued parameter sets and
retries), claims and the recovery of trials whose process died, and the budget lock.
What Optuna offers no public API for goes through search.store.optuna_private.
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

from search.store.optuna_private import fail_and_retry, heartbeats, record_heartbeat
from search.store.record import TrialRecord, stored_key, write
from search.store.run_dir import locks_dir
from search.store.storage import heartbeat_settings
from search.store.trials import queued_params, trial_by_number

ACTIVE = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


def enqueue_missing(optuna_study: optuna.Study, wanted: list[dict]) -> int:
    """Enqueue each parameter set that no active trial has yet; returns how many were added.
    Each is marked `enqueued` (a user attribute its retries keep): search.study.pruners spares
    it."""
    have = [queued_params(t) for t in optuna_study.get_trials(deepcopy=False, states=ACTIVE)]
    added = 0
    for params in wanted:
        if params not in have:
            optuna_study.enqueue_trial(params, user_attrs={stored_key("enqueued"): True})
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


def claim(optuna_study: optuna.Study, trial: optuna.trial.Trial) -> None:
    """Mark a trial as owned by a live process, its first heartbeat written before the mark.

    Optuna's stale check skips RUNNING trials that have no heartbeat yet, so a worker killed
    between taking a trial and its heartbeat thread's first write would leave it RUNNING forever.
    A claimed trial always has a heartbeat; an unclaimed one older than the grace period is dead.
    """
    if heartbeats(optuna_study):
        record_heartbeat(optuna_study, trial)
    write(trial, claimed_by=f"{socket.gethostname()}:{os.getpid()}")


def recover_dead_trials(optuna_study: optuna.Study) -> None:
    """FAIL (then retry) RUNNING trials whose process died: stale heartbeats, or never claimed."""
    with warnings.catch_warnings():  # experimental since v2.9
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(optuna_study)
    _, grace = heartbeat_settings()
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=grace)
    for trial in optuna_study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if TrialRecord.of(trial).claimed_by or trial.datetime_start > cutoff:
            continue
        fail_and_retry(optuna_study, trial)


def requeue(optuna_study: optuna.Study, number: int) -> None:
    """Enqueue an interrupted trial again: same params, same seed, marked as its retry."""
    trial = trial_by_number(optuna_study, number)
    record = TrialRecord.of(trial)
    attrs = {stored_key("retry_of"): number, stored_key("enqueued"): record.enqueued}
    if record.seed is not None:
        attrs[stored_key("seed")] = record.seed
    optuna_study.enqueue_trial(trial.params, user_attrs=attrs)
