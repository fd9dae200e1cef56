"""The console: the only place (with search.report) that prints. Events in, lines or views out.

The runner emits plain dict events (study, trial_start, progress, epoch, trial_end, log, done).
Not a terminal (CI logs, pipes) or --plain: one line per event, no escape sequences, width fixed.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import optuna


def make_console(plain: bool = False, stream: TextIO | None = None) -> PlainConsole:
    return PlainConsole(stream or sys.stdout)


def fmt_flops(flops: float | None) -> str:
    return "-" if flops is None else f"{flops / 1e6:.2f}M"


def fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class OptunaLogHandler(logging.Handler):
    """Optuna's own log lines (warnings and up) as console events, not stray stderr text."""

    def __init__(self, emit):
        super().__init__(logging.WARNING)
        self._emit = emit

    def emit(self, record: logging.LogRecord) -> None:
        self._emit({"type": "log", "message": f"optuna {record.levelname.lower()}: {record.getMessage()}"})


class PlainConsole:
    """Line-per-event output for logs and pipes."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self._handler = OptunaLogHandler(self.emit)

    def __enter__(self) -> PlainConsole:
        optuna.logging.disable_default_handler()
        optuna.logging.get_logger("optuna").addHandler(self._handler)
        return self

    def __exit__(self, *exc) -> bool:
        optuna.logging.get_logger("optuna").removeHandler(self._handler)
        optuna.logging.enable_default_handler()
        self.stream.flush()
        return False

    def emit(self, event: dict) -> None:
        line = format_event(event)
        if line is not None:
            print(line, file=self.stream, flush=True)


def format_event(event: dict) -> str | None:
    kind = event.get("type")
    if kind == "study":
        c = event["counts"]
        return (f"study {event['study']}: {c['COMPLETE'] + c['PRUNED']}/{event['budget']} trials"
                f" finished, {c['FAIL']} failed; storage {event['storage']}; device {event['device']}")
    if kind == "trial_start":
        over = f"  over budget: {'; '.join(event['over_budget'])}" if event["over_budget"] else ""
        return (f"trial {event['trial']} start  {event['summary']}  {event['params']:,} params"
                f"  {fmt_flops(event['flops'])} FLOPs  {event['epochs']} epochs{over}")
    if kind == "epoch":
        return (f"trial {event['trial']} epoch {event['epoch']}/{event['epochs']}"
                f"  val {fmt_pct(event['val_acc'])}  test {fmt_pct(event['test_acc'])}"
                f"  loss {event['train_loss']:.4f}  {event['epoch_seconds']:.1f}s"
                f"  {event['images_per_second']:,.0f} img/s")
    if kind == "trial_end":
        value = "" if event["value"] is None else f"  value {event['value']:.2f}"
        return (f"trial {event['trial']} {event['state']}{value}  {event['end_reason']}"
                f"  ({event['seconds']:.1f}s)")
    if kind == "done":
        c = event["counts"]
        return (f"done {event['study']}: {c['COMPLETE']} complete, {c['PRUNED']} pruned,"
                f" {c['FAIL']} failed of budget {event['budget']} (stopped by {event['stopped_by']})")
    if kind == "log":
        return event["message"]
    return None
