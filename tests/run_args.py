"""Command lines for `python -m search.run`, run options and trial filters shared by the tests."""

from __future__ import annotations

from pathlib import Path

from optuna.trial import FrozenTrial, TrialState

from search.study import RunOptions


def tiny_options(tmp_path: Path, data_root: Path, **changes) -> RunOptions:
    """One epoch on the first 256 training images (200 for validation), on CPU, in tmp_path."""
    values = dict(
        storage=f"sqlite:///{tmp_path / 'runs.db'}",
        data_root=str(data_root),
        device="cpu",
        epochs=1,
        train_limit=256,
        val_size=200,
    )
    return RunOptions(**{**values, **changes})


def baseline_args(
    url: str, data_root, seeds: tuple[int, ...], epochs: int, train_limit: int, workers: int
) -> list[str]:
    """The baseline repeat study on the first `train_limit` images, plain output."""
    return [
        "--study", "baseline", "--storage", url, "--data-root", str(data_root),
        "--seeds", *map(str, seeds), "--epochs", str(epochs), "--train-limit", str(train_limit),
        "--workers", str(workers), "--plain",
    ]  # fmt: skip


def trained(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """Finished trials that used a search's budget: not those rejected before training."""
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    return [t for t in finished if t.user_attrs.get("end_kind") not in ("limit", "invalid")]
