"""The ablation report: each variant of the base, its size, and its final test accuracy over seeds.

`ablation_summary` computes every number from the stored trials (the JSON document carries it as
is): per variant the params and FLOPs, the final test accuracy (after the last epoch) mean, std and
min over seeds, and the difference from the base with a 95% Welch t interval. Variants over a
limit were pruned before training and are listed with the limit's reason. `render_ablation`
writes README.md and ablation.png.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import FrozenTrial

from search import report_figures as figures
from search import report_format as fmt
from search.report_data import finished_runs, listed_trials, seed_warning
from search.report_stats import spread, welch_interval
from studies.ablation import VARIANTS


def final_accuracies(trials: list[FrozenTrial]) -> tuple[list[int], list[float]]:
    """(training seeds, final test accuracies) of the finished runs, by seed."""
    runs = sorted(finished_runs(trials), key=lambda t: t.user_attrs["seed"])
    return [t.user_attrs["seed"] for t in runs], [t.user_attrs["test_acc"][-1] for t in runs]


def comparison(finals: list[float], base_finals: list[float]) -> dict:
    """The difference of means from the base and its interval (None where it cannot exist)."""
    if not finals or not base_finals:
        return {"delta": None, "interval": None}
    interval = welch_interval(base_finals, finals)
    return {
        "delta": statistics.fmean(finals) - statistics.fmean(base_finals),
        "interval": None if interval is None else dataclasses.asdict(interval),
    }


def variant_row(name: str, trials: list[FrozenTrial], base_finals: list[float]) -> dict:
    seeds, finals = final_accuracies(trials)
    measured = next((t.user_attrs for t in trials if "params" in t.user_attrs), {})
    reasons = sorted({t.user_attrs.get("end_reason") or t.state.name.lower() for t in trials})
    return {
        "variant": name,
        "description": VARIANTS[name][0] if name in VARIANTS else name,
        "summary": measured.get("summary"),
        "params": measured.get("params"),
        "flops": measured.get("flops"),
        "seeds": seeds,
        "final_test_acc": finals,
        "spread": dataclasses.asdict(spread(finals)) if finals else None,
        **comparison(finals, base_finals),
        "not_trained": None if finals else "; ".join(reasons),
    }


def ablation_summary(optuna_study: optuna.Study) -> dict:
    trials = listed_trials(optuna_study)
    by_variant: dict[str, list[FrozenTrial]] = {}
    for trial in trials:
        by_variant.setdefault(trial.params.get("variant", "?"), []).append(trial)
    order = [v for v in VARIANTS if v in by_variant] + sorted(set(by_variant) - set(VARIANTS))
    _, base_finals = final_accuracies(by_variant.get("base", []))
    trained = finished_runs(trials)
    return {
        "base": base_text(optuna_study.study_name),
        "variants": [variant_row(name, by_variant[name], base_finals) for name in order],
        "seeds": sorted({t.params["seed"] for t in trials if "seed" in t.params}),
        "training_seeds": sorted({t.user_attrs["seed"] for t in trained}),
        "seed_warning": seed_warning(trials),
        "epochs": sorted({t.user_attrs["recipe"]["epochs"] for t in trained}),
        "train_images": sorted({t.user_attrs["train_images"] for t in trained}),
    }


def base_text(study_name: str) -> str:
    found = re.fullmatch(r"ablation\.(.+)-trial(\d+)", study_name)
    if found is None:
        return "the pinned baseline (archs.BASELINE) with the reference recipe"
    return f"trial {found.group(2)} of study {found.group(1)}, its stored spec and recipe"


def ablation_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(_cells(row) for row in rows)


def _cells(row: dict) -> dict:
    cells = {
        "variant": row["variant"],
        "change": row["description"],
        "spec": fmt.code(row["summary"]),
        "params": fmt.count(row["params"]),
        "FLOPs": fmt.count(row["flops"]),
        "n": len(row["seeds"]),
    }
    if row["not_trained"] is not None:
        return {
            **cells,
            "final test % mean ± std": "not trained: " + fmt.escape(row["not_trained"]),
            "min %": fmt.MISSING,
            "delta vs base": fmt.MISSING,
            "95% CI of delta": fmt.MISSING,
        }
    return {
        **cells,
        "final test % mean ± std": fmt.plus_minus(row["spread"]["mean"], row["spread"]["std"]),
        "min %": fmt.pct(row["spread"]["min"]),
        "delta vs base": fmt.MISSING if row["delta"] is None else fmt.signed_pct(row["delta"]),
        "95% CI of delta": fmt.interval_text(row["interval"]),
    }


def method_note(rows: list[dict]) -> str:
    methods = sorted({row["interval"]["method"] for row in rows if row["interval"]})
    source = {
        "scipy": "the t quantile from scipy",
        "t table (df rounded down)": "the t quantile from a table with the degrees of freedom"
        " rounded down (scipy is not installed; slightly wider intervals)",
        "no spread": "no interval width where both groups had zero spread",
    }
    used = "; ".join(source.get(m, m) for m in methods) or "none computed: it needs 2+ seeds"
    return (
        "Delta is the variant's mean minus the base's mean (accuracy points); its 95% confidence"
        " interval is Welch's t interval for a difference of means (unequal variances,"
        f" Welch–Satterthwaite degrees of freedom), with {used}."
    )


def setup_text(summary: dict) -> str:
    """What was trained: base, images, epochs, seeds (and a warning if seeds were not honoured)."""
    images = ", ".join(f"{n:,}" for n in summary["train_images"]) or fmt.MISSING
    epochs = ", ".join(map(str, summary["epochs"])) or fmt.MISSING
    text = (
        f"Base: {summary['base']}. One factor changed at a time; each variant trained with the"
        f" base's recipe on {images} training images for {epochs} epoch(s), once per seed"
        f" (seeds {', '.join(map(str, summary['seeds']))}). The accuracy is the test accuracy"
        " after the last epoch; nothing is selected on it. Variants over a limit were pruned"
        " before training."
    )
    if summary["seed_warning"]:
        text += f"\n\n{summary['seed_warning']} The n column counts runs, whatever their seed."
    return text


def render_ablation(optuna_study: optuna.Study, out_dir: Path, header: str) -> tuple[list, dict]:
    """Write README.md and ablation.png; returns the paths and the summary (for data.json)."""
    summary = ablation_summary(optuna_study)
    rows = summary["variants"]
    runs = pd.DataFrame(
        [{"variant": r["variant"], "test_acc": acc} for r in rows for acc in r["final_test_acc"]],
        columns=["variant", "test_acc"],
    )
    base = next((row["spread"]["mean"] for row in rows if row["variant"] == "base"
                 and row["spread"]), None)  # fmt: skip
    title = f"{optuna_study.study_name}: final test accuracy per variant"
    figure = figures.plot_ablation(runs, base, out_dir / "ablation.png", title)
    sections = [
        header.rstrip(),
        setup_text(summary),
        "## Variants\n\n" + fmt.table(ablation_frame(rows)),
        method_note(rows),
        fmt.figure("ablation.png", "final test accuracy per variant, mean ± std over seeds"),
    ]
    (out_dir / "README.md").write_text("\n\n".join(sections) + "\n")
    return [out_dir / "README.md", figure], summary
