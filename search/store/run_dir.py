"""The run folder: the default SQLite storage, trial weights and worker locks live in it.

`--run-dir DIR` (accepted by every command), else $SEARCH_RUN_DIR, else ./runs. A command that is
given `--run-dir` sets $SEARCH_RUN_DIR (made absolute) for itself and the worker processes it
starts, so every layer reads the folder from here and nothing else names `runs/`.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "SEARCH_RUN_DIR"
DEFAULT = "runs"
HELP = "folder for the default storage, weights and locks (default: $SEARCH_RUN_DIR, else ./runs)"


def run_dir() -> Path:
    return Path(os.environ.get(ENV) or DEFAULT)


def use(folder: str | None) -> None:
    """Make `folder` (when given) the run folder of this process and of the ones it starts."""
    if folder:
        os.environ[ENV] = str(Path(folder).resolve())


def default_storage() -> str:
    """The embedded SQLite file in the run folder (sqlite:///runs/optuna.sqlite3 by default)."""
    return f"sqlite:///{run_dir() / 'optuna.sqlite3'}"


def weights_dir() -> Path:
    return run_dir() / "weights"


def locks_dir() -> Path:
    return run_dir() / "locks"


def reports_dir() -> Path:
    """Where `python -m search.report` writes by default (the committed reports/ is explicit)."""
    return run_dir() / "reports"
