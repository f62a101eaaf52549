"""Real servers on 127.0.0.1 that misbehave on purpose: they echo the request's
headers, trickle their answers, send huge bodies, hand out odd tokens, or act as an
HTTP proxy that records what reaches it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.web_servers import in_a_thread

# (method, path, headers, body) -> (status, content type, body chunks, seconds between)
Answer = tuple[int, str, list[bytes], float]
Behaviour = Callable[[str, str, dict[str, str], bytes], Answer]


@dataclass
class Hostile:
    behaviour: Behaviour
    port: int = 0
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/v3"


def _handler(server: Hostile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name: value for name, value in self.headers.items()}
            server.seen.append((self.command, self.path, headers))
            status, content_type, chunks, pause = server.behaviour(
                self.command, self.path, headers, body
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for chunk in chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    if pause:
                        time.sleep(pause)
            except OSError:
                pass  # the client hung up: that is what some tests want

        do_POST = _answer  # noqa: N815 (http.server's names)
        do_GET = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def hostile(behaviour: Behaviour) -> Iterator[Hostile]:
    server = Hostile(behaviour)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    with in_a_thread(httpd):
        yield server
