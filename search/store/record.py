"""The stored trial, typed: what a trial keeps in its user attributes, written by the engine
through `write` and read everywhere else as a `TrialRecord`, so no module spells a raw key.

The stored keys are the ones every storage already holds (`params`, `val_acc`, `end_kind`, ...),
so old storages read the same; the fields carry their units (`n_params`, `flops_per_image`,
`val_acc_pct`). Accuracies are percentages, one entry per epoch trained; `val_acc_pct` holds None
for an epoch of a run without a validation split.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState


class End(StrEnum):
    """How a trial ended, as the objective stores it (`end_kind`)."""

    COMPLETE = "complete"
    LIMIT = "limit"  # over a limit: pruned before training
    INVALID = "invalid"  # the proposal does not build: pruned before training
    PRUNER = "pruner"  # stopped by the pruner
    DIVERGED = "diverged"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM; the same command resumes it
    RUNNING = "running"  # no end stored yet: still running, or its worker died
    PRUNED = "pruned"  # pruned with no end stored (a toy trial, an old storage)
    WAITING = "waiting"  # enqueued, not started


REJECTED_ENDS = (End.LIMIT, End.INVALID)  # pruned before a single training step

# field -> stored key, where they differ (units in the field, the old name in the storage)
_STORED = {
    "n_params": "params",
    "flops_per_image": "flops",
    "conv_flops_per_image": "conv_flops",
    "val_acc_pct": "val_acc",
    "test_acc_pct": "test_acc",
    "test_at_best_pct": "test_at_best",
    "end": "end_kind",
}
_PER_EPOCH = ("val_acc_pct", "test_acc_pct", "train_loss", "epoch_seconds")


@dataclass(frozen=True)
class TrialRecord:
    number: int
    state: TrialState
    sampled: dict[str, Any]  # the trial's parameters (Optuna's params)
    end: End
    end_reason: str | None = None
    seed: int | None = None  # the training seed
    spec: dict | None = None  # ArchSpec.to_dict(); None when the proposal did not build
    summary: str | None = None
    recipe: dict | None = None  # Recipe.to_dict(), as trained (seed and epochs included)
    n_params: int | None = None
    flops_per_image: int | None = None
    conv_flops_per_image: int | None = None
    limits: tuple[dict, ...] = ()  # each rule's verdict
    device: str | None = None
    torch_version: str | None = None
    threads: int | None = None
    train_images: int | None = None
    val_images: int | None = None
    test_images: int | None = None  # None: stored before it was recorded (all 10,000)
    train_steps: int | None = None
    val_acc_pct: tuple[float | None, ...] = ()
    test_acc_pct: tuple[float, ...] = ()
    train_loss: tuple[float, ...] = ()
    epoch_seconds: tuple[float, ...] = ()
    best_epoch: int | None = None  # 1-based, first on ties
    test_at_best_pct: float | None = None
    weights_path: str | None = None
    weights_sha256: str | None = None
    claimed_by: str | None = None  # host:pid of the worker that took it from the queue
    enqueued: bool = False  # a warm start, seed or variant (not a retry's requeue)
    retry_of: int | None = None
    imported_from: dict | None = None  # restored from a report: its file, storage, study, trial

    @classmethod
    def of(cls, trial: FrozenTrial | optuna.trial.Trial) -> TrialRecord:
        """The record of a stored trial, or of a running one (state RUNNING)."""
        attrs = trial.user_attrs
        values: dict[str, Any] = {}
        for f in fields(cls)[4:]:  # after number, state, sampled and end
            key = _STORED.get(f.name, f.name)
            if key in attrs and attrs[key] is not None:
                value = attrs[key]
                values[f.name] = tuple(value) if isinstance(value, list) else value
        return cls(
            number=trial.number,
            state=getattr(trial, "state", TrialState.RUNNING),
            sampled=dict(trial.params),
            end=end_of(trial),
            **values,
        )

    @property
    def trained(self) -> bool:
        """Built and measured: the spec, recipe and counts are stored."""
        return self.spec is not None

    @property
    def epochs_run(self) -> int:
        return len(self.test_acc_pct)

    @property
    def epochs(self) -> int | None:
        """The epochs the recipe asked for (the trial may have stopped before)."""
        return None if self.recipe is None else self.recipe["epochs"]

    @property
    def final_test_acc_pct(self) -> float | None:
        return self.test_acc_pct[-1] if self.test_acc_pct else None

    @property
    def best_val_acc_pct(self) -> float | None:
        return max((v for v in self.val_acc_pct if v is not None), default=None)

    @property
    def finished(self) -> bool:
        """Trained to its last epoch (COMPLETE with a test curve): a repeat or ablation run."""
        return self.state == TrialState.COMPLETE and bool(self.test_acc_pct)


def enqueued_of(trial: FrozenTrial | optuna.trial.Trial) -> bool:
    """Whether the study enqueued the trial (a warm start, seed or variant; a retry keeps its
    original's), without reading the rest of its record (asked at every pruning step)."""
    return bool(trial.user_attrs.get(_STORED.get("enqueued", "enqueued")))


def end_of(trial: FrozenTrial | optuna.trial.Trial) -> End:
    """How a trial ended, without reading the rest of its record (counted on every poll)."""
    stored = trial.user_attrs.get("end_kind")
    if stored:
        return End(stored)
    return {
        TrialState.COMPLETE: End.COMPLETE,  # a toy trial stores no end
        TrialState.PRUNED: End.PRUNED,
        TrialState.FAIL: End.FAILED,
        TrialState.WAITING: End.WAITING,
    }.get(getattr(trial, "state", TrialState.RUNNING), End.RUNNING)


def records(trials: list[FrozenTrial]) -> list[TrialRecord]:
    return [TrialRecord.of(t) for t in trials]


def write(trial: optuna.trial.Trial, **values: Any) -> None:
    """Store fields of the record on a running trial (per-epoch fields as lists)."""
    names = {f.name for f in fields(TrialRecord)[3:]}  # end and after
    for name, value in values.items():
        if name not in names:
            raise TypeError(f"TrialRecord has no stored field {name!r}")
        if isinstance(value, End):
            value = value.value
        elif name in _PER_EPOCH or isinstance(value, tuple):
            value = list(value)
        trial.set_user_attr(_STORED.get(name, name), value)


def stored_key(name: str) -> str:
    """The user-attribute key a field is stored under (for enqueuing with attributes)."""
    return _STORED.get(name, name)
