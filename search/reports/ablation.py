"""The ablation report: each variant against the base, paired by seed, with a verdict in words.

`ablation_summary` computes every number from the stored trials (the JSON document carries it as
is). Base and variant runs with the same seed share data order and augmentation draws, so each
variant's effect is the per-seed delta of final test accuracy (after the last epoch) and its 95%
paired t interval; the verdict says whether that interval excludes zero. Variants pruned before
training, and runs that did not learn (final test accuracy at chance), are listed with their
reason and left out of the plots. `render_ablation` writes README.md, forest.png and curves.png.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial

from search.reports import figures as figures
from search.reports import format as fmt
from search.reports.data import finished_runs, listed_trials, seed_warning
from search.reports.stats import chance_exclusions, paired_deltas, paired_interval, spread, verdict
from search.store.record import TrialRecord, records
from search.study.recipe import NEWER_FIELDS, REFERENCE_RECIPE

CHANCE_CEILING = 20.0  # % final test accuracy at or below which a run "did not learn" (10 classes)


def by_seed(trials: list[FrozenTrial]) -> dict[int, FrozenTrial]:
    """The finished runs of one variant, by training seed."""
    return {TrialRecord.of(t).seed: t for t in finished_runs(trials)}


def finals(runs: dict[int, FrozenTrial]) -> dict[int, float]:
    return {seed: TrialRecord.of(t).final_test_acc_pct for seed, t in runs.items()}


def mean_curve(runs: dict[int, FrozenTrial]) -> dict | None:
    """Per-epoch test accuracy: mean and std over seeds (None without runs)."""
    curves = [TrialRecord.of(t).test_acc_pct for t in runs.values()]
    if not curves:
        return None
    epochs = min(len(c) for c in curves)
    columns = [[c[e] for c in curves] for e in range(epochs)]
    return {
        "mean": [statistics.fmean(v) for v in columns],
        "std": [statistics.stdev(v) if len(v) > 1 else 0.0 for v in columns],
    }


def variant_row(name: str, trials: list[FrozenTrial], base: dict[int, float]) -> dict:
    runs = by_seed(trials)
    accuracies = finals(runs)
    measured = _measured(trials)
    reasons = sorted({r.end_reason or r.state.name.lower() for r in records(trials)})
    deltas = paired_deltas(base, accuracies) if name != "base" else {}
    interval = paired_interval(list(deltas.values()))
    values = list(accuracies.values())
    return {
        "variant": name,
        "description": None,  # set by ablation_summary: the change from the base, as stored
        "summary": measured and measured.summary,
        "recipe": measured and measured.recipe,
        "params": measured and measured.n_params,
        "flops": measured and measured.flops_per_image,
        "seeds": sorted(accuracies),
        "final_test_acc": [accuracies[s] for s in sorted(accuracies)],
        "spread": dataclasses.asdict(spread(values)) if values else None,
        "deltas": {str(seed): delta for seed, delta in deltas.items()},
        "interval": None if interval is None else dataclasses.asdict(interval),
        "mean_delta": statistics.fmean(deltas.values()) if deltas else None,
        "verdict": None if name == "base" or not values else verdict(list(deltas.values())),
        "curve": mean_curve(runs),
        "not_drawn": _not_drawn(values, reasons),
    }


def _not_drawn(values: list[float], reasons: list[str]) -> str | None:
    if not values:
        return "not trained: " + "; ".join(reasons)
    if max(values) <= CHANCE_CEILING:
        return f"did not learn: final test accuracy {max(values):.2f}% at best (chance ~10%)"
    return None


def ablation_summary(optuna_study: optuna.Study) -> dict:
    trials = listed_trials(optuna_study)
    by_variant: dict[str, list[FrozenTrial]] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        by_variant.setdefault(trial.params.get("variant", "?"), []).append(trial)
    base = finals(by_seed(by_variant.get("base", [])))
    order = ["base", *(name for name in by_variant if name != "base")]
    rows = [variant_row(name, by_variant[name], base) for name in order if name in by_variant]
    base_attrs = _measured(by_variant.get("base", []))
    for row in rows:
        row["description"] = change_text(base_attrs, _measured(by_variant[row["variant"]]))
    shown = [r for r in rows if r["variant"] != "base" and r["interval"] and not r["not_drawn"]]
    expected, at_least_one = chance_exclusions(len(shown))
    trained = finished_runs(trials)
    return {
        "base": optuna_study.user_attrs.get("about") or base_text(optuna_study.study_name),
        "variants": rows,
        "intervals": len(shown),
        "chance_exclusions": {"expected": expected, "at_least_one": at_least_one},
        "seeds": sorted({t.params["seed"] for t in trials if "seed" in t.params}),
        "training_seeds": sorted({r.seed for r in records(trained)}),
        "unfinished_runs": sum(t.state.name in ("FAIL", "RUNNING") for t in trials),
        "seed_warning": seed_warning(trials),
        "epochs": sorted({r.epochs for r in records(trained)}),
        "train_images": sorted({r.train_images for r in records(trained)}),
    }


def _measured(trials: list[FrozenTrial]) -> TrialRecord | None:
    """The first of a variant's runs that was built and measured (all share spec and counts)."""
    return next((r for r in records(trials) if r.trained), None)


def change_text(base: TrialRecord | None, variant: TrialRecord | None) -> str:
    """What differs from the base, from the stored spec and recipe: `bn after_relu -> none; lr
    0.1 -> 0.001`. Lists (widths, transitions) are named; the spec column shows them."""
    if not base or not variant:
        return fmt.MISSING
    changes = []
    for part in ("spec", "recipe"):
        old, new = (_filled(part, getattr(run, part) or {}) for run in (base, variant))
        for key in sorted(set(old) | set(new) - {"seed"}):
            if key == "seed" or old.get(key) == new.get(key):
                continue
            if isinstance(old.get(key), (list, dict)) or isinstance(new.get(key), (list, dict)):
                changes.append(f"{key} (see spec)")
            else:
                changes.append(f"{key} {old.get(key)} -> {new.get(key)}")
    return "; ".join(changes) or "the base as it is"


def _filled(part: str, stored: dict) -> dict:
    """A stored recipe leaves out label smoothing and the moving average when they are off
    (Recipe.to_dict): the change is `ema 0.999 -> 0.0`, not `-> None`."""
    if part != "recipe":
        return stored
    return {**{key: getattr(REFERENCE_RECIPE, key) for key in NEWER_FIELDS}, **stored}


def base_text(study_name: str) -> str:
    """What the base is, for a study stored before its `about` was (2026-11-28), from the name it
    was stored under (studies/ablation.py:
    `ablation` for the pinned baseline, `ablation.<study>-trial<N>` for a stored trial,
    `ablation.<file stem>-<spec hash>` for a net from a file; `+recipe-<hash>` when --recipe
    replaced its recipe)."""
    name, _, with_recipe = study_name.partition("+recipe-")
    recipe = "the recipe given by --recipe" if with_recipe else None
    trial = re.fullmatch(r"ablation\.(.+)-trial(\d+)", name)
    from_file = re.fullmatch(r"ablation\.(.+)-([0-9a-f]{4})", name)
    if trial is not None:
        what = f"trial {trial.group(2)} of study {trial.group(1)}, its stored spec"
        return f"{what} and {recipe or 'recipe'}"
    if from_file is not None:
        what = f"the net from the file `{from_file.group(1)}` given as --base (spec hash"
        return f"{what} {from_file.group(2)}), with {recipe or 'the recipe the file carried'}"
    return f"the pinned baseline (archs.BASELINE) with {recipe or 'the reference recipe'}"


def _cells(row: dict) -> dict:
    interval = row["interval"]
    return {
        "variant": row["variant"],
        "change": fmt.escape(row["description"]),
        "spec": fmt.code(row["summary"]),
        "params": fmt.count(row["params"]),
        "FLOPs": fmt.count(row["flops"]),
        "n": len(row["seeds"]),
        "final test % mean ± std": fmt.MISSING
        if row["spread"] is None
        else fmt.plus_minus(row["spread"]["mean"], row["spread"]["std"]),
        "min %": fmt.MISSING if row["spread"] is None else fmt.pct(row["spread"]["min"]),
        "paired delta": fmt.MISSING
        if row["mean_delta"] is None
        else fmt.signed_pct(row["mean_delta"]),
        "95% CI": fmt.MISSING if interval is None else fmt.interval_text(interval),
        "verdict": row["not_drawn"] or row["verdict"] or "(the base)",
    }


def chance_text(summary: dict) -> str:
    count = summary["intervals"]
    chance = summary["chance_exclusions"]
    pairs = max((len(r["deltas"]) for r in summary["variants"]), default=0) or 1
    return (
        "Each delta is the variant's final test accuracy minus the base's with the same seed"
        " (same data order and augmentation draws), in accuracy points; its 95% interval is the"
        " paired t interval over the seeds both ran (t quantile from scipy). No p-values: at"
        f" n = {pairs} a rank test cannot go below p = {2 / 2**pairs:.4g}. With"
        f" {count} interval(s) shown and no true effect anywhere, about {chance['expected']:.2f}"
        " of them would exclude zero by chance alone (at least one with probability"
        f" {chance['at_least_one']:.0%})."
    )


def setup_text(summary: dict) -> str:
    """What was trained: base, images, epochs, seeds (and a warning if seeds were not honoured)."""
    images = ", ".join(f"{n:,}" for n in summary["train_images"]) or fmt.MISSING
    epochs = ", ".join(map(str, summary["epochs"])) or fmt.MISSING
    text = (
        f"Base: {summary['base']}. One factor changed at a time (the spec or the recipe, as the"
        f" change column says); each variant trained on {images} training images for {epochs}"
        f" epoch(s), once per seed (seeds {', '.join(map(str, summary['training_seeds']))}"
        f"{_unfinished(summary)}). The accuracy"
        " is the test accuracy after the last epoch; nothing is selected on it. Variants over a"
        " limit were pruned before training."
    )
    if summary["seed_warning"]:
        text += f"\n\n{summary['seed_warning']} The n column counts runs, whatever their seed."
    return text


def _unfinished(summary: dict) -> str:
    count = summary.get("unfinished_runs", 0)
    return f"; {count} run(s) that did not finish are not counted" if count else ""


def not_drawn_text(rows: list[dict]) -> str:
    missing = [f"- {row['variant']}: {fmt.escape(row['not_drawn'])}" for row in rows
               if row["not_drawn"]]  # fmt: skip
    missing += [
        f"- {row['variant']} (forest plot only): {fmt.escape(row['verdict'])}"
        for row in rows
        if row["variant"] != "base" and not row["not_drawn"] and row["verdict"]
        and row["interval"] is None
    ]  # fmt: skip
    if not missing:
        return ""
    return "Left out of the figures, with their reason:\n\n" + "\n".join(missing)


def render_ablation(optuna_study: optuna.Study, out_dir: Path, header: str) -> tuple[list, dict]:
    """Write README.md, forest.png and curves.png; returns the paths and the summary."""
    summary = ablation_summary(optuna_study)
    rows = summary["variants"]
    drawn = [r for r in rows if r["variant"] != "base" and r["interval"] and not r["not_drawn"]]
    forest = [(r["variant"], r["interval"]["delta"], r["interval"]["low"], r["interval"]["high"])
              for r in drawn]  # fmt: skip
    name = optuna_study.study_name
    forest_path, points = figures.plot_forest(
        forest, out_dir / "forest.png", f"{name}: paired delta vs base (final test accuracy)"
    )
    summary["forest_points"] = points
    base_curve = rows[0]["curve"] if rows and rows[0]["variant"] == "base" else None
    panels = {r["variant"]: r["curve"] for r in rows[1:] if r["curve"] and not r["not_drawn"]}
    curves_path = figures.plot_paired_curves(
        base_curve, panels, out_dir / "curves.png", f"{name}: test accuracy per epoch"
    )
    sections = [
        header.rstrip(),
        setup_text(summary),
        "## Verdicts\n\n" + fmt.table(_frame(rows)),
        chance_text(summary),
        not_drawn_text(rows),
        fmt.figure("forest.png", "paired delta vs base per variant, with its 95% interval"),
        fmt.figure("curves.png", "test accuracy per epoch, base vs each variant, mean ± std"),
    ]
    (out_dir / "README.md").write_text("\n\n".join(s for s in sections if s) + "\n")
    return [out_dir / "README.md", forest_path, curves_path], summary


def _frame(rows: list[dict]):
    import pandas as pd

    return pd.DataFrame(_cells(row) for row in rows)
