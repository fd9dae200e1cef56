"""Confirmation runs as the reports show them: per source trial, the final test accuracy over
seeds (mean, std, min), the claim rule's verdict and the epochs at the target.

Read from the companion study `NAME.confirm` that search.runner.confirm fills; the runner prints
`format_summary` of each row when a confirmation ends.
"""

from __future__ import annotations

import statistics

import optuna
from optuna.trial import TrialState

from search.reports.leaderboard import recipe_summary
from search.store.record import records
from search.study.claim import TARGET_ACC, claim


def confirmation_summaries(companion: optuna.Study) -> list[dict]:
    """Per source trial: final test accuracy mean, std, min over seeds; epochs >= 99.40%."""
    by_source: dict[int, list[optuna.trial.FrozenTrial]] = {}
    for trial in companion.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        by_source.setdefault(trial.params["source_trial"], []).append(trial)
    rows = []
    for source, trials in sorted(by_source.items()):
        trials.sort(key=lambda t: t.params["seed"])
        runs = records(trials)
        finals = [r.final_test_acc_pct for r in runs]
        first = runs[0]
        rows.append(
            {
                "source_trial": source,
                "summary": first.summary,
                "recipe": recipe_summary(first.recipe),
                "params": first.n_params,
                "flops": first.flops_per_image,
                "epochs": first.epochs,
                "train_images": first.train_images,
                "seeds": [t.params["seed"] for t in trials],
                "final_test_acc": finals,
                "mean": statistics.fmean(finals),
                "std": statistics.stdev(finals) if len(finals) > 1 else 0.0,
                "min": min(finals),
                "claim": claim(finals),
                "epochs_at_target": [sum(a >= TARGET_ACC for a in r.test_acc_pct) for r in runs],
                "first_epoch_at_target": [_first_at_target(r.test_acc_pct) for r in runs],
            }
        )
    return rows


def _first_at_target(curve: tuple[float, ...]) -> int | None:
    return next((epoch for epoch, acc in enumerate(curve, start=1) if acc >= TARGET_ACC), None)


def format_summary(row: dict) -> str:
    return (
        f"confirmed trial {row['source_trial']} {row['summary']} ({row['params']:,} params):"
        f" final test {row['mean']:.2f} ± {row['std']:.2f} % (min {row['min']:.2f}, n="
        f"{len(row['seeds'])}, seeds {row['seeds']}); epochs >= {TARGET_ACC}%:"
        f" {row['epochs_at_target']} of {row['epochs']}; target {TARGET_ACC:.2f}%: {row['claim']}"
    )
