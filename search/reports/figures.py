"""The report figures: seaborn/matplotlib on the Agg backend, one PNG per function, then closed.

Each function takes plain data (lists, dicts, frames from search.reports.data), writes one file and
returns its path. Nothing here reads the storage or decides what a number means.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.ticker import MaxNLocator

DPI = 120
PARAMS_LIMIT = 20_000  # the task's hard limit, drawn as a line
# One colour per way a trial ends, the same in every report (END_KINDS' words).
OUTCOME_COLOURS = {
    "complete": "tab:blue",
    "pruned by limit": "tab:gray",
    "invalid (pruned)": "tab:brown",
    "pruned by pruner": "tab:orange",
    "diverged (pruned)": "tab:red",
    "failed": "black",
    "interrupted": "tab:purple",
    "running": "tab:cyan",
}


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
        figure, axes = plt.subplots(figsize=(9.5, 5))
        _scatter_outcomes(axes, points)
        if front:
            _draw_front(axes, front)
        if baseline is not None:
            _draw_baseline(axes, baseline)
        axes.axvline(PARAMS_LIMIT, color="red", linestyle="--", label="20,000 params (limit)")
        axes.set_xscale("log")
        axes.set(xlabel="parameters (log scale)", ylabel="best validation accuracy (%)")
        axes.set_title(_zoom_on_top(axes, points, front, title))
        # outside the axes: inside, it covered the 20,000 line at the right edge
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        return _save(figure, path)


def _scatter_outcomes(axes, points: pd.DataFrame) -> None:
    """One dot per trained trial, coloured by how it ended; a note when there is none."""
    import seaborn as sns

    if points.empty:
        axes.text(0.5, 0.5, "no trained trials yet", ha="center", transform=axes.transAxes)
        return
    palette = {o: OUTCOME_COLOURS.get(o, "tab:olive") for o in points["outcome"].unique()}
    sns.scatterplot(
        data=points, x="params", y="best_val_acc", hue="outcome", palette=palette,
        ax=axes, alpha=0.8,
    )  # fmt: skip


def _draw_front(axes, front: list[tuple[int, float]]) -> None:
    xs, ys = zip(*front, strict=True)
    axes.step(xs, ys, where="post", color="black", linewidth=1.2, label="Pareto front")
    axes.scatter(xs, ys, s=80, facecolors="none", edgecolors="black")


def _draw_baseline(axes, baseline: tuple[int, float]) -> None:
    axes.scatter(
        *baseline,
        marker="*",
        s=260,
        color="gold",
        edgecolors="black",
        label="baseline",
        zorder=5,
    )


def _zoom_on_top(axes, points: pd.DataFrame, front: list[tuple[int, float]], title: str) -> str:
    """Cut the y axis at the zoom floor when there is one; the title, saying what was cut."""
    floor = _zoom_floor(points, front)
    if floor is None:
        return title
    # the interesting region is near the top: a few dead trials at 10% would squash it flat
    below = int((points["best_val_acc"] < floor).sum())
    axes.set_ylim(floor, 100.0)
    return title + f"\n({below} trials below {floor:g}% not shown)"


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
        colours = [OUTCOME_COLOURS.get(outcome, "tab:olive") for outcome in counts]
        sns.barplot(
            data=frame,
            x="outcome",
            y="trials",
            hue="outcome",
            palette=colours,
            saturation=1,  # the palette's own colours, as in the other figures
            legend=False,
            ax=axes,
        )
        axes.tick_params(axis="x", labelrotation=30)
        for label in axes.get_xticklabels():
            label.set_horizontalalignment("right")
        for index, count in enumerate(counts.values()):
            axes.text(index, count, str(count), ha="center", va="bottom")
        axes.set(xlabel="", ylabel="trials")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(title)
        return _save(figure, path)


def plot_forest(
    rows: list[tuple[str, float, float, float]], path: Path, title: str
) -> tuple[Path, list[dict]]:
    """rows: (variant, delta, low, high) in accuracy points; drawn sorted by delta, with a zero
    line, the axis spanning the intervals only. Returns the path and the points as drawn, read
    back from the figure (variant, delta, low, high), for the report and its tests."""
    import seaborn as sns

    plt = _pyplot()
    ordered = sorted(rows, key=lambda row: row[1])
    with sns.axes_style("whitegrid"):
        figure, axes = plt.subplots(figsize=(8, 0.5 * len(ordered) + 2))
        drawn: list[dict] = []
        if not ordered:
            axes.text(0.5, 0.5, "no paired variant yet", ha="center", transform=axes.transAxes)
        else:
            names = [row[0] for row in ordered]
            deltas = [row[1] for row in ordered]
            errors = [[d - row[2] for d, row in zip(deltas, ordered, strict=True)],
                      [row[3] - d for d, row in zip(deltas, ordered, strict=True)]]  # fmt: skip
            bars = axes.errorbar(deltas, range(len(ordered)), xerr=errors, fmt="o", capsize=4)
            axes.set_yticks(range(len(ordered)), names)
            axes.axvline(0.0, color="red", linestyle="--", linewidth=1)
            lows = [row[2] for row in ordered] + [0.0]
            highs = [row[3] for row in ordered] + [0.0]
            margin = 0.1 * (max(highs) - min(lows) or 1.0)
            axes.set_xlim(min(lows) - margin, max(highs) + margin)
            drawn = _forest_points(bars, names)
        axes.set(xlabel="paired delta vs base (accuracy points), 95% t interval", ylabel="")
        axes.set_title(title)
        return _save(figure, path), drawn


def _forest_points(bars, names: list[str]) -> list[dict]:
    """The drawn markers and error bar ends, read from the artists."""
    xs = list(bars.lines[0].get_xdata())
    segments = bars.lines[2][0].get_segments()
    return [
        {"variant": name, "delta": float(x), "low": float(seg[0][0]), "high": float(seg[1][0])}
        for name, x, seg in zip(names, xs, segments, strict=True)
    ]


def plot_paired_curves(base: dict | None, panels: dict[str, dict], path: Path, title: str) -> Path:
    """Small multiples: per variant, its test accuracy per epoch (mean, ± std band over seeds)
    against the base's. Curves are {"mean": [...], "std": [...]} by epoch."""
    import seaborn as sns

    plt = _pyplot()
    columns = max(1, min(3, len(panels)))
    rows = max(1, -(-len(panels) // columns))
    with sns.axes_style("whitegrid"):
        figure, grid = plt.subplots(
            rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False, sharey=True
        )
        cells = list(grid.flat)
        for axes, (name, curve) in zip(cells, panels.items(), strict=False):
            if base is not None:
                _band(axes, base, "base", "gray")
            _band(axes, curve, name, "C0")
            axes.set_title(name, fontsize="small")
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.legend(loc="lower right", fontsize="x-small")
        for axes in cells[len(panels) :]:
            axes.axis("off")
        if not panels:
            cells[0].text(0.5, 0.5, "no trained variant yet", ha="center",
                          transform=cells[0].transAxes)  # fmt: skip
        floor = _curve_floor(base, panels)
        if floor is not None:
            cells[0].set_ylim(floor, 100.0)
        figure.supxlabel("epoch")
        figure.supylabel("test accuracy (%)")
        figure.suptitle(title)
        return _save(figure, path)


def _band(axes, curve: dict, label: str, color: str) -> None:
    epochs = range(1, len(curve["mean"]) + 1)
    low = [m - s for m, s in zip(curve["mean"], curve["std"], strict=True)]
    high = [m + s for m, s in zip(curve["mean"], curve["std"], strict=True)]
    axes.plot(epochs, curve["mean"], color=color, label=label)
    axes.fill_between(epochs, low, high, color=color, alpha=0.25, linewidth=0)


def _curve_floor(base: dict | None, panels: dict[str, dict]) -> float | None:
    """Zoom on the late epochs: the lowest mean from epoch 2 on, less a point (None if flat)."""
    means = [m for c in [base, *panels.values()] if c for m in c["mean"][1:]]
    return max(0.0, min(means) - 1.0) if means else None
