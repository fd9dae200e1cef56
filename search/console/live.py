"""The live view: what a terminal shows during `python -m search.run`, redrawn 4 times a second.

From top to bottom: the study line (trials of the budget; complete, pruned, rejected before
training, failed, running; elapsed, estimated remaining), one progress row per running trial
(epoch i/N, a bar over all its batches, batch b/B, the last validation accuracy, images/s), the
leaderboard table from the latest leaderboard event (the same table `python -m
search.leaderboard` prints) and the recent log lines (Optuna's warnings, finished trials,
over-budget trials with their rule). A trial over budget gets no progress row: it is pruned
before training and costs no time. Events are keyed by "trial", so several workers' interleaved
events land on their own rows.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from search.console.events import (
    OptunaLogHandler,
    budget_text,
    fmt_duration,
    fmt_pct,
    format_event,
    leaderboard_table,
    unreadable,
)
from search.store.budget import INTERRUPTED, REJECTED, failed_text, rejected, state_name, used

LIVE_TOP = 10  # leaderboard rows in the live view
RECENT_LINES = 6  # log lines kept under the live view
REFRESH_PER_SECOND = 4


@dataclass(frozen=True)
class RunningTrial:
    """One progress row of the live view: where a running trial is."""

    trial: int
    summary: str = "-"
    epochs: int = 0
    epoch: int = 0  # the epoch in progress, 1-based; 0 before the first progress event
    batch: int = 0  # batches done in that epoch
    batches: int = 0  # batches per epoch; 0 until known
    val_acc: float | None = None  # after the last finished epoch
    images_per_second: float | None = None

    def row(self) -> list:
        total = self.epochs * self.batches
        done = max(self.epoch - 1, 0) * self.batches + self.batch
        ips = "-" if self.images_per_second is None else f"{self.images_per_second:,.0f}"
        return [
            f"trial {self.trial}",
            self.summary,
            f"epoch {self.epoch}/{self.epochs}",
            ProgressBar(total=total or 1, completed=done if total else 0, width=24),
            f"batch {self.batch}/{self.batches or '-'}",
            f"val {fmt_pct(self.val_acc)}",
            f"{ips} img/s",
        ]


class LiveConsole:
    """The live view for a terminal; `view()` is what it draws (tests render it themselves)."""

    def __init__(
        self, console: Console | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self.console = console or Console()
        self._clock = clock
        self._started = clock()
        self._lock = threading.RLock()  # emit (runner thread) vs view (rich's refresh thread)
        self._study: dict = {}
        self._finished = {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0, REJECTED: 0, INTERRUPTED: 0}
        self._trained_seconds: list[float] = []  # finished trials that trained at least an epoch
        self._running: dict[int, RunningTrial] = {}
        self._rows: list[dict] = []
        self._recent: deque[str] = deque(maxlen=RECENT_LINES)
        self._done: tuple[str, float] | None = None  # (stopped by, clock at done)
        self._handler = OptunaLogHandler(self.emit)
        self._live = Live(
            console=self.console,
            get_renderable=self.view,
            transient=False,
            refresh_per_second=REFRESH_PER_SECOND,
        )
        self._handlers: dict[str, Callable[[dict], None]] = {
            "study": self._on_study,
            "trial_start": self._on_start,
            "progress": self._on_progress,
            "epoch": self._on_epoch,
            "trial_end": self._on_end,
            "leaderboard": self._on_rows,
            "log": self._on_log,
            "done": self._on_done,
        }

    def __enter__(self) -> LiveConsole:
        self._handler.attach()
        self._live.start()
        return self

    def __exit__(self, *exc) -> bool:
        self._live.stop()  # draws the last frame, which stays on screen
        self._handler.detach()
        return False

    def emit(self, event: dict) -> None:
        handler = self._handlers.get(event.get("type"))
        if handler is None:
            return
        with self._lock:
            try:
                handler(event)
            except (KeyError, TypeError, ValueError) as error:
                self._recent.append(unreadable(event, error))
        if event["type"] in ("trial_end", "leaderboard", "done") and self._live.is_started:
            self._live.refresh()  # outside our lock: rich's refresh thread takes both

    def _on_study(self, event: dict) -> None:
        if event["study"] != self._study.get("study"):  # e.g. the confirmation companion next
            self._trained_seconds.clear()
            self._rows = []
        self._study, self._done = event, None
        self._finished = dict.fromkeys(self._finished, 0)

    def _on_start(self, event: dict) -> None:
        if event["over_budget"]:  # pruned at once: its trial_end line names the rule
            return
        self._running[event["trial"]] = RunningTrial(
            event["trial"], event["summary"] or "-", event["epochs"]
        )

    def _on_progress(self, event: dict) -> None:
        running = self._running.get(event["trial"]) or RunningTrial(event["trial"])
        self._running[event["trial"]] = replace(
            running,
            epochs=event["epochs"],
            epoch=event["epoch"],
            batch=event["batch"],
            batches=event["batches"],
            images_per_second=event["images_per_second"],
        )

    def _on_epoch(self, event: dict) -> None:
        running = self._running.get(event["trial"]) or RunningTrial(event["trial"])
        self._running[event["trial"]] = replace(
            running,
            epochs=event["epochs"],
            epoch=event["epoch"],
            batch=running.batches,
            val_acc=event["val_acc"],
            images_per_second=event["images_per_second"],
        )

    def _on_end(self, event: dict) -> None:
        self._running.pop(event["trial"], None)
        counted = state_name(event["state"], event["end_kind"])
        if counted in self._finished:  # since the "study" event
            self._finished[counted] += 1
        self._finished[REJECTED] += rejected(event["state"], event["end_kind"])
        if event["epochs_run"] and event["state"] != "FAIL":
            self._trained_seconds.append(event["seconds"])
        self._recent.append(format_event(event))

    def _on_rows(self, event: dict) -> None:
        self._rows = list(event["rows"])[:LIVE_TOP]

    def _on_log(self, event: dict) -> None:
        self._recent.extend(str(event["message"]).splitlines())

    def _on_done(self, event: dict) -> None:
        self._study = {**self._study, **event}
        self._finished = dict.fromkeys(self._finished, 0)
        self._running.clear()  # rows of trials that never reported an end (a worker died)
        self._done = (event["stopped_by"], self._clock())

    def counts(self) -> dict[str, int]:
        base = self._study.get("counts", {})
        return {state: base.get(state, 0) + n for state, n in self._finished.items()}

    def remaining_seconds(self) -> float | None:
        """Trials left x mean seconds per trained trial / trials running at once (at least 1)."""
        if not self._trained_seconds or "budget" not in self._study:
            return None
        spent = used(self.counts(), bool(self._study.get("rejections_free")))
        left = max(self._study["budget"] - spent, 0)
        mean = sum(self._trained_seconds) / len(self._trained_seconds)
        return left * mean / max(len(self._running), 1)

    def view(self) -> Group:
        with self._lock:
            parts: list = [self._study_line()]
            if self._running:
                grid = Table.grid(padding=(0, 2))
                for column in range(7):  # the spec summary (column 1) is cut, not wrapped
                    grid.add_column(no_wrap=True, max_width=30 if column == 1 else None)
                for trial in sorted(self._running):
                    grid.add_row(*self._running[trial].row())
                parts.append(grid)
            title = f"leaderboard (top {len(self._rows)})" if self._rows else None
            parts.append(
                leaderboard_table(self._rows, title)
                if self._rows
                else Text("leaderboard: no finished trial yet", style="dim")
            )
            if self._recent:
                parts.append(Text("\n".join(self._recent), style="dim"))
            return Group(*parts)

    def _study_line(self) -> Text:
        if not self._study:
            return Text(f"starting  elapsed {fmt_duration(self._clock() - self._started)}")
        counts, study = self.counts(), self._study
        now = self._done[1] if self._done else self._clock()
        remaining = self.remaining_seconds()
        tail = "remaining -" if remaining is None else f"remaining ~{fmt_duration(remaining)}"
        if self._done:
            tail = f"done (stopped by {self._done[0]})"
        rejected = f" {counts[REJECTED]} rejected," if counts[REJECTED] else ""  # untrained
        return Text(
            f"{study['study']}  {budget_text(counts, study)}: {counts['COMPLETE']} complete,"
            f" {counts['PRUNED'] - counts[REJECTED]} pruned,{rejected} {failed_text(counts)},"
            f" {len(self._running)} running  elapsed {fmt_duration(now - self._started)}  {tail}"
            f"  {study.get('device', '-')}",
            style="bold",
        )
