"""Credentials as requests ``AuthBase`` objects, so secrets never touch payload code.

``BasicAuth`` sends the API key pair; ``OAuth2ClientCredentials`` fetches a bearer
token with the client-credentials grant, caches it and refreshes it before it expires.
Neither shows a secret in its ``repr`` or in an error message.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from batch_claims.api.retry import map_request_errors, parse_retry_after
from batch_claims.clock import Clock
from batch_claims.errors import AuthRefused, InputError, RateLimited, Retryable
from batch_claims.redact import register

_CHECK_KEYS = "check SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY"
_DEFAULT_LIFETIME = 3600.0


def _basic_token(user: str, password: str) -> str:
    """The base64 of ``user:password`` as HTTP Basic sends it (Latin-1, as requests does;
    a character outside it cannot be sent and is refused before any request)."""
    try:
        raw = f"{user}:{password}".encode("latin-1")
    except UnicodeEncodeError:
        raise InputError(
            "SENDCLOUD_PUBLIC_KEY or SENDCLOUD_SECRET_KEY holds a character HTTP Basic "
            "cannot send (outside Latin-1): copy the keys again from the Sendcloud panel"
        ) from None
    return base64.b64encode(raw).decode("ascii")


def _hint(key: str) -> str:
    """Enough of a public key to tell accounts apart, never the whole of it."""
    return f"{key[:4]}…" if len(key) >= 12 else "…"


class BasicAuth(AuthBase):
    """HTTP Basic with the API public key as user name and the secret key as password."""

    def __init__(self, public_key: str, secret_key: str) -> None:
        if not public_key or not secret_key:
            raise InputError(
                "Sendcloud credentials are missing: set SENDCLOUD_PUBLIC_KEY and "
                "SENDCLOUD_SECRET_KEY."
            )
        self.public_key = public_key
        token = _basic_token(public_key, secret_key)
        self._header = f"Basic {token}"
        register(public_key, secret_key, token)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._header
        return r

    def __repr__(self) -> str:
        return f"BasicAuth(public_key={_hint(self.public_key)!r}, secret_key='***')"


class OAuth2ClientCredentials(AuthBase):
    """Bearer tokens from the client-credentials grant, cached until shortly before expiry.

    The token is refreshed when less than ``refresh_margin(lifetime)`` is left, and
    after ``invalidate()`` (the client calls it once after a 401).
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        clock: Clock,
        session: requests.Session | None = None,
        *,
        scope: str = "api",
        timeout: tuple[float, float] = (10.0, 30.0),
    ) -> None:
        if not client_id or not client_secret:
            raise InputError(
                "Sendcloud credentials are missing: set SENDCLOUD_PUBLIC_KEY and "
                "SENDCLOUD_SECRET_KEY."
            )
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        register(client_id, client_secret, _basic_token(client_id, client_secret))
        self._clock = clock
        self._session = session
        self._scope = scope
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.fetches = 0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        return r

    def token(self) -> str:
        """The cached token, fetched anew when missing or about to expire."""
        with self._lock:
            if self._token is None or self._clock.monotonic() >= self._refresh_at:
                self._token, self._refresh_at = self._fetch()
            return self._token

    def invalidate(self, refused: str | None = None) -> None:
        """Forget the cached token; the next request fetches a new one. ``refused`` is
        the Authorization header the server refused: a token another thread fetched
        since is kept."""
        with self._lock:
            if refused is None or refused == f"Bearer {self._token}":
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        started = self._clock.monotonic()
        data = {"grant_type": "client_credentials", "scope": self._scope}
        auth = HTTPBasicAuth(self.client_id, self._client_secret)
        with map_request_errors(ticket=False, url=self.token_url):
            if self._session is not None:
                response = self._post(self._session, data, auth)
            else:
                with requests.Session() as session:
                    response = self._post(session, data, auth)
        self.fetches += 1
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(
                response.headers.get("Retry-After"), self._clock.utcnow()
            )
            raise RateLimited("The OAuth2 token endpoint answered 429.", retry_after=retry_after)
        if status >= 500:
            raise Retryable(
                f"The OAuth2 token endpoint answered HTTP {status}.", http_status=status
            )
        body = _json_object(response)
        if status >= 300:
            code = body.get("error")
            named = f", {code}" if isinstance(code, str) and code.isprintable() else ""
            raise AuthRefused(
                f"The OAuth2 token endpoint refused the client credentials (HTTP {status}"
                f"{named}): {_CHECK_KEYS} (client id and secret) and SENDCLOUD_TOKEN_URL."
            )
        token = body.get("access_token")
        token_type = body.get("token_type", "Bearer")
        if not isinstance(token, str) or not token or str(token_type).lower() != "bearer":
            raise AuthRefused(
                f"The OAuth2 token endpoint answered HTTP {status} without a bearer "
                "access_token: check SENDCLOUD_TOKEN_URL."
            )
        register(token)
        lifetime = _lifetime(body.get("expires_in"))
        return token, started + lifetime - refresh_margin(lifetime)

    def _post(
        self, session: requests.Session, data: dict[str, str], auth: HTTPBasicAuth
    ) -> requests.Response:
        return session.post(
            self.token_url,
            data=data,
            auth=auth,
            timeout=self._timeout,
            verify=True,
            allow_redirects=False,
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentials(token_url={self.token_url!r}, "
            f"client_id={_hint(self.client_id)!r}, client_secret='***')"
        )


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def refresh_margin(lifetime: float) -> float:
    """How long before expiry a token is renewed: a minute for real lifetimes, 10% of
    short ones, but at least a second (a request needs time to arrive) while that is
    under half the lifetime."""
    return min(60.0, max(0.1 * lifetime, min(1.0, 0.5 * lifetime)))


def _lifetime(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return _DEFAULT_LIFETIME
    try:
        seconds = float(value)
    except ValueError:
        return _DEFAULT_LIFETIME
    return seconds if 0 < seconds < float("inf") else _DEFAULT_LIFETIME
