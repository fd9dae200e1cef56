"""Optuna storages from a URL: the embedded SQLite default, any RDB URL, or a journal file.

RDB storages (SQLite, PostgreSQL, MySQL) get heartbeats: a trial whose worker died (SIGKILL,
machine loss) is marked FAIL once its heartbeat is older than the grace period, and retried once.
`journal:PATH` opens Optuna's journal file storage (no heartbeats there).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections import OrderedDict
from pathlib import Path

import optuna

from search.errors import UsageError
from search.store.run_dir import default_storage

HEARTBEAT_SECONDS = 10  # a running trial writes a heartbeat this often
GRACE_SECONDS = 30  # a trial silent this long is stale: FAIL, then retried once
JOURNAL_PREFIX = "journal:"


def resolve_url(url: str | None) -> str:
    return url or os.environ.get("SEARCH_STORAGE") or default_storage()


_OPEN: OrderedDict[tuple, tuple[optuna.storages.BaseStorage, int | None]] = OrderedDict()
KEPT_OPEN = 4  # storages a process keeps open (a test run opens hundreds, one at a time)


def open_storage(url: str | None = None, heartbeat: bool = True) -> optuna.storages.BaseStorage:
    """The storage at `url`, opened once per process: a launch, its confirmation, a study's
    `--from` and the report share one connection pool. Connecting creates the tables (and the
    default storage's folder); UsageError when the URL is a bare path, names a folder that does
    not exist, or is unreachable. A new storage file is announced on stderr in one line."""
    url = resolve_url(url)
    path = storage_file(url)
    if ":memory:" in url:  # each opening is its own database
        return _connect(url, path, heartbeat)
    where = str(path.resolve()) if path is not None else url  # a relative path, where it is now
    key = (where, heartbeat, heartbeat_settings() if heartbeat else None)
    if key in _OPEN:
        storage, inode = _OPEN[key]
        if path is None or (path.exists() and path.stat().st_ino == inode):
            _OPEN.move_to_end(key)
            return storage
        del _OPEN[key]  # the file was removed or replaced since: open what is there now
    storage = _connect(url, path, heartbeat)
    _OPEN[key] = (storage, path.stat().st_ino if path is not None and path.exists() else None)
    while len(_OPEN) > KEPT_OPEN:
        _OPEN.popitem(last=False)
    return storage


def _connect(url: str, path: Path | None, heartbeat: bool) -> optuna.storages.BaseStorage:
    if "://" not in url and not url.startswith(JOURNAL_PREFIX):
        suggestion = f"sqlite:///{Path(url).resolve()}"
        raise UsageError(f"storage {url!r} is not a URL; for a SQLite file write {suggestion}")
    if path is not None:
        if url == default_storage():
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.parent.is_dir():
            raise UsageError(
                f"storage {url!r}: folder {path.parent} does not exist (a typo? a new storage"
                " goes in an existing folder)"
            )
        if not path.exists():
            print(f"new storage {url}", file=sys.stderr, flush=True)
    if url.startswith(JOURNAL_PREFIX):
        backend = optuna.storages.journal.JournalFileBackend(str(path))
        return optuna.storages.JournalStorage(backend)
    extra = {}
    if heartbeat:
        interval, grace = heartbeat_settings()
        extra = {
            "heartbeat_interval": interval,
            "grace_period": grace,
            "heartbeat_stale_trial_callback": _retry_once(),
        }
    engine = (
        {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    )
    try:
        with warnings.catch_warnings():  # heartbeats are marked experimental since v2.8
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine, **extra)
    except Exception as error:  # sqlalchemy errors: bad URL, refused connection, bad auth
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(
            f"storage {url!r} is unreachable or invalid ({first}); check the URL, that the server"
            " runs, and that the driver is installed (PostgreSQL: pip install '.[postgres]')"
        ) from None


def heartbeat_settings() -> tuple[int, int]:
    """(interval, grace) seconds; SEARCH_HEARTBEAT="interval,grace" overrides (tests use 1,4)."""
    text = os.environ.get("SEARCH_HEARTBEAT")
    if not text:
        return HEARTBEAT_SECONDS, GRACE_SECONDS
    try:
        interval, grace = (int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(
            f"SEARCH_HEARTBEAT must be 'interval,grace' in seconds, got {text!r}"
        ) from None
    return interval, grace


def _retry_once():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)


def study_names(storage: optuna.storages.BaseStorage) -> list[str]:
    """The storage's study names, in its order. Not from `get_all_study_summaries`: that reads
    every trial of every study, and the report asks once per study (seconds on a big storage)."""
    return optuna.study.get_all_study_names(storage)


def storage_file(url: str) -> Path | None:
    """The file behind a SQLite or journal URL (None for a server or an in-memory database)."""
    if url.startswith(JOURNAL_PREFIX):
        return Path(url[len(JOURNAL_PREFIX) :])
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        return Path(url[len("sqlite:///") :])
    return None


def require_existing(url: str) -> None:
    """UsageError, nothing created, if the URL names a storage file that does not exist (for
    commands that read a study: opening the URL would create an empty storage)."""
    path = storage_file(url)
    if path is not None and not path.is_file():
        raise UsageError(
            f"no storage file at {path} ({url}); run python -m search.run first"
            " or pass --storage URL"
        )
