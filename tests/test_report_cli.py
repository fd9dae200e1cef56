"""The report's pure parts (Welch interval, Pareto front) and its CLI errors, on hand-made data.

Each error is one line on stderr, exit status 2, and nothing written (no storage file created, no
report folder).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from search.report import main
from search.report_data import pareto_front
from search.report_stats import welch_interval

REPO = Path(__file__).resolve().parents[1]


def test_welch_interval_by_hand():
    # equal n and variances: delta 1, se^2 = 1/3 + 1/3, df = 4 exactly, t(0.975, 4) = 2.7764451
    half = 2.7764451 * math.sqrt(2 / 3)
    for use_scipy in (True, False):
        interval = welch_interval([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], use_scipy=use_scipy)
        assert interval.delta == 1.0 and interval.df == pytest.approx(4.0, abs=1e-12)
        assert (interval.low, interval.high) == pytest.approx((1 - half, 1 + half), abs=1e-6)
    # unequal: delta 3, se^2 = 1/3 + 2/2 = 4/3, df = (4/3)^2 / ((1/3)^2/2 + 1^2/1) = 32/19
    scipy_interval = welch_interval([1.0, 2.0, 3.0], [4.0, 6.0])
    assert scipy_interval.df == pytest.approx(32 / 19, abs=1e-12)
    assert scipy_interval.method == "scipy"
    assert scipy_interval.high - 3 == pytest.approx(5.1762316 * math.sqrt(4 / 3), abs=1e-6)
    table_interval = welch_interval([1.0, 2.0, 3.0], [4.0, 6.0], use_scipy=False)
    assert table_interval.method == "t table (df rounded down)"  # df 1: 12.7062047
    assert table_interval.low == pytest.approx(3 - 12.7062047 * math.sqrt(4 / 3), abs=1e-6)
    assert welch_interval([1.0], [2.0, 3.0]) is None


def test_pareto_front_keeps_points_nothing_beats():
    points = [(100, 90.0), (200, 95.0), (150, 80.0), (300, 94.0), (50, 85.0), (200, 93.0)]
    assert pareto_front(points) == [(50, 85.0), (100, 90.0), (200, 95.0)]


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search.report", *args],
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_empty_storage_is_one_line_and_exit_2(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    optuna.storages.RDBStorage(url)  # tables, no study
    result = run_cli(["--storage", url, "--out", str(tmp_path / "out")], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"python -m search.report: error: no studies in storage {url}:"
        " run python -m search.run --study NAME first"
    ]
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()


def test_missing_storage_file_is_not_created(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'nothing.db'}"
    assert main(["--storage", url, "--out", str(tmp_path / "out")]) == 2
    assert f"no storage file at {tmp_path / 'nothing.db'}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_unknown_study_lists_the_stored_ones(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    for name in ("cnn20k", "cnn20k.confirm"):
        optuna.create_study(study_name=name, storage=url)
    out = tmp_path / "out"
    assert main(["--storage", url, "--study", "nope", "cnn20k", "--out", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"python -m search.report: error: no study 'nope' in {url}; studies there:"
        " cnn20k, cnn20k.confirm"
    ]
    assert main(["--storage", url, "--study", "cnn20k.confirm", "--out", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "python -m search.report: error: cnn20k.confirm is rendered inside cnn20k's report;"
        " use --study cnn20k"
    ]
    assert not out.exists()


def test_study_with_no_trials_renders_a_short_report(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    optuna.create_study(study_name="fresh", storage=url)
    assert main(["--storage", url, "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.startswith(
        f"wrote {tmp_path / 'out' / 'fresh'}/ (empty report,"
    )
    text = (tmp_path / "out" / "fresh" / "README.md").read_text()
    assert text.startswith("# fresh\n") and text.rstrip().endswith("No trials yet.")
    data = json.loads((tmp_path / "out" / "fresh" / "data.json").read_text())
    assert (data["kind"], data["trials"], data["summary"]) == ("empty", [], None)
