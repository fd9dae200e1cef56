"""The report figures: seaborn/matplotlib on the Agg backend, one PNG per function, then closed.

Each function takes plain data (lists, dicts, frames from search.report_data), writes one file and
returns its path. Nothing here reads the storage or decides what a number means.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.ticker import MaxNLocator

DPI = 120
PARAMS_LIMIT = 20_000  # the task's hard limit, drawn as a line


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, same output on every machine
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    _pyplot().close(figure)
    return path


def plot_accuracy_vs_params(
    points: pd.DataFrame,
    front: list[tuple[int, float]],
    baseline: tuple[int, float] | None,
    path: Path,
    title: str,
) -> Path:
    """points: columns params, best_val_acc, outcome (one row per trained trial)."""
    import seaborn as sns

    plt = _pyplot()
    with sns.axes_style("whitegrid"):
        figure, axes = plt.subplots(figsize=(8, 5))
        if points.empty:
            axes.text(0.5, 0.5, "no trained trials yet", ha="center", transform=axes.transAxes)
        else:
            sns.scatterplot(
                data=points, x="params", y="best_val_acc", hue="outcome", ax=axes, alpha=0.8
            )
        if front:
            xs, ys = zip(*front, strict=True)
            axes.step(xs, ys, where="post", color="black", linewidth=1.2, label="Pareto front")
            axes.scatter(xs, ys, s=80, facecolors="none", edgecolors="black")
        if baseline is not None:
            axes.scatter(
                *baseline,
                marker="*",
                s=260,
                color="gold",
                edgecolors="black",
                label="baseline",
                zorder=5,
            )
        axes.axvline(PARAMS_LIMIT, color="red", linestyle="--", label="20,000 params (limit)")
        axes.set_xscale("log")
        axes.set(xlabel="parameters (log scale)", ylabel="best validation accuracy (%)")
        floor = _zoom_floor(points, front)
        if floor is not None:  # the interesting region is near the top: a few dead trials at
            below = int((points["best_val_acc"] < floor).sum())  # 10% would squash it flat
            axes.set_ylim(floor, 100.0)
            title += f"\n({below} trials below {floor:g}% not shown)"
        axes.set_title(title)
        axes.legend(loc="lower right", fontsize="small")
        return _save(figure, path)


ZOOM_FLOOR = 95.0  # %: points below it are counted in the title, not drawn


def _zoom_floor(points: pd.DataFrame, front: list[tuple[int, float]]) -> float | None:
    """ZOOM_FLOOR when some points fall below it but the Pareto front's best is above it."""
    if points.empty or not (points["best_val_acc"] < ZOOM_FLOOR).any():
        return None
    best = max((acc for _, acc in front), default=points["best_val_acc"].max())
    return ZOOM_FLOOR if best > ZOOM_FLOOR + 1 else None


def plot_curves(
    curves: dict[str, list[float]],
    path: Path,
    title: str,
    ylabel: str,
    target: float | None = None,
    dashed: str | None = None,
) -> Path:
    """One line per named curve over epochs 1..n; names containing `dashed` are drawn dashed."""
    import seaborn as sns

    plt = _pyplot()
    with sns.axes_style("whitegrid"):
        figure, axes = plt.subplots(figsize=(8, 5))
        for label, curve in curves.items():
            style = "--" if dashed and dashed in label else "-"
            axes.plot(
                range(1, len(curve) + 1), curve, style, marker="o", markersize=3, label=label
            )
        if target is not None:
            axes.axhline(target, color="red", linestyle=":", label=f"{target:.2f}%")
        if not curves:
            axes.text(0.5, 0.5, "no trained trials yet", ha="center", transform=axes.transAxes)
        axes.set(xlabel="epoch", ylabel=ylabel)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(title)
        if curves:
            axes.legend(loc="lower right", fontsize="small")
        return _save(figure, path)


def plot_outcomes(counts: dict[str, int], path: Path, title: str) -> Path:
    """A bar per end kind (labels as given, in order), its count written on the bar."""
    import seaborn as sns

    plt = _pyplot()
    with sns.axes_style("whitegrid"):
        figure, axes = plt.subplots(figsize=(8, 4))
        frame = pd.DataFrame({"outcome": list(counts), "trials": list(counts.values())})
        sns.barplot(data=frame, x="outcome", y="trials", color="C0", ax=axes)
        for index, count in enumerate(counts.values()):
            axes.text(index, count, str(count), ha="center", va="bottom")
        axes.set(xlabel="", ylabel="trials")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(title)
        return _save(figure, path)


def plot_ablation(runs: pd.DataFrame, base_mean: float | None, path: Path, title: str) -> Path:
    """runs: columns variant, test_acc (one row per trained seed); mean ± std per variant."""
    import seaborn as sns

    plt = _pyplot()
    with sns.axes_style("whitegrid"):
        figure, axes = plt.subplots(figsize=(8, 0.5 * runs["variant"].nunique() + 2))
        if runs.empty:
            axes.text(0.5, 0.5, "no trained variant yet", ha="center", transform=axes.transAxes)
        else:
            sns.pointplot(
                data=runs,
                x="test_acc",
                y="variant",
                errorbar="sd",
                linestyle="none",
                capsize=0.3,
                ax=axes,
            )
            sns.stripplot(data=runs, x="test_acc", y="variant", color="gray", alpha=0.6, ax=axes)
        if base_mean is not None:
            axes.axvline(base_mean, color="red", linestyle="--", label="base mean")
            axes.legend(loc="lower left", fontsize="small")
        axes.set(xlabel="final test accuracy (%), mean ± std over seeds", ylabel="")
        axes.set_title(title)
        return _save(figure, path)
