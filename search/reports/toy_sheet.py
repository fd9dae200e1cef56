"""The lr-sweep report's spreadsheet sections: the first rows of one rate's sheet, and how the
reference sheet's formulas differ from the correct gradients (what each wrong formula does to
E_total). Every value is formatted from the archs.toy replay and the stored curves.
"""

from __future__ import annotations

import pandas as pd

from archs.toy import (
    FORWARD_NAMES,
    GRADIENT_NAMES,
    INITIAL_WEIGHTS,
    TARGETS,
    WEIGHT_NAMES,
    forward,
    gradients,
    sheet_gradients,
)
from search.reports.format import markdown_table
from search.reports.toy_text import n


def spreadsheet_section(lr: float, frame: pd.DataFrame) -> str:
    """The first rows of one rate's sheet, split in three tables (the CSV has all columns)."""
    parts = [
        ("data and weights", ["t1", "t2", "i1", "i2", *WEIGHT_NAMES]),
        ("forward pass", list(FORWARD_NAMES)),
        ("gradients at these weights", list(GRADIENT_NAMES)),
    ]
    tables = "\n\n".join(
        f"{title}:\n\n{markdown_table(frame[['step', *columns]])}" for title, columns in parts
    )
    return (
        f"## The spreadsheet, lr = {lr}, steps 0..{len(frame) - 1}\n\n"
        f"Row k holds the weights after k updates, the forward pass at those weights, and the"
        f" gradients the next update uses. All rows of every rate: steps_lr<lr>.csv"
        f" ([steps_lr{lr}.csv](steps_lr{lr}.csv) for this one).\n\n{tables}"
    )


def sheet_section(
    curves: dict[float, list[float]],
    sheet_curves: dict[float, list[float]],
    effect: pd.DataFrame,
    alone: pd.DataFrame,
) -> str:
    """The sheet's wrong formulas, their values at the initial weights, and their effect on the
    replayed curves (`effect`: sheet_effect_frame; `alone`: errors_alone_frame)."""
    ratios = effect["sheet / correct at 100"]
    steps = len(next(iter(curves.values()))) - 1
    higher_text, rising_text = _replay_texts(curves, sheet_curves, effect)
    return f"""## The reference sheet's formula errors, and what they do to its curves

Four of the sheet's derivative formulas differ from the chain rule (δ_o1 = (a_o1 − t1)·a_o1(1 −
a_o1), δ_o2 = (a_o2 − t2)·a_o2(1 − a_o2), σ'(h1) = a_h1(1 − a_h1), i = i1 for w1, i2 for w2):

| gradient | correct | as the sheet writes it |
|---|---|---|
| ∂E/∂w6 | δ_o1·a_h2 | δ_o1·h2 |
| ∂E/∂w7 | δ_o2·a_h1 | δ_o2·a_h2 |
| ∂E/∂w8 | δ_o2·a_h2 | δ_o2·a_h1 |
| ∂E/∂w1, ∂E/∂w2 | (δ_o1·w5 + δ_o2·w7)·σ'(h1)·i | (δ_o1·w5 + a_o2·(1 − a_o1)·w7)·σ'(h1)·i |

{_initial_weights_text()}

Replaying the sheet's formulas as written (same start, same rates, {steps} updates) gives the
dashed curves in the small multiples above. {higher_text}. After {steps} updates the sheet's
E_total is {ratios.min():.2f} to {ratios.max():.2f} times the correct one.{rising_text}

{markdown_table(effect)}

Each error on its own (the correct gradients with only that formula replaced by the sheet's),
E_total after {steps} updates. {_dominant(alone)}

{markdown_table(alone)}"""


def _initial_weights_text() -> str:
    """The correct and the sheet's gradients at the initial weights, and why they differ."""
    t2, start = TARGETS[1], forward(INITIAL_WEIGHTS)
    correct, sheet = gradients(INITIAL_WEIGHTS), sheet_gradients(INITIAL_WEIGHTS)
    right_factor = (start.a_o2 - t2) * start.a_o2 * (1 - start.a_o2)
    sheet_factor = start.a_o2 * (1 - start.a_o1)
    sign_text = (
        "the opposite sign, so the path through w7 no longer partly cancels the one through w5"
        if sheet_factor * right_factor < 0
        else "the same sign, a different size"
    )
    return f"""At the initial weights (∂E/∂w3, ∂E/∂w4 and ∂E/∂w5 agree):

{markdown_table(_gradient_comparison(correct, sheet))}

h2 = {n(start.h2)} stands where a_h2 = {n(start.a_h2)} belongs, so the sheet's ∂E/∂w6 is
{sheet[5] / correct[5]:.3f} of the correct value. Swapping a_h1 = {n(start.a_h1)} and
a_h2 = {n(start.a_h2)} changes ∂E/∂w7 by {abs(sheet[6] / correct[6] - 1):.2%}: the two hidden
activations are close. In ∂E/∂w1 and ∂E/∂w2, a_o2·(1 − a_o1) = {n(sheet_factor)} stands where
δ_o2 = {n(right_factor)} belongs ({sign_text}), which makes both gradients
{sheet[0] / correct[0]:.2f} times the correct ones."""


def _gradient_comparison(correct: tuple[float, ...], sheet: tuple[float, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gradient": list(GRADIENT_NAMES),
            "correct": list(correct),
            "sheet": list(sheet),
            "sheet / correct": [s / c for s, c in zip(sheet, correct, strict=True)],
        }
    )


def _replay_texts(
    curves: dict[float, list[float]], sheet_curves: dict[float, list[float]], effect: pd.DataFrame
) -> tuple[str, str]:
    """In words: whether the sheet's replayed error is above the correct one at every step, and
    at which rates its curve is not monotone."""
    higher = all(
        all(s > c for c, s in zip(curves[lr][1:], sheet_curves[lr][1:], strict=True))
        for lr in curves
    )
    rising = [
        f"{lr} (it rises at steps {found})"
        for lr, found in zip(effect["lr"], effect["sheet rises at steps"], strict=True)
        if found != "none"
    ]
    rising_text = (
        f" The sheet's curve is not even monotone at lr = {'; '.join(rising)}."
        if rising
        else " All of the sheet's curves are still monotone."
    )
    higher_text = (
        "The sheet's error is higher than the correct one at every step after step 0, at every"
        " rate, so its published curves understate how fast correct backpropagation learns"
        " this example"
        if higher
        else "The sheet's error is not above the correct one at every step"
    )
    return higher_text, rising_text


def _dominant(alone: pd.DataFrame) -> str:
    """Which single error moves the final E_total most, per learning rate."""
    single = [name for name in alone.columns if name.startswith("only ")]
    by_error: dict[str, list[str]] = {}
    for record in alone.to_dict("records"):
        worst = max(single, key=lambda name: abs(record[name] - record["correct"]))
        by_error.setdefault(worst.removeprefix("only "), []).append(str(record["lr"]))
    return (
        "The largest single effect: "
        + "; ".join(f"{error} at lr = {', '.join(rates)}" for error, rates in by_error.items())
        + "."
    )
