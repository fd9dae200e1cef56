"""What every command shares: one-line errors with exit status 2, and Ctrl-C as exit 130."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from search.errors import UsageError

INTERRUPTED = 130  # the shell's convention for a process ended by SIGINT


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `prog: error: ... (see --help)`, exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def main_guard(prog: str, run: Callable[[], int]) -> int:
    """Run a command body: UsageError -> one line on stderr and 2; Ctrl-C -> 130."""
    try:
        return run()
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return UsageError.exit_status
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; run the same command again to resume", file=sys.stderr)
        return INTERRUPTED
