"""The HTTP session the client sends through, bounded by design.

- Every request has an overall deadline, not only a per-read timeout: a server that
  trickles its answer one byte at a time is cut off when the deadline passes (a
  watchdog shuts the request's socket down, which ends any read under way).
- An answer's body is read up to a cap (error answers are small; a ticket or file
  answer is a few hundred bytes): the rest is never read into memory.
- Requests to a loopback host never go through an HTTP proxy (``HTTP_PROXY`` would
  otherwise see the credentials in clear text); TLS is always verified and redirects
  are never followed (the client passes ``allow_redirects=False``).

urllib3's connection class is subclassed only to learn which connection a thread's
request uses (``request`` is called for every request, on new and pooled connections).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from batch_claims.netloc import is_loopback

MAX_BODY = 1 << 20  # bytes of an answer read at the most
_CHUNK = 1 << 14

# Thread ident -> the connection that thread's request is using, and its socket once
# the request is sent (http.client lets go of the socket of an answer that closes the
# connection, while the answer is still being read from it).
_connections: dict[int, HTTPConnection] = {}
_sockets: dict[int, socket.socket] = {}


class DeadlinePassed(Exception):
    """The request's overall deadline passed before its answer was complete."""


def _sending(connection: HTTPConnection) -> None:
    _connections[threading.get_ident()] = connection


def _sent(connection: HTTPConnection) -> None:
    if connection.sock is not None:
        _sockets[threading.get_ident()] = connection.sock


class _HTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _sending(self)
        super().request(*args, **kwargs)
        _sent(self)


class _HTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _sending(self)
        super().request(*args, **kwargs)
        _sent(self)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def new_session() -> requests.Session:
    """A session whose requests can be cut off at their deadline."""
    session = requests.Session()
    adapter = _Adapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def post(
    session: requests.Session,
    url: str,
    *,
    deadline: float,
    max_body: int = MAX_BODY,
    **kwargs: Any,
) -> requests.Response:
    """POST with an overall deadline (seconds) and a body read up to ``max_body`` bytes.

    Raises ``DeadlinePassed`` when the deadline cut the request off (whether it had
    been sent is the caller's to judge: after it started, assume it may have been).
    """
    if is_loopback(urlsplit(url).hostname):
        kwargs["proxies"] = _NO_PROXY
    me = threading.get_ident()
    _connections.pop(me, None)
    _sockets.pop(me, None)
    fired = threading.Event()
    watchdog = threading.Timer(deadline, _cut_off, args=(me, fired))
    watchdog.daemon = True
    watchdog.start()
    try:
        response = session.post(url, stream=True, **kwargs)
        try:
            body = _read_capped(response, max_body, fired)
        finally:
            response.close()
        response._content = body  # the capped body, as requests would have kept it
        setattr(response, "_content_consumed", True)  # noqa: B010 (private to requests)
        return response
    except requests.RequestException:
        if fired.is_set():
            raise DeadlinePassed(f"no complete answer within {deadline:g} s") from None
        raise
    finally:
        watchdog.cancel()
        _connections.pop(me, None)
        _sockets.pop(me, None)


_NO_PROXY: Mapping[str, str] = {"http": "", "https": "", "all": ""}


def _cut_off(thread: int, fired: threading.Event) -> None:
    fired.set()
    sock = _sockets.get(thread) or getattr(_connections.get(thread), "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _read_capped(response: requests.Response, max_body: int, fired: threading.Event) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(_CHUNK):
            if fired.is_set():
                raise DeadlinePassed("the answer did not arrive in time")
            chunks.append(chunk)
            size += len(chunk)
            if size >= max_body:
                break  # the rest is never read
    except requests.RequestException:
        if fired.is_set():
            raise DeadlinePassed("the answer did not arrive in time") from None
        raise
    if fired.is_set():
        raise DeadlinePassed("the answer did not arrive in time")
    return b"".join(chunks)[:max_body]
