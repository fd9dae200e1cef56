"""Command lines for `python -m search.run` shared by the subprocess tests."""

from __future__ import annotations


def baseline_args(
    url: str, data_root, seeds: tuple[int, ...], epochs: int, train_limit: int, workers: int
) -> list[str]:
    """The baseline repeat study on the first `train_limit` images, plain output."""
    return [
        "--study", "baseline", "--storage", url, "--data-root", str(data_root),
        "--seeds", *map(str, seeds), "--epochs", str(epochs), "--train-limit", str(train_limit),
        "--workers", str(workers), "--plain",
    ]  # fmt: skip
