"""The console and the leaderboard: plain lines, the live view, ranking and the CLI.

The leaderboard tests read a real SQLite study built here with `create_trial`; the live view is
fed a scripted run and rendered into a recording console 120 characters wide.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial
from rich.console import Console

from search.console.choose import make_console
from search.console.events import (
    OptunaLogHandler,
    PlainConsole,
    format_event,
    leaderboard_table,
    wants_plain,
)
from search.console.live import LiveConsole
from search.reports.leaderboard import leaderboard_rows
from search.runner.progress import counts

ROOT = Path(__file__).resolve().parents[1]
COUNTS = {"COMPLETE": 2, "PRUNED": 1, "FAIL": 0, "RUNNING": 0, "WAITING": 0}


def _attrs(summary, params, flops, val, test, epochs, kind, reason, **extra) -> dict:
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


@pytest.fixture
def storage_url(tmp_path: Path) -> str:
    """demo (maximize): trials 0..6 in every state, one waiting; toy (minimize): lr sweep."""
    url = f"sqlite:///{tmp_path / 'optuna.sqlite3'}"
    demo = optuna.create_study(storage=url, study_name="demo", direction="maximize")
    for state, value, attrs in [
        (
            TrialState.COMPLETE,
            98.5,
            _attrs(
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
            _attrs(
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
            _attrs(
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
            _attrs(
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
            _attrs(
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
            _attrs(
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
            _attrs("8-12|P|12-24|GAP", 5000, 700_000, [99.5], [99.4], 3, None, None),
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


def _row(rank, trial, summary, params, flops, best, test, run, epochs, state, reason, value):
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
    _row(
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
    _row(
        2, 0, "8-16|P|16-32|GAP", 9876, 1_234_567, 98.5, 98.4, 2, 2, "COMPLETE", "complete", 98.5
    ),
    _row(
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
    _row(
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
    _row(
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
    _row(
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
    _row(7, 6, "8-12|P|12-24|GAP", 5000, 700_000, 99.5, None, 1, 3, "RUNNING", None, None),
]


def _load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url)


def test_rows_rank_complete_then_trained_pruned_then_the_rest(storage_url):
    assert leaderboard_rows(_load(storage_url, "demo")) == DEMO_ROWS
    assert leaderboard_rows(_load(storage_url, "demo"), top=2) == DEMO_ROWS[:2]


def test_rows_of_a_minimize_study_rank_the_smallest_value_first(storage_url):
    rows = leaderboard_rows(_load(storage_url, "toy"))
    assert [(r["rank"], r["trial"], r["summary"], r["value"], r["state"]) for r in rows] == [
        (1, 1, "lr=0.5", 0.05, "COMPLETE"),
        (2, 0, "lr=0.1", 0.30, "COMPLETE"),
        (3, 2, "lr=2", None, "FAIL"),
    ]


def _cells(*cells: str) -> re.Pattern:
    """A table line holding exactly these cells, in order, separated by spaces."""
    return re.compile(r"^\s*" + r"\s+".join(re.escape(cell) for cell in cells) + r"\s*$", re.M)


def _end(trial, state, value, kind, reason, summary, params, flops, run, best, seconds) -> dict:
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


def _start(trial, summary, params, flops, over_budget=()) -> dict:
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


def _progress(trial, epoch, batch, images_per_second) -> dict:
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
OVER = _end(
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
DONE_9 = _end(
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


def _render(live: LiveConsole) -> list[str]:
    recording = Console(record=True, width=120, file=io.StringIO())
    recording.print(live.view())
    return [line.rstrip() for line in recording.export_text().splitlines()]


def test_live_view_shows_study_line_progress_rows_leaderboard_and_recent_lines(storage_url):
    now = [100.0]
    live = LiveConsole(Console(file=io.StringIO()), clock=lambda: now[0])
    rows = leaderboard_rows(_load(storage_url, "demo"))
    for event in [
        STUDY,
        _start(6, "8-16-16|P|T8|16-32|GAP", 10066, 2_500_000),
        _start(7, "16-32-32|P|32-64|GAP", 23456, 9_000_000, ["params 23,456 >= 20,000"]),
        OVER,
        _start(8, "8-16|P|16-32|GAP", 9876, 1_234_567),
        _progress(6, 2, 100, 5432.1),
        EPOCH_8,
        _progress(8, 2, 50, 3999.6),
        DONE_9,
        {"type": "leaderboard", "study": "demo", "rows": rows},
        {"type": "log", "message": "optuna warning: trial 9 was slow"},
        {"type": "mystery"},
    ]:
        live.emit(event)
    now[0] = 100.0 + 3723  # 1:02:03 later
    lines = _render(live)
    # 5 of 10 finished (2+1 earlier, 2 now), trial 7 rejected by a limit before training but
    # counted (this study is not a search: see the next test); 5 left x 240 s (trained trials
    # only) / 2 running
    assert lines[0] == (
        "demo  5/10 trials: 3 complete, 1 pruned, 1 rejected, 0 failed, 2 running"
        "  elapsed 1:02:03  remaining ~0:10:00  cpu"
    )
    assert re.split(r"\s{2,}", lines[1]) == [  # epoch 2 of 3, 100/200: half of 24 bar cells
        "trial 6",
        "8-16-16|P|T8|16-32|GAP",
        "epoch 2/3",
        "━" * 12,
        "batch 100/200",
        "val -",
        "5,432 img/s",
    ]
    assert re.split(r"\s{2,}", lines[2]) == [  # (200 + 50) / 600 of 24 cells
        "trial 8",
        "8-16|P|16-32|GAP",
        "epoch 2/3",
        "━" * 10,
        "batch 50/200",
        "val 97.25",
        "4,000 img/s",
    ]
    assert lines[3] == "leaderboard (top 7)"
    text = "\n".join(lines)
    assert _cells(
        "1", "1", "8-16-16|P|T8|16-32|GAP", "10,066", "2.50M", "99.10", "98.95", "3/3", "complete"
    ).search(text)
    assert _cells(
        "5",
        "2",
        "16-32-32|P|32-64|GAP",
        "23,456",
        "9.00M",
        "-",
        "-",
        "0/3",
        "pruned: params 23,456 >= 20,000",
    ).search(text)
    assert _cells(
        "7", "6", "8-12|P|12-24|GAP", "5,000", "0.70M", "99.50", "-", "1/3", "running"
    ).search(text)
    assert lines[-3:] == [  # the over-budget trial: its rule, no time, no progress row
        "trial 7 PRUNED  pruned: params 23,456 >= 20,000  16-32-32|P|32-64|GAP  23,456 params",
        "trial 9 COMPLETE  val 98.70  epochs 3  240.0s  complete  8-8|P|8-16|GAP  3,000 params",
        "optuna warning: trial 9 was slow",
    ]
    assert len(lines) == 1 + 2 + 3 + 7 + 3  # study, progress, title/header/rule, rows, recent


def test_live_view_at_done_freezes_elapsed_and_says_why_it_stopped():
    now = [0.0]
    live = LiveConsole(Console(file=io.StringIO()), clock=lambda: now[0])
    live.emit(STUDY)
    live.emit(DONE_9)
    now[0] = 61.0
    live.emit(
        {
            "type": "done",
            "study": "demo",
            "budget": 10,
            "stopped_by": "timeout",
            "counts": {"COMPLETE": 3, "PRUNED": 1, "FAIL": 1, "RUNNING": 0, "WAITING": 0},
        }
    )
    now[0] = 999.0
    assert _render(live) == [
        "demo  4/10 trials: 3 complete, 1 pruned, 1 failed, 0 running  elapsed 0:01:01"
        "  done (stopped by timeout)  cpu",
        "leaderboard: no finished trial yet",
        "trial 9 COMPLETE  val 98.70  epochs 3  240.0s  complete  8-8|P|8-16|GAP  3,000 params",
    ]
    live.emit({**STUDY, "study": "demo.confirm", "budget": 6, "counts": COUNTS})
    assert _render(live)[0] == (
        "demo.confirm  3/6 trials: 2 complete, 1 pruned, 0 failed,"
        " 0 running  elapsed 0:16:39  remaining -  cpu"
    )


def test_a_search_leaves_trials_rejected_before_training_out_of_its_budget():
    """search.store.budget: in a search (rejections_free), a proposal rejected by a limit before
    training shows as rejected and uses none of the budget, in both views, and the estimate
    counts the trials still to train."""
    now = [0.0]
    live = LiveConsole(Console(file=io.StringIO()), clock=lambda: now[0])
    search = {**STUDY, "rejections_free": True, "counts": {**COUNTS, "REJECTED": 0}}
    for event in [
        search,
        _start(7, "16-32-32|P|32-64|GAP", 23456, 9_000_000, ["params 23,456 >= 20,000"]),
        OVER,
        _start(8, "8-16|P|16-32|GAP", 9876, 1_234_567),
        DONE_9,
    ]:
        live.emit(event)
    now[0] = 60.0
    # 3 earlier + trial 9 = 4 of 10 used, trial 7 free; 6 left x 240 s / 1 running = 24 min
    assert _render(live)[0] == (
        "demo  4/10 trials: 3 complete, 1 pruned, 1 rejected, 0 failed, 1 running"
        "  elapsed 0:01:00  remaining ~0:24:00  cpu"
    )
    stream = io.StringIO()
    stored = {**COUNTS, "PRUNED": 3, "REJECTED": 2}
    with PlainConsole(stream) as console:
        console.emit({**search, "counts": stored})
        console.emit(
            {
                "type": "done",
                "study": "demo",
                "budget": 10,
                "rejections_free": True,
                "counts": stored,
                "stopped_by": "rejections",
            }
        )
    assert stream.getvalue().splitlines() == [
        "study demo: 3/10 trials finished (2 rejected before training), 0 failed;"
        " storage sqlite:///runs/x.sqlite3; device cpu",
        "done demo: 2 complete, 3 pruned (2 rejected before training), 0 failed;"
        " 3/10 trials used (stopped by rejections)",
    ]


def test_plain_console_prints_one_line_per_finished_trial_and_no_escapes():
    stream = io.StringIO()
    rows = [
        _row(1, 9, "8-8|P|8-16|GAP", 3000, 400_000, 98.7, 98.5, 3, 3, "COMPLETE", "complete", 98.7)
    ]
    pruned_5 = _end(
        5,
        "PRUNED",
        None,
        "pruner",
        "pruned by MedianPruner at epoch 1",
        "12-16|P|16-24|GAP",
        8000,
        1_000_000,
        1,
        96.0,
        61.25,
    )
    with PlainConsole(stream) as console:
        for event in [
            STUDY,
            _start(7, "16-32-32|P|32-64|GAP", 23456, 9_000_000, ["params 23,456 >= 20,000"]),
            OVER,
            _start(5, "12-16|P|16-24|GAP", 8000, 1_000_000),
            _progress(5, 1, 25, 3000.0),
            pruned_5,
            DONE_9,
            {"type": "leaderboard", "study": "demo", "rows": rows},
            {"type": "log", "message": "x" * 130},
            {"type": "mystery"},
            {
                "type": "done",
                "study": "demo",
                "counts": COUNTS,
                "budget": 10,
                "stopped_by": "budget",
            },
        ]:
            console.emit(event)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "study demo: 3/10 trials finished, 0 failed; storage sqlite:///runs/x.sqlite3; device cpu",
        "trial 7 start  16-32-32|P|32-64|GAP  23,456 params  9.00M FLOPs  3 epochs"
        "  over budget: params 23,456 >= 20,000",
        "trial 7 PRUNED  pruned: params 23,456 >= 20,000  16-32-32|P|32-64|GAP  23,456 params",
        "trial 5 start  12-16|P|16-24|GAP  8,000 params  1.00M FLOPs  3 epochs",
        "trial 5 PRUNED  val 96.00  epochs 1  61.2s  pruned by MedianPruner at epoch 1"
        "  12-16|P|16-24|GAP  8,000 params",
        "trial 9 COMPLETE  val 98.70  epochs 3  240.0s  complete  8-8|P|8-16|GAP  3,000 params",
        "x" * 130,  # whole, never cut
        "done demo: 2 complete, 1 pruned, 0 failed; 3/10 trials used (stopped by budget)",
        "top 1: trial 9  val 98.70  3/3 epochs  3,000 params  0.40M FLOPs  complete"
        "  8-8|P|8-16|GAP  sgd 0.1 none b64",
    ]
    assert len([line for line in lines if re.match(r"trial \d+ (COMPLETE|PRUNED)", line)]) == 3
    assert "\x1b" not in stream.getvalue()
    assert max(len(line) for line in lines) == 130


def test_plain_console_routes_optuna_warnings_and_lets_go_afterwards():
    stream, logger = io.StringIO(), optuna.logging.get_logger("optuna")
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        with PlainConsole(stream):
            logger.warning("storage is slow")
            logger.info("not shown: below warning")
    finally:
        optuna.logging.set_verbosity(previous)
    assert stream.getvalue() == "optuna warning: storage is slow\n"
    assert not any(isinstance(handler, OptunaLogHandler) for handler in logger.handlers)


def test_a_malformed_event_becomes_a_line_not_an_exception():
    line = format_event({"type": "epoch", "trial": 3})
    assert line == "unreadable 'epoch' event (KeyError: 'epoch')"
    assert format_event({"type": "no such type"}) is None
    live = LiveConsole(Console(file=io.StringIO()), clock=lambda: 0.0)
    live.emit({"type": "progress", "trial": 3, "epoch": 1})
    assert _render(live) == [
        "starting  elapsed 0:00:00",
        "leaderboard: no finished trial yet",
        "unreadable 'progress' event (KeyError: 'epochs')",
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_unless_a_terminal_without_force_color(monkeypatch):
    assert wants_plain(False, _Terminal(), {}) is False
    assert wants_plain(True, _Terminal(), {}) is True
    assert wants_plain(False, io.StringIO(), {}) is True
    assert wants_plain(False, _Terminal(), {"FORCE_COLOR": "1"}) is True
    assert wants_plain(False, _Terminal(), {"TERM": "dumb"}) is True
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert type(make_console(stream=_Terminal())) is LiveConsole
    assert type(make_console(plain=True, stream=_Terminal())) is PlainConsole
    assert type(make_console(stream=io.StringIO())) is PlainConsole
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert type(make_console(stream=_Terminal())) is PlainConsole


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "search.leaderboard", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_prints_the_leaderboard_from_storage(storage_url):
    done = _cli("--study", "demo", "--storage", storage_url, "--top", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "demo: top 3 of 7 trials (2 complete, 3 pruned, 1 failed, 1 running)"
    assert _cells(
        "1", "1", "8-16-16|P|T8|16-32|GAP", "10,066", "2.50M", "99.10", "98.95", "3/3", "complete"
    ).fullmatch(lines[3])
    assert _cells(
        "2", "0", "8-16|P|16-32|GAP", "9,876", "1.23M", "98.50", "98.40", "2/2", "complete"
    ).fullmatch(lines[4])
    assert _cells(
        "3",
        "5",
        "12-16|P|16-24|GAP",
        "8,000",
        "1.00M",
        "97.20",
        "-",
        "2/3",
        "pruned by MedianPruner at epoch 2",
    ).fullmatch(lines[5])
    assert len(lines) == 6 and done.stderr == ""
    assert "\x1b" not in done.stdout and max(len(line) for line in lines) <= 120


def test_cli_unknown_study_or_missing_storage_is_one_line_and_exit_2(storage_url, tmp_path):
    unknown = _cli("--study", "nope", "--storage", storage_url)
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == (
        f"python -m search.leaderboard: error: no study 'nope' in"
        f" {storage_url}; studies there: demo, toy\n"
    )
    missing = tmp_path / "none" / "optuna.sqlite3"
    absent = _cli("--study", "demo", "--storage", f"sqlite:///{missing}")
    assert (absent.returncode, absent.stdout, len(absent.stderr.splitlines())) == (2, "", 1)
    assert not missing.parent.exists()


def test_the_rich_leaderboard_shows_the_recipe_when_it_is_what_tells_rows_apart():
    def rendered(rows):
        out = Console(file=io.StringIO(), width=200, color_system=None)
        out.print(leaderboard_table(rows))
        return out.file.getvalue()

    assert "recipe" not in rendered(DEMO_ROWS)  # different specs: the spec column suffices
    same_spec = [
        {**row, "summary": "8-10|P|6|CR", "recipe": recipe}
        for row, recipe in zip(
            DEMO_ROWS[:2], ["adamw 0.0037 onecycle b32 rot15", "sgd 0.1 none b64"], strict=True
        )
    ]
    text = rendered(same_spec)
    assert "recipe" in text and "adamw 0.0037 onecycle b32 rot15" in text


def test_a_rejected_proposal_is_one_row_with_its_reason(tmp_path):
    """An invalid proposal has no spec: one row saying so, its reason in the end column, not
    its twenty-odd sampled parameters folded over several lines."""
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'r.db'}", study_name="r")
    params = {f"choice_{i}": i for i in range(20)}
    trial = optuna.trial.create_trial(
        params=params,
        distributions={k: optuna.distributions.IntDistribution(0, 30) for k in params},
        state=optuna.trial.TrialState.PRUNED,
        user_attrs={"end_kind": "invalid", "end_reason": "pruned: invalid spec: " + "x" * 150},
    )
    study.add_trial(trial)
    rows = leaderboard_rows(study)
    assert rows[0]["summary"] == "(invalid proposal)"
    out = Console(file=io.StringIO(), width=120, color_system=None)
    out.print(leaderboard_table(rows))
    body = [line for line in out.file.getvalue().splitlines() if line.strip()][2:]
    assert len(body) == 1 and "(invalid proposal)" in body[0] and "pruned: invalid" in body[0]


def test_an_interrupted_trial_is_interrupted_not_a_failure_dump(tmp_path):
    stream, logger = io.StringIO(), optuna.logging.get_logger("optuna")
    with PlainConsole(stream):
        logger.warning(
            "Trial 0 failed with parameters: {'a': 1, 'b': 2} because of the following error:"
            " KeyboardInterrupt()."
        )
        logger.warning("Trial 0 failed with value None.")
        logger.warning("Trial 1 failed with parameters: {'a': 1} because of ValueError('x').")
    assert stream.getvalue() == (
        "optuna warning: Trial 1 failed with parameters: {'a': 1} because of ValueError('x').\n"
    )
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'i.db'}", study_name="i")
    for kind in ("interrupted", "failed", "interrupted"):
        study.add_trial(
            optuna.trial.create_trial(state=TrialState.FAIL, user_attrs={"end_kind": kind})
        )
    found = counts(study)
    assert (found["FAIL"], found["INTERRUPTED"]) == (1, 2)
    assert format_event(
        {"type": "done", "study": "i", "counts": found, "budget": 3, "stopped_by": "interruption"}
    ) == (
        "done i: 0 complete, 0 pruned, 1 failed, 2 interrupted; 0/3 trials used"
        " (stopped by interruption)"
    )
