"""`make_console`: the plain console or the live view, whichever the stream and the options ask
for (see search.console.events for the plain one and search.console.live for the live one)."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console

from search.console.events import PlainConsole, wants_plain
from search.console.live import LiveConsole


def make_console(plain: bool = False, stream: TextIO | None = None) -> PlainConsole | LiveConsole:
    stream = stream or sys.stdout
    if wants_plain(plain, stream, os.environ):
        return PlainConsole(stream)
    return LiveConsole(Console(file=stream))
