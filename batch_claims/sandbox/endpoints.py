"""The Support API's routes as the sandbox answers them, and the OAuth2 token route.

Every API POST goes through ``enter_api``: authentication first, then the spurious
429 fault, then the rate-limit windows (a refused request is not counted), then the
drop and 5xx faults, and only then the endpoint's own rules.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from collections.abc import Sequence

from flask import Response, g, jsonify, request

from batch_claims.sandbox.bodies import (
    check_contract,
    check_file_tokens,
    check_refusals,
    check_schema,
    parcel_contract,
)
from batch_claims.sandbox.faults import ConnectionDropped, FaultPlan
from batch_claims.sandbox.rules import (
    SandboxError,
    check_content_type,
    check_file_part,
    check_size,
    parse_portal_claim,
    portal_claim_not_taken,
)
from batch_claims.sandbox.state import (
    FileRecord,
    FileSummary,
    SandboxState,
    TicketRecord,
    current_state,
)
from batch_claims.sandbox.ticket_types import TICKET_TYPES
from batch_claims.sandbox.windows import Refusal

TICKET_SCOPES = ("ticket", "request", "burst")
UPLOAD_SCOPES = ("request", "burst")


def unauthorized(detail: str) -> SandboxError:
    return SandboxError(401, "authentication_failed", detail)


def authenticate(state: SandboxState) -> None:
    """Basic with any non-empty pair except user ``bad``, or a live Bearer token."""
    auth = request.authorization
    if auth is None:
        raise unauthorized("Authentication credentials were not provided.")
    if auth.type == "basic":
        if not auth.username or not auth.password or auth.username == "bad":
            raise unauthorized("Invalid username/password.")
        return
    if auth.type == "bearer" and auth.token:
        with state.lock:
            expires_at = state.tokens.get(auth.token)
        if expires_at is None:
            raise unauthorized("Invalid token.")
        if state.clock.monotonic() >= expires_at:
            raise unauthorized("Token has expired.")
        return
    raise unauthorized("Unsupported authentication scheme.")


def rate_limited(state: SandboxState, refusal: Refusal) -> SandboxError:
    """A 429 naming the limit hit, with Retry-After (whole or fractional seconds)."""
    headers: dict[str, str] = {}
    if state.config.retry_after:
        if state.config.retry_after_float:
            headers["Retry-After"] = f"{math.ceil(refusal.wait * 1000) / 1000:.3f}"
        else:
            headers["Retry-After"] = str(max(1, math.ceil(refusal.wait)))
    detail = f"Rate limit exceeded: {refusal.limit.describe()}"
    return SandboxError(429, "hit_rate_limit", detail, headers=headers)


def enter_api(state: SandboxState, scopes: Sequence[str]) -> FaultPlan:
    """Authenticate, count the request in its windows and apply pre-processing faults."""
    authenticate(state)
    plan = state.dice.roll(is_ticket="ticket" in scopes)
    if plan.spurious_429:
        burst = state.config.burst_limit
        raise rate_limited(state, Refusal(burst, burst.seconds))
    refusal = state.windows.admit(scopes)
    if refusal is not None:
        raise rate_limited(state, refusal)
    entry = g.get("log_entry")
    if entry is not None:
        with state.lock:
            entry["scopes"] = list(scopes)
    if plan.drop:
        raise ConnectionDropped()
    if plan.error_status == 503:
        raise SandboxError(503, "service_unavailable", "Service temporarily unavailable.")
    if plan.error_status is not None:
        raise SandboxError(500, "internal_server_error", "Internal server error.")
    return plan


def upload_file() -> tuple[Response, int]:
    """``POST /api/v3/dsf/files``: one multipart part named ``file`` -> ``file_token``."""
    state = current_state()
    enter_api(state, UPLOAD_SCOPES)
    part = request.files.get("file")
    check_file_part(
        has_file_part=part is not None or "file" in request.form,
        filename=part.filename if part is not None else None,
    )
    assert part is not None  # check_file_part refused a nameless form field
    data = part.read()
    check_size(len(data), state.config.max_file_size)
    check_content_type(part.mimetype)
    token = f"{uuid.uuid4()}-{part.mimetype.encode().hex()}"
    record: FileRecord = {
        "file_token": token,
        "filename": part.filename or "",
        "content_type": part.mimetype,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "uploaded_at": state.wall_time(),
    }
    with state.lock:
        state.files[token] = record
    return jsonify({"file_token": token}), 201


def create_ticket(ticket_type: str) -> tuple[Response, int]:
    """``POST /api/v3/dsf/tickets/<type>``: a valid body -> 202 ``ticket_id``.

    Every type counts in the one ``ticket`` window; the body is judged as ``bodies.py``
    says, for this type."""
    state = current_state()
    kind = TICKET_TYPES[ticket_type]
    plan = enter_api(state, TICKET_SCOPES)
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise SandboxError(406, "not_acceptable", "Invalid JSON")
    portal_value = request.args.get("is_portal_claim")
    if portal_value is not None and not kind.portal_claims:
        raise portal_claim_not_taken()
    is_portal_claim = parse_portal_claim(portal_value)
    contract = parcel_contract(body)
    check_contract(kind, contract)
    check_schema(body, kind, contract)
    with state.lock:
        known = dict(state.files)
    check_file_tokens(body, kind.document_fields, known)
    check_refusals(kind, body, is_portal_claim=is_portal_claim)
    files: dict[str, FileSummary] = {}
    for name in kind.document_fields:
        if name in body:
            upload = known[body[name]["file_token"]]
            files[name] = {
                "filename": upload["filename"],
                "content_type": upload["content_type"],
                "size": upload["size"],
                "sha256": upload["sha256"],
            }
    ticket: TicketRecord = {
        "ticket_id": str(uuid.uuid4()),
        "type": kind.name,
        "body": body,
        "is_portal_claim": is_portal_claim,
        "created_at": state.wall_time(),
        "files": files,
    }
    with state.lock:
        state.tickets.append(ticket)
    if plan.lose_response:
        raise ConnectionDropped()
    if plan.slow:
        state.pause(state.config.slow_seconds)
    return jsonify({"ticket_id": ticket["ticket_id"]}), 202


def issue_token() -> Response:
    """``POST /oauth2/token/``: client credentials -> a Bearer token for scope ``api``."""
    state = current_state()
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        client_id, client_secret = auth.username, auth.password
    else:
        client_id = request.form.get("client_id")
        client_secret = request.form.get("client_secret")
    if not client_id or not client_secret or client_id == "bad":
        raise unauthorized("Invalid client credentials.")
    if request.form.get("grant_type") != "client_credentials":
        raise SandboxError(400, "unsupported_grant_type", "grant_type must be client_credentials.")
    token = secrets.token_urlsafe(32)
    lifetime = state.config.token_expires_in
    with state.lock:
        state.tokens[token] = state.clock.monotonic() + lifetime
    response = jsonify(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(lifetime) if lifetime.is_integer() else lifetime,
            "scope": "api",
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
