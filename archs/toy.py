"""The Part-A toy network: a 2-2-2 sigmoid net, no biases, trained by hand-derived backprop.

Plain float64 math on Python floats, written the way the reference spreadsheet lays it out:

    h1 = w1·i1 + w2·i2    a_h1 = σ(h1)      o1 = w5·a_h1 + w6·a_h2    a_o1 = σ(o1)
    h2 = w3·i1 + w4·i2    a_h2 = σ(h2)      o2 = w7·a_h1 + w8·a_h2    a_o2 = σ(o2)
    E1 = ½(t1 − a_o1)²    E2 = ½(t2 − a_o2)²    E_total = E1 + E2

`gradients` is the correct chain rule, one line per weight (tested against autograd and finite
differences). `sheet_gradients` replays the reference sheet's four wrong formulas, only so the
report can measure what they did to the sheet's published curves. No Optuna and no printing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import astuple, dataclass

Weights = tuple[float, ...]  # (w1, ..., w8)
GradientFunction = Callable[[Weights], Weights]

INPUTS = (0.05, 0.10)  # i1, i2
TARGETS = (0.01, 0.99)  # t1, t2
INITIAL_WEIGHTS: Weights = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)  # w1..w8
WEIGHT_NAMES = tuple(f"w{k}" for k in range(1, 9))
GRADIENT_NAMES = tuple(f"dE/dw{k}" for k in range(1, 9))
FORWARD_NAMES = ("h1", "a_h1", "h2", "a_h2", "o1", "a_o1", "o2", "a_o2", "E1", "E2", "E_total")
# One spreadsheet row: the sheet's columns, left to right.
COLUMNS = ("t1", "t2", "i1", "i2", *WEIGHT_NAMES, *FORWARD_NAMES, *GRADIENT_NAMES)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class ToyForward:
    """Every intermediate of one forward pass, named as in the sheet."""

    h1: float
    a_h1: float
    h2: float
    a_h2: float
    o1: float
    a_o1: float
    o2: float
    a_o2: float
    e1: float
    e2: float
    e_total: float

    def values(self) -> tuple[float, ...]:
        """In FORWARD_NAMES order (the field order)."""
        return astuple(self)


def forward(weights: Weights) -> ToyForward:
    w1, w2, w3, w4, w5, w6, w7, w8 = weights
    (i1, i2), (t1, t2) = INPUTS, TARGETS
    h1 = w1 * i1 + w2 * i2
    h2 = w3 * i1 + w4 * i2
    a_h1, a_h2 = sigmoid(h1), sigmoid(h2)
    o1 = w5 * a_h1 + w6 * a_h2
    o2 = w7 * a_h1 + w8 * a_h2
    a_o1, a_o2 = sigmoid(o1), sigmoid(o2)
    e1 = 0.5 * (t1 - a_o1) ** 2
    e2 = 0.5 * (t2 - a_o2) ** 2
    return ToyForward(h1, a_h1, h2, a_h2, o1, a_o1, o2, a_o2, e1, e2, e1 + e2)


def gradients(weights: Weights) -> Weights:
    """∂E_total/∂w1..∂w8 by the chain rule; σ'(x) = σ(x)(1 − σ(x))."""
    w1, w2, w3, w4, w5, w6, w7, w8 = weights
    (i1, i2), (t1, t2) = INPUTS, TARGETS
    f = forward(weights)
    # Output layer: ∂E/∂o1 = ∂E/∂a_o1 · ∂a_o1/∂o1 = (a_o1 − t1) · a_o1(1 − a_o1); E2 has no o1.
    delta_o1 = (f.a_o1 - t1) * f.a_o1 * (1 - f.a_o1)
    delta_o2 = (f.a_o2 - t2) * f.a_o2 * (1 - f.a_o2)
    # ∂o1/∂w5 = a_h1, ∂o1/∂w6 = a_h2, ∂o2/∂w7 = a_h1, ∂o2/∂w8 = a_h2.
    grad_w5 = delta_o1 * f.a_h1  # (a_o1 − t1)·a_o1(1 − a_o1)·a_h1
    grad_w6 = delta_o1 * f.a_h2  # (a_o1 − t1)·a_o1(1 − a_o1)·a_h2
    grad_w7 = delta_o2 * f.a_h1  # (a_o2 − t2)·a_o2(1 − a_o2)·a_h1
    grad_w8 = delta_o2 * f.a_h2  # (a_o2 − t2)·a_o2(1 − a_o2)·a_h2
    # Hidden layer: a_h1 reaches E through o1 (weight w5) and o2 (weight w7), so both errors add.
    grad_a_h1 = delta_o1 * w5 + delta_o2 * w7  # ∂E/∂a_h1 = ∂E1/∂a_h1 + ∂E2/∂a_h1
    grad_a_h2 = delta_o1 * w6 + delta_o2 * w8  # ∂E/∂a_h2
    delta_h1 = grad_a_h1 * f.a_h1 * (1 - f.a_h1)  # ∂E/∂h1
    delta_h2 = grad_a_h2 * f.a_h2 * (1 - f.a_h2)  # ∂E/∂h2
    # ∂h1/∂w1 = i1, ∂h1/∂w2 = i2, ∂h2/∂w3 = i1, ∂h2/∂w4 = i2.
    grad_w1 = delta_h1 * i1
    grad_w2 = delta_h1 * i2
    grad_w3 = delta_h2 * i1
    grad_w4 = delta_h2 * i2
    return (grad_w1, grad_w2, grad_w3, grad_w4, grad_w5, grad_w6, grad_w7, grad_w8)


def sheet_gradients(weights: Weights) -> Weights:
    """The reference sheet's formulas as written, four of them wrong (kept for comparison only).

    ∂E/∂w6 multiplies by h2 instead of a_h2; ∂E/∂w7 and ∂E/∂w8 swap a_h1 and a_h2; ∂E/∂w1 and
    ∂E/∂w2 use a_o2·(1 − a_o1) where (a_o2 − t2)·a_o2·(1 − a_o2) belongs. w3, w4, w5 are right.
    """
    w1, w2, w3, w4, w5, w6, w7, w8 = weights
    (i1, i2), (t1, t2) = INPUTS, TARGETS
    f = forward(weights)
    delta_o1 = (f.a_o1 - t1) * f.a_o1 * (1 - f.a_o1)
    delta_o2 = (f.a_o2 - t2) * f.a_o2 * (1 - f.a_o2)
    sheet_delta_o2 = f.a_o2 * (1 - f.a_o1)  # the sheet's stand-in, in ∂E/∂w1 and ∂E/∂w2 only
    sheet_delta_h1 = (delta_o1 * w5 + sheet_delta_o2 * w7) * f.a_h1 * (1 - f.a_h1)
    delta_h2 = (delta_o1 * w6 + delta_o2 * w8) * f.a_h2 * (1 - f.a_h2)
    return (
        sheet_delta_h1 * i1,
        sheet_delta_h1 * i2,
        delta_h2 * i1,
        delta_h2 * i2,
        delta_o1 * f.a_h1,
        delta_o1 * f.h2,  # h2 where a_h2 belongs
        delta_o2 * f.a_h2,  # a_h2 where a_h1 belongs
        delta_o2 * f.a_h1,  # a_h1 where a_h2 belongs
    )


def step(weights: Weights, lr: float, grad_fn: GradientFunction = gradients) -> Weights:
    """One plain gradient-descent update of all eight weights: w ← w − lr·∂E/∂w."""
    return tuple(w - lr * g for w, g in zip(weights, grad_fn(weights), strict=True))


def row(weights: Weights, grad_fn: GradientFunction = gradients) -> dict[str, float]:
    """One spreadsheet row (COLUMNS): data, weights, forward values, gradients at these weights."""
    values = (*TARGETS, *INPUTS, *weights, *forward(weights).values(), *grad_fn(weights))
    return dict(zip(COLUMNS, values, strict=True))


def descend(
    lr: float, steps: int = 100, grad_fn: GradientFunction = gradients
) -> list[dict[str, float]]:
    """Rows for steps 0..steps from INITIAL_WEIGHTS; row k holds the weights after k updates."""
    weights = INITIAL_WEIGHTS
    rows = [row(weights, grad_fn)]
    for _ in range(steps):
        weights = step(weights, lr, grad_fn)
        rows.append(row(weights, grad_fn))
    return rows
