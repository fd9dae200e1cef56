"""`python -m search.report`: stored studies as reports people can read, and as data for scripts.

    python -m search.report [--study NAME ...] [--storage URL] [--out DIR] [--format md|json|csv]

md (default) writes `<out>/<study>/` for every study in the storage (or the named ones): README.md
with its provenance header, PNG figures, data.json and trials.csv, and prints one line per study.
json prints one JSON document (every study, every trial, the computed summaries) to stdout; csv
prints one row per trial. Which renderer a study gets is read from what it stores
(search.reports.data.study_kind); a companion study NAME.confirm is rendered inside NAME's report.
Bad input (missing storage file, empty storage, unknown study) is one line on stderr, exit 2,
and nothing written.
"""

from __future__ import annotations

import sys

from search.cli import Parser, add_storage, main_guard
from search.store import run_dir

PROG = "python -m search.report"
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
    add_storage(parser)
    parser.add_argument(
        "--out",
        help="md: folder of the study folders (default: <run dir>/reports; the committed"
        " reports/ only when named)",
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
    from search.reports.render import run_report

    run_dir.use(args.run_dir)
    args.out = args.out or str(run_dir.reports_dir())
    return run_report(args)


if __name__ == "__main__":
    sys.exit(main())
