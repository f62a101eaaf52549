"""Real HTTP(S) servers on 127.0.0.1 that are not the Support API — a web site, a login
wall, a TLS endpoint with a self-signed certificate — and one that answers like it, for
the tests of a wrong set-up."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


HTML_404 = Reply(404, b"<!DOCTYPE html><html><body><h1>Page not found</h1></body></html>")
HTML_200 = Reply(200, b"<!doctype html><html><body><h1>Welcome to our shop</h1></body></html>")
NOT_ALLOWED = Reply(405, b"<html><body>405 Method Not Allowed</body></html>")
# What `python -m http.server` (a plain file server) answers to a POST.
NOT_IMPLEMENTED = Reply(501, b"<html><body>Unsupported method ('POST')</body></html>")
TO_LOGIN = Reply(302, b"", headers=(("Location", "/login?next=/api/v3/dsf/tickets/damage"),))
JSON_ROUTE_404 = Reply(
    404,
    json.dumps(
        {"errors": [{"code": "not_found", "detail": "Not found", "title": "Not Found"}]}
    ).encode(),
    "application/json",
)
PARCEL_404 = Reply(
    404,
    json.dumps(
        {
            "errors": [
                {
                    "code": "not_found",
                    "detail": "Parcel not found.",
                    "title": "Not Found",
                    "status": 404,
                }
            ]
        }
    ).encode(),
    "application/json",
)


def ticket_created() -> Reply:
    return Reply(202, json.dumps({"ticket_id": str(uuid.uuid4())}).encode(), "application/json")


@dataclass
class WebServer:
    """Answers every POST with ``reply`` (or a new ticket when it is None)."""

    reply: Reply | None
    scheme: str = "http"
    paths: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/api/v3"


def _handler(server: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            server.paths.append(self.path)
            reply = server.reply or ticket_created()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(reply: Reply | None, tls: tuple[Path, Path] | None = None) -> Iterator[WebServer]:
    """A server on a free loopback port; ``tls`` = (certificate, key) makes it HTTPS."""
    server = WebServer(reply, scheme="https" if tls else "http")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    server.port = httpd.server_address[1]
    with in_a_thread(httpd):
        yield server


@contextmanager
def in_a_thread(httpd: ThreadingHTTPServer) -> Iterator[None]:
    """Serve ``httpd`` in a daemon thread until the block ends, then shut it down.

    The serving loop looks for the shutdown request every 10 ms (``serve_forever``'s
    default, half a second, would be paid by every test at its end)."""
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def self_signed_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 signed by itself (with the openssl command), or None
    when openssl is not installed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",  # a P-256 key is made at once; an RSA one takes a good part of a second
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
