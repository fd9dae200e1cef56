"""Leaderboard rows from a stored study: ranked trials as plain dicts (console and reports).

Ranking: complete trials by value (the study's direction), then pruned ones by their best
validation accuracy, then the rest; ties by trial number.
"""

from __future__ import annotations

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from search.errors import UsageError
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
    return {
        "type": "leaderboard",
        "study": optuna_study.study_name,
        "rows": leaderboard_rows(optuna_study, top),
    }


def best_val_acc(trial: FrozenTrial) -> float | None:
    return max((v for v in trial.user_attrs.get("val_acc", []) if v is not None), default=None)


def _rank_key(trial: FrozenTrial, minimize: bool) -> tuple[int, float, int]:
    if trial.state == TrialState.COMPLETE and trial.value is not None:
        return (0, trial.value if minimize else -trial.value, trial.number)
    best = best_val_acc(trial)
    if trial.state == TrialState.PRUNED and best is not None:
        return (1, -best, trial.number)
    return (2, 0.0, trial.number)


def _row(rank: int, trial: FrozenTrial) -> dict:
    attrs = trial.user_attrs
    return {
        "rank": rank,
        "trial": trial.number,
        "summary": attrs.get("summary") or _unbuilt_summary(trial),
        "recipe": recipe_summary(attrs),
        "params": attrs.get("params"),
        "flops": attrs.get("flops"),
        "best_val_acc": best_val_acc(trial),
        "test_at_best": attrs.get("test_at_best"),
        "epochs_run": _epochs_run(attrs),
        "epochs": (attrs.get("recipe") or {}).get("epochs", attrs.get("steps")),
        "state": trial.state.name,
        "end_reason": attrs.get("end_reason"),
        "value": trial.value if trial.state == TrialState.COMPLETE else None,
    }


def recipe_summary(attrs: dict) -> str | None:
    """The stored recipe in one line (search.study.recipe.Recipe.summary); None without one. Fields
    this version does not know (a trial stored by another version) are left out."""
    import dataclasses

    from search.study.recipe import Recipe

    stored = attrs.get("recipe")
    if not stored:
        return None
    known = {field.name for field in dataclasses.fields(Recipe)}
    return Recipe.from_dict({k: v for k, v in stored.items() if k in known}).summary


def _epochs_run(attrs: dict) -> int:
    """Epochs trained (per-epoch lists); for the toy study, gradient steps taken."""
    for name in ("val_acc", "test_acc"):
        if isinstance(attrs.get(name), list) and attrs[name]:
            return len(attrs[name])
    if isinstance(attrs.get("e_total"), list) and attrs["e_total"]:
        return len(attrs["e_total"]) - 1  # e_total[0] is before the first step
    return 0


def _unbuilt_summary(trial: FrozenTrial) -> str | None:
    """A trial with no spec summary: a proposal rejected as invalid says so in a word (its
    reason is the end column); a toy trial shows its few sampled parameters."""
    if trial.user_attrs.get("end_kind") == "invalid":
        return "(invalid proposal)"
    return _params_summary(trial.params)


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
