"""Stored trials as plain data for the reports: records, kinds, outcomes, savings, fronts, choices.

Pure functions of Optuna studies and frozen trials (nothing printed, nothing written). The
renderers in search.reports.search and search.reports.repeat format what these return; the JSON and
CSV outputs of `python -m search.report` are these records as they are.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from search.reports.leaderboard import best_val_acc
from search.store.record import End, TrialRecord, end_of, records
from search.study.definitions import CONFIRM_SUFFIX

BASELINE_SUMMARY = "8-16-16|P|T8|16-32|GAP"  # archs.BASELINE.summary, as stored on trials
# How a trial ended, in the order the reports list them, with the words they use.
END_KINDS = {
    "complete": "complete",
    "limit": "pruned by limit",
    "invalid": "invalid (pruned)",
    "pruner": "pruned by pruner",
    "diverged": "diverged (pruned)",
    "failed": "failed",
    "interrupted": "interrupted",
    "running": "running",
}
CSV_COLUMNS = (
    "study",
    "number",
    "state",
    "end_kind",
    "end_reason",
    "params",
    "flops",
    "summary",
    "value",
    "best_val_acc",
    "test_at_best",
    "epochs_run",
)


def end_kind(trial: FrozenTrial) -> str:
    """The stored end kind; a trial that stored none (a dead worker's) by its state."""
    return end_of(trial).value


def listed_trials(optuna_study: optuna.Study) -> list[FrozenTrial]:
    """Every trial but the enqueued ones that have not started."""
    return [t for t in optuna_study.get_trials(deepcopy=False) if t.state != TrialState.WAITING]


def finished_runs(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """COMPLETE trials with a test curve (repeat and ablation runs that trained to the end)."""
    return [t for t in trials if TrialRecord.of(t).finished]


def epochs_run(trial: FrozenTrial) -> int:
    return TrialRecord.of(trial).epochs_run


def trial_record(trial: FrozenTrial) -> dict:
    """One trial as plain JSON types: what the JSON document and the CSV hold per trial."""
    record = TrialRecord.of(trial)
    return {
        "number": trial.number,
        "state": trial.state.name,
        "end_kind": record.end.value,
        "end_reason": record.end_reason,
        "params": record.n_params,
        "flops": record.flops_per_image,
        "summary": record.summary,
        "value": trial.value if trial.state == TrialState.COMPLETE else None,
        "best_val_acc": record.best_val_acc_pct,
        "test_at_best": record.test_at_best_pct,
        "best_epoch": record.best_epoch,
        "epochs_run": record.epochs_run,
        "epochs": record.epochs,
        "seed": record.seed,
        "sampled": dict(record.sampled),
        "val_acc": list(record.val_acc_pct),
        "test_acc": list(record.test_acc_pct),
        "spec": record.spec,
        "recipe": record.recipe,
        "device": record.device,
        "torch_version": record.torch_version,
        "retry_of": record.retry_of,
        "imported_from": record.imported_from,
        "train_images": record.train_images,
        "val_images": record.val_images,
        "test_images": record.test_images,
        "distributions": {
            name: optuna.distributions.distribution_to_json(distribution)
            for name, distribution in trial.distributions.items()
        },
    }


def csv_frame(records_by_study: dict[str, list[dict]]) -> pd.DataFrame:
    rows = [
        {"study": name, **{column: record[column] for column in CSV_COLUMNS[1:]}}
        for name, records in records_by_study.items()
        for record in records
    ]
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS), dtype=object)  # ints stay ints


def study_kind(optuna_study: optuna.Study) -> str:
    """search | repeat | ablation | lr-sweep | companion | empty | other: as the runner stored
    it when it created the study; guessed from the trials only for a study stored by a version
    that did not store it."""
    if optuna_study.study_name.endswith(CONFIRM_SUFFIX):
        return "companion"
    trials = listed_trials(optuna_study)
    if not trials:
        return "empty"
    if optuna_study.user_attrs.get("kind"):
        return optuna_study.user_attrs["kind"]
    if any("variant" in t.params for t in trials):
        return "ablation"
    with_spec = [r for r in records(trials) if r.trained]
    if with_spec:
        seed_only = all(set(t.params) == {"seed"} for t in trials)
        no_validation = all(not r.val_images for r in with_spec)
        if optuna_study.study_name == "baseline" or (seed_only and no_validation):
            return "repeat"
        return "search"
    if any("lr" in t.params or "lr" in t.user_attrs for t in trials):
        return "lr-sweep"
    return "other"


def outcome_counts(trials: list[FrozenTrial]) -> dict[str, int]:
    """Trials per end kind in END_KINDS order: the first six always (zeros say "none"), any
    other kind (interrupted, running, ...) when a trial has it."""
    kinds = [end_kind(t) for t in trials]
    always = list(END_KINDS)[:6]
    ordered = (
        always + [k for k in END_KINDS if k not in always] + sorted(set(kinds) - set(END_KINDS))
    )
    return {kind: kinds.count(kind) for kind in ordered if kind in always or kind in kinds}


def seed_mismatches(trials: list[FrozenTrial]) -> list[int]:
    """Trials whose recorded training seed differs from their "seed" param (the one asked for)."""
    return [
        r.number
        for r in records(trials)
        if "seed" in r.sampled and r.seed is not None and r.sampled["seed"] != r.seed
    ]


def seed_warning(trials: list[FrozenTrial]) -> str:
    """A README paragraph when the seeds asked for are not the seeds trained with ("" if none)."""
    found = seed_mismatches(trials)
    if not found:
        return ""
    return (
        f"**Warning:** {len(found)} of {len(trials)} trials trained with a seed other than their"
        ' "seed" parameter (the seed the study asked for): trials'
        f" {', '.join(map(str, found))}."
    )


def pruning_savings(trials: list[FrozenTrial]) -> dict:
    """Epochs trained vs the epochs the same trials' recipes asked for.

    Counted over the trials that passed the limits and then ran to the end or were stopped by
    the pruner (end kinds complete and pruner): the trials whose cost the pruner decides.
    """
    counted = [r for r in records(trials) if r.end in (End.COMPLETE, End.PRUNER)]
    trained = sum(len(r.val_acc_pct) for r in counted)
    unpruned = sum(r.epochs for r in counted)
    saved = 100 * (unpruned - trained) / unpruned if unpruned else 0.0
    return {
        "trials": len(counted),
        "pruned_by_pruner": sum(r.end == End.PRUNER for r in counted),
        "epochs_trained": trained,
        "epochs_unpruned": unpruned,
        "saved_percent": saved,
    }


def pareto_front(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The (params, accuracy) points no other point beats on both (fewer params, higher acc)."""
    front: list[tuple[int, float]] = []
    for params, acc in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or acc > front[-1][1]:
            front.append((params, acc))
    return front


def trained(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """Trials with at least one validation accuracy (trained at least one epoch)."""
    return [t for t in trials if best_val_acc(t) is not None]


def accuracy_points(trials: list[FrozenTrial]) -> pd.DataFrame:
    """One row per trained trial: params, best_val_acc, outcome (END_KINDS words)."""
    return pd.DataFrame(
        [
            {
                "params": TrialRecord.of(t).n_params,
                "best_val_acc": best_val_acc(t),
                "outcome": END_KINDS.get(end_kind(t), end_kind(t)),
            }
            for t in trained(trials)
        ],
        columns=["params", "best_val_acc", "outcome"],
    )


def baseline_trial(trials: list[FrozenTrial]) -> FrozenTrial | None:
    """The first trained trial of the pinned baseline architecture (the warm start)."""
    return next(
        (t for t in trained(trials) if TrialRecord.of(t).summary == BASELINE_SUMMARY), None
    )


def _transition(params: dict) -> str | None:
    if "t1_width" not in params:
        return None
    return "on" if params["t1_width"] > 0 else "off"


def _dropout_at(trial: FrozenTrial) -> str | None:
    """Where the net drops out, from the spec it built: a space may imply it from the rate alone
    (frontier: every conv when the rate is above 0) rather than sample it."""
    if "dropout" not in trial.params:
        return None
    spec = TrialRecord.of(trial).spec  # a trained trial's: choice_rows reads no other
    return spec["dropout_at"] if spec["dropout"] else "none"


# Each search choice: how to read its option from a trial (None: the trial does not have it).
CHOICES: dict[str, Callable[[FrozenTrial], object]] = {
    "bn": lambda t: t.params.get("bn"),
    "dropout_at": _dropout_at,
    "transition": lambda t: _transition(t.params),
    "head": lambda t: t.params.get("head"),
    "blocks": lambda t: t.params.get("blocks"),
    "b1_padding": lambda t: t.params.get("b1_padding"),
    "bias": lambda t: t.params.get("bias"),
    "optimizer": lambda t: t.params.get("optimizer"),
    "schedule": lambda t: t.params.get("schedule"),
    "batch_size": lambda t: t.params.get("batch_size"),
    "augment_degrees": lambda t: t.params.get("augment_degrees"),
    "augment_translate": lambda t: t.params.get("augment_translate"),
    "dropout": lambda t: t.params.get("dropout"),
    "pool_bn": lambda t: t.params.get("pool_bn"),
    "lr": lambda t: _lr_band(t.params.get("lr")),
    "epochs": lambda t: TrialRecord.of(t).epochs,  # as trained
}


LR_BANDS = (0.003, 0.01, 0.03, 0.1, 0.3)  # a continuous choice, grouped in half-decades


def _lr_band(lr: float | None) -> str | None:
    if lr is None:
        return None
    low = max((edge for edge in LR_BANDS if edge <= lr), default=0.0)
    high = min((edge for edge in LR_BANDS if edge > lr), default=None)
    return f"[{low:g}, {high:g})" if high is not None else f"[{low:g}, +)"


def choice_rows(trials: list[FrozenTrial]) -> list[dict]:
    """Per choice and option, over COMPLETE trials: count, best and median val acc, params."""
    complete = [t for t in trained(trials) if t.state == TrialState.COMPLETE]
    rows = []
    for choice, read in CHOICES.items():
        groups: dict[object, list[FrozenTrial]] = {}
        for trial in complete:
            option = read(trial)
            if option is not None:
                groups.setdefault(option, []).append(trial)
        for option in sorted(groups):  # one type per choice
            accs = [best_val_acc(t) for t in groups[option]]
            rows.append(
                {
                    "choice": choice,
                    "option": str(option),
                    "trials": len(accs),
                    "best_val_acc": max(accs),
                    "median_val_acc": statistics.median(accs),
                    "median_params": statistics.median(
                        TrialRecord.of(t).n_params for t in groups[option]
                    ),
                }
            )
    return rows
