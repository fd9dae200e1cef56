"""Starting worker processes, early: before the launcher's own imports where the count is known.

A worker's start-up is mostly importing torch and Optuna (~2-3 s), and so is the launcher's.
When `python -m search.run` can tell from its arguments alone how many local workers it will
need (an explicit `--workers N`, or auto with a CPU-only torch build, read from the installed
package's version without importing torch), it starts them before importing anything heavy, so
both start-ups overlap. The workers wait for their configuration on stdin before touching any
storage; workers the launcher does not use (bad input, a study without data, another count) are
dismissed untouched. This module imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

MAX_AUTO_WORKERS = 8
GPU_AUTO_WORKERS = 4  # on a GPU: 3.6x the trials/hour of 1, and 8 no better (reports/gpu)
DISMISS_GRACE_SECONDS = 10
# The registered studies that train no net (studies/*.py with needs_data=False): they run in
# the launcher's process whatever --workers says (tests/workers/test_workers.py checks the set).
DATA_FREE_STUDIES = frozenset({"lr-sweep"})


def start_workers(
    count: int, label: tuple[str, ...] = (), first: int = 0
) -> list[subprocess.Popen]:
    """`python -m search.worker INDEX LABEL...` x count (INDEX from `first`), each waiting for its
    configuration.

    The index and label (study, storage) only name the process for `ps`; the configuration line
    the launcher writes later is what the worker runs.
    """
    return [
        subprocess.Popen(
            [sys.executable, "-m", "search.worker", str(index), *label],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,  # Ctrl-C reaches workers once, through the launcher
            preexec_fn=_stop_with_parent,
        )
        for index in range(first, first + count)
    ]


def fitted(started: list[subprocess.Popen], count: int, label: tuple[str, ...]):
    """`count` workers: those started early first, the surplus dismissed, the missing started."""
    dismiss(started[count:])
    kept = started[:count]
    return kept + start_workers(count - len(kept), label, first=len(kept))


def fast_exit(code: int) -> None:
    """End this process now, skipping the interpreter's teardown.

    Tearing down an interpreter that imported torch takes 0.5-1.5 s (measured on 2 cores), and
    a launcher waits for its last worker to be gone. Call it only when everything is recorded
    (storage writes are committed as they happen); the standard streams are flushed here.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def dismiss(processes: list[subprocess.Popen]) -> None:
    """Stop workers that were never configured and close their pipes: nobody reads them."""
    stop_unconfigured(processes)
    for process in processes:
        for stream in (process.stdout, process.stderr):
            with contextlib.suppress(OSError):
                stream.close()


def stop_unconfigured(processes: list[subprocess.Popen]) -> None:
    """Stop workers that were never configured (they have written nothing anywhere): end-of-file
    on stdin, SIGTERM for those still importing, and wait for all."""
    for process in processes:
        with contextlib.suppress(OSError):
            process.stdin.close()
        if process.poll() is None:
            process.terminate()
    reap(processes, DISMISS_GRACE_SECONDS)


def reap(processes: list[subprocess.Popen], grace: float) -> None:
    """Wait up to `grace` seconds for each signalled process, then kill what is left."""
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def auto_workers(gpu: bool = False) -> int:
    """`--workers auto`: on CPU one single-thread worker per core, at most 8; on a GPU
    GPU_AUTO_WORKERS processes sharing it (at most one per core)."""
    if gpu:
        return max(1, min(os.cpu_count() or 1, GPU_AUTO_WORKERS))
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_WORKERS))


def other_runs(proc: Path = Path("/proc")) -> list[int]:
    """Pids of the other runs on this machine (`python -m search.run`, `python -m search`,
    `cnnsearch run`), read from `proc` (Linux; none elsewhere): not this process, its ancestors
    (a wrapper such as `timeout` or `nohup` that started it) or its children; a run inside a
    wrapper counts once, as its outermost process."""
    if not proc.is_dir():
        return []
    parents, runs = {}, set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            # stat: "pid (comm) state ppid ...", comm may hold spaces and ')'
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # gone meanwhile, or not ours to read
            continue
        parents[int(entry.name)] = parent
        if _is_run(argv):
            runs.add(int(entry.name))
    mine, pid = set(), os.getpid()
    while pid > 1 and pid not in mine:  # this process and its ancestors
        mine.add(pid)
        pid = parents.get(pid, 0)
    others = {p for p in runs - mine if parents.get(p) != os.getpid()}
    return sorted(p for p in others if parents.get(p) not in others)


def _is_run(argv: list[str]) -> bool:
    pairs = zip(argv, argv[1:], strict=False)
    return any(
        (first == "-m" and second in ("search.run", "search"))
        or (Path(first).name == "cnnsearch" and second == "run")
        for first, second in pairs
    )


def shared_cores_note(pids: list[int], cores: int) -> str:
    """What to say when other runs train on this machine and this one takes every core."""
    which = f"pid {pids[0]}" if len(pids) == 1 else f"pids {', '.join(map(str, pids))}"
    return (
        f"note: {len(pids)} other search run{plural(len(pids))} on this machine ({which})."
        f" This run takes all {cores} cores (no --threads); runs that share cores that way slow"
        " down several-fold. Give each run --threads N so that N x its workers adds up to the"
        " cores (two 1-worker runs on 2 cores: --threads 1 each)."
    )


def noting(emit, note: str | None):
    """`emit`, which logs `note` once, right after the study's announcement: its input has been
    checked by then, so a run that stops at bad input prints its one-line error alone."""
    if not note:
        return emit
    from search.events import Log

    pending = [note]

    def with_note(event: dict) -> None:
        emit(event)
        if event.get("type") == "study" and pending:
            emit(Log(pending.pop()).to_dict())

    return with_note


def plural(count: int) -> str:
    """ "s" unless `count` is 1: `f"{n} worker{plural(n)}"`."""
    return "" if count == 1 else "s"


def cpu_only_torch() -> bool:
    """Whether the installed torch is a CPU-only build (then `--device auto` means CPU)."""
    try:
        return importlib.metadata.version("torch").endswith("+cpu")
    except importlib.metadata.PackageNotFoundError:
        return False


def early_count(args) -> int:
    """How many workers `python -m search.run ARGS` will start, if its arguments alone say so
    (0: unknown before importing torch, or not a multi-worker run): never more than the runs
    they say there are (a trial budget, or K winners x the seeds given to confirm)."""
    if not args.study or args.list or args.study in DATA_FREE_STUDIES:
        return 0
    if args.replay is not None or args.export is not None:
        return 0
    if args.workers != "auto":
        count = args.workers
    elif args.threads or (args.device == "auto" and not cpu_only_torch()):
        return 0  # one process by request, or a GPU build: whether a GPU is visible needs torch
    else:
        count = auto_workers(gpu=args.device == "cuda")
    runs = args.confirm * len(args.seeds) if args.confirm and args.seeds else args.trials
    count = min(count, runs) if runs else count
    return count if count > 1 else 0


def label(study: str | None, storage: str | None) -> tuple[str, str]:
    """What names a worker in `ps`: its study and storage, without a password in the URL."""
    return study or "", re.sub(r"//[^/@]*@", "//", storage) if storage else "default-storage"


class EarlyWorkers:
    """Workers started before the launcher's imports; those not taken are dismissed on exit."""

    def __init__(self, args):
        count = early_count(args)
        self.processes = start_workers(count, label(args.study, args.storage)) if count else []

    def take(self) -> list[subprocess.Popen]:
        """The started workers, handed over once (the first pool fits them to its size)."""
        processes, self.processes = self.processes, []
        return processes

    def __enter__(self) -> EarlyWorkers:
        return self

    def __exit__(self, *exc) -> None:
        dismiss(self.take())


def _stop_with_parent() -> None:
    """In the child: SIGTERM when the launcher dies (even by SIGKILL), so the worker records its
    trial and stops instead of writing into a closed pipe. Linux only; elsewhere a no-op."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
