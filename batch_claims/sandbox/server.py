"""Serve a sandbox app over real HTTP: in a background thread, or until Ctrl-C.

Werkzeug's threaded development server, bound to loopback unless ``allow_remote``
is passed. Request lines go to the ``batch_claims.sandbox`` logger at INFO, never
straight to stderr. A port that cannot be bound (in use, not allowed) is one
``InputError``, told once: werkzeug's own two lines and exit are kept out.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from batch_claims.clock import Clock
from batch_claims.errors import InputError
from batch_claims.netloc import is_loopback
from batch_claims.sandbox.app import create_app
from batch_claims.sandbox.state import API_PREFIX, TOKEN_PATH, sandbox_state

logger = logging.getLogger("batch_claims.sandbox")

DEFAULT_PORT = 8765


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, logging through ``logging`` instead of werkzeug's stderr."""

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.INFO if type == "info" else logging.WARNING
        logger.log(level, "%s %s", self.address_string(), message % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.info('"%s" %s %s', self.requestline, code, size)


class _CannotListen(Exception):
    """Binding or listening failed; not an ``OSError``, so werkzeug closes the socket
    and lets it through instead of printing to stderr and exiting."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(cause.strerror or str(cause))
        self.cause = cause


class _Server(ThreadedWSGIServer):
    def server_bind(self) -> None:
        try:
            super().server_bind()
        except OSError as exc:
            raise _CannotListen(exc) from None

    def server_activate(self) -> None:
        try:
            super().server_activate()
        except OSError as exc:
            raise _CannotListen(exc) from None


def bind(app: Flask, host: str, port: int, *, allow_remote: bool = False) -> BaseWSGIServer:
    """A threaded werkzeug server for ``app``, refusing non-loopback hosts by default."""
    if not allow_remote and not is_loopback(host):
        raise InputError(
            f"Refusing to serve the sandbox on {host!r}: it is not a loopback address "
            "(pass allow_remote=True / --allow-remote to expose it)."
        )
    try:
        return _Server(host, port, app, QuietRequestHandler)
    except _CannotListen as exc:
        reason = (
            "the port is in use (try another --port)"
            if exc.cause.errno == errno.EADDRINUSE
            else (exc.cause.strerror or str(exc.cause)).lower()
        )
        raise InputError(f"cannot serve the sandbox on {host}:{port}: {reason}") from None
    except OSError as exc:  # the host name cannot be resolved
        raise InputError(
            f"cannot serve the sandbox on {host}:{port}: {exc.strerror or exc}"
        ) from None


class SandboxServer:
    """A sandbox served in a daemon thread; a context manager that shuts it down."""

    def __init__(
        self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False
    ) -> None:
        self.app = app
        self.host = host
        self._server = bind(app, host, port, allow_remote=allow_remote)
        self.port: int = self._server.port
        netloc = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        self.root_url = f"http://{netloc}"
        self.base_url = f"{self.root_url}{API_PREFIX}"
        self.token_url = f"{self.root_url}{TOKEN_PATH}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"batch-claims-sandbox-{self.port}",
            daemon=True,
        )
        self._stopped = False
        self._thread.start()

    def shutdown(self) -> None:
        """Stop serving, wake any waiting answer, and close the socket (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        sandbox_state(self.app).halt.set()
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"SandboxServer({self.root_url!r})"


def serve(
    config: Mapping[str, object] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_remote: bool = False,
    clock: Clock | None = None,
) -> SandboxServer:
    """Start a new sandbox app on ``host:port`` (0 = a free port) in a background thread;
    ``clock`` as for ``create_app`` (the system clock by default)."""
    return SandboxServer(create_app(config, clock=clock), host, port, allow_remote=allow_remote)


def run_forever(
    config: Mapping[str, object] | None = None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    allow_remote: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a new sandbox app in this thread until Ctrl-C; ``on_ready`` gets its root URL."""
    app = create_app(config)
    server = bind(app, host, port, allow_remote=allow_remote)
    netloc = f"[{host}]:{server.port}" if ":" in host else f"{host}:{server.port}"
    if on_ready is not None:
        on_ready(f"http://{netloc}")
    try:
        server.serve_forever()  # werkzeug's returns on KeyboardInterrupt and closes the socket
    finally:
        sandbox_state(app).halt.set()
        server.server_close()
