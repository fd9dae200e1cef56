"""Many workers on real storages (SQLite, journal file, PostgreSQL): exact totals and faults.

PostgreSQL tests need a server: SEARCH_TEST_POSTGRES names a URL whose user may create
databases (CI installs and starts one and sets it, with REQUIRE_POSTGRES=1 so they never skip).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from run_args import QUICK_TEST, baseline_args, run_here, trained
from run_args import search_run as run_command

TINY = ["--epochs", "1", "--train-limit", "256", "--val-size", "200", "--plain", *QUICK_TEST]
FAST_HEARTBEAT = {"SEARCH_HEARTBEAT": "1,3"}  # stale after 3 s instead of 30


@pytest.fixture
def postgres_url():
    """A fresh database on the test server, dropped afterwards."""
    url = os.environ.get("SEARCH_TEST_POSTGRES")
    if not url:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but SEARCH_TEST_POSTGRES is not set")
        pytest.skip("no PostgreSQL server: set SEARCH_TEST_POSTGRES (CI does)")
    import sqlalchemy

    name = f"search_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    yield url.rsplit("/", 1)[0] + "/" + name
    # Not DROP ... WITH (FORCE): it must also be allowed to signal an autovacuum worker on the
    # database, which a plain role is not (PostgreSQL 15 refuses the whole drop, seen in CI).
    # End this role's own leftover sessions (a killed worker's), then a plain DROP, which
    # cancels autovacuum itself and waits a few seconds for exiting backends.
    with admin.connect() as connection:
        connection.execute(
            sqlalchemy.text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE datname = :name AND usename = current_user AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        connection.execute(sqlalchemy.text(f"DROP DATABASE {name}"))
    admin.dispose()


def storage_url(kind: str, tmp_path: Path, postgres: str | None) -> str:
    return {
        "sqlite": f"sqlite:///{tmp_path / 'runs.db'}",
        "journal": f"journal:{tmp_path / 'journal.log'}",
        "postgres": postgres,
    }[kind]


def trials_of(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    from search.store.storage import open_storage

    return optuna.load_study(study_name=name, storage=open_storage(url, heartbeat=False)).trials


def launch(args: list[str], cwd: Path, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "search.run", *args],
        cwd=cwd,
        text=True,
        env={**os.environ, **(env or {})},
        **popen,
    )


def wait_for(condition, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def sampled_running(url: str, name: str) -> int:
    """RUNNING trials whose parameters are drawn (a kill before that leaves nothing to retry)."""
    try:
        return sum(t.state == TrialState.RUNNING and bool(t.params) for t in trials_of(url, name))
    except KeyError:
        return 0


def states(url: str, name: str) -> list[TrialState]:
    try:
        return [t.state for t in trials_of(url, name)]
    except KeyError:  # the study does not exist yet
        return []


@pytest.mark.parametrize(
    "kind", ["sqlite", "journal", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_workers_run_every_trial_exactly_once(kind, tmp_path, data_root, request):
    postgres = request.getfixturevalue("postgres_url") if kind == "postgres" else None
    url = storage_url(kind, tmp_path, postgres)
    args = [
        "--study",
        "cnn20k",
        "--storage",
        url,
        "--data-root",
        str(data_root),
        "--trials",
        "6",
        "--workers",
        "2",
        "--no-confirm",
        *TINY,
    ]
    result = run_here(args, tmp_path)  # the launcher in this process, its workers in theirs
    assert result.returncode == 0, result.stderr
    trials = trials_of(url, "cnn20k")
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    assert len(trained(trials)) == 6  # proposals rejected before training come on top
    workers = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("done")}
    assert workers == {"done"} and result.stdout.count("done cnn20k: ") == 1
    lines = result.stdout.splitlines()  # merged plain output: one line per finished trial
    for trial in trials:
        pattern = re.compile(rf"trial {trial.number} (COMPLETE|PRUNED) ")
        ended = [line for line in lines if pattern.match(line)]
        assert len(ended) == 1, (trial.number, result.stdout)
    assert "\x1b" not in result.stdout  # plain: no escapes; lines are never cut
    drawn = [json.dumps(t.params, sort_keys=True) for t in trials if t.number > 0]  # 0: baseline
    assert len(set(drawn)) == len(drawn)  # the two workers' samplers draw different points
    assert "starting 2 workers x 1 torch thread\n" in result.stdout or os.cpu_count() != 2


def worker_pids(launcher: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{launcher.pid}/task/{launcher.pid}/children").read_text().split()
    return [int(pid) for pid in children]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_killed_worker_trial_fails_by_heartbeat_and_is_retried(
    kind, tmp_path, data_root, request
):
    postgres = request.getfixturevalue("postgres_url") if kind == "postgres" else None
    url = storage_url(kind, tmp_path, postgres)
    args = baseline_args(url, data_root, (1, 2, 3), epochs=2, train_limit=1500, workers=2)
    launcher = launch(
        args, tmp_path, FAST_HEARTBEAT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wait_for(lambda: sampled_running(url, "baseline") == 2)
    os.kill(worker_pids(launcher)[0], signal.SIGKILL)
    stdout, _ = launcher.communicate(timeout=600)
    assert launcher.returncode == 1  # a worker died: the launcher says so
    assert "ended with status -9" in stdout
    trials = trials_of(url, "baseline")
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert len(failed) == 1
    retry = [t for t in trials if t.system_attrs.get("failed_trial") == failed[0].number]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
    assert retry[0].params == failed[0].params
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert sorted(t.params["seed"] for t in complete) == [1, 2, 3]  # nothing lost
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]


def test_sigint_to_the_launcher_stops_all_workers_and_a_rerun_completes(tmp_path, data_root):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = [
        "--study",
        "cnn20k",
        "--storage",
        url,
        "--data-root",
        str(data_root),
        "--trials",
        "3",
        "--epochs",
        "3",
        "--train-limit",
        "3000",
        "--val-size",
        "500",
        "--workers",
        "2",
        "--no-confirm",
        "--plain",
        *QUICK_TEST,
    ]
    launcher = launch(args, tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: TrialState.RUNNING in states(url, "cnn20k"))
    time.sleep(2)  # let the workers get into training
    pids = worker_pids(launcher)
    launcher.send_signal(signal.SIGINT)
    _, stderr = launcher.communicate(timeout=120)
    assert launcher.returncode == 130
    assert "interrupted" in stderr
    assert all(not Path(f"/proc/{pid}").exists() or _is_zombie(pid) for pid in pids)
    trials = trials_of(url, "cnn20k")
    assert TrialState.RUNNING not in [t.state for t in trials]
    interrupted = [t for t in trials if t.user_attrs.get("end_kind") == "interrupted"]
    assert interrupted and all(t.state == TrialState.FAIL for t in interrupted)
    rerun = run_here(args, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    trials = trials_of(url, "cnn20k")
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(trained(trials)) == 3
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    retried = {t.user_attrs.get("retry_of") for t in finished} - {None}
    assert retried == {t.number for t in interrupted}  # each interrupted trial ran again


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def _where(pids: list[int]) -> dict[int, str]:
    """Each live process's state and the kernel function it waits in."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
            found[pid] = f"{state} {Path(f'/proc/{pid}/wchan').read_text()}"
    return found


def _ends(url: str) -> list[tuple[str, str | None]]:
    return [(t.state.name, t.user_attrs.get("end_kind")) for t in trials_of(url, "baseline")]


def test_workers_stop_cleanly_when_the_launcher_is_killed(tmp_path, data_root):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    args = baseline_args(url, data_root, (1, 2), epochs=5, train_limit=20000, workers=2)
    launcher = launch(args, tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: sampled_running(url, "baseline") == 2)
    pids = worker_pids(launcher)
    launcher.kill()  # SIGKILL: the launcher forwards nothing; the kernel tells the workers
    launcher.wait()
    gone = lambda: all(not Path(f"/proc/{p}").exists() or _is_zombie(p) for p in pids)  # noqa: E731
    try:
        wait_for(gone, 120)
    except AssertionError:  # say what the workers were doing (CI saw this once, 2026-11-28)
        raise AssertionError(f"workers alive: {_where(pids)}; trials: {_ends(url)}") from None
    trials = trials_of(url, "baseline")
    assert [t.user_attrs.get("end_kind") for t in trials if t.state == TrialState.FAIL] == [
        "interrupted",
        "interrupted",
    ]
    assert TrialState.RUNNING not in [t.state for t in trials]


def test_workers_started_together_draw_different_startup_points(tmp_path):
    from archs.spec import SpecError
    from search.runner.session import sampler_seed
    from search.study.definitions import derive_seed
    from studies.cnn20k import make_sampler, sample

    url = f"sqlite:///{tmp_path / 'seeds.db'}"
    optuna.create_study(study_name="s", storage=url)
    assert sampler_seed(1, 0, 0) == derive_seed(1, 0)  # a lone local process repeats
    seeds = {sampler_seed(1, 0, w, h) for w in (0, 1) for h in (None, "node-a", "node-b")}
    assert len(seeds) == 6
    workers = [
        optuna.load_study(study_name="s", storage=url, sampler=make_sampler(sampler_seed(1, 0, w)))
        for w in (0, 1)
    ]
    drawn = []
    for _ in range(4):  # interleaved, as two workers of one launcher ask for trials
        for worker in workers:
            trial = worker.ask()
            with contextlib.suppress(SpecError):  # an invalid point is still a drawn point
                sample(trial)
            drawn.append(json.dumps(trial.params, sort_keys=True))
    assert len(set(drawn)) == len(drawn)


@pytest.mark.parametrize("command", ["search", "confirm"])
def test_bad_input_stops_the_waiting_workers_and_writes_nothing(command, tmp_path, data_root):
    """Workers start while the launcher checks its input; a failed check lets none of them go."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    if command == "search":  # no MNIST files under the data root
        empty = tmp_path / "no-data"
        empty.mkdir()
        args = baseline_args(url, empty, (1, 2), epochs=1, train_limit=256, workers=2)
    else:  # nothing stored to confirm
        args = ["--study", "cnn20k", "--confirm", "2", "--storage", url]
        args += ["--data-root", str(data_root), "--workers", "2", "--plain"]
    result = run_command(args, tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("python -m search.run: error: ")
    assert len(result.stderr.strip().splitlines()) == 1  # nothing relayed from the workers
    assert "starting 2 workers" not in result.stdout and "worker" not in result.stdout
    assert not (tmp_path / "runs.db").exists()
    leftover = subprocess.run(["pgrep", "-f", f"search.worker.*{tmp_path}"], capture_output=True)
    assert leftover.stdout == b""  # every worker has exited


def test_the_arguments_alone_decide_how_many_workers_start_early(monkeypatch):
    from search.run import build_parser
    from search.workers import spawn

    def early(*argv: str) -> int:
        return spawn.early_count(build_parser().parse_args(["--study", "cnn20k", *argv]))

    monkeypatch.setattr(spawn.os, "cpu_count", lambda: 4)
    assert early("--workers", "3") == 3
    assert early("--workers", "1") == 0  # runs in the launcher's own process
    assert early("--workers", "auto", "--device", "cpu") == 4
    assert early("--device", "cpu", "--threads", "2") == 0  # auto with threads: one process
    assert early("--device", "cuda") == spawn.GPU_AUTO_WORKERS  # auto on a GPU: the measured
    assert early("--device", "cuda", "--threads", "1") == 0
    assert early("--workers", "2", "--replay", "3") == 0
    assert early("--workers", "2", "--export", "3", "out") == 0
    # never more than the runs the arguments say there are
    assert early("--workers", "3", "--trials", "2") == 2
    assert early("--workers", "3", "--trials", "1") == 0
    assert early("--device", "cpu", "--confirm", "1", "--seeds", "1", "2") == 2  # 4 cores
    assert early("--workers", "3", "--confirm", "2") == 3  # the study's own seeds: not known yet
    assert spawn.early_count(build_parser().parse_args(["--list", "--workers", "2"])) == 0
    assert early() == (4 if spawn.cpu_only_torch() else 0)  # auto, device auto: the build says
    assert torch_is_cpu_only() or not spawn.cpu_only_torch()  # a "+cpu" build has no GPU
    lr_sweep = build_parser().parse_args(["--study", "lr-sweep", "--workers", "2"])
    assert spawn.early_count(lr_sweep) == 0  # no data, no workers: runs in the launcher
    monkeypatch.setattr(spawn.os, "cpu_count", lambda: 1)
    assert early("--device", "cpu") == 0
    assert early("--device", "cuda") == 0  # never more workers than cores


def test_auto_workers_on_a_gpu_are_the_measured_count_and_never_more_than_the_cores(
    monkeypatch,
):
    from search.engine import train
    from search.run import resolve_workers
    from search.study.definitions import RunOptions
    from search.workers import spawn

    monkeypatch.setattr(train.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(spawn.os, "cpu_count", lambda: 16)
    assert resolve_workers("auto", RunOptions(device="cuda")) == spawn.GPU_AUTO_WORKERS
    assert resolve_workers("auto", RunOptions(device="auto")) == spawn.GPU_AUTO_WORKERS
    assert resolve_workers("auto", RunOptions(device="cpu")) == spawn.MAX_AUTO_WORKERS
    assert resolve_workers("auto", RunOptions(device="cuda", threads=2)) == 1
    assert resolve_workers(3, RunOptions(device="cuda")) == 3
    monkeypatch.setattr(spawn.os, "cpu_count", lambda: 2)
    assert resolve_workers("auto", RunOptions(device="cuda")) == 2


def test_the_data_free_studies_are_those_that_need_no_data():
    from search.workers.spawn import DATA_FREE_STUDIES
    from studies import STUDIES

    assert {name for name, s in STUDIES.items() if not s.needs_data} == DATA_FREE_STUDIES


def test_a_storage_password_never_shows_in_a_workers_command_line():
    from search.workers.spawn import label

    url = "postgresql+psycopg://user:secret@db-host:5432/search"
    assert label("cnn20k", url) == ("cnn20k", "postgresql+psycopg://db-host:5432/search")
    assert label("cnn20k", "sqlite:///runs/x.db") == ("cnn20k", "sqlite:///runs/x.db")


def torch_is_cpu_only() -> bool:
    import torch

    return torch.version.cuda is None and torch.version.hip is None


def test_early_workers_are_handed_over_once_or_dismissed(tmp_path):
    from search.run import build_parser
    from search.workers.spawn import EarlyWorkers, dismiss, fitted

    args = build_parser().parse_args(["--study", "cnn20k", "--workers", "2", "--device", "cpu"])
    args.storage = f"sqlite:///{tmp_path / 'label.db'}"
    with EarlyWorkers(args) as early:
        assert len(early.processes) == 2
        label = subprocess.run(["pgrep", "-f", f"search.worker.*{tmp_path}"], capture_output=True)
        assert len(label.stdout.split()) == 2  # study and storage name the processes
        taken = early.take()
        assert [p.poll() for p in taken] == [None, None] and early.take() == []
    for process in taken:  # handed over: the context leaves them alone
        assert process.poll() is None
        process.stdin.close()  # end-of-file: exit, having done nothing
    assert [process.wait(timeout=60) for process in taken] == [0, 0]
    with EarlyWorkers(args) as early:  # a pool of 1 keeps the first, dismisses the other
        started = early.take()
        kept = fitted(started, 1, ())
        assert kept == started[:1] and kept[0].poll() is None
        assert started[1].returncode is not None
        grown = fitted(kept, 2, ())  # a pool of 2 from 1 started early: one more starts
        assert grown[0] is kept[0] and len(grown) == 2 and grown[1].poll() is None
        dismiss(grown)
    with EarlyWorkers(args) as early:
        started = list(early.processes)
        assert [process.poll() for process in started] == [None, None]
    assert all(process.returncode is not None for process in started)  # not taken: dismissed


def test_a_stop_signal_after_a_worker_has_finished_is_no_error():
    # A dismissed worker reads end-of-file and returns; the launcher's SIGTERM can reach it as it
    # exits (seen on a loaded machine). It must exit quietly, not print a KeyboardInterrupt.
    code = (
        "import os, signal\n"
        "from search.workers.process import worker_main\n"
        "status = worker_main()\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "print('exited', status)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], input="", capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "exited 0\n", "")


def test_a_stopped_worker_ends_within_its_grace_whatever_it_is_doing():
    # A stop signal whose KeyboardInterrupt is lost (it can land in a finalizer) must not leave
    # the worker training on alone: the stop also sets a deadline for the process.
    code = (
        "import os, signal, time\n"
        "from search.workers import process\n"
        "process._exit_later(0.5)\n"
        "time.sleep(60)\n"
        "print('still here')\n"
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (130, "")
    assert time.monotonic() - started < 30


def test_an_unknown_study_dismisses_the_early_workers(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    result = run_command(["--study", "nope", "--workers", "2", "--storage", url], tmp_path, 120)
    assert result.returncode == 2
    assert result.stderr.startswith("python -m search.run: error: unknown study 'nope'")
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    assert not (tmp_path / "runs.db").exists()
    leftover = subprocess.run(["pgrep", "-f", f"search.worker.*{tmp_path}"], capture_output=True)
    assert leftover.stdout == b""


def test_a_stop_signal_lost_in_a_finalizer_stops_the_training_at_its_next_event(monkeypatch):
    """A signal's KeyboardInterrupt raised inside a `__del__` is printed and dropped by Python;
    the worker ignores later signals, so its training loop must raise it again itself."""
    from search.workers import process
    from search.workers.process import JsonLines, Stop

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    dropped: list[type] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda raised: dropped.append(raised.exc_type))
    # the stopped worker's deadline: recorded, not armed (it would end pytest itself 45 s later)
    deadlines: list[float] = []
    monkeypatch.setattr(process, "_exit_later", deadlines.append)
    stop, lines = Stop(os.getppid()), io.StringIO()
    emit = JsonLines(lines, stop)

    class Finalized:
        def __del__(self):
            stop(signal.SIGTERM, None)  # as if the signal arrived while this ran

    try:
        emit({"type": "progress", "trial": 0})  # no signal yet: training goes on
        Finalized()  # the handler's KeyboardInterrupt is lost here ("Exception ignored")
        assert (
            dropped == [KeyboardInterrupt]
            and stop.requested
            and signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
        )
        assert deadlines == [process.EXIT_AFTER_STOP_SECONDS]
        emit({"type": "trial_end", "trial": 0})  # recording the trial is not training: goes on
        for kind in ("progress", "epoch"):
            with pytest.raises(KeyboardInterrupt):
                emit({"type": kind, "trial": 0})
        assert [json.loads(line)["type"] for line in lines.getvalue().splitlines()] == [
            "progress",
            "trial_end",
        ]
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _orphan(*argv: str) -> int:
    """Start `argv` as a process that is not this one's child (its parent shell exits at once);
    its pid."""
    shell = subprocess.run(
        ["sh", "-c", 'exec "$@" >/dev/null 2>&1 </dev/null & echo $!', "sh", *argv],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    return int(shell.stdout.strip())


def _kill_marked(marker: str) -> None:
    """SIGKILL every process whose command line holds `marker` (unique to one test)."""
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            if marker.encode() in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)


def test_other_runs_on_the_machine_are_found_by_their_command_line_and_named(tmp_path, data_root):
    from search.workers.spawn import other_runs

    marker = f"sleeper-{uuid.uuid4().hex}"
    sleep = [sys.executable, "-c", "import time; time.sleep(600)", marker]
    child = None
    try:
        child = subprocess.Popen([*sleep, "-m", "search.run"])  # a child: part of this run
        run = _orphan(*sleep, "-m", "search.run", "--study", "x")
        not_a_run = _orphan(*sleep, "-m", "other")
        # a wrapper (here a shell that waits for it) and the run it started count once
        wrapper = _orphan("sh", "-c", '"$@"; :', "sh", *sleep, "-m", "search", "--study", "y")
        time.sleep(1)  # the wrapper's child has started
        found = other_runs()
        assert run in found and wrapper in found
        assert child.pid not in found and not_a_run not in found and len(found) == len(set(found))
        inner = [p for p in found if p not in (run, wrapper)]
        assert all(b"--study\0y" not in Path(f"/proc/{p}/cmdline").read_bytes() for p in inner)
        # a run started here with every core (no --threads) names the others and the fix,
        # right after its study's announcement (its input checked)
        args = baseline_args(f"sqlite:///{tmp_path / 'a.db'}", data_root, (1,), 1, 256, 1)
        ran = run_here(args, tmp_path)
        assert ran.returncode == 0, ran.stderr
        lines = ran.stdout.splitlines()
        (note,) = [line for line in lines if line.startswith("note:")]
        assert str(run) in note and str(wrapper) in note and "--threads 1 each" in note
        assert lines[lines.index(note) - 1].startswith("study baseline")
        other = baseline_args(f"sqlite:///{tmp_path / 'b.db'}", data_root, (1,), 1, 256, 1)
        shared = run_here([*other, "--threads", "1"], tmp_path)
        assert shared.returncode == 0 and "note:" not in shared.stdout, shared.stdout
    finally:
        _kill_marked(marker)
        if child is not None:
            child.wait()
