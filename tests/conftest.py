"""Shared fixtures: where the real MNIST files are, and the arrays loaded from them once.

The data root is $MNIST_ROOT, else the repository's sibling `../shared/data`. When the four idx
files are not there, tests that need them skip, except under REQUIRE_MNIST=1 (CI sets it), where
they fail: a real-data test must never be skipped silently in CI. No test may reach a public
mirror: MNIST_OFFLINE=1 is set for the whole run (and the processes it starts); the fetch tests
opt back in against a mirror they serve on 127.0.0.1. The processes the tests start import this
checkout's packages (PYTHONPATH), not whichever checkout an editable install points at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from search.engine.data import MnistArrays, load_mnist
from search.engine.idx import FILES

os.environ["MNIST_OFFLINE"] = "1"  # before any test runs; inherited by every subprocess
os.environ.pop("MNIST_MIRROR", None)

REPO_ROOT = Path(__file__).resolve().parents[1]
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)
SIBLING_DATA_ROOT = REPO_ROOT.parent / "shared" / "data"


def _has_mnist(root: Path) -> bool:
    raw = root / "MNIST" / "raw"
    return all(
        (raw / name).is_file() or (raw / f"{name}.gz").is_file() for name, _, _ in FILES.values()
    )


@pytest.fixture(scope="session")
def data_root() -> Path:
    """A data root holding MNIST/raw/ with the four idx files (skip or fail when absent)."""
    root = Path(os.environ.get("MNIST_ROOT") or SIBLING_DATA_ROOT)
    if not _has_mnist(root):
        message = f"MNIST files not found under {root / 'MNIST' / 'raw'}"
        if os.environ.get("REQUIRE_MNIST") == "1":
            pytest.fail(f"{message} (REQUIRE_MNIST=1: real-data tests must run)")
        pytest.skip(f"{message}; set MNIST_ROOT or REQUIRE_MNIST=1")
    return root


@pytest.fixture(scope="session")
def mnist_arrays(data_root: Path) -> MnistArrays:
    """The real dataset, read and validated once per session."""
    return load_mnist(data_root)


@pytest.fixture
def storage_url(tmp_path: Path) -> str:
    """A real SQLite storage with a study in every trial state (tests/console_data.py)."""
    from tests.console_data import demo_storage

    return demo_storage(tmp_path)
