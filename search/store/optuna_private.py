"""The only module that reaches into Optuna's private API, and why each use has no public twin.

- A study's storage (`study._storage`): whether it keeps heartbeats, and writing a trial's first
  heartbeat before the trial is marked as claimed (Optuna's heartbeat thread writes its first one
  only later, and a process killed in between would leave its trial RUNNING forever).
- A trial's storage id (`trial._trial_id`): to read a running trial back as the storage holds it
  (what the pruner just judged) and to write its heartbeat.
- Marking another process's RUNNING trial FAIL (`storage.set_trial_state_values` on a trial this
  process does not own): Optuna fails stale trials only by heartbeat, and a trial whose process
  died before its first heartbeat has none.
Each is a small function here, so an Optuna upgrade that changes them breaks one file.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState


def heartbeats(optuna_study: optuna.Study) -> bool:
    """Whether the study's storage records heartbeats (an RDB or journal storage set up so)."""
    storage = optuna_study._storage
    return getattr(storage, "get_heartbeat_interval", lambda: None)() is not None


def record_heartbeat(optuna_study: optuna.Study, trial: optuna.trial.Trial) -> None:
    optuna_study._storage.record_heartbeat(trial._trial_id)


def stored(trial: optuna.trial.Trial) -> FrozenTrial:
    """A running trial as the storage holds it now."""
    return trial.study._storage.get_trial(trial._trial_id)


def fail_and_retry(optuna_study: optuna.Study, trial: FrozenTrial) -> bool:
    """Mark another process's RUNNING trial FAIL and run the storage's retry callback (which
    enqueues it again); False when another process finished or failed it first."""
    storage = optuna_study._storage
    try:
        if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False  # another process got there first
    retry = storage.get_heartbeat_stale_trial_callback()
    if retry is not None:
        retry(optuna_study, storage.get_trial(trial._trial_id))
    return True
