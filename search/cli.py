"""What every command shares: one-line errors with exit status 2, and Ctrl-C as exit 130."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable

from search.errors import StudyFailed, UsageError

INTERRUPTED = 130  # the shell's convention for a process ended by SIGINT


class DefaultsShown(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help when it has a default the text does not state
    (None and False say nothing: the help says what happens without the option)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            default in (None, False, argparse.SUPPRESS)
            or "default" in text
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `prog: error: ... (see --help)`, exit status 2, and every
    option's default shown in --help."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsShown)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


STORAGE_HELP = (
    "Optuna storage URL, or journal:PATH (default: $SEARCH_STORAGE, else"
    " sqlite:///<run dir>/optuna.sqlite3)"
)


def add_storage(parser: argparse.ArgumentParser) -> None:
    """--storage and --run-dir, alike in every command that reads or writes a study."""
    from search.store.run_dir import HELP

    parser.add_argument("--storage", help=STORAGE_HELP)
    parser.add_argument("--run-dir", help=HELP)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def interruptible() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, even where the shell started us ignoring SIGINT
    (background jobs) or a scheduler stops us with SIGTERM: the running trial is then recorded."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def main_guard(prog: str, run: Callable[[], int]) -> int:
    """Run a command body: UsageError -> one line on stderr and 2; Ctrl-C -> 130."""
    interruptible()
    try:
        return run()
    except (UsageError, StudyFailed) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return error.exit_status
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; run the same command again to resume", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
