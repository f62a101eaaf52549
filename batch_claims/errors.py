"""The one exception tree of batch-claims.

Exceptions stand for what stops a run or for how an API answer is handled; a bad
row is not an exception (see ``outcome.RowError``)::

    BatchClaimsError
    ├── InputError            unusable invocation or unreadable input   (exit 2)
    ├── RunAborted            the run stopped; workbook still written    (exit 3)
    │   ├── AuthRefused       401/403: credentials refused
    │   ├── JournalLocked     another run holds the journal
    │   ├── JournalFailed     the journal cannot be read or written (corrupt, full…)
    │   ├── NotTheApi         the base URL answers, but not like the Support API
    │   ├── Unreachable       the API cannot be connected to, retries exhausted
    │   ├── TlsFailed         TLS verification failed (before anything was sent)
    │   ├── NotSent           the request could not be put on the wire (a header value
    │   │                     HTTP cannot carry): certainly not sent
    │   └── Interrupted       Ctrl-C / SIGTERM
    ├── TooLate               --max-minutes: a request cannot start before the deadline
    └── ApiError              one request's answer, classified by handling
        ├── Rejected          400/406/413/415/422: the API refused this row
        ├── Retryable         certainly not processed: connect error, 429, 5xx
        │   ├── RateLimited   429, with the Retry-After it carried (if any)
        │   └── CannotConnect the connection was never made (refused, DNS, timeout)
        ├── Unconfirmed       may have reached Sendcloud: never resent automatically
        └── GaveUp            retries exhausted on a Retryable failure

``InputError`` and ``RunAborted`` are ``click.ClickException`` subclasses with their
own ``exit_code``, so the CLI maps them without a table of its own.
"""

from __future__ import annotations

import click

from batch_claims.outcome import ErrorCode
from batch_claims.redact import shown


class BatchClaimsError(Exception):
    """Base of every error batch-claims raises on purpose."""


class _Told(BatchClaimsError, click.ClickException):
    """An error click shows the user: its message with secrets masked and control
    characters made visible (it may quote a sheet or a server)."""

    def __init__(self, message: str) -> None:
        click.ClickException.__init__(self, message)

    def format_message(self) -> str:
        return shown(self.message)


class InputError(_Told):
    """The invocation or the input cannot be used; nothing was sent."""

    exit_code = 2


class RunAborted(_Told):
    """The run stopped before its end; the results workbook is still written."""

    exit_code = 3


class AuthRefused(RunAborted):
    pass


class JournalLocked(RunAborted):
    pass


class Interrupted(RunAborted):
    pass


class JournalFailed(RunAborted):
    """The journal file cannot be read or written (corrupt, read-only, disk full)."""


class NotTheApi(RunAborted):
    """The base URL answers, but not like Sendcloud's Support API (a web page, a
    redirect to a login, 404/405 for the endpoints): nothing can succeed there."""


class Unreachable(RunAborted):
    """The API could not be connected to, through every retry."""


class TlsFailed(RunAborted):
    """TLS verification failed: the request was never sent."""


class NotSent(RunAborted):
    """The request failed before it was on the wire (a credential or header value HTTP
    cannot carry): it was certainly not sent, and no later request can be."""


# Run-stopping errors that are certain nothing of the request was processed.
NOTHING_SENT: tuple[type[RunAborted], ...] = (
    AuthRefused,
    NotTheApi,
    Unreachable,
    TlsFailed,
    NotSent,
)


class TooLate(BatchClaimsError):
    """The --max-minutes slot ends before the rate limits (or a back-off) allow this
    request to start: it is not sent."""


class ApiError(BatchClaimsError):
    """An answer (or no answer) of the Support API for one request."""

    def __init__(
        self,
        detail: str,
        *,
        http_status: int | None = None,
        error_code: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.http_status = http_status
        self.error_code = error_code
        self.attempts = attempts


class Rejected(ApiError):
    """The API refused the request for this row; sending it again will not help."""


class Retryable(ApiError):
    """The request certainly was not processed; it may be sent again."""


class RateLimited(Retryable):
    def __init__(
        self,
        detail: str,
        *,
        retry_after: float | None = None,
        http_status: int | None = 429,
        error_code: str | None = ErrorCode.HIT_RATE_LIMIT,
        attempts: int = 1,
    ) -> None:
        super().__init__(detail, http_status=http_status, error_code=error_code, attempts=attempts)
        self.retry_after = retry_after


class CannotConnect(Retryable):
    """The connection was never made: refused, DNS failure, connect timeout."""


class Unconfirmed(ApiError):
    """The request may have reached Sendcloud and its outcome is unknown."""


class GaveUp(ApiError):
    """A retryable failure kept happening until the attempts ran out."""
