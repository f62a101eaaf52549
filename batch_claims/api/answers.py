"""How the Support API's answers read: a success's value, an error's detail and code
(``errors[].detail``), the window a 429 names, the exception an error answer is
(``answer_error``), and the signs that an answer comes from something other than the
Support API (``not_the_api``). Nothing an answer says is shown unshortened or with its
markup."""

from __future__ import annotations

import html
import http
import json
import re
from typing import TYPE_CHECKING, Any

from batch_claims.clock import UNIT_SECONDS, Clock
from batch_claims.errors import ApiError, AuthRefused, RateLimited, Rejected, Retryable, Unconfirmed
from batch_claims.outcome import ErrorCode

if TYPE_CHECKING:  # loaded by the client; a dry run loads none of it
    import requests

_SNIPPET = 200


def success_value(response: requests.Response, key: str, ticket: bool) -> str:
    body = _json_or_none(response)
    value = body.get(key) if isinstance(body, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    status = response.status_code
    shown = _snippet(response) if body is None else f"answer: {json.dumps(body)[:_SNIPPET]}"
    what = f"HTTP {status} {_reason(response)} without a {key} ({shown})"
    if ticket:
        raise Unconfirmed(
            f"{what}: the ticket may have been created; check the Sendcloud panel.",
            http_status=status,
        )
    raise Retryable(f"{what}.", http_status=status)


def answer_error(response: requests.Response, ticket: bool, clock: Clock) -> ApiError:
    status = response.status_code
    detail, code = _error_detail(response)
    if status == 429:
        # Loaded here (with requests): the plan of a dry run reads this module, not it.
        from batch_claims.api.retry import parse_retry_after

        retry_after = parse_retry_after(response.headers.get("Retry-After"), clock.utcnow())
        return RateLimited(
            detail, retry_after=retry_after, error_code=code or ErrorCode.HIT_RATE_LIMIT
        )
    if status == 503 or (status >= 500 and not ticket):
        return Retryable(detail, http_status=status, error_code=code)
    if status >= 500:
        return Unconfirmed(
            f"{detail} (the ticket may have been created: check the Sendcloud panel)",
            http_status=status,
            error_code=code,
        )
    return Rejected(detail, http_status=status, error_code=code)


# What a 404's error detail may name and still be about the address, not the row.
_ROUTE_WORDS = re.compile(r"\b(url|uri|page|endpoint|route|path|resource|method)s?\b", re.I)


def not_the_api(response: requests.Response) -> str | None:
    """How an answer shows the base URL is not the Support API, or None.

    The Support API answers POSTs to its endpoints with JSON and never redirects them.
    A redirect (to a login page), 405 or 501 (no POST served at all: a plain web or
    file server), an HTML page, or a 404 that names no parcel or
    other thing of the request — a web server's page, or a JSON "Not found" for the
    address — come from somewhere else. A Support-API 404 whose detail names what was
    not found ("Parcel not found.") is that row's answer.
    """
    status = response.status_code
    reason = f"HTTP {status} {_reason(response)}".rstrip()
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        return f"{reason}, a redirect to {location[:_SNIPPET]}" if location else reason
    if status in (405, 501):  # the method (POST) is not served here at all
        return reason
    html_page = _is_html(response)
    if status == 404:
        if html_page:
            return f"{reason} with a web page"
        if _names_what_was_not_found(response):
            return None
        if _json_or_none(response) is None:
            return f"{reason} ({_snippet(response)})"
        return f"{reason} ({_error_detail(response)[0][:_SNIPPET]})"
    if status == 200 and html_page:  # the API answers 201/202; a 200 page is a site's
        return f"{reason} with a web page"
    return None


def _is_html(response: requests.Response) -> bool:
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        return True
    head = response.content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _names_what_was_not_found(response: requests.Response) -> bool:
    """True for a Support-API error body whose detail names what was missing."""
    body = _json_or_none(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return False
    for error in errors:
        if not isinstance(error, dict):
            continue
        detail = str(error.get("detail") or "")
        rest = re.sub(r"\b(not|found|the|requested|was|on|server|this)\b", " ", detail.lower())
        if re.search(r"[a-z]", rest) and not _ROUTE_WORDS.search(detail):
            return True
    return False


def auth_refused(response: requests.Response) -> AuthRefused:
    detail, _ = _error_detail(response)
    return AuthRefused(
        f"Sendcloud refused the credentials (HTTP {response.status_code}: {detail}): check "
        "SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY (and SENDCLOUD_AUTH and "
        "SENDCLOUD_TOKEN_URL when using OAuth2)."
    )


def _error_detail(response: requests.Response) -> tuple[str, str | None]:
    """The API's ``errors[].detail`` joined by "; " and the first code, or a readable stand-in."""
    body = _json_or_none(response)
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            items = [e for e in errors if isinstance(e, dict)]
            details = [str(e["detail"]) for e in items if e.get("detail") not in (None, "")]
            codes = [str(e["code"]) for e in items if e.get("code") not in (None, "")]
            if details:
                return "; ".join(details), codes[0] if codes else None
        for field in ("detail", "message", "error_description", "error"):
            if isinstance(body.get(field), str) and body[field]:
                return str(body[field]), None
    if body is not None:
        text = json.dumps(body, ensure_ascii=False)[:_SNIPPET]
        return f"HTTP {response.status_code} {_reason(response)} (answer: {text})", None
    return f"HTTP {response.status_code} {_reason(response)} ({_snippet(response)})", None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(response: requests.Response) -> str:
    if response.reason:
        return str(response.reason)
    try:
        return http.HTTPStatus(response.status_code).phrase
    except ValueError:
        return ""


_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def _snippet(response: requests.Response) -> str:
    """'non-JSON answer: <text>' with tags stripped and whitespace collapsed, or 'empty answer'."""
    text = response.content.decode(response.encoding or "utf-8", errors="replace")
    text = _TAG.sub(" ", _SCRIPT_OR_STYLE.sub(" ", text))
    text = " ".join(html.unescape(text).split())
    if not text:
        return "empty answer"
    if len(text) > _SNIPPET:
        text = text[:_SNIPPET] + "…"
    return f"non-JSON answer: {text}"


_WINDOW = re.compile(
    r"per\s+(\d+(?:\.\d+)?)?\s*(second|sec|s|minute|min|m|hour|h)s?\b", re.IGNORECASE
)


def window_in_detail(detail: str) -> float | None:
    """The window a 429's text names: "Rate limit exceeded: 15 per 1 minute" → 60.0."""
    match = _WINDOW.search(detail)
    if match is None:
        return None
    count = float(match.group(1) or 1)
    unit = match.group(2).lower()
    return count * UNIT_SECONDS[unit]


def about_a_file_token(detail: str) -> bool:
    """Whether a refusal's detail is about an uploaded file's token (stale or unknown),
    which a new upload of the same file replaces: the API names it ``file_token`` or in
    words."""
    return "file_token" in detail or "file token" in detail.lower()
