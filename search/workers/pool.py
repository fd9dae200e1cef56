"""Many worker processes on one machine sharing one study through its storage.

The launcher starts N workers (`python -m search.worker`), each with cores // N torch threads,
and while they import it validates everything (study, options, data, storage), creates the study
and enqueues its fixed trials once; then it lets them go (bad input: they exit untouched).
Workers print their events as JSON lines; the launcher merges them into one console. Ctrl-C
(or SIGINT to the launcher) is forwarded to every worker: each marks its running trial FAIL and
enqueues it again, so no trial stays RUNNING and a rerun resumes. Workers on other machines run
the same command against the same server storage (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from dataclasses import asdict
from functools import partial

from search.console.choose import make_console
from search.engine import idx
from search.errors import StudyFailed
from search.events import Log
from search.runner.progress import confirm_after, untimed
from search.runner.session import open_study
from search.store.storage import open_storage
from search.study.definitions import RunOptions, StudyDef, validate_options
from search.workers.spawn import dismiss, fitted, label, noting, plural, reap, stop_unconfigured

STOP_GRACE_SECONDS = 60  # after Ctrl-C, how long workers get to record their trial


def threads_per_worker(workers: int, requested: int | None = None) -> int:
    return requested or max(1, (os.cpu_count() or 1) // workers)


def pool_size(study: StudyDef, options: RunOptions, workers: int, confirm: int | None) -> int:
    """The workers one pool starts: `workers`, but no more than the runs it has (its trial
    budget, or K winners x the confirmation seeds): a worker with nothing to run costs a
    start-up (~3 s of CPU), and the cores it would have used go to the others' threads."""
    runs = confirm * len(study.run_seeds(options)) if confirm else study.budget(options)
    return max(1, min(workers, runs))


def prepare(study: StudyDef, options: RunOptions, workers: int) -> None:
    """Everything a worker would fail on, checked once; then the study and its queue exist."""
    validate_options(study, options)
    if study.needs_data:
        idx.read_mnist(options.data_root, options.offline or None)  # fetches once, here
    open_study(study, options, workers)


def launch(
    study: StudyDef,
    options: RunOptions,
    workers: int,
    plain: bool = False,
    confirm: int | None = None,
    auto_confirm: bool = True,
    key: str | None = None,
    processes: list[subprocess.Popen] | None = None,
    note: str | None = None,
) -> int:
    """Run `study` (or its confirmation of the top `confirm` trials) on `workers` processes.

    `key` is the study's name in studies.STUDIES when it differs from the stored name (a study
    configured by options, such as an ablation of a stored trial). `processes`: workers already
    started (search.workers.spawn), used by the first pool. `note`: logged once, after the
    study's announcement (search.workers.spawn.noting).
    """
    early = [processes] if processes else []  # until the first pool takes them
    try:
        return _launch(study, options, workers, plain, confirm, auto_confirm, key, early, note)
    finally:
        if early:  # something failed before the first pool owned them
            dismiss(early.pop())


def _launch(study, options, workers, plain, confirm, auto_confirm, key, early: list, note) -> int:
    from search.reports.confirmations import confirmation_summaries, format_summary
    from search.runner.confirm import prepare_confirm
    from search.store.trials import load_existing

    with make_console(plain=plain) as console:
        emit = noting(console.emit, note)

        def pool(setup, confirm: int | None = None) -> int:
            name, started = key or study.name, early.pop() if early else None
            size = pool_size(study, options, workers, confirm)
            threads = threads_per_worker(size, options.threads)
            ready = partial(setup, size)  # the session records the workers that run
            return run_pool(name, options, size, threads, emit, confirm, ready, started)

        if confirm is None:
            code = pool(lambda size: prepare(study, options, size))
            stopped_by = _report_end(study, options, study.name, console.emit, code)
            if code == 1:
                raise StudyFailed(
                    f"{study.name}: stopped after repeated trial failures (see above)"
                )
            confirm = confirm_after(study, stopped_by, auto_confirm) if code == 0 else 0
            if not confirm:
                return code
            options = untimed(options)  # the winners' confirmation runs whole
        prepared = []  # the companion study, defined by its prepare (the top trials as stored)
        code = pool(
            lambda size: prepared.append(prepare_confirm(study, options, confirm, size)), confirm
        )
        companion = prepared[0]
        _report_end(companion, options, companion.name, console.emit)
        for row in confirmation_summaries(load_existing(companion.name, options)):
            console.emit(Log(format_summary(row)).to_dict())
        return code


def _report_end(study: StudyDef, options: RunOptions, name: str, emit, code: int = 0) -> str:
    """Emit how the run ended, judged from the storage; what stopped it."""
    import optuna

    from search.runner.progress import end_event

    stored = optuna.load_study(study_name=name, storage=open_storage(options.storage))
    event = end_event(study, options, stored, failed=code == 1)
    emit(event)
    return event["stopped_by"]


def run_pool(
    name: str,
    options: RunOptions,
    workers: int,
    threads: int,
    emit,
    confirm: int | None = None,
    prepare=lambda: None,
    processes: list[subprocess.Popen] | None = None,
) -> int:
    """Start `workers` workers (those in `processes`, started earlier, first), run `prepare`
    while they start up, let them go, merge their output, wait; 130 when interrupted, else the
    worst exit code.

    A worker's start-up (imports, ~2 s) overlaps the launcher's checks and study creation: each
    worker waits for its configuration (one JSON line) on stdin before it touches the storage.
    If `prepare` fails (bad input: one-line error, exit 2), the workers are stopped before they
    are configured (end-of-file, and SIGTERM for those still importing), having written nothing.
    """
    worker_options = asdict(options) | {"argv": None}  # the launcher recorded the session
    config = {"study": name, "options": worker_options, "threads": threads, "confirm": confirm}
    processes = fitted(processes or [], workers, label(name, options.storage))
    readers = _start_relays(processes, emit)
    try:
        _prepare_or_dismiss(prepare, processes)
        started = (
            f"starting {workers} worker{plural(workers)} x {threads} torch thread{plural(threads)}"
        )
        codes = _configure_and_wait(processes, config, emit, started)
    finally:
        for reader in readers:
            reader.join(timeout=5)
    return _pool_status(codes, emit)


def _start_relays(processes: list[subprocess.Popen], emit) -> list[threading.Thread]:
    """One daemon thread per worker stream, merging every line into `emit`, started."""
    lock = threading.Lock()
    pool_emit = _once_per_pool(emit)
    readers = [
        threading.Thread(
            target=_relay, args=(stream, index, pool_emit, lock, is_json), daemon=True
        )
        for index, process in enumerate(processes)
        for stream, is_json in ((process.stdout, True), (process.stderr, False))
    ]
    for reader in readers:
        reader.start()
    return readers


def _prepare_or_dismiss(prepare, processes: list[subprocess.Popen]) -> None:
    """Run `prepare`; if it fails, stop every worker, unconfigured, and wait for all (their
    pipes stay open: the relay threads read them to the end)."""
    try:
        prepare()
    except BaseException:  # bad input or Ctrl-C
        stop_unconfigured(processes)
        raise


def _configure_and_wait(
    processes: list[subprocess.Popen], config: dict, emit, started: str
) -> list[int]:
    """Let each worker go with its configuration and wait for all; on Ctrl-C, stop them."""
    try:
        emit(Log(started).to_dict())
        for index, process in enumerate(processes):
            _release(process, {**config, "worker": index})
        return [process.wait() for process in processes]
    except KeyboardInterrupt:
        stop(processes)
        raise


def _pool_status(codes: list[int], emit) -> int:
    """2 when any worker had bad input, 0 when all succeeded, else 1; odd exits are logged."""
    for index, code in enumerate(codes):
        if code not in (0, 2):
            emit(Log(f"worker {index} ended with status {code}").to_dict())
    if any(code == 2 for code in codes):
        return 2
    return 0 if all(code == 0 for code in codes) else 1


def _release(process: subprocess.Popen, config: dict | None) -> None:
    """Let a waiting worker go (its configuration, one JSON line) or exit (end-of-file)."""
    with contextlib.suppress(OSError):  # a worker that already died: its exit code tells
        try:
            if config is not None:
                process.stdin.write(json.dumps(config) + "\n")
                process.stdin.flush()
        finally:
            process.stdin.close()


def _once_per_pool(emit):
    """Every worker announces the study and its end; the merged view shows each once."""
    seen: set[str] = set()

    def filtered(event: dict) -> None:
        kind = event.get("type")
        if kind == "done" or (kind == "study" and kind in seen):
            return  # the launcher reports the end itself, from the storage
        seen.add(kind)
        emit(event)

    return filtered


def stop(processes: list[subprocess.Popen]) -> None:
    """SIGINT every worker, give them time to record their trials, then kill stragglers."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    reap(processes, STOP_GRACE_SECONDS)


def _relay(stream, index: int, emit, lock: threading.Lock, is_json: bool) -> None:
    """Worker output -> console events, one whole line at a time (never interleaved)."""
    for line in stream:
        line = line.rstrip("\n")
        if not line:
            continue
        try:
            event = json.loads(line) if is_json else None
        except json.JSONDecodeError:
            event = None
        if not isinstance(event, dict):
            event = Log(f"worker {index}: {line}").to_dict()
        event.setdefault("worker", index)
        with lock:
            emit(event)
