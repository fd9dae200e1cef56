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
import sys
import threading
from dataclasses import asdict

from search.console.choose import make_console
from search.engine import data as mnist
from search.errors import StudyFailed, UsageError
from search.runner.session import open_study, validate_options
from search.store.storage import open_storage
from search.study.definitions import CnnStudy, RunOptions, StudyDef
from search.workers.spawn import dismiss, label, reap, start_workers

STOP_GRACE_SECONDS = 60  # after Ctrl-C, how long workers get to record their trial


def threads_per_worker(workers: int, requested: int | None = None) -> int:
    return requested or max(1, (os.cpu_count() or 1) // workers)


def prepare(study: StudyDef, options: RunOptions, workers: int) -> None:
    """Everything a worker would fail on, checked once; then the study and its queue exist."""
    validate_options(study, options)
    if study.needs_data:
        mnist.load_mnist(options.data_root, options.offline or None)  # fetches once, here
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
) -> int:
    """Run `study` (or its confirmation of the top `confirm` trials) on `workers` processes.

    `key` is the study's name in studies.STUDIES when it differs from the stored name (a study
    configured by options, such as an ablation of a stored trial). `processes`: workers already
    started (search.workers.spawn), used by the first pool.
    """
    early = [processes] if processes else []  # until the first pool takes them
    try:
        return _launch(study, options, workers, plain, confirm, auto_confirm, key, early)
    finally:
        if early:  # something failed before the first pool owned them
            dismiss(early.pop())


def _launch(study, options, workers, plain, confirm, auto_confirm, key, early: list) -> int:
    from search.runner.confirm import (
        confirmation_summaries,
        format_summary,
        load_existing,
        prepare_confirm,
    )

    threads = threads_per_worker(workers, options.threads)
    with make_console(plain=plain) as console:

        def pool(setup, confirm: int | None = None) -> int:
            name, started = key or study.name, early.pop() if early else None
            return run_pool(name, options, workers, threads, console.emit, confirm, setup, started)

        if confirm is None:
            code = pool(lambda: prepare(study, options, workers))
            _report_end(study, options, study.name, console.emit, code)
            if code == 1:
                raise StudyFailed(
                    f"{study.name}: stopped after repeated trial failures (see above)"
                )
            if code != 0 or not auto_confirm or not _auto_confirm(study, options):
                return code
            confirm = study.confirm_top
        prepared = []  # the companion study, defined by its prepare (the top trials as stored)
        code = pool(
            lambda: prepared.append(prepare_confirm(study, options, confirm, workers)), confirm
        )
        companion = prepared[0]
        _report_end(companion, options, companion.name, console.emit)
        for row in confirmation_summaries(load_existing(companion.name, options)):
            console.emit({"type": "log", "message": format_summary(row)})
        return code


def _report_end(study: StudyDef, options: RunOptions, name: str, emit, code: int = 0) -> None:
    import optuna

    from search.runner.session import counts, stored_budget
    from search.store.budget import rejections_exhausted, used

    stored = optuna.load_study(study_name=name, storage=open_storage(options.storage))
    finished = counts(stored)
    budget = stored_budget(study, options, stored)
    free = study.rejections_free
    if used(finished, free) >= budget:
        stopped_by = "budget"
    elif code == 1:
        stopped_by = "failures"
    elif rejections_exhausted(finished, budget, free):
        stopped_by = "rejections"
    else:
        stopped_by = "interruption or timeout"
    emit(
        {
            "type": "done",
            "study": name,
            "counts": finished,
            "budget": budget,
            "rejections_free": free,
            "stopped_by": stopped_by,
        }
    )


def _auto_confirm(study: StudyDef, options: RunOptions) -> bool:
    from search.runner.session import budget_used

    return isinstance(study, CnnStudy) and study.confirm_top > 0 and budget_used(study, options)


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
    """Start the workers (or take `processes`, started earlier), run `prepare` while they start
    up, let them go, merge their output, wait; 130 when interrupted, else the worst exit code.

    A worker's start-up (imports, ~2 s) overlaps the launcher's checks and study creation: each
    worker waits for its configuration (one JSON line) on stdin before it touches the storage.
    If `prepare` fails (bad input: one-line error, exit 2), the workers read end-of-file instead
    and exit at once, having written nothing.
    """
    lock = threading.Lock()
    worker_options = asdict(options) | {"argv": None}  # the launcher recorded the session
    config = {"study": name, "options": worker_options, "threads": threads, "confirm": confirm}
    processes = processes or start_workers(workers, label(name, options.storage))
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
    try:
        try:
            prepare()
        except BaseException:  # bad input or Ctrl-C: the workers exit at their first read
            for process in processes:
                _release(process, None)
            for process in processes:
                process.wait()
            raise
        started = f"starting {workers} workers x {threads} torch threads"
        try:
            emit({"type": "log", "message": started})
            for index, process in enumerate(processes):
                _release(process, {**config, "worker": index})
            codes = [process.wait() for process in processes]
        except KeyboardInterrupt:
            stop(processes)
            raise
    finally:
        for reader in readers:
            reader.join(timeout=5)
    for index, code in enumerate(codes):
        if code not in (0, 2):
            emit({"type": "log", "message": f"worker {index} ended with status {code}"})
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
            event = {"type": "log", "message": f"worker {index}: {line}"}
        event.setdefault("worker", index)
        with lock:
            emit(event)


def _orphan_aware_stop(launcher: int):
    """SIGINT/SIGTERM handler: interrupt once, then ignore further signals, so a second one
    cannot break the storage writes that record the interrupted trial (seen when the launcher
    dies). If the launcher is gone, first point stdout and stderr at /dev/null, so nothing that
    records the trial dies writing into a closed pipe."""

    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if os.getppid() != launcher:
            _silence_output()
        raise KeyboardInterrupt

    return handler


def _silence_output() -> None:
    """Point this process's stdout and stderr at /dev/null: the launcher reading them is gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())


class JsonLines:
    """A worker's events as JSON lines; if the launcher is gone, go quiet instead of failing
    the trial in the middle of training (the launcher's death signal stops us cleanly)."""

    def __init__(self, stream):
        self.stream, self.open = stream, True

    def __call__(self, event: dict) -> None:
        if not self.open:
            return
        try:
            self.stream.write(json.dumps(event, default=str) + "\n")
            self.stream.flush()
        except OSError:  # BrokenPipeError included
            self.open = False
            _silence_output()


def worker_main() -> int:
    """The body of `python -m search.worker INDEX [LABEL...]`: wait for the launcher's go (the
    configuration, one JSON line on stdin), then run trials, printing events as JSON lines."""
    stop_once = _orphan_aware_stop(os.getppid())  # SIGINT (launcher) / SIGTERM: record, stop
    signal.signal(signal.SIGTERM, stop_once)
    signal.signal(signal.SIGINT, stop_once)
    try:
        import optuna
        import torch

        from search.console.events import OptunaLogHandler
        from search.engine.train import warm_up
        from search.runner.confirm import confirm_worker_study
        from search.runner.registry import find_study
        from search.runner.session import run_study
        from search.study.definitions import configured

        warm_up()  # while the launcher is still checking its input
        line = sys.stdin.readline()
        if not line.strip():
            return 0  # the launcher's checks failed (it says why) or it stopped: no work
        config = json.loads(line)
        torch.set_num_threads(config["threads"])
        stored = {k: tuple(v) if k == "seeds" and v else v for k, v in config["options"].items()}
        options = RunOptions(**{**stored, "worker": config.get("worker", 0)})
        study = configured(find_study(config["study"]), options)
        if config.get("confirm"):
            study = confirm_worker_study(study, options, config["confirm"])
        emit = JsonLines(sys.stdout)
        optuna.logging.disable_default_handler()  # Optuna's lines travel as events too
        optuna.logging.get_logger("optuna").addHandler(OptunaLogHandler(emit))
        if run_study(study, options, emit).stopped_by == "failures":
            return 1  # the launcher says so and exits 1, as the in-process path does
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
