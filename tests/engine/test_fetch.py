"""Fetching MNIST against a real HTTP mirror on 127.0.0.1 (tests/mirror.py), never a mock.

The mirror serves the real four files from $MNIST_ROOT, or a failure: a truncated body, a file
whose content has another hash, a 404, a connection that never answers. Every failure exits 2
with one line naming the file and the cause, and leaves nothing in the data root.
"""

from __future__ import annotations

import gzip
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from search.engine import fetch
from search.engine.data import load_mnist
from search.engine.idx import FILES
from tests.conftest import REPO_ROOT
from tests.mirror import Missing, Stall, Truncated, serve
from tests.run_args import one_line_error

NAMES = [name for name, _, _ in FILES.values()]
TRAIN_IMAGES = "train-images-idx3-ubyte"


@pytest.fixture(scope="module")
def originals(data_root) -> dict[str, bytes]:
    """The four real .gz files, by name (as a mirror serves them)."""
    raw = Path(data_root) / "MNIST" / "raw"
    return {f"{name}.gz": (raw / f"{name}.gz").read_bytes() for name in NAMES}


def online(mirror: str, **extra: str) -> dict[str, str]:
    """The environment of a command that may fetch, from `mirror` only."""
    environment = {**os.environ, "MNIST_MIRROR": mirror, "OMP_NUM_THREADS": "1", **extra}
    for name in ("MNIST_OFFLINE", "MNIST_ROOT"):
        environment.pop(name, None)
    return environment


def fetch_command(
    root: Path, environment: dict[str, str], **options
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search.data", "fetch", "--data-root", str(root)],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=120, **options,
    )  # fmt: skip


def test_the_pinned_hashes_are_those_of_the_real_files(originals):
    for name in NAMES:
        content = gzip.decompress(originals[f"{name}.gz"])
        assert fetch.content_sha256_bytes(content) == fetch.SHA256[name]


def test_fetch_command_writes_byte_identical_files_the_loader_reads(tmp_path, originals):
    root = tmp_path / "data"
    with serve(originals) as mirror:
        result = fetch_command(root, online(mirror))
    assert result.returncode == 0, result.stderr
    raw = root / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(originals)
    for name, body in originals.items():
        assert (raw / name).read_bytes() == body
    # not a terminal: one plain line per file, then the summary
    assert result.stderr.count("content SHA-256 ok") == 4
    assert "60,000 training and 10,000 test images" in result.stdout
    arrays = load_mnist(root, offline=True)
    assert (len(arrays.train_labels), len(arrays.test_labels)) == (60_000, 10_000)


def test_a_recompressed_copy_is_accepted_by_its_content(tmp_path, originals):
    served = dict(originals)
    content = gzip.decompress(originals[f"{TRAIN_IMAGES}.gz"])
    served[f"{TRAIN_IMAGES}.gz"] = gzip.compress(content, compresslevel=1)
    assert served[f"{TRAIN_IMAGES}.gz"] != originals[f"{TRAIN_IMAGES}.gz"]
    with serve(served) as mirror:
        result = fetch_command(tmp_path / "data", online(mirror))
    assert result.returncode == 0, result.stderr


def test_files_already_there_are_kept_and_only_the_missing_fetched(tmp_path, originals):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in NAMES[1:]:
        (raw / f"{name}.gz").write_bytes(originals[f"{name}.gz"])
    only_one = {f"{NAMES[0]}.gz": originals[f"{NAMES[0]}.gz"]}  # the others would be 404s
    with serve(only_one) as mirror:
        result = fetch_command(tmp_path / "data", online(mirror))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("content SHA-256 ok") == 1


def test_the_next_mirror_is_tried_after_a_failing_one(tmp_path, originals, monkeypatch):
    monkeypatch.delenv("MNIST_MIRROR", raising=False)
    with serve({}) as empty, serve(originals) as good:
        monkeypatch.setattr(fetch, "MIRRORS", (empty, good))
        said: list[str] = []
        fetch.fetch_missing(tmp_path / "raw", NAMES, said.append)
    assert len(said) == 4 and all(good in line for line in said)
    assert (tmp_path / "raw" / f"{TRAIN_IMAGES}.gz").read_bytes() == originals[
        f"{TRAIN_IMAGES}.gz"
    ]


FAILURES = {
    "truncated body": (lambda body: Truncated(body), "connection broken"),
    "wrong hash": (lambda body: gzip.compress(b"not mnist"), "is not the pinned"),
    "truncated file": (lambda body: body[: len(body) // 2], "truncated or corrupt"),
    "404": (lambda body: Missing(), "HTTP 404"),
    "no answer": (lambda body: Stall(), "timeout"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_each_failure_exits_2_with_one_line_and_leaves_nothing(tmp_path, originals, failure):
    make, cause = FAILURES[failure]
    served = dict(originals)
    served[f"{TRAIN_IMAGES}.gz"] = make(originals[f"{TRAIN_IMAGES}.gz"])
    with serve(served) as mirror:
        result = fetch_command(tmp_path / "data", online(mirror, MNIST_FETCH_TIMEOUT="1"))
    line = one_line_error(result, f"{TRAIN_IMAGES}.gz", cause, mirror)
    assert line.startswith("python -m search.data: error: cannot fetch MNIST file")
    assert list(tmp_path.iterdir()) == []  # not even the folders it made


def test_a_write_that_fails_midway_exits_2_and_leaves_nothing(tmp_path, originals):
    """A full disk, as the process sees one: a file-size limit below the training images."""

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    with serve(originals) as mirror:
        result = fetch_command(tmp_path / "data", online(mirror), preexec_fn=small_files)
    one_line_error(result, f"cannot write {tmp_path / 'data'}", "File too large")
    assert list(tmp_path.iterdir()) == []


def test_offline_never_fetches_and_says_what_to_do(tmp_path, originals):
    with serve(originals) as mirror:
        result = subprocess.run(
            [sys.executable, "-m", "search.run", "--study", "baseline", "--offline",
             "--data-root", str(tmp_path / "data"), "--storage", f"sqlite:///{tmp_path}/s.db"],
            cwd=REPO_ROOT, env=online(mirror), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    line = one_line_error(result, "MNIST files missing", "offline", "MNIST_MIRROR")
    assert "train-images-idx3-ubyte.gz" in line
    assert list(tmp_path.iterdir()) == []


def fresh_clone(folder: Path) -> Path:
    """The working tree's tracked files, copied where no ../shared lies beside them."""
    clone = folder / "clone"
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = REPO_ROOT / relative
        if source.is_file():
            (clone / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / relative)
    assert not (folder / "shared").exists()
    return clone


MAIN_COMMAND = [sys.executable, "-m", "search.run", "--study", "cnn20k"]
QUICK = ["--trials", "2", "--epochs", "1", "--train-limit", "2000", "--val-size", "500",
         "--test-limit", "1000", "--no-confirm", "--plain"]  # the README's smoke run  # fmt: skip


def test_the_readme_main_command_fetches_mnist_on_a_fresh_clone(tmp_path, originals):
    clone = fresh_clone(tmp_path)
    with serve(originals) as mirror:
        result = subprocess.run(
            MAIN_COMMAND + QUICK, cwd=clone, env=online(mirror),
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    raw = clone / "data" / "MNIST" / "raw"
    for name, body in originals.items():
        assert (raw / name).read_bytes() == body
    study = optuna.load_study(
        study_name="cnn20k", storage=f"sqlite:///{clone}/runs/optuna.sqlite3"
    )
    trained = [t for t in study.trials if t.user_attrs.get("train_steps", 0) > 0]
    assert len(trained) == 2


def test_the_main_command_against_a_truncating_mirror_exits_2_and_keeps_nothing(
    tmp_path, originals
):
    clone = fresh_clone(tmp_path)
    served = dict(originals)
    served[f"{TRAIN_IMAGES}.gz"] = Truncated(originals[f"{TRAIN_IMAGES}.gz"])
    with serve(served) as mirror:
        result = subprocess.run(
            MAIN_COMMAND + QUICK, cwd=clone, env=online(mirror),
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    one_line_error(result, f"{TRAIN_IMAGES}.gz", "connection broken")
    assert not (clone / "data").exists()
    assert not (clone / "runs").exists()
