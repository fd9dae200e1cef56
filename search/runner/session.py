"""The study runner: create or resume a study in its storage and run trials up to the budget.

The budget counts finished trials, except failed ones (a failed trial is replaced) and, in a
search, proposals rejected before training (search.store.budget). Workers on one machine take
trials under a file lock, so many of them never overshoot the budget. Ctrl-C marks the running
trial FAIL (Optuna does) and enqueues its parameters and seed again, so the same command resumes
with that trial first.
"""

from __future__ import annotations

import socket
import time
import warnings
import zlib
from dataclasses import dataclass, field

import optuna
import torch
from optuna.trial import TrialState

from search.engine import data as mnist
from search.engine.objective import TrialContext, cnn_objective
from search.engine.train import resolve_device, warm_up
from search.errors import UsageError
from search.events import StudyStarted
from search.reports.leaderboard import leaderboard_event
from search.runner.progress import counts, end_event, stored_budget
from search.runner.trials import (
    BudgetGate,
    claim,
    enqueue_missing,
    recover_dead_trials,
    requeue,
)
from search.store.budget import (
    rejections_exhausted,
    used,
)
from search.store.optuna_private import heartbeats
from search.store.provenance import record_session, study_uuid
from search.store.settings import check_settings, trial_settings
from search.store.storage import open_storage, resolve_url, storage_file
from search.store.trials import trial_by_number
from search.study.definitions import (
    CnnStudy,
    RunOptions,
    StudyDef,
    ToyStudy,
    derive_seed,
    validate_options,
)

POLL_SECONDS = 0.5  # waiting for other workers' running trials (a cheap storage query)
MAX_CONSECUTIVE_FAILURES = 5  # a study whose trials keep raising stops instead of looping


def load_data(study: StudyDef, options: RunOptions, device: torch.device) -> mnist.Data | None:
    if not study.needs_data:
        return None
    arrays = mnist.load_mnist(options.data_root, options.offline or None)
    val_size, train_limit = study.val_images(options), options.train_limit
    return mnist.prepare(arrays, val_size, train_limit, device, test_limit=options.test_limit)


def study_seed(study: StudyDef, options: RunOptions) -> int:
    return options.seed if options.seed is not None else study.seed


def create_or_load(study: StudyDef, options: RunOptions, storage) -> optuna.Study:
    """The Optuna study NAME in `storage`; the sampler's seed moves on with each session."""
    seed = study_seed(study, options)
    existing = _existing_trial_count(storage, study.name)
    with warnings.catch_warnings():  # multivariate/group TPE are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        shared = storage_file(resolve_url(options.storage)) is None  # a server: many machines
        host = socket.gethostname() if shared else None
        sampler = study.make_sampler(sampler_seed(seed, existing, options.worker, host))
    created = optuna.create_study(
        storage=storage,
        study_name=study.name,
        direction=study.direction,
        sampler=sampler,
        pruner=study.make_pruner(seed),
        load_if_exists=True,
    )
    if "description" not in created.user_attrs:
        created.set_user_attr("description", study.description)
        created.set_user_attr("seed", seed)
        if study.source:
            created.set_user_attr("study_file", study.source)
    if study.about and "about" not in created.user_attrs:
        created.set_user_attr("about", study.about)
    if "kind" not in created.user_attrs:  # also on a study stored by an earlier version
        created.set_user_attr("kind", study.kind)
        created.set_user_attr("score", study.score_text)
    study_uuid(created)  # set once, when the study is created
    check_settings(created, trial_settings(study, options, study_seed(study, options)))
    return created


def open_study(study: StudyDef, options: RunOptions, workers: int = 1) -> optuna.Study:
    """Create or load the study, record this command on it (a command, not a worker or a
    library call, has argv), and enqueue its fixed trials once."""
    optuna_study = create_or_load(study, options, open_storage(resolve_url(options.storage)))
    if options.argv is not None:
        record_session(optuna_study, list(options.argv), workers)
    enqueue_missing(optuna_study, study.enqueued(options))
    return optuna_study


def sampler_seed(seed: int, existing: int, worker: int, host: str | None = None) -> int:
    """The sampler's seed for this process. It moves on with each session (no replay of earlier
    draws) and differs between processes that start together, which would otherwise propose the
    same random points during TPE's startup trials: the workers of one launcher (by `worker`)
    and, on a database server that several machines may share, the machines (by `host`). A lone
    process on a local storage file is seeded by the study seed and the trial count only."""
    base = derive_seed(seed, existing)
    if worker == 0 and host is None:
        return base
    return (base ^ zlib.crc32(f"{host or ''}/{worker}".encode())) % 2**31


def _existing_trial_count(storage, name: str) -> int:
    try:
        return len(optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False))
    except KeyError:
        return 0


@dataclass
class RunSummary:
    study: str
    storage: str
    budget: int
    counts: dict[str, int] = field(default_factory=dict)
    stopped_by: str = "budget"  # budget | timeout | failures | rejections


def run_study(study: StudyDef, options: RunOptions, emit=lambda event: None) -> RunSummary:
    """Run or resume `study` until its budget is used or its deadline passes (`options.deadline`,
    set from --timeout when the command started; else `options.timeout` from this call)."""
    deadline = options.deadline or (time.time() + options.timeout if options.timeout else None)
    validate_options(study, options)
    device = resolve_device(options.device)
    data = load_data(study, options, device)  # before the storage: bad data writes nothing
    url = resolve_url(options.storage)
    optuna_study = open_study(study, options)
    if study.needs_data:
        warm_up()  # after the input checks; as a worker does, so that trial clocks compare
    budget = stored_budget(study, options, optuna_study)
    context = TrialContext(data, device, options, study_seed(study, options), emit)
    objective = make_objective(study, context)
    summary = RunSummary(study.name, url, budget)
    free = study.rejections_free
    emit(StudyStarted(study.name, url, budget, free, counts(optuna_study), str(device)).to_dict())
    gate = BudgetGate(url, study.name)
    summary.stopped_by = _loop(optuna_study, objective, budget, free, deadline, gate, emit)
    done = end_event(study, options, optuna_study, summary.stopped_by)
    summary.counts = done["counts"]
    emit(done)
    return summary


def make_objective(study: StudyDef, context: TrialContext):
    if isinstance(study, CnnStudy):
        return cnn_objective(study, context)
    if isinstance(study, ToyStudy):
        from search.engine.toy_objective import toy_objective

        return toy_objective(study, context)
    raise UsageError(f"study {study.name}: unknown kind {type(study).__name__}")


def _loop(
    optuna_study, objective, budget: int, free: bool, deadline, gate: BudgetGate, emit
) -> str:
    """Take trials until the budget is used; `free`: rejected trials do not use it. No new
    trial after `deadline` (time.time()); a budget spent by then ends as "budget" (its winners
    are confirmed), as a pool of workers judges it from the storage."""
    failures_in_a_row = 0
    while True:
        gate.acquire()
        try:
            found = counts(optuna_study)
        except BaseException:
            gate.release()
            raise
        running = found["RUNNING"]
        taken = used(found, free) + running
        if taken >= budget:
            gate.release()
            if running == 0 or not heartbeats(optuna_study):
                return "budget"  # without heartbeats, others' RUNNING trials cannot be judged
            if _past(deadline):
                return "timeout"  # others' trials still running: not waited for past it
            recover_dead_trials(optuna_study)  # a dead worker's trial: FAIL, then its retry runs
            time.sleep(POLL_SECONDS)
            continue
        if rejections_exhausted(found, budget, free):  # after the budget, as the workers judge
            gate.release()
            return "rejections"
        if _past(deadline):
            gate.release()
            return "timeout"
        state = _one_trial(optuna_study, objective, gate)
        emit(leaderboard_event(optuna_study))
        failures_in_a_row = failures_in_a_row + 1 if state == TrialState.FAIL else 0
        if failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
            return "failures"


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.time() >= deadline


def _one_trial(optuna_study, objective, gate: BudgetGate) -> TrialState:
    """Run one trial; the gate opens as soon as the trial exists (RUNNING) in the storage."""
    started: list[int] = []

    def gated(trial: optuna.trial.Trial) -> float:
        started.append(trial.number)
        claim(optuna_study, trial)
        gate.release()
        return objective(trial)

    try:
        optuna_study.optimize(gated, n_trials=1, catch=(Exception,), gc_after_trial=False)
    except KeyboardInterrupt:
        if started:
            requeue(optuna_study, started[0])
        raise
    finally:
        gate.release()
    if not started:
        return TrialState.FAIL
    return trial_by_number(optuna_study, started[0]).state
