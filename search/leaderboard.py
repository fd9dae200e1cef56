"""The leaderboard: a study's trials ranked as plain row dicts, and `python -m search.leaderboard`.

Ranking: COMPLETE trials by value in the study's direction; then PRUNED trials that trained, by
their best validation accuracy; then the rest (pruned before training, failed, running) by trial
number. Ties go to the lower trial number. Waiting (enqueued, not started) trials are left out.
The live view (search.console.events) draws the same rows with the same table as this command.
"""

from __future__ import annotations

import sys

from search.cli import Parser, add_storage, main_guard, positive_int
from search.store import run_dir

PROG = "python -m search.leaderboard"
TOP = 10  # rows shown unless --top says otherwise (search.reports.leaderboard.TOP)
FORMATS = ("table", "json", "csv")


def build_parser(prog: str = PROG) -> Parser:
    parser = Parser(
        prog=prog,
        description="Print a study's leaderboard from its storage (during a run or after);"
        " without --study, list the stored studies.",
        epilog="Examples: (list the studies) | --study cnn20k | --study cnn20k --top 25"
        " --storage postgresql://... | --study cnn20k --format csv > top.csv",
    )
    parser.add_argument("--study", help="study name as stored (default: list the studies)")
    parser.add_argument(
        "--top", type=positive_int, default=TOP, help="rows (default: %(default)s)"
    )
    add_storage(parser)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (default), or json / csv on stdout for scripts",
    )
    parser.add_argument("--plain", action="store_true", help="table: no colour, width 120")
    return parser


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = build_parser(prog).parse_args(argv)
    run_dir.use(args.run_dir)
    return main_guard(prog, lambda: _main(args))


def _main(args) -> int:
    from search.reports import leaderboard as board

    if args.study is None:
        rows = board.study_list(args.storage)
        if args.format == "table":
            _print_studies(rows)
            return 0
    else:
        optuna_study = board.load_existing(args.study, args.storage)
        rows = board.leaderboard_rows(optuna_study, args.top)
        if args.format == "table":
            from search.console.events import print_leaderboard

            print_leaderboard(rows, board._title(optuna_study, len(rows)), plain=args.plain)
            return 0
    _print_data(rows, args.format)
    return 0


def _print_studies(rows: list[dict]) -> None:
    width = max((len(row["study"]) for row in rows), default=0)
    for row in rows:
        print(
            f"{row['study']:<{width}}  {row['trials']:>4} trials ({row['complete']} complete,"
            f" {row['pruned']} pruned, {row['failed']} failed)  {row['description'] or ''}"
        )


def _print_data(rows: list[dict], form: str) -> None:
    """json: the rows as they are; csv: one line per row, nested values as JSON text."""
    import csv
    import json

    if form == "json":
        print(json.dumps(rows, indent=1))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["study"])
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()}
        )


if __name__ == "__main__":
    sys.exit(main())
