"""The report figures as drawn: one colour per outcome in every report, readable labels, the
legend beside the plot, titles that count what is drawn. Figures are captured before saving."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba

from search.reports import figures as figures


@pytest.fixture
def drawn(monkeypatch) -> list:
    kept = []
    save = figures._save

    def keep(figure, path):
        kept.append(figure)
        return save(figure, path)

    monkeypatch.setattr(figures, "_save", keep)
    return kept


def bar_colours(figure) -> dict[str, tuple]:
    axes = figure.axes[0]
    labels = [label.get_text() for label in axes.get_xticklabels()]
    return dict(zip(labels, (bar.get_facecolor() for bar in axes.patches), strict=True))


def test_an_outcome_has_the_same_colour_in_every_report(tmp_path, drawn):
    first = {"complete": 8, "pruned by pruner": 10, "pruned by limit": 11}
    second = {"interrupted": 1, "pruned by limit": 3, "complete": 2, "failed": 1}
    figures.plot_outcomes(first, tmp_path / "a.png", "a")
    figures.plot_outcomes(second, tmp_path / "b.png", "b")
    for figure, counts in zip(drawn, (first, second), strict=True):
        colours = bar_colours(figure)
        assert list(colours) == list(counts)
        for outcome, colour in colours.items():
            assert colour == to_rgba(figures.OUTCOME_COLOURS[outcome]), outcome
    assert len({figures.OUTCOME_COLOURS[o] for o in figures.OUTCOME_COLOURS}) == len(
        figures.OUTCOME_COLOURS
    )  # no two outcomes share a colour


def test_outcome_labels_are_rotated_and_fit_the_image(tmp_path, drawn):
    counts = {"complete": 1, "pruned by limit": 1, "invalid (pruned)": 1, "pruned by pruner": 1,
              "diverged (pruned)": 1, "failed": 1, "interrupted": 1}  # fmt: skip
    figures.plot_outcomes(counts, tmp_path / "o.png", "o")
    figure = drawn[0]
    renderer = FigureCanvasAgg(figure).get_renderer()
    labels = figure.axes[0].get_xticklabels()
    assert [label.get_text() for label in labels] == list(counts)
    assert all(label.get_rotation() == 30 for label in labels)
    assert all(label.get_horizontalalignment() == "right" for label in labels)  # end at the tick
    width, height = figure.bbox.width, figure.bbox.height
    for label in labels:  # inside the saved image: tight_layout made room for them
        box = label.get_window_extent(renderer)
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height


def test_the_accuracy_legend_sits_beside_the_plot_not_over_the_20000_line(tmp_path, drawn):
    points = pd.DataFrame(
        {
            "params": [4_000, 9_000, 19_500, 12_000],
            "best_val_acc": [98.9, 99.2, 99.4, 97.5],
            "outcome": ["complete", "complete", "complete", "pruned by pruner"],
        }
    )
    front = [(4_000, 98.9), (9_000, 99.2), (19_500, 99.4)]
    figures.plot_accuracy_vs_params(points, front, (10_066, 99.25), tmp_path / "p.png", "p")
    figure = drawn[0]
    renderer = FigureCanvasAgg(figure).get_renderer()
    axes = figure.axes[0]
    legend = axes.get_legend()
    assert legend is not None
    assert legend.get_window_extent(renderer).x0 >= axes.get_window_extent(renderer).x1
