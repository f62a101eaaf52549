"""The sandbox Flask app factory: state, hooks, error bodies and inspection routes.

``create_app`` builds everything a sandbox holds (uploads, tickets, tokens, windows,
request log, fault dice, the clock they run on) inside the factory, as flaskr does;
nothing exists at import.
The Support API's own routes live in ``endpoints.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from batch_claims.clock import Clock, SystemClock
from batch_claims.netloc import is_loopback
from batch_claims.sandbox import endpoints
from batch_claims.sandbox.config import SandboxConfig
from batch_claims.sandbox.faults import NO_RESPONSE, ConnectionDropped, FaultDice, drop_connection
from batch_claims.sandbox.rules import SandboxError, too_large
from batch_claims.sandbox.state import (
    API_PREFIX,
    EXTENSION,
    TOKEN_PATH,
    RequestRecord,
    SandboxState,
    current_state,
)
from batch_claims.sandbox.ticket_types import TICKET_TYPES
from batch_claims.sandbox.windows import Windows

MULTIPART_ALLOWANCE = 64 * 1024


def create_app(config: Mapping[str, object] | None = None, *, clock: Clock | None = None) -> Flask:
    """A new sandbox app with its own empty state; ``config`` keys are in ``NOTICE.md``.

    ``clock`` (the system clock by default) runs the rate-limit windows, token expiry,
    timestamps and the latency and slow-answer pauses."""
    app = Flask(__name__)
    app.config.from_mapping(config or {})
    settings = SandboxConfig.from_mapping(app.config)
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # room for the multipart framing
        app.config["MAX_CONTENT_LENGTH"] = settings.max_file_size + MULTIPART_ALLOWANCE
    clock = clock or SystemClock()
    limits = (settings.ticket_limit, settings.request_limit, settings.burst_limit)
    app.extensions[EXTENSION] = SandboxState(
        config=settings,
        clock=clock,
        windows=Windows(limits, clock.monotonic),
        dice=FaultDice(settings),
    )

    app.before_request(_only_this_machine)
    app.before_request(_log_arrival)
    app.after_request(_finish_answer)
    app.register_error_handler(SandboxError, _sandbox_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ConnectionDropped, _hang_up)

    app.add_url_rule(TOKEN_PATH, view_func=endpoints.issue_token, methods=["POST"])
    app.add_url_rule(f"{API_PREFIX}/dsf/files", view_func=endpoints.upload_file, methods=["POST"])
    for name in TICKET_TYPES:  # one route each: any other type is Flask's own 404
        app.add_url_rule(
            f"{API_PREFIX}/dsf/tickets/{name}",
            endpoint=f"ticket_{name}",
            view_func=endpoints.create_ticket,
            methods=["POST"],
            defaults={"ticket_type": name},
        )
    app.add_url_rule("/sandbox/tickets", view_func=_list_tickets, methods=["GET"])
    app.add_url_rule("/sandbox/files", view_func=_list_files, methods=["GET"])
    app.add_url_rule("/sandbox/requests", view_func=_list_requests, methods=["GET"])
    app.add_url_rule("/sandbox/reset", view_func=_reset, methods=["POST"])
    return app


# --- hooks -----------------------------------------------------------------------

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def _only_this_machine() -> Response | None:
    """The inspection and reset routes answer this machine only.

    A web page elsewhere can make a browser send requests to 127.0.0.1: with a host
    name of its own that resolves there (DNS rebinding) the Host header names it, and
    a cross-site form post carries a foreign Origin or a form content type. Those are
    refused (403), so no page can read the sandbox's tickets and files or reset it.
    """
    if not request.path.startswith("/sandbox/"):
        return None
    host = urlsplit(f"//{request.host}").hostname or ""
    if not is_loopback(host):
        return _refuse(f"Host {request.host!r} is not this machine's loopback address")
    origin = request.headers.get("Origin")
    if origin is not None and not is_loopback(urlsplit(origin).hostname or ""):
        return _refuse(f"requests from {origin!r} are not accepted")
    if request.method == "POST" and request.mimetype in _FORM_TYPES:
        return _refuse("a form post is not accepted here")
    return None


def _refuse(detail: str) -> Response:
    response = jsonify(SandboxError(403, "forbidden", detail, title="Forbidden").body())
    response.status_code = 403
    return response


def _log_arrival() -> None:
    """Put every POST to the API in the request log as it arrives."""
    if request.method != "POST" or not request.path.startswith(f"{API_PREFIX}/"):
        return
    state = current_state()
    entry: RequestRecord = {
        "method": request.method,
        "path": request.path,
        "scopes": [],
        "arrived_at": state.wall_time(),
        "status": None,
        "user": request.authorization.username if request.authorization else None,
    }
    with state.lock:
        state.requests.append(entry)
    g.log_entry = entry


def _finish_answer(response: Response) -> Response:
    """Note the status in the request log, and add ``LATENCY`` to API and token answers."""
    state = current_state()
    if g.get("dropped"):
        return response
    entry: RequestRecord | None = g.get("log_entry")
    if entry is not None:
        with state.lock:
            entry["status"] = response.status_code
    if request.path.startswith((f"{API_PREFIX}/", TOKEN_PATH)):
        state.pause(state.config.latency)
    return response


# --- error bodies ----------------------------------------------------------------


def _sandbox_error(error: SandboxError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _http_error(error: HTTPException) -> WerkzeugResponse:
    """Flask's own errors (404, 405, 413, 500...) in the same JSON shape."""
    if isinstance(error, RequestEntityTooLarge):
        return _sandbox_error(too_large(current_state().config.max_file_size))
    status = error.code or 500
    name = error.name or "Error"
    code = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    body = SandboxError(status, code, error.description or name, title=name).body()
    response = error.get_response()
    response.set_data(json.dumps(body))
    response.content_type = "application/json"
    return response


def _hang_up(error: ConnectionDropped) -> Response:
    """Close the connection without an answer (``444`` where there is no socket)."""
    g.dropped = True
    drop_connection(request.environ)
    return Response(status=NO_RESPONSE)


# --- sandbox-only inspection routes -------------------------------------------------


def _list_tickets() -> Response:
    state = current_state()
    with state.lock:
        return jsonify(list(state.tickets))


def _list_files() -> Response:
    state = current_state()
    with state.lock:
        return jsonify(list(state.files.values()))


def _list_requests() -> Response:
    state = current_state()
    with state.lock:
        return jsonify([dict(entry) for entry in state.requests])


def _reset() -> Response:
    current_state().reset()
    return jsonify({"reset": True})
