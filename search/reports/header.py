"""Where a report came from: the command, the storage, the machines, the date (its README header).

The command is rebuilt from what was asked (`--storage` only when it is not the default, `--out`
only when it is not `reports`) so that running it again renders the same report. The machine line
names this machine (search.bench.machine) and the devices and torch versions the trials recorded.
"""

from __future__ import annotations

import datetime
from collections import Counter

from optuna.trial import FrozenTrial

from search.store.record import records
from search.store.run_dir import default_storage, reports_dir
from search.study.definitions import TEST_IMAGES

PROG = "python -m search.report"  # the command that renders a report
DATA_FILES = ("data.json", "trials.csv")  # written next to every README


def command_line(study_name: str, url: str, out: str | None = None) -> str:
    parts = [PROG, "--study", study_name]
    if url != default_storage():
        parts += ["--storage", url]
    if out is not None and out != str(reports_dir()):
        parts += ["--out", out]
    return " ".join(parts)


def trial_devices(trials: list[FrozenTrial]) -> str:
    """E.g. "cpu with torch 2.13.0+cpu (7 trials)" or "cpu, pure Python (6 trials)" (the toy);
    "none recorded" when no trial ran."""
    found = Counter((r.device, r.torch_version) for r in records(trials) if r.device)
    if not found:
        return "none recorded"
    return "; ".join(
        f"{device}{f' with torch {version}' if version else ''}"
        f" ({count} trial{'s' * (count != 1)})"
        for (device, version), count in sorted(found.items(), key=str)
    )


def run_lines(sessions: list[dict] | None) -> str:
    """One line per `python -m search.run` session that produced the trials (newest last)."""
    if not sessions:
        return ""
    lines = [
        f"  - `{s['command']}` ({s['started']}, {s['host']}: {s['machine']}){_restored(s)}"
        for s in sessions[-5:]
    ]
    more = f" (the last 5 of {len(sessions)})" if len(sessions) > 5 else ""
    return f"- run with{more}:\n" + "\n".join(lines) + "\n"


def _restored(session: dict) -> str:
    """What a `python -m search.restore` session wrote back, and from where."""
    restored = session.get("restored")
    if not restored:
        return ""
    return (
        f": restored {restored['trials']} finished trials of study {restored.get('uuid')}"
        f" (first stored in `{restored.get('storage')}`) from {restored['report']}"
    )


def utc_date() -> str:
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def header(
    study_name: str,
    description: str,
    url: str,
    trials: list[FrozenTrial],
    out: str | None = None,
    machine: str | None = None,
    sessions: list[dict] | None = None,
) -> str:
    """The README's title and provenance lines, as markdown."""
    if machine is None:
        from search.store.provenance import machine as this_machine

        machine = this_machine()
    links = ", ".join(f"[{name}]({name})" for name in DATA_FILES)
    return (
        f"# {study_name}\n\n{description}\n\n"
        f"{run_lines(sessions)}"
        f"- report: `{command_line(study_name, url, out)}`\n"
        f"- storage: `{url}`\n"
        f"- rendered on: {machine}\n"
        f"- trials ran on: {trial_devices(trials)}\n"
        f"- date: {utc_date()} (UTC)\n"
        f"- data: {links} (every trial as stored)\n"
        f"{test_limit_line(trials)}"
    )


def test_limit_line(trials: list[FrozenTrial]) -> str:
    """A warning line when trials were evaluated on part of the test set (--test-limit)."""
    counts = sorted({r.test_images for r in records(trials) if r.test_images} - {TEST_IMAGES})
    if not counts:
        return ""
    shown = ", ".join(f"{n:,}" for n in counts)
    return (
        f"- **smoke run**: test accuracies on the first {shown} of the {TEST_IMAGES:,} test"
        " images (`--test-limit`): no result\n"
    )
