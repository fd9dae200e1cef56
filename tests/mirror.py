"""A real HTTP mirror on 127.0.0.1 for the fetch tests: serves chosen bytes, or misbehaves.

`serve(routes)` starts a threaded `http.server` on a free loopback port and yields its base URL.
A route maps a file name to bytes (served whole), or to one of the failures: `Missing()` (404),
`Truncated(body)` (announces the whole length, sends half, closes), `Stall()` (accepts the
request and never answers until the server stops).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Missing:
    pass


@dataclass(frozen=True)
class Truncated:
    body: bytes


@dataclass(frozen=True)
class Stall:
    released: threading.Event = field(default_factory=threading.Event)


Route = bytes | Missing | Truncated | Stall


@contextlib.contextmanager
def serve(routes: dict[str, Route]) -> Iterator[str]:
    """The base URL (ending in '/') of a mirror serving `routes` by file name."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            name = self.path.rsplit("/", 1)[-1]
            requests.append(name)
            route = routes.get(name, Missing())
            if isinstance(route, Stall):
                route.released.wait(60)
                return
            if isinstance(route, Missing):
                self.send_error(404)
                return
            body = route.body if isinstance(route, Truncated) else route
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            sent = body[: len(body) // 2] if isinstance(route, Truncated) else body
            self.wfile.write(sent)
            if isinstance(route, Truncated):
                self.close_connection = True

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mnist/"
    finally:
        for route in routes.values():
            if isinstance(route, Stall):
                route.released.set()
        server.shutdown()
        server.server_close()
