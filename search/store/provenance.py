"""Where results came from: this machine in one line, and the commands that ran a study.

Every invocation of `python -m search.run` appends a session (command, UTC time, host, machine)
to its study's user attrs, so a report can say which commands produced the trials it shows.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import socket
import uuid
from pathlib import Path

import optuna
import torch

SESSIONS_KEY = "sessions"
MAX_SESSIONS = 50  # the oldest are dropped beyond this: a study resumed daily stays small


def cpu_name() -> str:
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """E.g. "AMD EPYC, 2 cores, torch 2.13.0+cpu, Python 3.11.7" (and the GPU when present)."""
    gpu = f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return (
        f"{cpu_name()}, {os.cpu_count()} cores{gpu}, torch {torch.__version__},"
        f" Python {platform.python_version()}"
    )


def command(argv: list[str], prog: str = "python -m search.run") -> str:
    return " ".join([prog, *(shlex.quote(arg) for arg in argv)])


def record_session(
    optuna_study: optuna.Study,
    argv: list[str],
    workers: int = 1,
    prog: str = "python -m search.run",
    **extra,
) -> None:
    """Append this invocation to the study's sessions (read-modify-write by one process);
    `extra` adds fields (a restore says what it restored)."""
    sessions = list(optuna_study.user_attrs.get(SESSIONS_KEY, []))
    sessions.append(
        {
            "command": command(argv, prog),
            "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "host": socket.gethostname(),
            "machine": machine(),
            "workers": workers,
            **extra,
        }
    )
    optuna_study.set_user_attr(SESSIONS_KEY, sessions[-MAX_SESSIONS:])


STUDY_ID_KEY = "uuid"  # names this study's run state (weights) apart from any other storage's


def study_uuid(optuna_study: optuna.Study) -> str:
    """The study's UUID, given to it when it was created (or now, for an older study)."""
    found = optuna_study.user_attrs.get(STUDY_ID_KEY)
    if found is None:
        found = uuid.uuid4().hex
        optuna_study.set_user_attr(STUDY_ID_KEY, found)
    return found
