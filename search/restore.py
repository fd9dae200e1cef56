"""`python -m search.restore`: a committed report's finished runs written back into a storage.

    python -m search.restore reports/NAME/data.json [--study NAME] [--storage URL]

A run storage does not always outlive the session or the machine that ran it; the report's
data.json does. Restoring its finished trials into a storage lets `python -m search.run` resume
the study where the report left it (the restored parameter sets are not run again) and lets
`python -m search.report` render the restored and the new runs as one study. Every restored
trial says where it came from (`imported_from` in the next report's data.json), and the study
records the restore among its sessions. See search.store.restore for the checks; bad input is
one line, exit 2, and nothing written.
"""

from __future__ import annotations

import sys
from pathlib import Path

from search.cli import Parser, add_storage, main_guard
from search.store import run_dir

PROG = "python -m search.restore"


def build_parser(prog: str = PROG) -> Parser:
    parser = Parser(
        prog=prog,
        description="Write a report's finished runs back into a storage, so the study resumes"
        " where the report left it and renders with them.",
        epilog="Example: python -m search.restore reports/ablation.spec-3ecb/data.json"
        " --storage sqlite:///runs/ablation.db, then python -m search.run (the same options"
        " as the report's run) and python -m search.report --study ablation.spec-3ecb",
    )
    parser.add_argument(
        "report", metavar="REPORT", help="a report's data.json, or the report's folder"
    )
    parser.add_argument("--study", help="the study to restore into (default: the report's)")
    add_storage(parser)
    return parser


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = build_parser(prog).parse_args(argv)
    run_dir.use(args.run_dir)
    argv = sys.argv[1:] if argv is None else list(argv)
    return main_guard(prog, lambda: _main(args, argv))


def _main(args, argv: list[str]) -> int:
    from search.store.provenance import record_session
    from search.store.restore import read_report
    from search.store.storage import open_storage, resolve_url, storage_file

    path = Path(args.report)
    path = path / "data.json" if path.is_dir() else path
    document = read_report(path)
    name = args.study or document["name"]
    url = resolve_url(args.storage)
    file = storage_file(url)
    trials = None
    if file is not None and not file.exists():
        trials = _new_study_trials(document, path, name)  # its errors before the file exists
    storage = open_storage(url, heartbeat=False)
    optuna_study, trials = _target_study(storage, document, path, name, trials)
    for trial in trials:
        optuna_study.add_trial(trial)
    restored = {"report": str(path), "trials": len(trials)}
    restored |= {"storage": document.get("storage"), "uuid": document.get("uuid")}
    record_session(optuna_study, argv, prog=PROG, restored=restored)
    print(_summary(document, path, name, url, len(trials)))
    return 0


def _target_study(storage, document: dict, path: Path, name: str, trials: list | None):
    """The study to restore into, loaded or created, and the trials it still lacks."""
    import optuna

    from search.store.provenance import study_uuid
    from search.store.restore import STUDY_ATTRS, planned
    from search.store.settings import SETTINGS_KEY
    from search.store.storage import study_names

    if name in study_names(storage):
        optuna_study = optuna.load_study(study_name=name, storage=storage)
        return optuna_study, planned(optuna_study, document, str(path))
    if trials is None:
        trials = _new_study_trials(document, path, name)
    optuna_study = optuna.create_study(
        storage=storage, study_name=name, direction=document["direction"]
    )
    for attr, key in STUDY_ATTRS.items():
        if document.get(key) is not None:
            optuna_study.set_user_attr(attr, document[key])
    older = (document.get("summary") or {}).get("base")  # an ablation's report before 11-28
    if document.get("about") is None and isinstance(older, str):
        optuna_study.set_user_attr("about", older)
    optuna_study.set_user_attr(SETTINGS_KEY, document["settings"])
    study_uuid(optuna_study)
    return optuna_study, trials


def _summary(document: dict, path: Path, name: str, url: str, restored: int) -> str:
    """The one line a restore prints: what went where, and what a report holds that did not."""
    from search.store.restore import finished

    skipped = len(document["trials"]) - len(finished(document))
    companion = len((document.get("companion") or {}).get("trials") or [])
    left = [f"{skipped} unfinished trials"] if skipped else []
    left += [f"{companion} confirmation runs"] if companion else []
    return (
        f"restored {restored} finished trials of {document['name']} from {path} into study"
        f" {name!r} in {url}" + (f" (not restored: {', '.join(left)})" if left else "")
    )


def _new_study_trials(document: dict, path: Path, name: str) -> list:
    """The trials to restore into a study that is not in the storage yet (checked in memory)."""
    import optuna

    from search.errors import UsageError
    from search.store.restore import planned

    if document.get("settings") is None:
        raise UsageError(
            f"{path} was written before reports stored a study's settings, so it cannot start"
            f" study {name!r} in a storage: run the study there first (python -m search.run"
            " with the same options), then restore"
        )
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a scratch study: no log line
    try:
        in_memory = optuna.create_study(direction=document["direction"])
    finally:
        optuna.logging.set_verbosity(verbosity)
    return planned(in_memory, document, str(path))


if __name__ == "__main__":
    sys.exit(main())
