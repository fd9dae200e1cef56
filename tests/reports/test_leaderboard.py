"""The leaderboard: rows ranked from a real storage, the rich table, and `python -m
search.leaderboard`."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import optuna
from rich.console import Console

from search.console.events import (
    leaderboard_table,
)
from search.reports.leaderboard import leaderboard_rows
from tests.console_data import (
    DEMO_ROWS,
    ROOT,
    cells,
    load,
)


def leaderboard_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "search.leaderboard", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_rows_rank_complete_then_trained_pruned_then_the_rest(storage_url):
    assert leaderboard_rows(load(storage_url, "demo")) == DEMO_ROWS
    assert leaderboard_rows(load(storage_url, "demo"), top=2) == DEMO_ROWS[:2]


def test_rows_of_a_minimize_study_rank_the_smallest_value_first(storage_url):
    rows = leaderboard_rows(load(storage_url, "toy"))
    assert [(r["rank"], r["trial"], r["summary"], r["value"], r["state"]) for r in rows] == [
        (1, 1, "lr=0.5", 0.05, "COMPLETE"),
        (2, 0, "lr=0.1", 0.30, "COMPLETE"),
        (3, 2, "lr=2", None, "FAIL"),
    ]


def test_cli_prints_the_leaderboard_from_storage(storage_url):
    done = leaderboard_cli("--study", "demo", "--storage", storage_url, "--top", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "demo: top 3 of 7 trials (2 complete, 3 pruned, 1 failed, 1 running)"
    assert cells(
        "1", "1", "8-16-16|P|T8|16-32|GAP", "10,066", "2.50M", "99.10", "98.95", "3/3", "complete"
    ).fullmatch(lines[3])
    assert cells(
        "2", "0", "8-16|P|16-32|GAP", "9,876", "1.23M", "98.50", "98.40", "2/2", "complete"
    ).fullmatch(lines[4])
    assert cells(
        "3",
        "5",
        "12-16|P|16-24|GAP",
        "8,000",
        "1.00M",
        "97.20",
        "-",
        "2/3",
        "pruned by MedianPruner at epoch 2",
    ).fullmatch(lines[5])
    assert len(lines) == 6 and done.stderr == ""
    assert "\x1b" not in done.stdout and max(len(line) for line in lines) <= 120


def test_cli_unknown_study_or_missing_storage_is_one_line_and_exit_2(storage_url, tmp_path):
    unknown = leaderboard_cli("--study", "nope", "--storage", storage_url)
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == (
        f"python -m search.leaderboard: error: no study 'nope' in"
        f" {storage_url}; studies there: demo, toy\n"
    )
    missing = tmp_path / "none" / "optuna.sqlite3"
    absent = leaderboard_cli("--study", "demo", "--storage", f"sqlite:///{missing}")
    assert (absent.returncode, absent.stdout, len(absent.stderr.splitlines())) == (2, "", 1)
    assert not missing.parent.exists()


def test_the_rich_leaderboard_shows_the_recipe_when_it_is_what_tells_rows_apart():
    def rendered(rows):
        out = Console(file=io.StringIO(), width=200, color_system=None)
        out.print(leaderboard_table(rows))
        return out.file.getvalue()

    assert "recipe" not in rendered(DEMO_ROWS)  # different specs: the spec column suffices
    same_spec = [
        {**row, "summary": "8-10|P|6|CR", "recipe": recipe}
        for row, recipe in zip(
            DEMO_ROWS[:2], ["adamw 0.0037 onecycle b32 rot15", "sgd 0.1 none b64"], strict=True
        )
    ]
    text = rendered(same_spec)
    assert "recipe" in text and "adamw 0.0037 onecycle b32 rot15" in text


def test_a_rejected_proposal_is_one_row_with_its_reason(tmp_path):
    """An invalid proposal has no spec: one row saying so, its reason in the end column, not
    its twenty-odd sampled parameters folded over several lines."""
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'r.db'}", study_name="r")
    params = {f"choice_{i}": i for i in range(20)}
    trial = optuna.trial.create_trial(
        params=params,
        distributions={k: optuna.distributions.IntDistribution(0, 30) for k in params},
        state=optuna.trial.TrialState.PRUNED,
        user_attrs={"end_kind": "invalid", "end_reason": "pruned: invalid spec: " + "x" * 150},
    )
    study.add_trial(trial)
    rows = leaderboard_rows(study)
    assert rows[0]["summary"] == "(invalid proposal)"
    out = Console(file=io.StringIO(), width=120, color_system=None)
    out.print(leaderboard_table(rows))
    body = [line for line in out.file.getvalue().splitlines() if line.strip()][2:]
    assert len(body) == 1 and "(invalid proposal)" in body[0] and "pruned: invalid" in body[0]
