"""Helpers of tests/reports/test_report.py: a study whose trials fail and get pruned; tables.

`FAULTY` runs five trials with the real runner: 0 and 4 complete, 1 raises in `sample` (FAIL),
2 is over the parameter limit (PRUNED before training), 3 is pruned by its pruner after epoch 1.
`table(markdown, first)` reads a rendered markdown table back into row dicts.
"""

from __future__ import annotations

import re

import optuna
from optuna.trial import TrialState

from archs import BASELINE, ArchSpec, Transition
from search.study.definitions import CnnStudy, Proposal
from search.study.recipe import REFERENCE_RECIPE

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDE = ArchSpec(blocks=((16, 32, 32), (32, 32)), transitions=(Transition(width=16),))  # 29,178
FAULTY_FAIL, FAULTY_LIMIT, FAULTY_PRUNED = 1, 2, 3  # trial numbers of the faulty study


class PruneTrialThree(optuna.pruners.BasePruner):
    def prune(self, study, trial) -> bool:
        return trial.number == FAULTY_PRUNED


def faulty_sample(trial) -> Proposal:
    trial.suggest_int("x", 0, 1)
    if trial.number == FAULTY_FAIL:
        raise RuntimeError("boom")
    spec = WIDE if trial.number == FAULTY_LIMIT else BASELINE
    return Proposal(spec, REFERENCE_RECIPE)


FAULTY = CnnStudy(
    name="faulty",
    description="a failed, a limit-pruned and a pruner-pruned trial",
    direction="maximize",
    n_trials=3,  # trials 0, 3, 4 (1 fails and is replaced; 2 is rejected before training: free)
    seed=1,
    make_sampler=lambda seed: optuna.samplers.RandomSampler(seed=seed),
    make_pruner=lambda seed: PruneTrialThree(),
    sample=faulty_sample,
)


def trials_of(built: dict, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=built["url"])
    return [t for t in study.trials if t.state != TrialState.WAITING]


def cells(line: str) -> list[str]:
    parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [part.strip().replace("\\|", "|") for part in parts]


def table(markdown: str, first: str) -> list[dict[str, str]]:
    """The rows of the markdown table whose first header cell is `first`."""
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("|") and cells(line)[0] == first:
            header, rows = cells(line), []
            for row in lines[index + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(dict(zip(header, cells(row), strict=True)))
            return rows
    raise AssertionError(f"no table starting with {first!r}")


def readme(built: dict, name: str) -> str:
    return (built["out"] / name / "README.md").read_text()


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def best_val(trial) -> float | None:
    return max((v for v in trial.user_attrs.get("val_acc") or [] if v is not None), default=None)
