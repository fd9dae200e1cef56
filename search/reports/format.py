"""How report numbers are written in markdown: accuracies, counts, spreads, and safe table cells.

`markdown_table` writes a table; the other helpers here turn values into the strings that fill
them, the same way in every report (the tests parse them back).
"""

from __future__ import annotations

import pandas as pd

MISSING = "-"
LR_FORMAT = {"lr": ""}  # a learning rate as written in the study: 1.0, not 1


def markdown_table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """A GitHub markdown table; `formats` maps a column to a format spec (default ".6g")."""
    formats = {**LR_FORMAT, **(formats or {})}
    lines = [
        "| " + " | ".join(str(name) for name in frame.columns) + " |",
        "|" + "|".join("---:" for _ in frame.columns) + "|",
    ]
    for values in frame.itertuples(index=False):
        cells = [
            format(value, formats.get(name, ".6g")) if isinstance(value, float) else str(value)
            for name, value in zip(frame.columns, values, strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pct(value: float | None) -> str:
    """An accuracy in percent, two decimals."""
    return MISSING if value is None else f"{value:.2f}"


def count(value: float | None) -> str:
    """A count with thousands separators; a half (a median of two) keeps its .5."""
    if value is None:
        return MISSING
    return f"{value:,.1f}".removesuffix(".0")


def signed_pct(value: float) -> str:
    return f"{value:+.2f}"


def plus_minus(mean: float, std: float | None) -> str:
    """Mean ± sample std, two decimals; a single run has no std ("-")."""
    return f"{mean:.2f} ± {MISSING if std is None else f'{std:.2f}'}"


def bounds(interval: tuple[float, float] | None) -> str:
    """A 95% interval of a mean over seeds (stats.mean_interval) as [low, high] in percent."""
    return MISSING if interval is None else f"[{pct(interval[0])}, {pct(interval[1])}]"


def interval_text(interval: dict | None) -> str:
    """A stored report_stats.Interval (as a dict) as [low, high] in signed points."""
    if interval is None:
        return "n/a (needs 2+ seeds each)"
    return f"[{interval['low']:+.2f}, {interval['high']:+.2f}]"


def epochs_list(values: list[int | None]) -> str:
    return ", ".join(MISSING if value is None else str(value) for value in values) or MISSING


def code(text: str | None) -> str:
    """Inline code, with the pipes a table cell must escape (spec summaries contain them)."""
    return MISSING if not text else "`" + text.replace("|", "\\|") + "`"


def escape(text: str | None) -> str:
    return MISSING if text is None else str(text).replace("|", "\\|")


def table(frame: pd.DataFrame) -> str:
    """A markdown table of already-formatted cells (pandas objects become their str)."""
    if frame.empty:
        return "(none)"
    return markdown_table(frame.astype(str))


def figure(name: str, alt: str) -> str:
    return f"![{alt}]({name})"
