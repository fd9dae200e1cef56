"""`python -m search.run`: run or resume a study (and confirm, replay or export its trials).

A thin CLI over search.runner.session: parse, validate, call one library function, exit 0, 2 on bad
input (one line, nothing written), 130 when interrupted (rerun the same command to resume).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from search.cli import main_guard
from search.errors import StudyFailed, UsageError
from search.run_checks import check_used
from search.run_options import PROG, build_parser, export_trial_number, options_from
from search.store import run_dir
from search.workers.spawn import (
    EarlyWorkers,
    auto_workers,
    dismiss,
    fast_exit,
    noting,
    other_runs,
    shared_cores_note,
)

if TYPE_CHECKING:
    from search.study.definitions import RunOptions


def resolve_workers(requested: str | int, options: RunOptions) -> int:
    """auto: every core as a 1-thread worker on CPU (2 single-thread workers train ~1.5x the
    images of one 2-thread process on 2 cores), capped at 8; on a GPU, GPU_AUTO_WORKERS
    processes sharing it (search.workers.spawn: measured by `python -m search.bench workers
    --device cuda`); one with --threads."""
    if requested != "auto":
        return int(requested)
    if options.threads:
        return 1

    from search.engine.train import resolve_device

    return auto_workers(gpu=resolve_device(options.device).type == "cuda")


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = build_parser(prog).parse_args(argv)
    args.argv = tuple(sys.argv[1:] if argv is None else argv)  # recorded on the study
    run_dir.use(args.run_dir)  # before any worker starts: they inherit it
    return main_guard(prog, lambda: _with_early_workers(args))


def _with_early_workers(args) -> int:
    """Start the local workers first if the arguments say how many (search.workers.spawn): their
    imports then overlap ours."""
    with EarlyWorkers(args) as early:
        return _main(args, early)


def _main(args, early: EarlyWorkers) -> int:
    """One of the modes: --list, --replay/--export, a search or --confirm on workers, or in
    this process."""
    from search.runner.registry import find_study
    from search.study.definitions import configured, validate_options

    if args.list:
        return _list()
    if not args.study:
        raise UsageError("--study NAME is required (see --list for the studies)")
    options = options_from(args)
    study = configured(find_study(args.study), options)
    check_used(args, study)
    validate_options(study, options)  # before torch is imported: bad input answers at once
    if options.threads:
        import torch

        torch.set_num_threads(options.threads)
    if args.replay is not None or args.export is not None:
        return _replay_or_export(args, study, options)
    workers = resolve_workers(args.workers, options)
    note = _shared_cores_note(study, options)
    if workers > 1 and study.needs_data:
        from search.workers.pool import launch

        return launch(
            study,
            options,
            workers,
            plain=args.plain,
            confirm=args.confirm,
            auto_confirm=not args.no_confirm,
            key=args.study,
            processes=early.take(),
            note=note,
        )
    dismiss(early.take())  # this process runs the study: workers started early are not needed
    return _in_process(args, study, options, note)


def _shared_cores_note(study, options) -> str | None:
    """What to log once the run has checked its input, when other runs already train here and
    this one takes every core on CPU (no --threads): all of them doing so makes each
    several-fold slower, not half as fast."""
    if not study.needs_data or options.threads:
        return None
    from search.engine.train import resolve_device

    pids = other_runs() if resolve_device(options.device).type == "cpu" else []
    return shared_cores_note(pids, os.cpu_count() or 1) if pids else None


def _list() -> int:
    from studies import STUDIES

    width = max(len(name) for name in STUDIES)
    for name, study in STUDIES.items():
        print(f"{name:<{width}}  {study.description}")
    print(
        "your own: --study path/to/my_study.py, a file that defines STUDY"
        " (from search.study import CnnStudy, Proposal, ...; see the README)"
    )
    return 0


def _replay_or_export(args, study, options) -> int:
    from search.console.choose import make_console
    from search.runner.confirm import replay_trial
    from search.runner.export import export_trial

    if args.export is not None:
        number, folder = export_trial_number(args.export[0]), args.export[1]
        return export_trial(
            study, options, number, folder, args.confirmation_seed, args.force, not args.no_onnx
        )
    with make_console(plain=args.plain) as console:
        return replay_trial(study, options, args.replay, console.emit)


def _in_process(args, study, options, note: str | None = None) -> int:
    """The study (or its --confirm) in this process; a search that spends its budget then
    confirms its winners (search.runner.progress.confirm_after, as a pool of workers does)."""
    from search.console.choose import make_console
    from search.runner.confirm import confirm
    from search.runner.progress import confirm_after, untimed
    from search.runner.session import run_study

    with make_console(plain=args.plain) as console:
        emit = noting(console.emit, note)
        if args.confirm is not None:
            confirm(study, options, args.confirm, emit)
            return 0
        summary = run_study(study, options, emit)
        if summary.stopped_by == "failures":
            raise StudyFailed(f"{study.name}: stopped after repeated trial failures (see above)")
        top = confirm_after(study, summary.stopped_by, auto=not args.no_confirm)
        if top:  # the search is over: confirm its winners, whole (past --timeout)
            confirm(study, untimed(options), top, emit)
    return 0


if __name__ == "__main__":
    fast_exit(main())  # what it ran is stored or printed: skip the teardown
