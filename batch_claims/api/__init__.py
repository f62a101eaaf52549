"""The Sendcloud Support API: client, credentials, rate limits and retry policy."""

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
    check_base_url,
)
from batch_claims.api.ratelimit import Limit, RateLimiter, Slot
from batch_claims.api.retry import (
    RetryPolicy,
    classify_request_error,
    map_request_errors,
    parse_retry_after,
)

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
    "RateLimiter",
    "RetryPolicy",
    "Slot",
    "SupportClient",
    "TicketResult",
    "UploadResult",
    "check_base_url",
    "classify_request_error",
    "map_request_errors",
    "parse_retry_after",
]
