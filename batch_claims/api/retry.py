"""The retry policy value, Retry-After parsing, and the one place requests' errors become ours.

The rule (as urllib3's ``Retry``): a failure before the request left this machine
(refused connection, DNS failure, connect timeout) is ``Retryable``; a failure after it
went out (read timeout, dropped connection) may have had an effect, so for a ticket it
is ``Unconfirmed`` and never resent. An upload is harmless to repeat.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
import urllib3.exceptions

from batch_claims.errors import (
    BatchClaimsError,
    InputError,
    Rejected,
    Retryable,
    RunAborted,
    Unconfirmed,
)


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
def map_request_errors(*, ticket: bool) -> Iterator[None]:
    """Turn requests' (and leaked urllib3) exceptions raised inside into batch-claims errors."""
    try:
        yield
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise classify_request_error(exc, ticket=ticket) from exc


def classify_request_error(exc: Exception, *, ticket: bool) -> BatchClaimsError:
    """The batch-claims error for a requests exception; ``ticket`` marks an unsafe request."""
    desc = describe_exception(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return RunAborted(
            f"TLS verification failed ({desc}). batch-claims never turns certificate "
            "verification off: fix the server certificate, or point REQUESTS_CA_BUNDLE "
            "at the CA bundle of your network's TLS proxy."
        )
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.URLRequired,
    ):
        return InputError(f"The API URL cannot be used ({desc}): check SENDCLOUD_BASE_URL.")
    if isinstance(exc, requests.exceptions.InvalidHeader):
        # Its message quotes the header value, which may be a credential: never show it.
        return InputError(
            "A request header has an invalid value (a line break or leading space?): "
            "check SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY."
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError) or (
        isinstance(exc, requests.exceptions.ConnectionError) and _never_connected(exc)
    ):
        return Retryable(f"Could not connect to the API ({desc}).")
    if isinstance(exc, requests.exceptions.InvalidJSONError) and not isinstance(
        exc, requests.exceptions.JSONDecodeError
    ):
        return Rejected(
            f"The request body cannot be sent as JSON ({desc}).", error_code="invalid_json"
        )
    # Everything else may have happened after the request went out.
    if ticket:
        return Unconfirmed(
            f"The connection failed after the ticket request was sent ({desc}); "
            "the ticket may have been created: check the Sendcloud panel."
        )
    return Retryable(f"The connection failed during the request ({desc}).")


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


def describe_exception(exc: BaseException, limit: int = 300) -> str:
    """A short one-line text for an exception, without object reprs or URL credentials."""
    text = str(exc) or type(exc).__name__
    text = _OBJECT_REPR.sub("", text)
    text = _USERINFO.sub(r"\1***@", text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}"
