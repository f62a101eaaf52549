"""The retry policy, Retry-After parsing, and the classification of every requests exception."""

from __future__ import annotations

import dataclasses
import http.client
import inspect
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import requests.exceptions as rex
import urllib3.exceptions
from urllib3.connection import HTTPConnection

from batch_claims.api.retry import (
    RetryPolicy,
    classify_request_error,
    map_request_errors,
    parse_retry_after,
)
from batch_claims.errors import (
    BatchClaimsError,
    CannotConnect,
    InputError,
    Rejected,
    Retryable,
    RunAborted,
    TlsFailed,
    Unconfirmed,
)

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)

# --- RetryPolicy -------------------------------------------------------------------------------


def test_policy_defaults_and_immutability() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.backoff_base, policy.backoff_cap) == (5, 0.5, 30.0)
    assert (policy.retry_after_cap, policy.jitter) == (300.0, 0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_attempts = 3  # type: ignore[misc]
    assert dataclasses.replace(policy, max_attempts=2).max_attempts == 2


def test_backoff_is_exponential_and_capped_without_jitter() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=5.0, jitter=0.0)
    rng = random.Random(1)
    assert [policy.delay(a, None, rng) for a in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.delay(10_000, None, rng) == 5.0


def test_jitter_stays_within_its_share_of_the_backoff() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=100.0, jitter=0.5)
    rng = random.Random(3)
    delays = [policy.delay(3, None, rng) for _ in range(500)]
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 100


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(retry_after_cap=120.0)
    rng = random.Random(0)
    assert policy.delay(1, 7.5, rng) == 7.5
    assert policy.delay(4, 0.0, rng) == 0.0
    assert policy.delay(1, 3600.0, rng) == 120.0


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"backoff_base": -1.0}, {"jitter": 1.5}, {"backoff_cap": float("nan")}],
)
def test_policy_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


# --- Retry-After ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("1.5", 1.5),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("Mon, 02 Mar 2026 12:01:00 GMT", 60.0),
        ("Monday, 02-Mar-26 12:01:00 GMT", 60.0),  # RFC 850, still allowed to be sent
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1e3", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


# --- every requests exception is classified ----------------------------------------------------

# name: (classification for a ticket request, for an upload)
EXPECTED: dict[str, tuple[type[BatchClaimsError], type[BatchClaimsError]]] = {
    "RequestException": (Unconfirmed, Retryable),
    "InvalidJSONError": (Rejected, Rejected),
    "JSONDecodeError": (Unconfirmed, Retryable),
    "HTTPError": (Unconfirmed, Retryable),
    "ConnectionError": (Unconfirmed, Retryable),
    "ProxyError": (CannotConnect, CannotConnect),
    "SSLError": (TlsFailed, TlsFailed),
    "Timeout": (Unconfirmed, Retryable),
    "ConnectTimeout": (CannotConnect, CannotConnect),
    "ReadTimeout": (Unconfirmed, Retryable),
    "URLRequired": (InputError, InputError),
    "TooManyRedirects": (Unconfirmed, Retryable),
    "MissingSchema": (InputError, InputError),
    "InvalidSchema": (InputError, InputError),
    "InvalidURL": (InputError, InputError),
    "InvalidHeader": (InputError, InputError),
    "InvalidProxyURL": (InputError, InputError),
    "ChunkedEncodingError": (Unconfirmed, Retryable),
    "ContentDecodingError": (Unconfirmed, Retryable),
    "StreamConsumedError": (Unconfirmed, Retryable),
    "RetryError": (Unconfirmed, Retryable),
    "UnrewindableBodyError": (Unconfirmed, Retryable),
}


def exported_exceptions() -> list[type[BaseException]]:
    return [
        cls
        for _, cls in inspect.getmembers(rex, inspect.isclass)
        if issubclass(cls, BaseException)
        and not issubclass(cls, Warning)
        and cls.__module__ == rex.__name__
    ]


def make(cls: type[BaseException]) -> BaseException:
    if cls is rex.JSONDecodeError:
        return cls("Expecting value", "<html>", 0)
    return cls("something went wrong")


def test_the_table_names_every_exception_requests_exports() -> None:
    assert {cls.__name__ for cls in exported_exceptions()} == set(EXPECTED)


@pytest.mark.parametrize("cls", exported_exceptions(), ids=lambda c: c.__name__)
@pytest.mark.parametrize("ticket", [True, False], ids=["ticket", "upload"])
def test_every_requests_exception_is_classified(cls: type[BaseException], ticket: bool) -> None:
    expected = EXPECTED[cls.__name__][0 if ticket else 1]
    with pytest.raises(BatchClaimsError) as info, map_request_errors(ticket=ticket):
        raise make(cls)
    assert type(info.value) is expected
    assert isinstance(info.value.__cause__, cls)


def _pool_error(reason: Exception) -> rex.ConnectionError:
    pool = urllib3.HTTPSConnectionPool("panel.sendcloud.sc", 443)
    return rex.ConnectionError(urllib3.exceptions.MaxRetryError(pool, "/api/v3", reason))


def _conn() -> HTTPConnection:
    return HTTPConnection("panel.sendcloud.sc", 443)


@pytest.mark.parametrize(
    ("exc", "ticket_class"),
    [
        (
            _pool_error(urllib3.exceptions.NewConnectionError(_conn(), "[Errno 111] refused")),
            CannotConnect,
        ),
        (
            _pool_error(
                urllib3.exceptions.NameResolutionError(
                    "panel.sendcloud.sc", _conn(), socket.gaierror(-2, "Name or service not known")
                )
            ),
            CannotConnect,
        ),
        (_pool_error(urllib3.exceptions.ConnectTimeoutError(_conn(), "timed out")), CannotConnect),
        (rex.ConnectionError(ConnectionRefusedError(111, "refused")), CannotConnect),
        (
            rex.ConnectionError(
                urllib3.exceptions.ProtocolError(
                    "Connection aborted.", http.client.RemoteDisconnected("closed")
                )
            ),
            Unconfirmed,
        ),
        (
            rex.ConnectionError(
                urllib3.exceptions.ProtocolError(
                    "Connection aborted.", ConnectionResetError(104, "reset by peer")
                )
            ),
            Unconfirmed,
        ),
        (_pool_error(urllib3.exceptions.ProtocolError("Connection aborted.")), Unconfirmed),
        (urllib3.exceptions.ProtocolError("leaked from urllib3"), Unconfirmed),
    ],
    ids=["refused", "dns", "connect-timeout", "refused-raw", "hangup", "reset", "protocol", "leak"],
)
def test_connection_errors_are_classified_by_cause(
    exc: Exception, ticket_class: type[BatchClaimsError]
) -> None:
    assert type(classify_request_error(exc, ticket=True)) is ticket_class
    upload_class = CannotConnect if ticket_class is CannotConnect else Retryable
    assert type(classify_request_error(exc, ticket=False)) is upload_class


def test_unconfirmed_ticket_tells_the_user_what_to_do() -> None:
    error = classify_request_error(rex.ReadTimeout("read timed out"), ticket=True)
    assert "may have been created" in str(error)
    assert "read timeout" in str(error) and "ReadTimeout" not in str(error)


def test_tls_failure_is_not_retried_and_says_so() -> None:
    error = classify_request_error(rex.SSLError("certificate verify failed"), ticket=False)
    assert isinstance(error, RunAborted)
    assert "TLS verification failed" in str(error)
    assert "REQUESTS_CA_BUNDLE" in str(error)


def test_other_exceptions_pass_through_untouched() -> None:
    with pytest.raises(KeyError), map_request_errors(ticket=True):
        raise KeyError("not ours to classify")


def test_messages_never_show_credentials() -> None:
    header_error = rex.InvalidHeader("Invalid return character in header value: 'Bearer s3cr3t\\n'")
    assert "s3cr3t" not in str(classify_request_error(header_error, ticket=True))
    proxy_error = rex.ProxyError("Cannot connect to proxy http://user:s3cr3t@proxy.example:3128")
    message = str(classify_request_error(proxy_error, ticket=True))
    assert "s3cr3t" not in message
    assert "proxy.example" in message


def test_real_refused_connection_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Retryable), map_request_errors(ticket=True):
        requests.post(f"http://127.0.0.1:{port}/x", timeout=1)
