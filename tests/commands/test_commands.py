"""`cnnsearch VERB`: every verb's --help is light and complete, and each verb runs for real."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from run_args import run_here

from search import commands
from search.commands import VERBS
from tests.conftest import REPO_ROOT

HEAVY = ("torch", "optuna", "pandas")
PROBE = """
import sys
from search.commands import main
try:
    main([{verb!r}, "--help"])
except SystemExit:
    pass
print("LOADED", [m for m in {heavy!r} if m in sys.modules])
"""


def cnnsearch(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search.commands", *args], cwd=cwd, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("verb", [v for v in VERBS if v != "data"])
def test_help_loads_no_heavy_library_and_documents_every_option(verb):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(verb=verb, heavy=HEAVY)], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout[-300:]
    assert f"usage: cnnsearch {verb}" in result.stdout


def parsers() -> dict[str, argparse.ArgumentParser]:
    from search import leaderboard, report, run

    return {
        "run": run.build_parser(),
        "report": report.build_parser(),
        "leaderboard": leaderboard.build_parser(),
    }


@pytest.mark.parametrize("verb", ["run", "report", "leaderboard"])
def test_every_option_has_help(verb):
    parser = parsers()[verb]
    missing = [a.option_strings for a in parser._actions if a.option_strings and not a.help]
    assert missing == []


def test_top_level_help_and_version(tmp_path):
    helped = cnnsearch(["--help"], tmp_path)
    assert helped.returncode == 0 and "usage: cnnsearch" in helped.stdout
    for verb in VERBS:
        assert f"\n  {verb} " in helped.stdout
    version = cnnsearch(["--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("cnnsearch ")


def test_every_verb_runs_for_real(tmp_path, data_root):
    url = f"sqlite:///{tmp_path / 's.db'}"
    listed = cnnsearch(["run", "--list"], tmp_path)  # one verb through `python -m`
    assert listed.returncode == 0 and "cnn20k" in listed.stdout

    def cnnsearch_(args: list[str]) -> subprocess.CompletedProcess:
        """The verb through the command's `main`, in this process: each verb's own interpreter
        would import torch again (~2 s each; the entry itself is tested above)."""
        return run_here(args, tmp_path, entry=commands.main)

    ran = cnnsearch_(["run", "--study", "lr-sweep", "--storage", url, "--plain"])
    assert ran.returncode == 0, ran.stderr
    board = cnnsearch_(["leaderboard", "--storage", url, "--format", "json"])
    assert board.returncode == 0, board.stderr
    assert [row["study"] for row in json.loads(board.stdout)] == ["lr-sweep"]
    assert json.loads(board.stdout)[0]["complete"] == 6
    rows = cnnsearch_(["leaderboard", "--study", "lr-sweep", "--storage", url, "--format", "csv"])
    assert rows.returncode == 0 and len(rows.stdout.strip().splitlines()) == 1 + 6
    out = tmp_path / "out"
    report = cnnsearch_(["report", "--storage", url, "--out", str(out)])
    assert report.returncode == 0 and (out / "lr-sweep" / "README.md").is_file()
    again = f"sqlite:///{tmp_path / 'again.db'}"  # the report's runs, restored elsewhere
    restored = cnnsearch_(["restore", str(out / "lr-sweep"), "--storage", again])
    assert restored.returncode == 0, restored.stderr
    board = cnnsearch_(["leaderboard", "--storage", again, "--format", "json"])
    assert json.loads(board.stdout)[0]["complete"] == 6
    shown = cnnsearch_(["show", "baseline", "--plain"])
    assert shown.returncode == 0 and "10,066" in shown.stdout
    data = cnnsearch_(["data", "fetch", "--data-root", str(data_root)])
    assert data.returncode == 0 and "60,000 training and 10,000 test images" in data.stdout
    bench = cnnsearch_(["bench", "--data-root", str(data_root), "--batches", "3", "--quick"])
    assert bench.returncode == 0, bench.stderr
    assert "img/s" in bench.stdout
    bad = cnnsearch_(["leaderboard", "--storage", f"sqlite:///{tmp_path / 'none.db'}"])
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1
