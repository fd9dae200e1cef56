"""Inside a worker process (`python -m search.worker`): wait for the launcher's go, run trials,
print each event as a JSON line, and stop cleanly on SIGINT or SIGTERM, also when the launcher
has died (search.workers.pool starts the workers and merges their lines).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading

from search.errors import UsageError
from search.events import EpochEnded, Progress
from search.study.definitions import RunOptions

TRAINING_EVENTS = frozenset({Progress.type, EpochEnded.type})  # sent from the training loop
EXIT_AFTER_STOP_SECONDS = 45  # a stopped worker's deadline (its launcher waits 60: pool.py)


class Stop:
    """SIGINT/SIGTERM handler: interrupt once, then ignore further signals, so a second one
    cannot break the storage writes that record the interrupted trial (seen when the launcher
    dies). If the launcher is gone, first point stdout and stderr at /dev/null, so nothing that
    records the trial dies writing into a closed pipe.

    A signal's KeyboardInterrupt is lost when it lands in a finalizer (a `__del__`, a weakref
    callback: Python prints "Exception ignored" and goes on), and with further signals ignored
    the worker would train its trial to the end after its launcher died. So the training loop's
    next event raises it again (`check`), between two batches, where nothing swallows it."""

    def __init__(self, launcher: int):
        self.launcher, self.requested = launcher, False

    def __call__(self, signum, frame):
        _ignore_stop_signals()
        self.requested = True
        _exit_later(EXIT_AFTER_STOP_SECONDS)
        if os.getppid() != self.launcher:
            _silence_output()
        raise KeyboardInterrupt

    def check(self, event: dict) -> None:
        """Raise KeyboardInterrupt if training goes on after a stop signal (it was lost)."""
        if self.requested and event.get("type") in TRAINING_EVENTS:
            raise KeyboardInterrupt


def _exit_later(seconds: float) -> None:
    """End this process in `seconds` whatever it is doing: a stopped worker records its trial
    in well under a second, and one whose interrupt was lost must not train on alone (its
    trial, left RUNNING, fails by heartbeat and is retried, as after kill -9)."""
    timer = threading.Timer(seconds, os._exit, (130,))
    timer.daemon = True
    timer.start()


def _silence_output() -> None:
    """Point this process's stdout and stderr at /dev/null: the launcher reading them is gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())


class JsonLines:
    """A worker's events as JSON lines; if the launcher is gone, go quiet instead of failing
    the trial in the middle of training (the launcher's death signal stops us cleanly)."""

    def __init__(self, stream, stop: Stop | None = None):
        self.stream, self.open, self.stop = stream, True, stop

    def __call__(self, event: dict) -> None:
        if self.stop is not None:
            self.stop.check(event)
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
    stop = Stop(os.getppid())
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
        signal.signal(signal.SIGTERM, stop)  # from now on SIGINT (launcher) / SIGTERM: record
        signal.signal(signal.SIGINT, stop)  # the running trial, then stop
        config = json.loads(line)
        torch.set_num_threads(config["threads"])
        options = _options(config)
        study = configured(find_study(config["study"]), options)
        if config.get("confirm"):
            study = confirm_worker_study(study, options, config["confirm"])
        emit = JsonLines(sys.stdout, stop)
        optuna.logging.disable_default_handler()  # Optuna's lines travel as events too
        optuna.logging.get_logger("optuna").addHandler(OptunaLogHandler(emit))
        if run_study(study, options, emit).stopped_by == "failures":
            return 1  # the launcher says so and exits 1, as the in-process path does
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:  # nothing is left to record (a dismissed worker may get SIGTERM as it exits)
        _ignore_stop_signals()
    return 0


def _options(config: dict) -> RunOptions:
    """The launcher's RunOptions (JSON made tuples lists) with this worker's index."""
    stored = {k: tuple(v) if k == "seeds" and v else v for k, v in config["options"].items()}
    return RunOptions(**{**stored, "worker": config.get("worker", 0)})


def _ignore_stop_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
