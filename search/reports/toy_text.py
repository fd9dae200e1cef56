"""The lr-sweep report's prose and markdown: each section is a function of computed numbers.

Nothing here is typed by hand but the words and the formulas: every value is formatted from the
stored curves or the archs.toy replay rows (the spreadsheet sections are in toy_sheet).
"""

from __future__ import annotations

import pandas as pd

from archs.toy import (
    GRADIENT_NAMES,
    INITIAL_WEIGHTS,
    INPUTS,
    TARGETS,
    WEIGHT_NAMES,
    gradients,
)
from search.reports.format import markdown_table

E_TOTAL_FORMATS = {name: ".10f" for name in ("step 0", "step 1", "step 10", "step 50", "step 100")}


def n(value: float) -> str:
    return f"{value:.6g}"


def signed(value: float) -> str:
    """A factor after another operator: negative numbers in parentheses."""
    return n(value) if value >= 0 else f"({n(value)})"


def overview(rates: list[float], steps: int) -> str:
    (i1, i2), (t1, t2) = INPUTS, TARGETS
    weights = ", ".join(f"{w:g}" for w in INITIAL_WEIGHTS)
    return (
        "A 2-2-2 network with sigmoid units and no biases learns one example"
        f" (i1 = {i1:g}, i2 = {i2:g}; targets t1 = {t1:g}, t2 = {t2:g}) from the weights"
        f" w1..w8 = {weights} by plain gradient descent: {steps} updates of all eight weights at"
        f" each learning rate of {', '.join(f'{lr}' for lr in rates)} (one Optuna trial per"
        " rate, grid sampler). Each trial stores E_total after k updates as its intermediate"
        f" value at step k = 0..{steps} and the final E_total as its value.\n\n"
        "![E_total over the update steps, one curve per learning rate](curves.png)\n\n"
        "Files: [curves.png](curves.png), [small_multiples.png](small_multiples.png),"
        " [e_total_table.csv](e_total_table.csv), [sheet_effect.csv](sheet_effect.csv) and the"
        " spreadsheet-style rows for every rate, "
        + ", ".join(f"[steps_lr{lr}.csv](steps_lr{lr}.csv)" for lr in rates)
        + " (full float64 precision)."
    )


def e_total_section(table: str) -> str:
    return "## E_total by learning rate\n\nE_total after 0, 1, 10, 50 and 100 updates.\n\n" + table


def backprop_section(rows: list[dict[str, float]], lr: float) -> str:
    """One update worked through with the numbers of step 0 (and step 1) at rate `lr`."""
    return f"""## How one backpropagation step works

The numbers are those of step 0 (the initial weights) and the first update at lr = {lr}.

**1. Forward pass.** {_forward_step(rows[0])}

**2. Output-layer gradients.** {_output_step(rows[0])}

**3. Hidden-layer gradients.** {_hidden_step(rows[0])}

**4. Update.** {_update_step(rows, lr)}

The analytic gradients are proved in `tests/study/test_toy.py` against torch autograd (float64)
at the initial weights and at 100 random weight vectors, and against central finite differences."""


def _forward_step(r: dict[str, float]) -> str:
    """Step 1's paragraph; `r`, here and in steps 2 to 4, is the spreadsheet row of step 0."""
    return f"""Each unit sums its weighted inputs and squashes the sum with
σ(x) = 1 / (1 + e^(−x)).
h1 = w1·i1 + w2·i2 = {n(r["h1"])}, a_h1 = σ(h1) = {n(r["a_h1"])};
h2 = w3·i1 + w4·i2 = {n(r["h2"])}, a_h2 = σ(h2) = {n(r["a_h2"])};
o1 = w5·a_h1 + w6·a_h2 = {n(r["o1"])}, a_o1 = σ(o1) = {n(r["a_o1"])};
o2 = w7·a_h1 + w8·a_h2 = {n(r["o2"])}, a_o2 = σ(o2) = {n(r["a_o2"])}.
E1 = ½(t1 − a_o1)² = {n(r["E1"])}, E2 = ½(t2 − a_o2)² = {n(r["E2"])},
E_total = E1 + E2 = {r["E_total"]:.10f}."""


def _output_deltas(r: dict[str, float]) -> tuple[float, float]:
    """δ_o1 and δ_o2: ∂E_total/∂o for each output unit."""
    t1, t2 = TARGETS
    delta_o1 = (r["a_o1"] - t1) * r["a_o1"] * (1 - r["a_o1"])
    delta_o2 = (r["a_o2"] - t2) * r["a_o2"] * (1 - r["a_o2"])
    return delta_o1, delta_o2


def _output_step(r: dict[str, float]) -> str:
    delta_o1, delta_o2 = _output_deltas(r)
    return f"""w5 reaches E_total only through o1 → a_o1 → E1, so the chain rule
multiplies three local derivatives: ∂E_total/∂w5 = ∂E_total/∂a_o1 · ∂a_o1/∂o1 · ∂o1/∂w5
= (a_o1 − t1) · a_o1(1 − a_o1) · a_h1. The first factor is the derivative of ½(t1 − a_o1)² (E2
does not depend on a_o1), the second is the sigmoid's slope σ'(o1) = σ(o1)(1 − σ(o1)), the third
is the activation w5 multiplies. The first two together are the output unit's error
δ_o1 = ∂E/∂o1 = {n(delta_o1)}; likewise δ_o2 = (a_o2 − t2)·a_o2(1 − a_o2) = {n(delta_o2)}. Then
∂E/∂w5 = δ_o1·a_h1 = {n(r["dE/dw5"])}, ∂E/∂w6 = δ_o1·a_h2 = {n(r["dE/dw6"])},
∂E/∂w7 = δ_o2·a_h1 = {n(r["dE/dw7"])}, ∂E/∂w8 = δ_o2·a_h2 = {n(r["dE/dw8"])}."""


def _hidden_step(r: dict[str, float]) -> str:
    delta_o1, delta_o2 = _output_deltas(r)
    error_a_h1 = delta_o1 * r["w5"] + delta_o2 * r["w7"]
    error_a_h2 = delta_o1 * r["w6"] + delta_o2 * r["w8"]
    delta_h1 = error_a_h1 * r["a_h1"] * (1 - r["a_h1"])
    delta_h2 = error_a_h2 * r["a_h2"] * (1 - r["a_h2"])
    output_size = max(abs(r[f"dE/dw{k}"]) for k in (5, 6, 7, 8))
    hidden_size = max(abs(r[f"dE/dw{k}"]) for k in (1, 2, 3, 4))
    return f"""a_h1 feeds both outputs (through w5 into o1 and w7 into o2), so
its error is the sum of the two paths: ∂E/∂a_h1 = δ_o1·w5 + δ_o2·w7 = {n(error_a_h1)}, and
∂E/∂a_h2 = δ_o1·w6 + δ_o2·w8 = {n(error_a_h2)}. Through the hidden sigmoid,
δ_h1 = ∂E/∂a_h1 · a_h1(1 − a_h1) = {n(delta_h1)} and δ_h2 = {n(delta_h2)}; since ∂h1/∂w1 = i1
and ∂h1/∂w2 = i2: ∂E/∂w1 = δ_h1·i1 = {n(r["dE/dw1"])}, ∂E/∂w2 = δ_h1·i2 = {n(r["dE/dw2"])},
∂E/∂w3 = δ_h2·i1 = {n(r["dE/dw3"])}, ∂E/∂w4 = δ_h2·i2 = {n(r["dE/dw4"])}. These use the old
w5..w8: all eight derivatives are taken at the same weights, before any weight moves. Here the
largest hidden-layer gradient is {output_size / hidden_size:.0f} times smaller than the largest
output-layer one: it passes through a second sigmoid slope (at most ¼) and is scaled by an input
of at most {max(INPUTS):g}."""


def _update_step(rows: list[dict[str, float]], lr: float) -> str:
    r, after = rows[0], rows[1]
    updates = "; ".join(
        f"{w} = {n(r[w])} − {lr}·{signed(r[g])} = {n(after[w])}"
        for w, g in zip(WEIGHT_NAMES, GRADIENT_NAMES, strict=True)
    )
    return f"""Every weight moves against its gradient, w ← w − lr·∂E/∂w: {updates}.
A new forward pass gives E_total = {after["E_total"]:.10f}, {n(r["E_total"] - after["E_total"])}
lower. That is one row of the spreadsheet; the curves repeat it {len(rows) - 1} times."""


def curves_section(curves: dict[float, list[float]]) -> str:
    rates = list(curves)
    start = curves[rates[0]][0]
    steps = len(curves[rates[0]]) - 1
    squared_norm = sum(g * g for g in gradients(INITIAL_WEIGHTS))
    best = min(rates, key=lambda lr: curves[lr][-1])
    falling_text, ordered_text, verdict, slowing_text = _findings(curves, best)
    return f"""## What the curves show

All {len(rates)} curves start at E_total = {start:.10f}: the initial weights do not depend on
the rate.
{falling_text}, and {ordered_text}. To first order a step lowers E_total by lr·‖∇E‖², so the
first drop grows in proportion to the rate while the step is small; the ratio column shows how
far that holds (‖∇E‖² = {n(squared_norm)} at the initial weights). {verdict}
({n(curves[best][-1])} after {steps} updates, against {n(curves[rates[0]][-1])} at
lr = {rates[0]}).{slowing_text}

{markdown_table(_curves_table(curves, squared_norm))}

![One chart per learning rate; dashed: the reference sheet's formulas](small_multiples.png)"""


def _curves_table(curves: dict[float, list[float]], squared_norm: float) -> pd.DataFrame:
    """Per rate: the first and last drops, the first-order prediction, the halving step."""
    rates = list(curves)
    start, steps = curves[rates[0]][0], len(curves[rates[0]]) - 1
    return pd.DataFrame(
        {
            "lr": rates,
            "first drop": [curves[lr][0] - curves[lr][1] for lr in rates],
            "lr·‖∇E‖²": [lr * squared_norm for lr in rates],
            "drop / (lr·‖∇E‖²)": [
                (curves[lr][0] - curves[lr][1]) / (lr * squared_norm) for lr in rates
            ],
            "first step at ≤ half of step 0": [
                _first_at_or_below(curves[lr], start / 2) for lr in rates
            ],
            "last drop": [curves[lr][-2] - curves[lr][-1] for lr in rates],
            f"E_total at {steps} / at 0": [curves[lr][-1] / start for lr in rates],
        }
    )


def _findings(curves: dict[float, list[float]], best: float) -> tuple[str, str, str, str]:
    """What the curves show, in words: which fall at every step, whether a larger rate is
    always lower, the verdict on the best rate, and whether the curves flatten."""
    rates = list(curves)
    steps = len(curves[rates[0]]) - 1
    falling = _falling_rates(curves)
    ordered = _larger_rate_always_lower(curves)
    falling_text = (
        "Every curve falls at every step"
        if falling == rates
        else "Only the curves at lr = "
        + ", ".join(f"{lr}" for lr in falling)
        + " fall at every step"
    )
    ordered_text = (
        f"at every step from 1 to {steps} a larger learning rate has the lower error"
        if ordered
        else "the ordering by learning rate is not the same at every step"
    )
    verdict = (
        f"None of the {len(rates)} rates is large enough to overshoot on this surface within"
        f" {steps} updates, so the largest, {rates[-1]}, reaches the lowest error"
        if falling == rates and ordered
        else f"The lowest final error is at lr = {best}"
    )
    return falling_text, ordered_text, verdict, _slowing_text(curves)


def _falling_rates(curves: dict[float, list[float]]) -> list[float]:
    """The rates whose E_total falls at every step."""
    return [
        lr
        for lr, curve in curves.items()
        if all(b < a for a, b in zip(curve, curve[1:], strict=False))
    ]


def _larger_rate_always_lower(curves: dict[float, list[float]]) -> bool:
    """Whether at every step after 0 each rate's E_total is below that of the next smaller rate
    (rates ascending)."""
    rates = list(curves)
    steps = len(curves[rates[0]]) - 1
    return all(
        all(
            curves[high][step] < curves[low][step]
            for low, high in zip(rates, rates[1:], strict=False)
        )
        for step in range(1, steps + 1)
    )


def _slowing_text(curves: dict[float, list[float]]) -> str:
    """A sentence when every rate's last update gains less than its first, else nothing."""
    slowing = all(curve[-2] - curve[-1] < curve[0] - curve[1] for curve in curves.values())
    if not slowing:
        return ""
    return (
        " The curves flatten as they go: the outputs approach their targets, the gradient"
        " shrinks with (a_o − t) and with the sigmoid slopes, and every rate's last update gains"
        " less than its first."
    )


def _first_at_or_below(curve: list[float], level: float) -> str:
    found = next((step for step, value in enumerate(curve) if value <= level), None)
    return "not reached" if found is None else str(found)
