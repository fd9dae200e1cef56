"""`cnnsearch VERB ...`: one command for every verb; `python -m search.<verb>` keeps working.

Each verb is the `main` of its module, imported only when that verb runs, so `cnnsearch --help`
and `cnnsearch VERB --help` load neither torch nor optuna nor pandas (except `data`, whose
fetch reads the files back with torch).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys

from search.cli import Parser

# verb -> (module whose main(argv, prog) runs it, arguments put before the user's, what it does)
VERBS = {
    "run": ("search.run", (), "run or resume a study; confirm, replay or export its trials"),
    "report": ("search.report", (), "render stored studies: markdown, figures, JSON, CSV"),
    "leaderboard": ("search.leaderboard", (), "a study's leaderboard, or the stored studies"),
    "restore": ("search.restore", (), "write a report's finished runs back into a storage"),
    "show": ("search.show", ("show",), "a spec's layers, params, FLOPs and the limits"),
    "bench": ("search.bench", (), "speed of the training paths and of workers, as ratios"),
    "data": ("search.data", (), "fetch MNIST (hash-checked) into the data root"),
}


def version() -> str:
    try:
        return importlib.metadata.version("cnnsearch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> Parser:
    verbs = "\n".join(f"  {verb:<12} {what}" for verb, (_, _, what) in VERBS.items())
    parser = Parser(
        prog="cnnsearch",
        description="Architecture search and ablation for small CNNs under hard budgets.\n\n"
        f"verbs:\n{verbs}",
        epilog="Each verb has --help (cnnsearch run --help). Examples:\n  cnnsearch run --study"
        " cnn20k\n  cnnsearch report --study cnn20k\n  cnnsearch leaderboard",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cnnsearch {version()}")
    parser.add_argument("verb", choices=list(VERBS), metavar="VERB", help="one of the verbs above")
    parser.add_argument("arguments", nargs="...", help="the verb's own options (see its --help)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    module, before, _ = VERBS[args.verb]
    run = importlib.import_module(module).main
    prog = f"cnnsearch {args.verb}"
    if args.verb == "show":
        prog = "cnnsearch"  # its parser names the "show" subcommand itself
    return run([*before, *args.arguments], prog=prog)


if __name__ == "__main__":
    sys.exit(main())
