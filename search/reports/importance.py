"""Which sampled parameters the value depends on: PED-ANOVA always, fANOVA when scikit-learn
imports (`pip install '.[importance]'`), each with its own error when it cannot be computed, and
the report section that shows them.
"""

from __future__ import annotations

import importlib.util
import warnings

import optuna
import pandas as pd

from search.reports import format as fmt

FANOVA_SEED = 1  # fANOVA's random forest: a fixed seed gives the same table on every render


def importance(optuna_study: optuna.Study) -> dict[str, dict]:
    """PED-ANOVA and fANOVA (when scikit-learn imports) of the trials' value, or why not."""
    found = {"ped_anova": _importance(optuna_study, optuna.importance.PedAnovaImportanceEvaluator)}
    if importlib.util.find_spec("sklearn") is None:
        found["fanova"] = {"error": "scikit-learn is not installed (pip install '.[importance]')"}
    else:
        fanova = optuna.importance.FanovaImportanceEvaluator
        found["fanova"] = _importance(optuna_study, lambda: fanova(seed=FANOVA_SEED))
    return found


def _importance(optuna_study: optuna.Study, make_evaluator) -> dict:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            values = optuna.importance.get_param_importances(
                optuna_study, evaluator=make_evaluator()
            )
        except Exception as error:  # too few complete trials, a single distinct value, ...
            return {"error": f"{type(error).__name__}: {error}"}
    # Most important first, ties by name: Optuna orders ties as a set does, which changes with
    # the process's string hashing, and a report rendered twice must come out the same.
    ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    return {
        "importances": {param: float(value) for param, value in ordered},
        "warnings": len(caught),
    }


def importance_section(found: dict[str, dict]) -> str:
    lines = [
        "## Parameter importance\n\nHow much of the variation of the trials' value (the score)"
        " each sampled parameter explains, normalised to sum to 1 per method."
    ]
    methods = {"ped_anova": "PED-ANOVA", "fanova": "fANOVA"}
    usable = {name: result for name, result in found.items() if "importances" in result}
    for name, result in found.items():
        if "error" in result:
            lines.append(f"{methods[name]}: not computed ({fmt.escape(result['error'])}).")
        elif result["warnings"]:
            lines.append(
                f"{methods[name]} warned {result['warnings']} time(s) (few trials per region):"
                " read its numbers as rough."
            )
    if usable:
        first = next(iter(usable.values()))["importances"]
        frame = pd.DataFrame(
            {
                "parameter": param,
                **{
                    methods[name]: f"{result['importances'].get(param, 0.0):.3f}"
                    for name, result in usable.items()
                },
            }
            for param in first  # ordered by importance() already
        )
        lines.append(fmt.table(frame))
    return "\n\n".join(lines)
