"""The search-study report (cnn20k and its kind): leaderboard, confirmed winners, ablation by
choice, parameter importance, how trials ended, and three figures.

`search_summary(study, companion)` computes every number (the JSON document carries it as is);
`render_search` writes README.md and the figures from it. The companion study (NAME.confirm)
holds the confirmation runs, rendered here rather than as a report of its own.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from search.study.definitions import TRAIN_IMAGES
from search.reports import figures as figures
from search.reports import format as fmt
from search.reports.confirmations import confirmation_summaries
from search.reports.data import (
    END_KINDS,
    accuracy_points,
    baseline_trial,
    choice_rows,
    listed_trials,
    outcome_counts,
    pareto_front,
    pruning_savings,
    seed_warning,
)
from search.reports.importance import importance, importance_section
from search.reports.leaderboard import best_val_acc, leaderboard_rows
from search.reports.stats import mean_interval
from search.store.record import TrialRecord
from search.study.claim import TARGET_ACC

TOP = 15  # leaderboard rows
CURVES_TOP = 5  # learning curves drawn besides the baseline's


def search_summary(optuna_study: optuna.Study, companion: optuna.Study | None) -> dict:
    trials = listed_trials(optuna_study)
    return {
        "outcomes": outcome_counts(trials),
        "pruning": pruning_savings(trials),
        "leaderboard": leaderboard_rows(optuna_study, TOP),
        "confirmation": confirmation_summaries(companion) if companion is not None else None,
        "choices": choice_rows(trials),
        "importance": importance(optuna_study),
    }


def leaderboard_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": row["rank"],
            "trial": row["trial"],
            "spec": fmt.code(row["summary"]),
            "recipe": fmt.code(row.get("recipe")),
            "params": fmt.count(row["params"]),
            "FLOPs": fmt.count(row["flops"]),
            "best val %": fmt.pct(row["best_val_acc"]),
            "test@best %": fmt.pct(row["test_at_best"]),
            "epochs": f"{row['epochs_run']}/{row['epochs'] or fmt.MISSING}",
            "score": fmt.MISSING if row["value"] is None else f"{row['value']:.3f}",
            "state": row["state"],
            "end": fmt.escape(row["end_reason"]),
        }
        for row in rows
    )


def confirmation_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "trial": row["source_trial"],
            "spec": fmt.code(row["summary"]),
            "recipe": fmt.code(row.get("recipe")),
            "params": fmt.count(row["params"]),
            "epochs": row["epochs"],
            "n": len(row["seeds"]),
            "seeds": ", ".join(str(seed) for seed in row["seeds"]),
            "final test % mean ± std": f"{row['mean']:.2f} ± {row['std']:.2f}",
            "95% CI": fmt.bounds(mean_interval(row["final_test_acc"])),
            "min %": fmt.pct(row["min"]),
            f"target {TARGET_ACC:.2f}%": row["claim"],
            f"epochs ≥ {TARGET_ACC:.2f}% per seed": fmt.epochs_list(row["epochs_at_target"]),
            f"first epoch ≥ {TARGET_ACC:.2f}% per seed": fmt.epochs_list(
                row["first_epoch_at_target"]
            ),
        }
        for row in rows
    )


def choices_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "choice": row["choice"],
            "option": row["option"],
            "trials": row["trials"],
            "best val %": fmt.pct(row["best_val_acc"]),
            "median val %": fmt.pct(row["median_val_acc"]),
            "median params": fmt.count(row["median_params"]),
        }
        for row in rows
    )


def outcomes_section(summary: dict) -> str:
    frame = pd.DataFrame(
        {"outcome": END_KINDS.get(kind, kind), "trials": number}
        for kind, number in summary["outcomes"].items()
    )
    saving = summary["pruning"]
    return (
        "## How trials ended\n\n"
        + fmt.table(frame)
        + f"\n\npruning: {saving['epochs_trained']} epochs trained of"
        f" {saving['epochs_unpruned']} the same trials would have cost unpruned"
        f" ({saving['saved_percent']:.1f}% saved; {saving['trials']} trials that passed the"
        f" limits and completed or were pruned by the pruner, {saving['pruned_by_pruner']} of"
        " them pruned). Trials over a limit or invalid cost no epoch at all.\n\n"
        + fmt.figure("trial_outcomes.png", "trials by how they ended")
    )


def confirmation_section(rows: list[dict] | None, study_name: str, companion) -> str:
    title = "## Confirmed winners\n\n"
    if not rows:
        return title + (
            f"No confirmation runs yet: `python -m search.run --study {study_name} --confirm 3`."
        )
    warning = seed_warning(listed_trials(companion))
    return title + (
        f"The top trials retrained on {images_text(rows)}, once per seed; the final test"
        " accuracy (after the last epoch, nothing chosen on the test set) over the seeds.\n\n"
        + fmt.table(confirmation_frame(rows))
        + (f"\n\n{warning} The seeds column shows the seed parameters." if warning else "")
        + unfinished_text(companion, study_name)
    )


def images_text(rows: list[dict]) -> str:
    """'all 60,000 training images', or the counts actually stored (a --train-limit run)."""
    counts = sorted({row.get("train_images") for row in rows} - {None})
    if counts == [TRAIN_IMAGES]:
        return f"all {TRAIN_IMAGES:,} training images"
    shown = ", ".join(f"{count:,}" for count in counts) or "an unrecorded number of"
    return f"{shown} training images (not all {TRAIN_IMAGES:,}: --train-limit)"


def unfinished_text(companion, study_name: str) -> str:
    """A paragraph when queued confirmation runs have not finished (a --timeout cut them)."""
    trials = companion.get_trials(deepcopy=False)
    done = sum(t.state == TrialState.COMPLETE for t in trials)
    if done == len(trials):
        return ""
    # a waiting run's parameters are still the fixed ones it was enqueued with
    sources = len({(t.params or t.system_attrs.get("fixed_params", {})).get("source_trial")
                   for t in trials})  # fmt: skip
    return (
        f"\n\n**Unfinished:** {done} of {len(trials)} confirmation runs are complete; the rows"
        " above average the finished ones only. Finish them with"
        f" `python -m search.run --study {study_name} --confirm {sources}`."
    )


def plot_all(optuna_study: optuna.Study, out_dir: Path) -> list[Path]:
    trials = listed_trials(optuna_study)
    name = optuna_study.study_name
    points = accuracy_points(trials)
    base = baseline_trial(trials)
    base_point = None if base is None else (TrialRecord.of(base).n_params, best_val_acc(base))
    front = pareto_front(list(zip(points["params"], points["best_val_acc"], strict=True)))
    counts = {END_KINDS.get(k, k): v for k, v in outcome_counts(trials).items()}
    return [
        figures.plot_accuracy_vs_params(
            points, front, base_point, out_dir / "accuracy_vs_params.png",
            f"{name}: best validation accuracy vs parameters ({len(points)} trained trials)",
        ),
        figures.plot_curves(
            top_curves(optuna_study, base), out_dir / "learning_curves.png",
            f"{name}: validation accuracy of the top {top_shown(optuna_study, base)} trials"
            + (" and the baseline" if base is not None else ""),
            "validation accuracy (%)", dashed="(baseline)",
        ),
        figures.plot_outcomes(
            counts, out_dir / "trial_outcomes.png", f"{name}: how the {len(trials)} trials ended"
        ),
    ]  # fmt: skip


def top_shown(optuna_study: optuna.Study, base) -> int:
    """How many ranked trials the learning-curve figure draws (the title says so)."""
    return sum(label.startswith("#") for label in top_curves(optuna_study, base))


def top_curves(optuna_study: optuna.Study, base) -> dict[str, list[float]]:
    """Validation curves of the top trained trials by rank, and the baseline's (dashed)."""
    rows = [r for r in leaderboard_rows(optuna_study, len(optuna_study.trials)) if r["epochs_run"]]
    by_number = {t.number: t for t in optuna_study.get_trials(deepcopy=False)}
    base_number = None if base is None else base.number
    curves = {}
    for row in rows[:CURVES_TOP]:
        label = f"#{row['rank']} trial {row['trial']}"
        label += " (baseline)" if row["trial"] == base_number else ""
        curves[label] = list(TrialRecord.of(by_number[row["trial"]]).val_acc_pct)
    if base is not None and not any(label.endswith("(baseline)") for label in curves):
        curves[f"trial {base.number} (baseline)"] = list(TrialRecord.of(base).val_acc_pct)
    return curves


def score_text(optuna_study: optuna.Study) -> str:
    """What the value (score) is: stored on the study by the runner that created it."""
    stored = optuna_study.user_attrs.get("score")
    return stored or "The value (score) is the study's objective at the best validation epoch."


def render_search(
    optuna_study: optuna.Study, companion: optuna.Study | None, out_dir: Path, header: str
) -> tuple[list[Path], dict]:
    """Write README.md and the figures; returns the paths and the summary (for data.json)."""
    summary = search_summary(optuna_study, companion)
    paths = plot_all(optuna_study, out_dir)
    name = optuna_study.study_name
    sections = [
        header.rstrip(),
        "Selection uses validation accuracy only; test accuracy is shown, never used to choose."
        f" {score_text(optuna_study)}\n\n"
        + fmt.figure("accuracy_vs_params.png", "best validation accuracy vs parameters"),
        f"## Leaderboard (top {TOP})\n\n" + fmt.table(leaderboard_frame(summary["leaderboard"])),
        confirmation_section(summary["confirmation"], name, companion),
        "## Learning curves\n\n" + fmt.figure("learning_curves.png", "validation accuracy"),
        outcomes_section(summary),
        "## Ablation by choice\n\nOver the complete trials: for each option of each choice, the"
        " trials that took it, their best and median best-validation accuracy, and their median"
        " parameters (epochs: as trained).\n\n" + fmt.table(choices_frame(summary["choices"])),
        importance_section(summary["importance"]),
    ]
    readme = out_dir / "README.md"
    readme.write_text("\n\n".join(sections) + "\n")
    return [readme, *paths], summary
