"""A run's events, typed: every event a run emits is one of these, built by its emitter and sent
as `to_dict()` (a JSON object with its `type`), which is also what a worker writes on stdout and
the console reads. `parse` turns such an object back into its event and refuses an unknown type,
a missing field or an unknown field, so a misspelt key fails where it is written.

Imports nothing from the toolkit: the engine, the runner, the workers and the console share it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class Log(Event):
    type: ClassVar[str] = "log"
    message: str


@dataclass(frozen=True)
class StudyStarted(Event):
    """A run (or a worker) opened its study."""

    type: ClassVar[str] = "study"
    study: str
    storage: str
    budget: int
    rejections_free: bool
    counts: dict[str, int]
    device: str


@dataclass(frozen=True)
class TrialStarted(Event):
    type: ClassVar[str] = "trial_start"
    trial: int
    summary: str
    params: int
    flops: int | None
    epochs: int
    over_budget: list[str]  # the limits' reasons, when the trial is pruned before training


@dataclass(frozen=True)
class Progress(Event):
    """Within an epoch, every few batches."""

    type: ClassVar[str] = "progress"
    trial: int
    epoch: int
    epochs: int
    batch: int
    batches: int
    images_per_second: float


@dataclass(frozen=True)
class EpochEnded(Event):
    """One epoch's numbers (search.engine.train.EpochRecord's fields, percentages)."""

    type: ClassVar[str] = "epoch"
    trial: int
    epochs: int
    epoch: int
    train_loss: float
    train_acc: float
    val_acc: float | None
    test_acc: float
    epoch_seconds: float
    images_per_second: float
    lr: float


@dataclass(frozen=True)
class TrialEnded(Event):
    type: ClassVar[str] = "trial_end"
    trial: int
    state: str  # COMPLETE | PRUNED
    value: float | None
    end_kind: str | None
    end_reason: str | None
    summary: str | None
    params: int | None
    flops: int | None
    epochs_run: int
    best_val_acc: float | None
    seconds: float


@dataclass(frozen=True)
class Leaderboard(Event):
    type: ClassVar[str] = "leaderboard"
    study: str
    rows: list[dict]


@dataclass(frozen=True)
class Done(Event):
    """How the run ended (search.runner.progress.end_event)."""

    type: ClassVar[str] = "done"
    study: str
    counts: dict[str, int]
    budget: int
    rejections_free: bool
    stopped_by: str  # budget | timeout | failures | rejections | interruption or timeout


EVENTS: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        Log,
        StudyStarted,
        TrialStarted,
        Progress,
        EpochEnded,
        TrialEnded,
        Leaderboard,
        Done,
    )
}
RELAYED = ("worker",)  # added by the pool when it relays a worker's event


def parse(data: dict[str, Any]) -> Event:
    """The event an object holds; ValueError naming what is wrong with it."""
    kind = data.get("type")
    cls = EVENTS.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    given = {k: v for k, v in data.items() if k != "type" and k not in RELAYED}
    if set(given) != names:
        missing, unknown = sorted(names - set(given)), sorted(set(given) - names)
        raise ValueError(f"{kind} event: missing {missing}, unknown {unknown}")
    return cls(**given)
