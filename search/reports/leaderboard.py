"""Leaderboard rows from a stored study: ranked trials as plain dicts (console and reports).

Ranking: complete trials by value (the study's direction), then pruned ones by their best
validation accuracy, then the rest; ties by trial number.
"""

from __future__ import annotations

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from search.errors import UsageError
from search.events import Leaderboard
from search.store.record import End, TrialRecord
from search.store.storage import open_storage, require_existing, resolve_url, study_names

TOP = 10  # rows shown unless --top says otherwise


def leaderboard_rows(optuna_study: optuna.Study, top: int = TOP) -> list[dict]:
    """The `top` best trials of `optuna_study` as plain dicts, rank 1 first."""
    minimize = optuna_study.directions[0] == StudyDirection.MINIMIZE
    trials = [t for t in optuna_study.get_trials(deepcopy=False) if t.state != TrialState.WAITING]
    ranked = sorted(trials, key=lambda trial: _rank_key(trial, minimize))
    return [_row(rank, trial) for rank, trial in enumerate(ranked[:top], start=1)]


def leaderboard_event(optuna_study: optuna.Study, top: int = TOP) -> dict:
    """The console event carrying the current leaderboard (the runner emits it per trial end)."""
    return Leaderboard(optuna_study.study_name, leaderboard_rows(optuna_study, top)).to_dict()


def best_val_acc(trial: FrozenTrial) -> float | None:
    return TrialRecord.of(trial).best_val_acc_pct


def _rank_key(trial: FrozenTrial, minimize: bool) -> tuple[int, float, int]:
    if trial.state == TrialState.COMPLETE and trial.value is not None:
        return (0, trial.value if minimize else -trial.value, trial.number)
    best = best_val_acc(trial)
    if trial.state == TrialState.PRUNED and best is not None:
        return (1, -best, trial.number)
    return (2, 0.0, trial.number)


def _row(rank: int, trial: FrozenTrial) -> dict:
    record = TrialRecord.of(trial)
    toy_steps = trial.user_attrs.get("steps")  # the toy record (search.engine.toy_objective)
    return {
        "rank": rank,
        "trial": trial.number,
        "summary": record.summary or _unbuilt_summary(record),
        "recipe": recipe_summary(record.recipe),
        "params": record.n_params,
        "flops": record.flops_per_image,
        "best_val_acc": record.best_val_acc_pct,
        "test_at_best": record.test_at_best_pct,
        "epochs_run": record.epochs_run or _toy_steps(trial),
        "epochs": record.epochs if record.recipe else toy_steps,
        "state": trial.state.name,
        "end_reason": record.end_reason,
        "value": trial.value if trial.state == TrialState.COMPLETE else None,
    }


def recipe_summary(stored: dict | None) -> str | None:
    """A stored recipe in one line (search.study.recipe.Recipe.summary); None without one. Fields
    this version does not know (a trial stored by another version) are left out."""
    import dataclasses

    from search.study.recipe import Recipe

    if not stored:
        return None
    known = {field.name for field in dataclasses.fields(Recipe)}
    return Recipe.from_dict({k: v for k, v in stored.items() if k in known}).summary


def _toy_steps(trial: FrozenTrial) -> int:
    """For the toy study, gradient steps taken (e_total[0] is before the first step)."""
    e_total = trial.user_attrs.get("e_total")
    return len(e_total) - 1 if isinstance(e_total, list) and e_total else 0


def _unbuilt_summary(record: TrialRecord) -> str | None:
    """A trial with no spec summary: a proposal rejected as invalid says so in a word (its
    reason is the end column); a toy trial shows its few sampled parameters."""
    if record.end == End.INVALID:
        return "(invalid proposal)"
    return _params_summary(record.sampled)


def _params_summary(params: dict) -> str | None:
    """Trials without a spec summary (the lr-sweep toy study): their sampled parameters."""
    if not params:
        return None
    return ", ".join(
        f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in params.items()
    )


def load_existing(name: str, url: str | None) -> optuna.Study:
    """Study `name` in the storage at `url`; UsageError (nothing created) if either is missing."""
    url = resolve_url(url)
    require_existing(url)
    storage = open_storage(url, heartbeat=False)
    names = study_names(storage)
    if name not in names:
        known = ", ".join(sorted(names)) or "none"
        raise UsageError(f"no study {name!r} in {url}; studies there: {known}")
    return optuna.load_study(study_name=name, storage=storage)


def _title(optuna_study: optuna.Study, shown: int) -> str:
    found = {state: 0 for state in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")}
    for trial in optuna_study.get_trials(deepcopy=False):
        if trial.state.name in found:
            found[trial.state.name] += 1
    return (
        f"{optuna_study.study_name}: top {shown} of {sum(found.values())} trials"
        f" ({found['COMPLETE']} complete, {found['PRUNED']} pruned, {found['FAIL']} failed,"
        f" {found['RUNNING']} running)"
    )


def study_list(url: str | None) -> list[dict]:
    """Every stored study: name, kind as recorded, trials by state (for `leaderboard` alone)."""
    url = resolve_url(url)
    require_existing(url)
    storage = open_storage(url, heartbeat=False)
    found = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        states = [t.state.name for t in study.get_trials(deepcopy=False)]
        found.append(
            {
                "study": summary.study_name,
                "description": study.user_attrs.get("description"),
                "trials": len(states),
                "complete": states.count("COMPLETE"),
                "pruned": states.count("PRUNED"),
                "failed": states.count("FAIL"),
            }
        )
    return sorted(found, key=lambda row: row["study"])
