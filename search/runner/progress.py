"""How far a run is, from the storage: trials per state, the budget, and the run's end.

One rule for both ways a study runs: the in-process loop (search.runner.session) and a pool of
worker processes (search.workers.pool) count, judge the budget and end a run with these.
"""

from __future__ import annotations

import dataclasses

import optuna
from optuna.trial import TrialState

from search.events import Done
from search.runner.trials import ACTIVE
from search.store.budget import (
    INTERRUPTED,
    REJECTED,
    rejected,
    rejections_exhausted,
    state_name,
    used,
)
from search.store.record import end_of
from search.study.definitions import CnnStudy, RunOptions, StudyDef


def counts(optuna_study: optuna.Study) -> dict[str, int]:
    """Trials per state, and REJECTED: how many of the PRUNED never trained."""
    found = {state.name: 0 for state in TrialState} | {REJECTED: 0, INTERRUPTED: 0}
    for trial in optuna_study.get_trials(deepcopy=False):
        end = end_of(trial)
        found[state_name(trial.state.name, end)] += 1
        found[REJECTED] += rejected(trial.state.name, end)
    return found


def end_event(
    study: StudyDef,
    options: RunOptions,
    optuna_study: optuna.Study,
    stopped_by: str | None = None,
    failed: bool = False,
) -> dict:
    """How a run ended, as its last event: the one end for the in-process loop (which knows
    why it stopped) and for a pool of workers (judged from the storage; `failed`: a worker
    stopped after repeated trial failures)."""
    found = counts(optuna_study)
    budget = stored_budget(study, options, optuna_study)
    free = study.rejections_free
    if stopped_by is None:
        if used(found, free) >= budget:
            stopped_by = "budget"
        elif failed:
            stopped_by = "failures"
        elif rejections_exhausted(found, budget, free):
            stopped_by = "rejections"
        else:
            stopped_by = "interruption or timeout"
    return Done(optuna_study.study_name, found, budget, free, stopped_by).to_dict()


def confirm_after(study: StudyDef, stopped_by: str, auto: bool = True) -> int:
    """How many of its top trials a run confirms once it has ended: the study's `confirm_top`
    when auto-confirmation is on and the search spent its whole budget (a run stopped by a
    timeout, an interruption or failures confirms nothing); the one rule for the in-process
    loop and a pool of workers."""
    if not auto or stopped_by != "budget" or not isinstance(study, CnnStudy):
        return 0
    return study.confirm_top


def untimed(options: RunOptions) -> RunOptions:
    """The options of the confirmation that follows a search: --timeout limited the search's
    new trials; its winners' confirmation runs whole."""
    return dataclasses.replace(options, timeout=None, deadline=None)


def stored_budget(study: StudyDef, options: RunOptions, optuna_study: optuna.Study) -> int:
    """The trial budget. A queue-only study (a confirmation, an ablation) or a repeat runs
    every trial of its queue: the ones this run enqueued and any an earlier run stored or left
    waiting (another --confirm K or --seeds, a top K that changed since, an interrupted run, a
    restored report), so its budget is all its active trials."""
    if isinstance(study, CnnStudy) and (study.queue_only or study.repeat_seeds):
        return len(optuna_study.get_trials(deepcopy=False, states=ACTIVE))
    return study.budget(options)
