"""The console: the only place (with search.report) that prints. Events in, lines or views out.

The runner emits plain dict events keyed by "trial" (study, trial_start, progress, epoch,
trial_end, leaderboard, log, done); unknown types are ignored, and a malformed event becomes a
line saying so instead of an exception in the middle of a run.

`make_console` picks plain or live. Plain when asked (--plain), when the stream is not a terminal
(CI logs, pipes), when FORCE_COLOR is set (CI runners set it, and rich would then animate) or when
TERM is dumb; otherwise the live view of search.console.live. Plain prints one line per event,
whole (never cut), no escape sequences: progress events print nothing and each finished trial
prints exactly one line. Leaderboard events print nothing in plain mode (they repeat after every
trial); the line for "done" is followed by the top DONE_TOP rows of the latest one. The leaderboard
table drawn by the live view and by `python -m search.leaderboard` is here too.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TextIO

import optuna
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from search.events import Log
from search.store.budget import REJECTED, failed_text, used

if TYPE_CHECKING:
    pass

WIDTH = 120  # characters per plain leaderboard (plain lines are never cut)
DONE_TOP = 3  # leaderboard rows a plain console prints after "done"


def wants_plain(plain: bool, stream: TextIO, environ: Mapping[str, str]) -> bool:
    if plain or "FORCE_COLOR" in environ or environ.get("TERM") == "dumb":
        return True
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return True


def fmt_flops(flops: float | None) -> str:
    return "-" if flops is None else f"{flops / 1e6:.2f}M"


def fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def fmt_count(count: int | None) -> str:
    return "-" if count is None else f"{count:,}"


def fmt_duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


FAILED_WITH_NONE = re.compile(r"Trial \d+ failed with value None\.")  # follows every failure


class OptunaLogHandler(logging.Handler):
    """Optuna's own log lines (warnings and up) as console events, not stray stderr text."""

    def __init__(self, emit: Callable[[dict], None]):
        super().__init__(logging.WARNING)
        self._emit = emit

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "KeyboardInterrupt" in text or FAILED_WITH_NONE.fullmatch(text):
            return  # an interrupted trial has its own "interrupted" line; no failure dump
        self._emit(Log(f"optuna {record.levelname.lower()}: {text}").to_dict())

    def attach(self) -> None:
        optuna.logging.disable_default_handler()
        optuna.logging.get_logger("optuna").addHandler(self)

    def detach(self) -> None:
        optuna.logging.get_logger("optuna").removeHandler(self)
        optuna.logging.enable_default_handler()


class PlainConsole:
    """Line-per-event output for logs and pipes: whole lines, one write each, no escapes."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self._handler = OptunaLogHandler(self.emit)
        self._lock = threading.RLock()
        self._top: tuple[str | None, list[dict]] = (None, [])  # (study, its best rows)

    def __enter__(self) -> PlainConsole:
        self._handler.attach()
        return self

    def __exit__(self, *exc) -> bool:
        self._handler.detach()
        self.stream.flush()
        return False

    def emit(self, event: dict) -> None:
        if event.get("type") == "leaderboard":
            self._top = (event.get("study"), list(event.get("rows") or [])[:DONE_TOP])
            return
        text = format_event(event)
        if text is None:
            return
        if event.get("type") == "done" and self._top[0] == event.get("study"):
            text = "\n".join([text, *(format_row(row) for row in self._top[1])])
        lines = text.splitlines() or [""]  # whole: a cut summary line loses what matters
        with self._lock:
            self.stream.write("".join(line + "\n" for line in lines))
            self.stream.flush()


def format_event(event: dict) -> str | None:
    """The plain text for one event (None: print nothing); several lines only for log messages."""
    try:
        return _format(event)
    except (KeyError, TypeError, ValueError) as error:
        return unreadable(event, error)


def unreadable(event: dict, error: Exception) -> str:
    return f"unreadable {event.get('type')!r} event ({type(error).__name__}: {error})"


def _format(event: dict) -> str | None:
    kind = event.get("type")
    if kind == "study":
        c = event["counts"]
        return (
            f"study {event['study']}: {budget_text(c, event)} finished{rejected_text(c)},"
            f" {failed_text(c)}; storage {event['storage']}; device {event['device']}"
        )
    if kind == "trial_start":
        over = f"  over budget: {'; '.join(event['over_budget'])}" if event["over_budget"] else ""
        return (
            f"trial {event['trial']} start  {event['summary']}  {event['params']:,} params"
            f"  {fmt_flops(event['flops'])} FLOPs  {event['epochs']} epochs{over}"
        )
    if kind == "epoch":
        return (
            f"trial {event['trial']} epoch {event['epoch']}/{event['epochs']}"
            f"  val {fmt_pct(event['val_acc'])}  test {fmt_pct(event['test_acc'])}"
            f"  loss {event['train_loss']:.4f}  {event['epoch_seconds']:.1f}s"
            f"  {event['images_per_second']:,.0f} img/s"
        )
    if kind == "trial_end":
        return _format_end(event)
    if kind == "done":
        c = event["counts"]
        return (
            f"done {event['study']}: {c['COMPLETE']} complete, {c['PRUNED']} pruned"
            f"{rejected_text(c)}, {failed_text(c)}; {budget_text(c, event)} used"
            f" (stopped by {event['stopped_by']})"
        )
    if kind == "log":
        return str(event["message"])
    return None


def budget_text(counts: Mapping[str, int], event: Mapping) -> str:
    """`12/50 trials`: what used the budget (search.store.budget's rule, named by the study
    event)."""
    return f"{used(counts, bool(event.get('rejections_free')))}/{event['budget']} trials"


def rejected_text(counts: Mapping[str, int]) -> str:
    n = counts.get(REJECTED, 0)
    return f" ({n} rejected before training)" if n else ""


def _format_end(event: dict) -> str:
    """One line per finished trial; a trial that trained no epoch shows no time."""
    parts = [f"trial {event['trial']} {event['state']}"]
    best, value = event["best_val_acc"], event["value"]
    if best is not None:
        parts.append(f"val {best:.2f}")
    if value is not None and value != best:
        parts.append(f"value {value:.4g}")
    if event["epochs_run"]:
        parts.append(f"epochs {event['epochs_run']}  {event['seconds']:.1f}s")
    parts.append(event["end_reason"] or event["end_kind"] or "-")
    if event["summary"] is not None:  # FLOPs: on the trial's start line and the leaderboard
        parts.append(f"{event['summary']}  {fmt_count(event['params'])} params")
    return "  ".join(parts)


def format_row(row: dict) -> str:
    """A leaderboard row as one plain line."""
    score = f"val {fmt_pct(row['best_val_acc'])}"
    if row["best_val_acc"] is None and row["value"] is not None:
        score = f"value {row['value']:.4g}"
    return (
        f"top {row['rank']}: trial {row['trial']}  {score}  {_epochs_text(row)} epochs"
        f"  {fmt_count(row['params'])} params  {fmt_flops(row['flops'])} FLOPs"
        f"  {_end_text(row)}  {row['summary'] or '-'}"
        + (f"  {row['recipe']}" if row.get("recipe") else "")
    )


def _epochs_text(row: dict) -> str:
    return f"{row['epochs_run']}/{row['epochs']}" if row["epochs"] else str(row["epochs_run"])


def _end_text(row: dict) -> str:
    return row["end_reason"] or row["state"].lower()


def leaderboard_table(rows: list[dict], title: str | None = None) -> Table:
    """The leaderboard as a rich table: the live view and `python -m search.leaderboard` use it."""
    show_value = any(row["best_val_acc"] is None and row["value"] is not None for row in rows)
    # A recipe search (one spec, many recipes): the recipe is what tells the rows apart.
    show_recipe = (
        len({row["summary"] for row in rows}) == 1 and len({row.get("recipe") for row in rows}) > 1
    )
    table = _leaderboard_header(title, show_recipe, show_value)
    for row in rows:
        style = {"COMPLETE": None, "FAIL": "red", "RUNNING": "cyan"}.get(row["state"], "dim")
        table.add_row(*_leaderboard_cells(row, show_recipe, show_value), style=style)
    return table


def _leaderboard_header(title: str | None, show_recipe: bool, show_value: bool) -> Table:
    """The empty leaderboard table with its columns; recipe and value only when asked."""
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
        show_edge=False,
    )
    for name in ("#", "trial"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("spec", overflow="fold", min_width=14)
    if show_recipe:
        table.add_column("recipe", overflow="fold", min_width=14)
    for name in ("params", "FLOPs", "val", "test@best", "epochs") + ("value",) * show_value:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("end", min_width=12, max_width=44, no_wrap=True, overflow="ellipsis")
    return table


def _leaderboard_cells(row: dict, show_recipe: bool, show_value: bool) -> list[str]:
    """One row's cells, in the columns of _leaderboard_header."""
    value = [] if not show_value else ["-" if row["value"] is None else f"{row['value']:.4g}"]
    return [
        str(row["rank"]),
        str(row["trial"]),
        row["summary"] or "-",
        *([row.get("recipe") or "-"] if show_recipe else []),
        fmt_count(row["params"]),
        fmt_flops(row["flops"]),
        fmt_pct(row["best_val_acc"]),
        fmt_pct(row["test_at_best"]),
        _epochs_text(row),
        *value,
        _end_text(row),
    ]


def print_leaderboard(
    rows: list[dict], title: str, plain: bool = False, stream: TextIO | None = None
) -> None:
    """Print a title line and the table once; plain: no colour, no escapes, WIDTH wide."""
    stream = stream or sys.stdout
    body = leaderboard_table(rows) if rows else Text("no trials yet")
    if not wants_plain(plain, stream, os.environ):
        Console(file=stream, highlight=False).print(Text(title), body)
        return
    console = Console(
        file=io.StringIO(),
        width=WIDTH,
        color_system=None,
        force_terminal=False,
        highlight=False,
        emoji=False,
    )
    console.print(Text(title), body, crop=True)
    lines = console.file.getvalue().splitlines()
    stream.write("".join(line.rstrip() + "\n" for line in lines))
    stream.flush()
