"""The leaderboard: a study's trials ranked as plain row dicts, and `python -m search.leaderboard`.

Ranking: COMPLETE trials by value in the study's direction; then PRUNED trials that trained, by
their best validation accuracy; then the rest (pruned before training, failed, running) by trial
number. Ties go to the lower trial number. Waiting (enqueued, not started) trials are left out.
The live view (search.console) draws the same rows with the same table as this command.
"""

from __future__ import annotations

import sys

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from search.cli import Parser, main_guard, positive_int
from search.errors import UsageError
from search.storage import open_storage, require_existing, resolve_url, study_names

PROG = "python -m search.leaderboard"
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
        "summary": attrs.get("summary") or _params_summary(trial.params),
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
    """The stored recipe in one line (search.recipe.Recipe.summary); None without one. Fields
    this version does not know (a trial stored by another version) are left out."""
    import dataclasses

    from search.recipe import Recipe

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


def _params_summary(params: dict) -> str | None:
    """Trials without a spec summary (the lr-sweep toy study): their sampled parameters."""
    if not params:
        return None
    return ", ".join(
        f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in params.items()
    )


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="Print a study's leaderboard from its storage (during a run or after).",
        epilog="Examples: --study cnn20k | --study cnn20k --top 25 --storage postgresql://...",
    )
    parser.add_argument("--study", required=True, help="study name as stored")
    parser.add_argument("--top", type=positive_int, default=TOP, help=f"rows (default {TOP})")
    parser.add_argument(
        "--storage",
        help="Optuna storage URL, or journal:PATH (default: "
        "$SEARCH_STORAGE, else sqlite:///runs/optuna.sqlite3)",
    )
    parser.add_argument("--plain", action="store_true", help="no colour, width 120")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return main_guard(PROG, lambda: _main(args))


def _main(args) -> int:
    from search.console import print_leaderboard

    optuna_study = load_existing(args.study, args.storage)
    rows = leaderboard_rows(optuna_study, args.top)
    print_leaderboard(rows, _title(optuna_study, len(rows)), plain=args.plain)
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
