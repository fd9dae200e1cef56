"""One toy-network trial: gradient descent at the trial's learning rate, its error curve stored.

The trial's only parameter is `lr` (from the study's grid). E_total after k updates is reported
as the intermediate value at step k = 0..steps (step 0 is the initial error), so Optuna's own
plots show the curves; the final E_total is the trial's value. The arithmetic is archs.toy.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import optuna

from archs.toy import GRADIENT_NAMES, WEIGHT_NAMES, descend
from search.engine.objective import TrialContext, end, recorded
from search.events import TrialEnded, TrialStarted
from search.store.record import End
from search.study.definitions import ToyStudy

TOY_PARAMS = 8  # w1..w8, no biases


def toy_objective(study: ToyStudy, context: TrialContext) -> Callable[[optuna.trial.Trial], float]:
    return recorded(lambda trial: _run(study, context, trial))


def _run(study: ToyStudy, context: TrialContext, trial: optuna.trial.Trial) -> float:
    started = time.perf_counter()
    lr = trial.suggest_categorical("lr", list(study.learning_rates))
    summary = f"toy 2-2-2 lr={lr}"
    context.emit(TrialStarted(trial.number, summary, TOY_PARAMS, None, study.steps, []).to_dict())
    rows = descend(lr, study.steps)
    e_total = [row["E_total"] for row in rows]
    for step, value in enumerate(e_total):
        trial.report(value, step)  # step k: after k updates
    last = rows[-1]
    for name, value in {
        "lr": lr,
        "summary": summary,
        "params": TOY_PARAMS,
        "steps": study.steps,
        "e_total": e_total,
        "final_e_total": e_total[-1],
        "final_weights": [last[name] for name in WEIGHT_NAMES],
        "final_gradients": [last[name] for name in GRADIENT_NAMES],
        "device": "cpu, pure Python",  # archs.toy.descend is plain float arithmetic
    }.items():
        trial.set_user_attr(name, value)
    end(trial, End.COMPLETE, "complete")
    event = TrialEnded(
        trial=trial.number,
        state="COMPLETE",
        value=e_total[-1],
        end_kind=End.COMPLETE.value,
        end_reason="complete",
        summary=summary,
        params=TOY_PARAMS,
        flops=None,
        epochs_run=study.steps,
        best_val_acc=None,
        seconds=time.perf_counter() - started,
    )
    context.emit(event.to_dict())
    return e_total[-1]
