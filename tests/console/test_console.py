"""The plain console: one line per event, Optuna's warnings routed, plain unless a terminal."""

from __future__ import annotations

import io
import re

import optuna
from optuna.trial import TrialState
from rich.console import Console

from search.console.choose import make_console
from search.console.events import (
    OptunaLogHandler,
    PlainConsole,
    format_event,
    wants_plain,
)
from search.console.live import LiveConsole
from search.runner.progress import counts
from tests.console_data import (
    COUNTS,
    DONE_9,
    OVER,
    STUDY,
    progress,
    render,
    row,
    trial_end,
    trial_start,
)


def test_plain_console_prints_one_line_per_finished_trial_and_no_escapes():
    stream = io.StringIO()
    rows = [
        row(1, 9, "8-8|P|8-16|GAP", 3000, 400_000, 98.7, 98.5, 3, 3, "COMPLETE", "complete", 98.7)
    ]
    pruned_5 = trial_end(
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
            trial_start(7, "16-32-32|P|32-64|GAP", 23456, 9_000_000, ["params 23,456 >= 20,000"]),
            OVER,
            trial_start(5, "12-16|P|16-24|GAP", 8000, 1_000_000),
            progress(5, 1, 25, 3000.0),
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
    assert render(live) == [
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
