"""The body of `python -m search.report`: read the storage, render each study, or print data.

Imported only once the arguments are parsed (search.report stays light for `--help`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import optuna

from search.errors import UsageError
from search.reports import format as fmt
from search.reports.ablation import ablation_summary, render_ablation
from search.reports.data import csv_frame, listed_trials, study_kind, trial_record
from search.reports.header import header, utc_date
from search.reports.leaderboard import leaderboard_rows
from search.reports.repeat import baseline_summary, render_baseline
from search.reports.search import leaderboard_frame, render_search, search_summary
from search.reports.toy import render_lr_sweep
from search.store.provenance import SESSIONS_KEY, STUDY_ID_KEY
from search.store.settings import SETTINGS_KEY
from search.store.storage import JOURNAL_PREFIX, open_storage, resolve_url, study_names
from search.study.definitions import CONFIRM_SUFFIX


def run_report(args) -> int:
    url = resolve_url(args.storage)
    storage = open_existing(url)
    names = chosen(storage, url, args.study)
    if args.format == "md":
        for name in names:
            check_target(storage, name, url, Path(args.out), args.force)
        for name in names:
            print(render_study(storage, name, url, args.out))
    elif args.format == "json":
        print(json.dumps(storage_document(storage, names, url), indent=1, default=_plain))
    else:
        records = {}
        for name in names:
            records.update(trial_records(storage, name))
        sys.stdout.write(csv_frame(records).to_csv(index=False))
    return 0


def check_target(storage, name: str, url: str, out: Path, force: bool) -> None:
    """UsageError, before anything is written, when OUT/<name> cannot be written or holds a
    report of another storage's study (unless `force`)."""
    for path in (out, out / name):
        if path.exists() and not path.is_dir():
            raise UsageError(f"--out: {path} is a file, not a folder; name a folder")
    existing = out / name / "data.json"
    if force or not existing.is_file():
        return
    try:
        previous = json.loads(existing.read_text())
    except (OSError, ValueError):
        previous = {}
    mine = load(storage, name).user_attrs.get(STUDY_ID_KEY)
    theirs = previous.get("uuid")
    same = mine == theirs if mine and theirs else previous.get("storage") == url
    if not same:
        raise UsageError(
            f"{out / name} holds a report of another storage's study {name!r}"
            f" ({previous.get('storage', 'unknown storage')}); pass --force to replace it, or"
            " --out another folder"
        )


def open_existing(url: str) -> optuna.storages.BaseStorage:
    """The storage at `url`; a missing SQLite or journal file is an error (it is not created)."""
    path = None
    if url.startswith(JOURNAL_PREFIX):
        path = Path(url[len(JOURNAL_PREFIX) :])
    elif url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = Path(url[len("sqlite:///") :])
    if path is not None and not path.is_file():
        raise UsageError(
            f"no storage file at {path} ({url}); run python -m search.run --study NAME first"
            " or pass --storage URL"
        )
    return open_storage(url, heartbeat=False)


def chosen(storage, url: str, asked: list[str] | None) -> list[str]:
    """The studies to render: the named ones, else all but companions whose parent is here."""
    names = study_names(storage)
    if not names:
        raise UsageError(
            f"no studies in storage {url}: run python -m search.run --study NAME first"
        )
    if not asked:
        return [n for n in sorted(names) if parent_of(n) not in names]
    unknown = [n for n in dict.fromkeys(asked) if n not in names]
    if unknown:
        raise UsageError(
            f"no study {', '.join(map(repr, unknown))} in {url}; studies there:"
            f" {', '.join(sorted(names))}"
        )
    inside = [n for n in asked if parent_of(n) in names]
    if inside:
        raise UsageError(
            f"{inside[0]} is rendered inside {parent_of(inside[0])}'s report;"
            f" use --study {parent_of(inside[0])}"
        )
    return list(dict.fromkeys(asked))


def parent_of(name: str) -> str | None:
    return name.removesuffix(CONFIRM_SUFFIX) if name.endswith(CONFIRM_SUFFIX) else None


def load(storage, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=storage)


def companion_of(storage, name: str) -> optuna.Study | None:
    companion = name + CONFIRM_SUFFIX
    return load(storage, companion) if companion in study_names(storage) else None


def trial_records(storage, name: str) -> dict[str, list[dict]]:
    """{study: records} for the study and its companion (when it has one)."""
    studies = [load(storage, name), companion_of(storage, name)]
    return {s.study_name: [trial_record(t) for t in listed_trials(s)] for s in studies if s}


def summary_of(kind: str, optuna_study: optuna.Study, companion) -> dict | None:
    if kind == "search":
        return search_summary(optuna_study, companion)
    if kind == "repeat":
        return baseline_summary(optuna_study)
    if kind == "ablation":
        return ablation_summary(optuna_study)
    return None


def study_document(storage, name: str, url: str, summary=None, kind=None) -> dict:
    """One study for scripts: attributes, every trial, the kind's summary, the companion."""
    optuna_study, companion = load(storage, name), companion_of(storage, name)
    kind = kind or study_kind(optuna_study)
    if summary is None:
        summary = summary_of(kind, optuna_study, companion)
    records = trial_records(storage, name)
    confirmed = {row["source_trial"]: row for row in (summary or {}).get("confirmation") or []}
    for record in records[name]:
        record["confirmation"] = confirmed.get(record["number"])
    return {
        "name": name,
        "kind": kind,
        "storage": url,
        "uuid": optuna_study.user_attrs.get(STUDY_ID_KEY),
        "description": optuna_study.user_attrs.get("description"),
        "about": optuna_study.user_attrs.get("about"),
        "direction": optuna_study.direction.name.lower(),
        "study_seed": optuna_study.user_attrs.get("seed"),
        "score": optuna_study.user_attrs.get("score"),
        "settings": optuna_study.user_attrs.get(SETTINGS_KEY),
        "sessions": optuna_study.user_attrs.get(SESSIONS_KEY, []),
        "trials": records[name],
        "summary": summary,
        "companion": None
        if companion is None
        else {"name": companion.study_name, "trials": records[companion.study_name]},
    }


def storage_document(storage, names: list[str], url: str) -> dict:
    return {
        "storage": url,
        "date": utc_date(),
        "studies": [study_document(storage, name, url) for name in names],
    }


def render_study(storage, name: str, url: str, out: str) -> str:
    """Write `<out>/<name>/`; returns the line the command prints for it."""
    optuna_study, companion = load(storage, name), companion_of(storage, name)
    kind = study_kind(optuna_study)
    own = listed_trials(optuna_study)
    confirmations = listed_trials(companion) if companion else []
    trials = own + confirmations
    description = optuna_study.user_attrs.get("description") or f"study {name}"
    sessions = optuna_study.user_attrs.get("sessions", [])
    if companion:
        sessions = sessions + companion.user_attrs.get("sessions", [])
        sessions.sort(key=lambda session: session.get("started", ""))  # interleaved in time
    top = header(name, description, url, trials, out, sessions=sessions)
    out_dir = Path(out) / name
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, summary = render_kind(kind, optuna_study, companion, out_dir, top)
    document = study_document(storage, name, url, summary, kind)
    (out_dir / "data.json").write_text(json.dumps(document, indent=1, default=_plain) + "\n")
    csv_frame(trial_records(storage, name)).to_csv(out_dir / "trials.csv", index=False)
    figures = sum(Path(p).suffix == ".png" for p in paths)
    extra = f" + {len(confirmations)} confirmation runs" if companion else ""
    return (
        f"wrote {out_dir}/ ({kind} report, {len(own)} trials{extra}): README.md, {figures}"
        " figures, data.json, trials.csv"
    )


def render_kind(kind: str, optuna_study, companion, out_dir: Path, top: str):
    """(paths, summary) from the renderer for `kind`."""
    if kind == "search":
        return render_search(optuna_study, companion, out_dir, top)
    if kind == "repeat":
        return render_baseline(optuna_study, out_dir, top)
    if kind == "ablation":
        return render_ablation(optuna_study, out_dir, top)
    if kind == "lr-sweep":
        return render_lr_sweep(optuna_study, out_dir, top), None
    return render_other(optuna_study, out_dir, top), None


def render_other(optuna_study: optuna.Study, out_dir: Path, top: str) -> list[Path]:
    """A study no renderer knows (or with no trials yet): its leaderboard only."""
    rows = leaderboard_rows(optuna_study, len(optuna_study.trials))
    text = "No trials yet." if not rows else "All trials, best first.\n\n"
    body = fmt.table(leaderboard_frame(rows)) if rows else ""
    readme = out_dir / "README.md"
    readme.write_text(f"{top.rstrip()}\n\n{text}{body}\n")
    return [readme]


def _plain(value):
    """JSON for numpy scalars (pandas and optuna may hand them back)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
