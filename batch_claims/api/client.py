"""The Support API on one ``requests.Session``: upload a file, create a ticket of any
type (``/dsf/tickets/<type>``).

Every attempt waits for the rate limiter, goes through ``map_request_errors`` and has
its answer classified into the exception tree of ``errors.py``. Retryable failures are
retried per the ``RetryPolicy``; a ticket whose outcome is unknown is never resent.

Some answers stop the run instead of costing one row after another: a base URL that is
not the Support API (a web page, a redirect to a login, 404/405 for our endpoints) is
``NotTheApi``; connection failures through every retry are ``Unreachable``. With a
``deadline`` (``--max-minutes``) no wait for a window or a back-off starts that would
end after it (``TooLate``).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import click
import requests
from requests.auth import AuthBase

from batch_claims import __version__
from batch_claims.api import transport
from batch_claims.api.answers import (
    answer_error,
    auth_refused,
    not_the_api,
    success_value,
    window_in_detail,
)
from batch_claims.api.auth import OAuth2ClientCredentials
from batch_claims.api.ratelimit import RateLimiter
from batch_claims.api.retry import RetryPolicy, map_request_errors
from batch_claims.clock import Clock
from batch_claims.errors import (
    ApiError,
    BatchClaimsError,
    CannotConnect,
    GaveUp,
    NotSent,
    NotTheApi,
    RateLimited,
    Retryable,
    TooLate,
    Unconfirmed,
    Unreachable,
)
from batch_claims.limits import Scope
from batch_claims.netloc import check_base_url
from batch_claims.redact import redact

log = logging.getLogger(__name__)

UPLOAD_SCOPES = (Scope.REQUEST, Scope.BURST)
TICKET_SCOPES = (Scope.TICKET, Scope.REQUEST, Scope.BURST)
DEFAULT_POLICY = RetryPolicy()
USER_AGENT = f"batch-claims/{__version__}"


@dataclass(frozen=True)
class UploadResult:
    file_token: str
    attempts: int
    http_status: int


@dataclass(frozen=True)
class TicketResult:
    ticket_id: str
    attempts: int
    http_status: int


@dataclass
class ClientStats:
    """Counters for the run summary: requests sent, successes, 429s, retries."""

    requests: int = 0
    uploads: int = 0
    tickets: int = 0
    rate_limited: int = 0
    retries: int = 0


@dataclass(frozen=True)
class ClientEvent:
    """Something worth showing while it happens: ``kind`` is "retry" (attempt
    ``attempt`` of ``max_attempts`` failed; the next starts in ``delay`` seconds at the
    earliest) or "auth_refresh" (the access token was refused; a new one is fetched)."""

    kind: str
    attempt: int
    http_status: int | None
    delay: float
    detail: str
    max_attempts: int = 0
    ticket: bool = False  # a ticket request (else a file upload)


class SupportClient:
    """The Support API over one requests.Session (TLS verification always on)."""

    def __init__(
        self,
        base_url: str,
        auth: AuthBase,
        limiter: RateLimiter,
        clock: Clock,
        policy: RetryPolicy = DEFAULT_POLICY,
        timeout: tuple[float, float] = (10.0, 60.0),
        session: requests.Session | None = None,
        rng: random.Random | None = None,
        user_agent: str = USER_AGENT,
        on_event: Callable[[ClientEvent], None] | None = None,
        overall_deadline: float | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url)
        if isinstance(auth, OAuth2ClientCredentials):
            check_base_url(auth.token_url, variable="SENDCLOUD_TOKEN_URL")
        self._auth = auth
        self._limiter = limiter
        self._clock = clock
        self._policy = policy
        self._timeout = timeout
        self._owns_session = session is None
        self._session = transport.new_session() if session is None else session
        # No request lasts longer than this, however slowly the server answers.
        self._overall = overall_deadline or timeout[0] + timeout[1]
        self._rng = random.Random() if rng is None else rng
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._on_event = on_event
        self._stats_lock = threading.Lock()
        self.stats = ClientStats()
        # clock.monotonic() value after which no request may start (--max-minutes).
        self.deadline: float | None = None

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    def upload_file(self, filename: str, data: bytes, content_type: str) -> UploadResult:
        """POST one attachment to /dsf/files; returns its file_token."""
        token, attempts, status = self._call(
            ticket=False,
            path="/dsf/files",
            key="file_token",
            files={"file": (filename, data, content_type)},
        )
        self._count("uploads")
        return UploadResult(token, attempts, status)

    def create_ticket(
        self,
        payload: Mapping[str, Any],
        is_portal_claim: bool = False,
        before_send: Callable[[], None] | None = None,
        ticket_type: str = "damage",
    ) -> TicketResult:
        """POST a ticket of ``ticket_type`` (its path name: ``/dsf/tickets/<type>``);
        Unconfirmed when it may exist without us knowing its id.

        ``before_send`` runs once the rate limits grant each attempt, right before the
        request goes out: the place to record it write-ahead, or to raise and send
        nothing (the run is stopping).
        """
        ticket_id, attempts, status = self._call(
            ticket=True,
            path=f"/dsf/tickets/{ticket_type}",
            key="ticket_id",
            json_body=dict(payload),
            params={"is_portal_claim": "true"} if is_portal_claim else None,
            before_send=before_send,
        )
        self._count("tickets")
        return TicketResult(ticket_id, attempts, status)

    def _call(self, **request: Any) -> tuple[str, int, int]:
        """``_request``, with every registered secret masked in what an error says: a
        server that echoes the Authorization header never gets it into a row, the
        journal, the console or a workbook."""
        try:
            return self._request(**request)
        except BatchClaimsError as exc:
            raise _scrubbed(exc) from exc.__cause__

    def _request(
        self,
        *,
        ticket: bool,
        path: str,
        key: str,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> tuple[str, int, int]:
        scopes = TICKET_SCOPES if ticket else UPLOAD_SCOPES
        url = f"{self.base_url}{path}"
        attempts = failures = 0
        refreshed = False
        while True:
            attempts += 1
            try:
                response = self._send(scopes, ticket, url, files, json_body, params, before_send)
                status = response.status_code
                log.debug("POST %s -> %s (attempt %d)", path, status, attempts)
                if status in (401, 403):
                    if isinstance(self._auth, OAuth2ClientCredentials) and not refreshed:
                        refreshed = True
                        self._auth.invalidate(response.request.headers.get("Authorization"))
                        self._emit("auth_refresh", attempts, status, 0.0, "token refused", ticket)
                        continue
                    raise auth_refused(response)
                wrong = not_the_api(response)
                if wrong is not None:
                    raise NotTheApi(
                        f"the API at {self.base_url} does not answer like Sendcloud's Support "
                        f"API — SENDCLOUD_BASE_URL should end in /api/v3 (POST {path} was "
                        f"answered {wrong})"
                    )
                if 200 <= status < 300:
                    return success_value(response, key, ticket), attempts, status
                raise answer_error(response, ticket, self._clock)
            except Retryable as exc:
                failures += 1
                if isinstance(exc, RateLimited):
                    self._count("rate_limited")
                if failures >= self._policy.max_attempts and isinstance(exc, CannotConnect):
                    # Nothing can succeed while the API cannot be reached: stop the run.
                    raise Unreachable(f"{exc.detail} (tried {attempts} times)") from exc
                if failures >= self._policy.max_attempts:
                    raise GaveUp(
                        f"Gave up after {attempts} attempts: {exc.detail}",
                        http_status=exc.http_status,
                        error_code=exc.error_code,
                        attempts=attempts,
                    ) from exc
                retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
                if isinstance(exc, RateLimited) and retry_after is None:
                    # No Retry-After: wait for the server's window to free.
                    retry_after = self._window_to_free(scopes, exc.detail)
                delay = self._policy.delay(failures, retry_after, self._rng)
                self._count("retries")
                self._emit("retry", attempts, exc.http_status, delay, exc.detail, ticket)
                log.info("retrying %s in %.2f s after: %s", path, delay, exc.detail)
                if isinstance(exc, RateLimited):
                    # Every thread must hold back, not only this one.
                    self._limiter.penalise(scopes, delay)
                else:
                    if self.deadline is not None and self._clock.monotonic() + delay > (
                        self.deadline
                    ):
                        raise TooLate("the --max-minutes slot ends before the next try") from exc
                    self._clock.sleep(delay)
            except ApiError as exc:
                exc.attempts = attempts
                raise

    def _send(
        self,
        scopes: tuple[str, ...],
        ticket: bool,
        url: str,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        json_body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        before_send: Callable[[], None] | None = None,
    ) -> requests.Response:
        with self._limiter.reserve(scopes, deadline=self.deadline):
            if before_send is not None:
                before_send()
            self._count("requests")
            try:
                with map_request_errors(ticket=ticket, url=url):
                    return transport.post(
                        self._session,
                        url,
                        deadline=self._overall,
                        params=params,
                        json=json_body,
                        files=files,
                        auth=self._auth,
                        headers=self._headers,
                        timeout=self._timeout,
                        verify=True,
                        allow_redirects=False,
                    )
            except UnicodeError:
                # Raised while the request was being put together (a header value HTTP
                # cannot carry): nothing went out. Its text may quote the value: not shown.
                raise NotSent(
                    "a request could not be sent: a credential or header holds a character "
                    "HTTP cannot carry (outside Latin-1) — check SENDCLOUD_PUBLIC_KEY and "
                    "SENDCLOUD_SECRET_KEY"
                ) from None
            except transport.DeadlinePassed as exc:
                what = f"{exc} (the request's overall deadline)"
                if ticket:
                    raise Unconfirmed(
                        f"{what} after the ticket request was sent; the ticket may have been "
                        "created: check the Sendcloud panel"
                    ) from None
                raise Retryable(what) from None

    def _window_to_free(self, scopes: Sequence[str], detail: str) -> float:
        """How long a 429 without Retry-After should hold back: the window its text
        names ("15 per 1 minute"), else the longest window of the request's scopes."""
        named = window_in_detail(detail)
        if named is not None:
            return named
        windows = [self._limiter.limits[s].seconds for s in scopes if s in self._limiter.limits]
        return max(windows, default=self._policy.backoff(1))

    def _count(self, name: str) -> None:
        with self._stats_lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)

    def _emit(
        self,
        kind: str,
        attempt: int,
        status: int | None,
        delay: float,
        detail: str,
        ticket: bool,
    ) -> None:
        if self._on_event is not None:
            self._on_event(
                ClientEvent(kind, attempt, status, delay, detail, self._policy.max_attempts, ticket)
            )

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> SupportClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SupportClient(base_url={self.base_url!r}, auth={self._auth!r})"


def _scrubbed(exc: BatchClaimsError) -> BatchClaimsError:
    """The error with the registered secrets masked in its message and detail."""
    if isinstance(exc, ApiError):
        exc.detail = redact(exc.detail)
    if isinstance(exc, click.ClickException):
        setattr(exc, "message", redact(exc.message))  # noqa: B010 (Final in click's stubs)
    exc.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in exc.args)
    return exc
