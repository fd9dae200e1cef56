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
from search.reports.ablation import base_text
from search.reports.data import pareto_front
from search.reports.stats import chance_exclusions, paired_deltas, paired_interval, verdict

REPO = Path(__file__).resolve().parents[2]


def test_paired_interval_by_hand():
    # deltas 0.1, 0.2, 0.3: mean 0.2, sd 0.1, se 0.1/sqrt(3), t(0.975, 2) = 4.3026527
    interval = paired_interval([0.1, 0.2, 0.3])
    assert (interval.n, interval.df) == (3, 2)
    assert interval.delta == pytest.approx(0.2, abs=1e-12)
    half = 4.3026527 * 0.1 / math.sqrt(3)
    assert (interval.low, interval.high) == pytest.approx((0.2 - half, 0.2 + half), abs=1e-6)
    assert (round(interval.low, 3), round(interval.high, 3)) == (-0.048, 0.448)
    assert paired_interval([0.4]) is None
    assert paired_deltas({1: 99.0, 2: 99.1, 3: 99.2}, {2: 99.3, 3: 99.0, 4: 98.0}) == {
        2: pytest.approx(0.2),
        3: pytest.approx(-0.2),
    }


def test_verdicts_in_words():
    assert verdict([0.1, 0.2, 0.3]) == "no detectable effect at n = 3 (delta +0.20 [-0.05, +0.45])"
    # mean -0.21, squared deviations sum 0.0068, sd sqrt(0.0017) = 0.041231, se 0.018439,
    # t(0.975, 4) = 2.7764451: half 0.051195 -> [-0.2612, -0.1588]
    assert verdict([-0.16, -0.26, -0.21, -0.18, -0.24]) == (
        "lowers accuracy by 0.21 [0.16, 0.26] points"
    )
    assert verdict([0.16, 0.26, 0.21, 0.18, 0.24]) == "raises accuracy by 0.21 [0.16, 0.26] points"
    assert verdict([0.05]) == "one pair only (delta +0.05): no interval"
    assert verdict([]) == "no pair with the base"
    # two seeds that both moved by 0.08 (99.40 - 99.48, 99.38 - 99.46: floats a hair apart) give
    # a zero-width interval, which would read as certainty: no interval is claimed
    assert verdict([99.40 - 99.48, 99.38 - 99.46]) == (
        "every seed moved by the same -0.08 (no spread at n = 2, so no interval)"
    )
    assert verdict([-0.08, -0.02]).startswith("no detectable effect at n = 2")


def test_a_base_stored_before_its_about_is_named_from_the_study_name():
    """Studies stored before 2026-11-28 carry no `about`: the report reads the name instead."""
    pinned = "the pinned baseline (archs.BASELINE) with the reference recipe"
    assert base_text("ablation") == pinned
    assert base_text("ablation.cnn20k-trial25") == (
        "trial 25 of study cnn20k, its stored spec and recipe"
    )
    assert base_text("ablation.spec-3ecb") == (
        "the net from the file `spec` given as --base (spec hash 3ecb), with the recipe the file"
        " carried"
    )
    assert base_text("ablation+recipe-0f0f").endswith("with the recipe given by --recipe")


def test_chance_exclusions_of_k_intervals():
    expected, at_least_one = chance_exclusions(6)
    assert expected == pytest.approx(0.3)
    assert at_least_one == pytest.approx(1 - 0.95**6)  # 0.2649


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


def test_the_default_output_is_the_run_folder_not_the_committed_reports(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    optuna.create_study(study_name="fresh", storage=url)
    result = run_cli(["--storage", url], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "runs" / "reports" / "fresh" / "README.md").is_file()
    assert not (tmp_path / "reports").exists()


def test_a_report_of_another_storage_is_not_replaced_without_force(tmp_path, capsys):
    mine, theirs = f"sqlite:///{tmp_path / 'mine.db'}", f"sqlite:///{tmp_path / 'theirs.db'}"
    for url in (mine, theirs):
        name = Path(url.removeprefix("sqlite:///")).name
        optuna.create_study(study_name="fresh", storage=url).set_user_attr("uuid", name)
    out = tmp_path / "out"
    assert main(["--storage", theirs, "--out", str(out)]) == 0
    published = (out / "fresh" / "data.json").read_text()
    assert main(["--storage", theirs, "--out", str(out)]) == 0  # its own: re-rendered
    capsys.readouterr()
    assert main(["--storage", mine, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.splitlines() == [
        f"python -m search.report: error: {out / 'fresh'} holds a report of another storage's"
        f" study 'fresh' ({theirs}); pass --force to replace it, or --out another folder"
    ]
    assert json.loads((out / "fresh" / "data.json").read_text())["uuid"] == "theirs.db"
    assert json.loads(published)["uuid"] == "theirs.db"
    assert main(["--storage", mine, "--out", str(out), "--force"]) == 0
    assert json.loads((out / "fresh" / "data.json").read_text())["uuid"] == "mine.db"


def test_an_output_path_that_is_a_file_is_refused(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    optuna.create_study(study_name="fresh", storage=url)
    a_file = tmp_path / "file.txt"
    a_file.write_text("mine")
    assert main(["--storage", url, "--out", str(a_file)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"python -m search.report: error: --out: {a_file} is a file, not a folder; name a folder"
    ]
    assert a_file.read_text() == "mine"


def test_an_unfinished_confirmation_says_how_to_finish_it(tmp_path):
    from optuna.distributions import IntDistribution

    from search.reports.search import images_text, unfinished_text

    companion = optuna.create_study(storage=f"sqlite:///{tmp_path / 'c.db'}", study_name="s.c")
    space = {"source_trial": IntDistribution(0, 99), "seed": IntDistribution(0, 99)}
    companion.add_trial(
        optuna.trial.create_trial(
            params={"source_trial": 3, "seed": 1}, distributions=space, value=99.0
        )  # fmt: skip
    )
    assert unfinished_text(companion, "s") == ""
    companion.enqueue_trial({"source_trial": 3, "seed": 2})
    assert unfinished_text(companion, "s") == (
        "\n\n**Unfinished:** 1 of 2 confirmation runs are complete; the rows above average the"
        " finished ones only. Finish them with `python -m search.run --study s --confirm 1`."
    )
    assert images_text([{"train_images": 60_000}]) == "all 60,000 training images"
    assert images_text([{"train_images": 3_000}]) == (
        "3,000 training images (not all 60,000: --train-limit)"
    )
