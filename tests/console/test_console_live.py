"""The live view: a scripted run rendered into a recording console 120 characters wide."""

from __future__ import annotations

import io
import re

from rich.console import Console

from search.console.events import (
    PlainConsole,
)
from search.console.live import LiveConsole
from search.reports.leaderboard import leaderboard_rows
from tests.console_data import (
    COUNTS,
    DONE_9,
    EPOCH_8,
    OVER,
    STUDY,
    cells,
    load,
    progress,
    render,
    trial_start,
)


def test_live_view_shows_study_line_progress_rows_leaderboard_and_recent_lines(storage_url):
    now = [100.0]
    live = LiveConsole(Console(file=io.StringIO()), clock=lambda: now[0])
    rows = leaderboard_rows(load(storage_url, "demo"))
    for event in [
        STUDY,
        trial_start(6, "8-16-16|P|T8|16-32|GAP", 10066, 2_500_000),
        trial_start(7, "16-32-32|P|32-64|GAP", 23456, 9_000_000, ["params 23,456 >= 20,000"]),
        OVER,
        trial_start(8, "8-16|P|16-32|GAP", 9876, 1_234_567),
        progress(6, 2, 100, 5432.1),
        EPOCH_8,
        progress(8, 2, 50, 3999.6),
        DONE_9,
        {"type": "leaderboard", "study": "demo", "rows": rows},
        {"type": "log", "message": "optuna warning: trial 9 was slow"},
        {"type": "mystery"},
    ]:
        live.emit(event)
    now[0] = 100.0 + 3723  # 1:02:03 later
    lines = render(live)
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
    assert cells(
        "1", "1", "8-16-16|P|T8|16-32|GAP", "10,066", "2.50M", "99.10", "98.95", "3/3", "complete"
    ).search(text)
    assert cells(
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
    assert cells(
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
    assert render(live) == [
        "demo  4/10 trials: 3 complete, 1 pruned, 1 failed, 0 running  elapsed 0:01:01"
        "  done (stopped by timeout)  cpu",
        "leaderboard: no finished trial yet",
        "trial 9 COMPLETE  val 98.70  epochs 3  240.0s  complete  8-8|P|8-16|GAP  3,000 params",
    ]
    live.emit({**STUDY, "study": "demo.confirm", "budget": 6, "counts": COUNTS})
    assert render(live)[0] == (
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
        trial_start(7, "16-32-32|P|32-64|GAP", 23456, 9_000_000, ["params 23,456 >= 20,000"]),
        OVER,
        trial_start(8, "8-16|P|16-32|GAP", 9876, 1_234_567),
        DONE_9,
    ]:
        live.emit(event)
    now[0] = 60.0
    # 3 earlier + trial 9 = 4 of 10 used, trial 7 free; 6 left x 240 s / 1 running = 24 min
    assert render(live)[0] == (
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
