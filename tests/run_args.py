"""Command lines for `python -m search.run`, run options and trial filters shared by the tests."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

from optuna.trial import FrozenTrial, TrialState

from search.study.definitions import RunOptions

# Tiny runs evaluate on the first 1,000 test images (--test-limit): all 10,000 would take most of
# their time, and their accuracies are checked for being stored and reported, not for being high.
TEST_LIMIT = 1000
QUICK_TEST = ["--test-limit", str(TEST_LIMIT)]


def tiny_options(tmp_path: Path, data_root: Path, **changes) -> RunOptions:
    """One epoch on the first 256 training images (200 for validation) and 1,000 test images, on
    CPU, in tmp_path."""
    values = dict(
        storage=f"sqlite:///{tmp_path / 'runs.db'}",
        data_root=str(data_root),
        device="cpu",
        epochs=1,
        train_limit=256,
        test_limit=TEST_LIMIT,
        val_size=200,
    )
    return RunOptions(**{**values, **changes})


def baseline_args(
    url: str, data_root, seeds: tuple[int, ...], epochs: int, train_limit: int, workers: int
) -> list[str]:
    """The baseline repeat study on the first `train_limit` images (1,000 test), plain output."""
    return [
        "--study", "baseline", "--storage", url, "--data-root", str(data_root),
        "--seeds", *map(str, seeds), "--epochs", str(epochs), "--train-limit", str(train_limit),
        "--workers", str(workers), "--plain", *QUICK_TEST,
    ]  # fmt: skip


def trained(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """Finished trials that used a search's budget: not those rejected before training."""
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    return [t for t in finished if t.user_attrs.get("end_kind") not in ("limit", "invalid")]


def search_run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python -m search.run ARGS` in `cwd`, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "search.run", *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def run_here(
    args: list[str], cwd: Path, env: dict | None = None, entry=None
) -> subprocess.CompletedProcess:
    """`python -m search.run ARGS` run by its `main` in this process, from `cwd` (or another
    command, `entry` being its `main`): the same exit status, stdout and stderr without a new
    interpreter's start-up (torch, its compiler stack and the storage layer: ~4 s of CPU a run
    on 2 cores). The launcher runs here; the workers of a `--workers N` run are real
    processes. What this process's environment, folder, torch threads and signal handlers were
    is restored after; `env` is added to the environment meanwhile."""
    import torch

    from search.run import main as run_main

    main = entry or run_main
    out, err = io.StringIO(), io.StringIO()
    environ, here, threads = dict(os.environ), Path.cwd(), torch.get_num_threads()
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        os.chdir(cwd)
        os.environ.update(env or {})
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exited:  # argparse's usage errors and --help
                code = exited.code
    finally:
        os.chdir(here)
        os.environ.clear()
        os.environ.update(environ)
        torch.set_num_threads(threads)
        for number, handler in handlers.items():
            signal.signal(number, handler)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    """The single stderr line of a command that exited 2, checked to hold each of `words`."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]
