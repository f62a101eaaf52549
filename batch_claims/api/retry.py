"""The retry policy value, Retry-After parsing, and the one place requests' errors become ours.

The rule (as urllib3's ``Retry``): a failure before the request left this machine
(refused connection, DNS failure, connect timeout) is ``CannotConnect``, a
``Retryable``; a failure after it went out (read timeout, dropped connection) may have
had an effect, so for a ticket it is ``Unconfirmed`` and never resent. An upload is
harmless to repeat. A TLS failure happens before anything is sent and stops the run.
Every message is in plain words, never an exception's own text.
"""

from __future__ import annotations

import email.utils
import errno
import http.client
import math
import random
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from batch_claims.errors import (
    BatchClaimsError,
    CannotConnect,
    InputError,
    Rejected,
    Retryable,
    TlsFailed,
    Unconfirmed,
)
from batch_claims.outcome import ErrorCode


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before sending a Retryable request again."""

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 300.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be ≥ 1; got {self.max_attempts}")
        for name in ("backoff_base", "backoff_cap", "retry_after_cap"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number ≥ 0; got {value!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1; got {self.jitter!r}")

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based), before jitter."""
        if attempt < 1:
            raise ValueError(f"attempt must be ≥ 1; got {attempt}")
        return min(self.backoff_cap, self.backoff_base * 2.0 ** min(attempt - 1, 64))

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt ``attempt``; a Retry-After wins, capped."""
        if retry_after is not None and math.isfinite(retry_after):
            return min(max(retry_after, 0.0), self.retry_after_cap)
        return self.backoff(attempt) * (1.0 - self.jitter * rng.random())


_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@contextmanager
def map_request_errors(*, ticket: bool, url: str | None = None) -> Iterator[None]:
    """Turn requests' (and leaked urllib3) exceptions raised inside into batch-claims
    errors; ``url`` is where the request went (for the message's host:port)."""
    try:
        yield
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise classify_request_error(exc, ticket=ticket, url=url) from exc


def classify_request_error(
    exc: Exception, *, ticket: bool, url: str | None = None
) -> BatchClaimsError:
    """The batch-claims error for a requests exception; ``ticket`` marks an unsafe request.

    Messages are plain words ("cannot connect to host:443: connection refused"): no
    exception text of Python, requests or urllib3 ever reaches a row or the console.
    """
    where = host_and_port(url or _request_url(exc))
    if isinstance(exc, requests.exceptions.SSLError):
        return TlsFailed(_tls_message(exc, where))
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.URLRequired,
    ):
        return InputError(f"the API URL for {where} cannot be used: check SENDCLOUD_BASE_URL")
    if isinstance(exc, requests.exceptions.InvalidHeader):
        # Its message quotes the header value, which may be a credential: never show it.
        return InputError(
            "A request header has an invalid value (a line break or leading space?): "
            "check SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY."
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return CannotConnect(f"cannot connect to {where} through the proxy{_proxy(exc, where)}")
    if isinstance(exc, requests.exceptions.ConnectTimeout) or _never_connected(exc):
        return CannotConnect(f"cannot connect to {where}: {_connect_failure(exc)}")
    if isinstance(exc, requests.exceptions.InvalidJSONError) and not isinstance(
        exc, requests.exceptions.JSONDecodeError
    ):
        return Rejected(
            "the request body cannot be sent as JSON (a number that is not finite?)",
            error_code=ErrorCode.INVALID_JSON,
        )
    # Everything else may have happened after the request went out.
    what = _after_sending(exc, where)
    if ticket:
        return Unconfirmed(
            f"{what} after the ticket request was sent; the ticket may have been created: "
            "check the Sendcloud panel"
        )
    return Retryable(what)


def host_and_port(url: str | None) -> str:
    """``host:port`` of a URL (the scheme's default port when none is given)."""
    if not url:
        return "the API"
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    except ValueError:
        return "the API"
    if not parts.hostname:
        return "the API"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}" if port else host


def _request_url(exc: BaseException) -> str | None:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    return url if isinstance(url, str) else None


def _connect_failure(exc: BaseException) -> str:
    """Why a connection was never made, in plain words."""
    causes = list(_causes(exc))
    text = " ".join(str(c) for c in causes).lower()
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in text:
        return "connection refused"
    if (
        any(isinstance(c, socket.gaierror | urllib3.exceptions.NameResolutionError) for c in causes)
        or "name or service not known" in text
        or "nodename nor servname" in text
    ):
        return "the host name is not known (DNS lookup failed)"
    for cause in causes:
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "the network or the host is unreachable"
    if (
        isinstance(exc, requests.exceptions.ConnectTimeout)
        or any(
            isinstance(c, urllib3.exceptions.ConnectTimeoutError | TimeoutError)
            and not isinstance(c, urllib3.exceptions.NewConnectionError)
            for c in causes
        )
        or "timed out" in text
    ):
        return "no answer to the connection attempt in time (connect timeout)"
    return "the connection could not be made"


def _after_sending(exc: BaseException, where: str) -> str:
    """What went wrong once connected, in plain words."""
    causes = list(_causes(exc))
    if any(
        isinstance(c, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError)
        for c in causes
    ):
        return f"no answer from {where} in time (read timeout)"
    if any(isinstance(c, http.client.RemoteDisconnected) for c in causes):
        return f"the connection to {where} was dropped without an answer"
    if any(isinstance(c, ConnectionResetError) for c in causes):
        return f"the connection to {where} was reset"
    if isinstance(exc, urllib3.exceptions.ProtocolError | requests.exceptions.ConnectionError):
        return f"the connection to {where} was dropped without an answer"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer from {where} in time"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"the answer from {where} was cut off"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return f"the answer from {where} could not be decoded"
    return f"the request to {where} failed"


def _tls_message(exc: BaseException, where: str) -> str:
    """TLS failed: what, and the fix (never turning verification off)."""
    reason = ""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            reason = f" ({cause.verify_message})"
            break
        if isinstance(cause, ssl.SSLError) and cause.reason == "WRONG_VERSION_NUMBER":
            return (
                f"TLS handshake with {where} failed: the server does not speak TLS there "
                "(an http:// address used as https://?); check SENDCLOUD_BASE_URL"
            )
    return (
        f"TLS verification failed for {where}{reason}: nothing was sent. Behind a "
        "corporate proxy that inspects TLS, set REQUESTS_CA_BUNDLE to the file of its CA "
        "certificate (ask your IT department for it); batch-claims never turns certificate "
        "verification off"
    )


_URL_HOST = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^/@\s]+@)?([^/\s:'\"()]+(?::\d+)?)")


def _proxy(exc: BaseException, where: str) -> str:
    """' proxy.example:3128' when the error names a proxy other than the target."""
    for match in _URL_HOST.finditer(" ".join(str(c) for c in _causes(exc))):
        host = match.group(1)
        if host != where and not where.startswith(f"{host}:"):
            return f" {host}"
    return " (check HTTPS_PROXY)"


def _never_connected(exc: BaseException) -> bool:
    """True when the cause chain shows the connection was never established."""
    for cause in _causes(exc):
        # urllib3's NewConnectionError and NameResolutionError subclass ConnectTimeoutError.
        if isinstance(
            cause,
            urllib3.exceptions.ConnectTimeoutError | socket.gaierror | ConnectionRefusedError,
        ):
            return True
    return False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
        if current.__cause__ is not None:
            stack.append(current.__cause__)


_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>:?\s*")
_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
