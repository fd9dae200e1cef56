"""What the console and leaderboard tests share: a real SQLite storage with a study in every
trial state (`demo_storage`), its expected leaderboard rows, and scripted run events."""

from __future__ import annotations

import io
import re
from pathlib import Path

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial
from rich.console import Console

from search.console.live import LiveConsole

ROOT = Path(__file__).resolve().parents[1]
COUNTS = {"COMPLETE": 2, "PRUNED": 1, "FAIL": 0, "RUNNING": 0, "WAITING": 0}


def trial_attrs(summary, params, flops, val, test, epochs, kind, reason, **extra) -> dict:
    attrs = {
        "summary": summary,
        "params": params,
        "flops": flops,
        "recipe": {"epochs": epochs},
        "end_kind": kind,
        "end_reason": reason,
        **extra,
    }
    if val is not None:
        attrs.update(val_acc=val, test_acc=test, epoch_seconds=[10.0] * len(val))
    return attrs


def demo_storage(tmp_path: Path) -> str:
    """demo (maximize): trials 0..6 in every state, one waiting; toy (minimize): lr sweep."""
    url = f"sqlite:///{tmp_path / 'optuna.sqlite3'}"
    demo = optuna.create_study(storage=url, study_name="demo", direction="maximize")
    for state, value, attrs in [
        (
            TrialState.COMPLETE,
            98.5,
            trial_attrs(
                "8-16|P|16-32|GAP",
                9876,
                1_234_567,
                [97.0, 98.5],
                [96.9, 98.4],
                2,
                "complete",
                "complete",
                best_epoch=2,
                test_at_best=98.4,
            ),
        ),
        (
            TrialState.COMPLETE,
            99.1,
            trial_attrs(
                "8-16-16|P|T8|16-32|GAP",
                10066,
                2_500_000,
                [98.0, 99.1, 99.0],
                [97.9, 98.95, 99.02],
                3,
                "complete",
                "complete",
                best_epoch=2,
                test_at_best=98.95,
            ),
        ),
        (
            TrialState.PRUNED,
            None,
            trial_attrs(
                "16-32-32|P|32-64|GAP",
                23456,
                9_000_000,
                None,
                None,
                3,
                "limit",
                "pruned: params 23,456 >= 20,000",
            ),
        ),
        (
            TrialState.PRUNED,
            None,
            trial_attrs(
                "8-8|P|8-16|GAP",
                3000,
                400_000,
                [95.5],
                [95.2],
                3,
                "pruner",
                "pruned by MedianPruner at epoch 1",
            ),
        ),
        (
            TrialState.FAIL,
            None,
            trial_attrs(
                "8-16|Pn|16-32|GAP",
                9900,
                1_300_000,
                [90.0],
                [89.5],
                3,
                "failed",
                "failed: RuntimeError: boom",
            ),
        ),
        (
            TrialState.PRUNED,
            None,
            trial_attrs(
                "12-16|P|16-24|GAP",
                8000,
                1_000_000,
                [96.0, 97.2],
                [95.8, 97.0],
                3,
                "pruner",
                "pruned by MedianPruner at epoch 2",
            ),
        ),
        (
            TrialState.RUNNING,
            None,
            trial_attrs("8-12|P|12-24|GAP", 5000, 700_000, [99.5], [99.4], 3, None, None),
        ),
    ]:
        demo.add_trial(create_trial(state=state, value=value, user_attrs=attrs))
    demo.enqueue_trial({})  # trial 7, WAITING: not on the leaderboard
    toy = optuna.create_study(storage=url, study_name="toy", direction="minimize")
    rates = CategoricalDistribution([0.1, 0.5, 2.0])
    for lr, state, value in [
        (0.1, TrialState.COMPLETE, 0.30),
        (0.5, TrialState.COMPLETE, 0.05),
        (2.0, TrialState.FAIL, None),
    ]:
        toy.add_trial(
            create_trial(
                state=state,
                value=value,
                params={"lr": lr},
                distributions={"lr": rates},
                user_attrs={"final_e_total": value},
            )
        )
    return url


def row(rank, trial, summary, params, flops, best, test, run, epochs, state, reason, value):
    return {
        "rank": rank,
        "trial": trial,
        "summary": summary,
        "recipe": "sgd 0.1 none b64",  # the demo trials store {"epochs": N}: defaults otherwise
        "params": params,
        "flops": flops,
        "best_val_acc": best,
        "test_at_best": test,
        "epochs_run": run,
        "epochs": epochs,
        "state": state,
        "end_reason": reason,
        "value": value,
    }


DEMO_ROWS = [
    row(
        1,
        1,
        "8-16-16|P|T8|16-32|GAP",
        10066,
        2_500_000,
        99.1,
        98.95,
        3,
        3,
        "COMPLETE",
        "complete",
        99.1,
    ),
    row(2, 0, "8-16|P|16-32|GAP", 9876, 1_234_567, 98.5, 98.4, 2, 2, "COMPLETE", "complete", 98.5),
    row(
        3,
        5,
        "12-16|P|16-24|GAP",
        8000,
        1_000_000,
        97.2,
        None,
        2,
        3,
        "PRUNED",
        "pruned by MedianPruner at epoch 2",
        None,
    ),
    row(
        4,
        3,
        "8-8|P|8-16|GAP",
        3000,
        400_000,
        95.5,
        None,
        1,
        3,
        "PRUNED",
        "pruned by MedianPruner at epoch 1",
        None,
    ),
    row(
        5,
        2,
        "16-32-32|P|32-64|GAP",
        23456,
        9_000_000,
        None,
        None,
        0,
        3,
        "PRUNED",
        "pruned: params 23,456 >= 20,000",
        None,
    ),
    row(
        6,
        4,
        "8-16|Pn|16-32|GAP",
        9900,
        1_300_000,
        90.0,
        None,
        1,
        3,
        "FAIL",
        "failed: RuntimeError: boom",
        None,
    ),
    row(7, 6, "8-12|P|12-24|GAP", 5000, 700_000, 99.5, None, 1, 3, "RUNNING", None, None),
]


def load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url)


def cells(*cells: str) -> re.Pattern:
    """A table line holding exactly these cells, in order, separated by spaces."""
    return re.compile(r"^\s*" + r"\s+".join(re.escape(cell) for cell in cells) + r"\s*$", re.M)


def trial_end(
    trial, state, value, kind, reason, summary, params, flops, run, best, seconds
) -> dict:
    return {
        "type": "trial_end",
        "trial": trial,
        "state": state,
        "value": value,
        "end_kind": kind,
        "end_reason": reason,
        "summary": summary,
        "params": params,
        "flops": flops,
        "epochs_run": run,
        "best_val_acc": best,
        "seconds": seconds,
    }


def trial_start(trial, summary, params, flops, over_budget=()) -> dict:
    return {
        "type": "trial_start",
        "trial": trial,
        "summary": summary,
        "recipe": "sgd 0.1 none b64",  # the demo trials store {"epochs": N}: defaults otherwise
        "params": params,
        "flops": flops,
        "epochs": 3,
        "over_budget": list(over_budget),
    }


def progress(trial, epoch, batch, images_per_second) -> dict:
    return {
        "type": "progress",
        "trial": trial,
        "epoch": epoch,
        "epochs": 3,
        "batch": batch,
        "batches": 200,
        "images_per_second": images_per_second,
    }


STUDY = {
    "type": "study",
    "study": "demo",
    "storage": "sqlite:///runs/x.sqlite3",
    "budget": 10,
    "counts": COUNTS,
    "device": "cpu",
}
OVER = trial_end(
    7,
    "PRUNED",
    None,
    "limit",
    "pruned: params 23,456 >= 20,000",
    "16-32-32|P|32-64|GAP",
    23456,
    9_000_000,
    0,
    None,
    0.02,
)
DONE_9 = trial_end(
    9, "COMPLETE", 98.7, "complete", "complete", "8-8|P|8-16|GAP", 3000, 400_000, 3, 98.7, 240.0
)
EPOCH_8 = {
    "type": "epoch",
    "trial": 8,
    "epochs": 3,
    "epoch": 1,
    "train_loss": 0.3,
    "train_acc": 90.0,
    "val_acc": 97.25,
    "test_acc": 97.0,
    "epoch_seconds": 60.0,
    "images_per_second": 4000.0,
    "lr": 0.01,
}


def render(live: LiveConsole) -> list[str]:
    recording = Console(record=True, width=120, file=io.StringIO())
    recording.print(live.view())
    return [line.rstrip() for line in recording.export_text().splitlines()]
