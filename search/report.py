"""`python -m search.report`: stored studies as reports people can read, and as data for scripts.

    python -m search.report [--study NAME ...] [--storage URL] [--out DIR] [--format md|json|csv]

md (default) writes `<out>/<study>/` for every study in the storage (or the named ones): README.md
with its provenance header, PNG figures, data.json and trials.csv, and prints one line per study.
json prints one JSON document (every study, every trial, the computed summaries) to stdout; csv
prints one row per trial. Which renderer a study gets is read from what it stores
(search.report_data.study_kind); a companion study NAME.confirm is rendered inside NAME's report.
Bad input (missing storage file, empty storage, unknown study) is one line on stderr, exit 2,
and nothing written.
"""

from __future__ import annotations

import sys

from search.cli import Parser, main_guard

PROG = "python -m search.report"
DEFAULT_OUT = "runs/reports"  # beside the default storage; the committed reports/ is explicit
FORMATS = ("md", "json", "csv")


def build_parser(prog: str = PROG) -> Parser:
    parser = Parser(
        prog=prog,
        description="Render stored studies: markdown, figures, CSV and JSON under OUT/<study>/.",
        epilog="Examples: (all studies) | --study cnn20k | --study baseline ablation"
        " | --format json > studies.json | --format csv --storage sqlite:///other.db",
    )
    parser.add_argument(
        "--study", action="extend", nargs="+", metavar="NAME", help="studies (default: all)"
    )
    parser.add_argument(
        "--storage",
        help="Optuna storage URL, or journal:PATH (default: "
        "$SEARCH_STORAGE, else sqlite:///runs/optuna.sqlite3)",
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"md: folder of the study folders (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="md: replace a report in OUT rendered from another storage (refused otherwise)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="md",
        help="md: write OUT/<study>/ (default); json or csv: print every trial to stdout",
    )
    return parser


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = build_parser(prog).parse_args(argv)
    return main_guard(prog, lambda: _main(args))


def _main(args) -> int:
    from search.report_render import run_report

    return run_report(args)


if __name__ == "__main__":
    sys.exit(main())
