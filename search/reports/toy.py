"""The lr-sweep report: the toy network's error curves, tables, figures and written explanation.

`render_lr_sweep(study, out_dir, header)` reads the stored trials (one per learning rate, E_total
as intermediate values at steps 0..steps), replays each with archs.toy to get the spreadsheet rows
(checked against the stored curve), replays the reference sheet's wrong formulas for comparison,
and writes README.md, curves.png, small_multiples.png, e_total_table.csv, sheet_effect.csv and one
steps_lr<lr>.csv per rate. Every number in the README comes from the trials or the replays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from archs.toy import COLUMNS, GradientFunction, Weights, descend, gradients, sheet_gradients
from search.errors import UsageError
from search.reports import toy_sheet as sheet
from search.reports import toy_text as text
from search.reports.format import markdown_table

TABLE_STEPS = (0, 1, 10, 50, 100)  # the steps the E_total table shows
SHOWN_LR = 0.5  # the rate whose first spreadsheet rows the README shows
SHOWN_ROWS = 4  # steps 0..3
REPLAY_TOLERANCE = 1e-12  # stored curve vs archs.toy replay (libm may differ by an ulp)
DPI = 120


@dataclass(frozen=True)
class Sweep:
    """The stored curves and their replays, keyed by learning rate (ascending)."""

    study_name: str
    curves: dict[float, list[float]]  # stored E_total at steps 0..steps
    rows: dict[float, list[dict[str, float]]]  # archs.toy.descend rows, matching curves
    sheet_curves: dict[float, list[float]]  # E_total when the sheet's formulas drive descent

    @property
    def rates(self) -> list[float]:
        return list(self.curves)

    @property
    def steps(self) -> int:
        return len(next(iter(self.curves.values()))) - 1


def load_sweep(optuna_study: optuna.Study) -> Sweep:
    """One curve per learning rate from the COMPLETE trials (the first trial of each rate)."""
    trials = optuna_study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    curves: dict[float, list[float]] = {}
    for trial in sorted(trials, key=lambda t: (t.params["lr"], t.number)):
        values = trial.intermediate_values
        curves.setdefault(trial.params["lr"], [values[step] for step in sorted(values)])
    if not curves:
        raise UsageError(
            f"study {optuna_study.study_name!r} has no complete trials;"
            f" run python -m search.run --study {optuna_study.study_name} first"
        )
    rows, sheet_curves = {}, {}
    for lr, curve in curves.items():
        rows[lr] = descend(lr, len(curve) - 1)
        replayed = [row["E_total"] for row in rows[lr]]
        if any(abs(a - b) > REPLAY_TOLERANCE for a, b in zip(curve, replayed, strict=True)):
            raise UsageError(
                f"study {optuna_study.study_name!r}: the stored curve for lr={lr} differs from"
                " archs.toy's replay; the storage holds another network's run, so rerun the study"
            )
        sheet_rows = descend(lr, len(curve) - 1, grad_fn=sheet_gradients)
        sheet_curves[lr] = [row["E_total"] for row in sheet_rows]
    return Sweep(optuna_study.study_name, curves, rows, sheet_curves)


def e_total_frame(sweep: Sweep) -> pd.DataFrame:
    steps = [step for step in TABLE_STEPS if step <= sweep.steps]
    return pd.DataFrame(
        [[lr, *(sweep.curves[lr][step] for step in steps)] for lr in sweep.rates],
        columns=["lr", *(f"step {step}" for step in steps)],
    )


def steps_frame(sweep: Sweep, lr: float) -> pd.DataFrame:
    frame = pd.DataFrame(sweep.rows[lr], columns=list(COLUMNS))
    frame.insert(0, "step", range(len(frame)))
    return frame


def sheet_effect_frame(sweep: Sweep) -> pd.DataFrame:
    records = []
    for lr in sweep.rates:
        correct, sheet = sweep.curves[lr], sweep.sheet_curves[lr]
        gaps = [s - c for c, s in zip(correct, sheet, strict=True)]
        worst = max(range(len(gaps)), key=lambda step: abs(gaps[step]))
        records.append(
            {
                "lr": lr,
                "correct E_total at 100": correct[-1],
                "sheet E_total at 100": sheet[-1],
                "sheet - correct at 100": gaps[-1],
                "sheet / correct at 100": sheet[-1] / correct[-1],
                "largest gap": gaps[worst],
                "largest gap at step": worst,
                "sheet rises at steps": rises(sheet),
            }
        )
    return pd.DataFrame(records)


SHEET_ERRORS = {  # the sheet's wrong formulas, by the gradient indices they touch
    "only dE/dw6 (h2 for a_h2)": (5,),
    "only dE/dw7, dE/dw8 (swapped)": (6, 7),
    "only dE/dw1, dE/dw2 (a_o2·(1 − a_o1))": (0, 1),
}


def one_error(indices: tuple[int, ...]) -> GradientFunction:
    """Correct gradients except at `indices`, where the sheet's formulas are used."""

    def grad_fn(weights: Weights) -> Weights:
        pairs = zip(gradients(weights), sheet_gradients(weights), strict=True)
        return tuple(s if k in indices else c for k, (c, s) in enumerate(pairs))

    return grad_fn


def errors_alone_frame(sweep: Sweep) -> pd.DataFrame:
    """E_total after the last step with each sheet error alone, beside none and all four."""
    records = []
    for lr in sweep.rates:
        record = {"lr": lr, "correct": sweep.curves[lr][-1]}
        for label, indices in SHEET_ERRORS.items():
            record[label] = descend(lr, sweep.steps, grad_fn=one_error(indices))[-1]["E_total"]
        record["all four (the sheet)"] = sweep.sheet_curves[lr][-1]
        records.append(record)
    return pd.DataFrame(records)


def rises(curve: list[float]) -> str:
    """Steps k where E_total after k updates is above that after k − 1, as ranges ("none")."""
    found = [step for step in range(1, len(curve)) if curve[step] > curve[step - 1]]
    if not found:
        return "none"
    runs: list[list[int]] = []
    for step in found:
        if runs and step == runs[-1][-1] + 1:
            runs[-1].append(step)
        else:
            runs.append([step])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def long_frame(curves: dict[float, list[float]], label: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"lr": str(lr), "step": step, "E_total": value, "gradients": label}
            for lr, curve in curves.items()
            for step, value in enumerate(curve)
        ]
    )


def plot_curves(sweep: Sweep, path: Path) -> Path:
    import matplotlib.pyplot as plt
    import seaborn as sns

    with sns.axes_style("whitegrid"):
        figure, axes = plt.subplots(figsize=(8.5, 4.5))
        sns.lineplot(
            data=long_frame(sweep.curves, "correct"),
            x="step",
            y="E_total",
            hue="lr",
            palette="viridis",
            ax=axes,
        )
        axes.set(xlabel="update step", ylabel="E_total", xlim=(0, sweep.steps), ylim=(0, None))
        axes.set_title(f"{sweep.study_name}: E_total over gradient-descent steps")
        sns.move_legend(axes, "upper left", bbox_to_anchor=(1.0, 1.0), title="learning rate")
        figure.tight_layout()
        figure.savefig(path, dpi=DPI)
        plt.close(figure)
    return path


def plot_small_multiples(sweep: Sweep, path: Path) -> Path:
    import matplotlib.pyplot as plt
    import seaborn as sns

    frame = pd.concat(
        [
            long_frame(sweep.curves, "correct (archs.toy)"),
            long_frame(sweep.sheet_curves, "reference sheet's formulas"),
        ]
    )
    with sns.axes_style("whitegrid"):
        grid = sns.relplot(
            data=frame,
            x="step",
            y="E_total",
            col="lr",
            col_wrap=3,
            style="gradients",
            kind="line",
            color="C0",
            height=2.6,
            aspect=1.25,
            facet_kws={"sharey": True, "xlim": (0, sweep.steps)},
        )
        grid.set_titles("lr = {col_name}")
        grid.set_axis_labels("update step", "E_total")
        grid.figure.savefig(path, dpi=DPI)
        plt.close(grid.figure)
    return path


def render_lr_sweep(optuna_study: optuna.Study, out_dir: Path, header: str) -> list[Path]:
    """Write the lr-sweep report into out_dir; `header` opens README.md (title, provenance)."""
    import matplotlib

    matplotlib.use("Agg")
    sweep = load_sweep(optuna_study)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        plot_curves(sweep, out_dir / "curves.png"),
        plot_small_multiples(sweep, out_dir / "small_multiples.png"),
    ]
    tables = {
        "e_total_table.csv": e_total_frame(sweep),
        "sheet_effect.csv": sheet_effect_frame(sweep),
    }
    tables.update({f"steps_lr{lr}.csv": steps_frame(sweep, lr) for lr in sweep.rates})
    for name, frame in tables.items():
        frame.to_csv(out_dir / name, index=False)
        written.append(out_dir / name)
    shown = SHOWN_LR if SHOWN_LR in sweep.rates else sweep.rates[0]
    sections = [
        header.rstrip(),
        text.overview(sweep.rates, sweep.steps),
        text.e_total_section(markdown_table(e_total_frame(sweep), text.E_TOTAL_FORMATS)),
        text.backprop_section(sweep.rows[shown], shown),
        text.curves_section(sweep.curves),
        sheet.spreadsheet_section(shown, steps_frame(sweep, shown).head(SHOWN_ROWS)),
        sheet.sheet_section(
            sweep.curves, sweep.sheet_curves, sheet_effect_frame(sweep), errors_alone_frame(sweep)
        ),
    ]
    readme = out_dir / "README.md"
    readme.write_text("\n\n".join(sections) + "\n")
    return [readme, *written]
