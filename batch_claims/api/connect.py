"""The run's API client put together from the settings: its credentials (Basic or
OAuth2), a rate limiter on the configured windows that counts the POSTs of earlier runs
(through a ``PostLog``, the journal's), the retry policy and the timeouts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from requests.auth import AuthBase

from batch_claims.api.auth import BasicAuth, OAuth2ClientCredentials
from batch_claims.api.client import ClientEvent, SupportClient
from batch_claims.api.ratelimit import RateLimiter, Recorder
from batch_claims.api.retry import RetryPolicy
from batch_claims.clock import Clock
from batch_claims.settings import AuthKind, Settings


class PostLog(Recorder, Protocol):
    """A ``Recorder`` that also tells the POSTs of earlier runs still in the windows."""

    def still_counting(
        self, window: float, patience: float
    ) -> Sequence[tuple[Sequence[str], float]]:
        """Earlier POSTs within ``window`` seconds, as (scopes, monotonic time)."""
        ...


def connect(
    settings: Settings,
    clock: Clock,
    posts: PostLog | None = None,
    *,
    on_wait: Callable[[float, str], None] | None = None,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> SupportClient:
    """The client for ``settings``; with ``posts``, its limiter starts from the POSTs
    earlier runs made (a rerun within a minute meets no 429) and records its own.
    ``on_wait`` hears of every rate-limit wait, ``on_event`` of every retry."""
    limiter = RateLimiter(
        clock, settings.limits, margin=settings.limit_margin, on_wait=on_wait, recorder=posts
    )
    if posts is not None:
        longest = max(limit.seconds for limit in settings.limits.values())
        limiter.seed(posts.still_counting(longest + settings.limit_margin, settings.read_timeout))
    auth: AuthBase = (
        OAuth2ClientCredentials(settings.token_url, settings.public_key, settings.secret_key, clock)
        if settings.auth is AuthKind.OAUTH2
        else BasicAuth(settings.public_key, settings.secret_key)
    )
    return SupportClient(
        settings.base_url,
        auth,
        limiter,
        clock,
        RetryPolicy(max_attempts=settings.max_attempts),
        timeout=(settings.connect_timeout, settings.read_timeout),
        on_event=on_event,
    )
