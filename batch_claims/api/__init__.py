"""The Sendcloud Support API: client, credentials, rate limits, retry policy, and
``connect`` that puts them together from the settings.

Its names load with their module on first use (``requests`` with the client), so that
``Limit`` alone, which the settings need, starts nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batch_claims.api.auth import BasicAuth, OAuth2ClientCredentials
    from batch_claims.api.client import (
        DEFAULT_POLICY,
        TICKET_SCOPES,
        UPLOAD_SCOPES,
        USER_AGENT,
        ClientEvent,
        ClientStats,
        SupportClient,
        TicketResult,
        UploadResult,
    )
    from batch_claims.api.connect import PostLog, connect
    from batch_claims.api.ratelimit import RateLimiter, Slot
    from batch_claims.api.retry import (
        RetryPolicy,
        classify_request_error,
        map_request_errors,
        parse_retry_after,
    )
    from batch_claims.limits import Limit

_MODULE_OF = {
    "BasicAuth": "auth",
    "OAuth2ClientCredentials": "auth",
    "DEFAULT_POLICY": "client",
    "TICKET_SCOPES": "client",
    "UPLOAD_SCOPES": "client",
    "USER_AGENT": "client",
    "ClientEvent": "client",
    "ClientStats": "client",
    "SupportClient": "client",
    "TicketResult": "client",
    "UploadResult": "client",
    "PostLog": "connect",
    "connect": "connect",
    "Limit": "ratelimit",
    "RateLimiter": "ratelimit",
    "Slot": "ratelimit",
    "RetryPolicy": "retry",
    "classify_request_error": "retry",
    "map_request_errors": "retry",
    "parse_retry_after": "retry",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "DEFAULT_POLICY",
    "TICKET_SCOPES",
    "UPLOAD_SCOPES",
    "USER_AGENT",
    "BasicAuth",
    "ClientEvent",
    "ClientStats",
    "Limit",
    "OAuth2ClientCredentials",
    "PostLog",
    "RateLimiter",
    "RetryPolicy",
    "Slot",
    "SupportClient",
    "TicketResult",
    "UploadResult",
    "classify_request_error",
    "connect",
    "map_request_errors",
    "parse_retry_after",
]
