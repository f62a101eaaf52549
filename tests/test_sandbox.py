"""The sandbox: its rules through Flask's test client, its serving through real HTTP.

Every app here runs on a ``FakeClock``: windows move, tokens expire and answers are
slowed by advancing it, never by sleeping; only the client's own read timeout is real."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

import batch_claims.sandbox
from batch_claims.clock import FakeClock, SystemClock
from batch_claims.errors import InputError
from batch_claims.netloc import is_loopback
from batch_claims.sandbox import create_app, serve
from batch_claims.sandbox.bodies import schema_problems
from batch_claims.sandbox.damage import document_fields
from batch_claims.sandbox.schemas import SENDCLOUD_RATES
from batch_claims.sandbox.state import HALT_CHECK, sandbox_state
from batch_claims.sandbox.ticket_types import TICKET_TYPES
from batch_claims.sandbox.windows import Limit, Windows

DOCUMENT_FIELDS = document_fields()  # read from the vendored OpenAPI document

BASIC = {"Authorization": "Basic " + base64.b64encode(b"public:secret").decode()}
FILES = "/api/v3/dsf/files"
TICKETS = "/api/v3/dsf/tickets/damage"
TOKEN_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-(?P<hex>[0-9a-f]+)$"
)
# Generous limits, for tests about something else than limits.
NO_LIMITS: dict[str, object] = {
    "TICKET_LIMIT": (1000, 1.0),
    "REQUEST_LIMIT": (1000, 1.0),
    "BURST_LIMIT": (1000, 1.0),
}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def error_of(response: Any) -> dict[str, Any]:
    """The one error of an error body, after checking the body's shape."""
    body = response.get_json() if hasattr(response, "get_json") else response.json()
    assert list(body) == ["errors"]
    assert len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    assert set(error) == {"code", "detail", "title", "status"}
    assert error["status"] == response.status_code
    return error


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Any]:
    """Test clients of new apps on the test's ``clock``."""

    def make(**config: object) -> FlaskClient:
        return create_app(config, clock=clock).test_client()

    yield make


@pytest.fixture
def client(make_client: Any) -> FlaskClient:
    client: FlaskClient = make_client(**NO_LIMITS)
    return client


def multipart(content: bytes, filename: str, content_type: str | None) -> tuple[bytes, str]:
    """A one-part multipart body, encoded here (werkzeug's test client leaks a temp file
    when it encodes a body over 500 KB itself)."""
    boundary = "sandbox-test-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
    if content_type is not None:
        head += f"\r\nContent-Type: {content_type}"
    body = head.encode() + b"\r\n\r\n" + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(
    client: FlaskClient,
    content: bytes = b"%PDF-1.4 test",
    filename: str = "invoice.pdf",
    content_type: str | None = "application/pdf",
) -> Any:
    data, multipart_type = multipart(content, filename, content_type)
    return client.post(FILES, headers=BASIC, data=data, content_type=multipart_type)


def rates_body(client: FlaskClient, tracking_number: str = "3SABCD1234567") -> dict[str, Any]:
    """A complete Sendcloud-rates body, with every document uploaded."""
    body: dict[str, Any] = {
        "tracking_number": tracking_number,
        "contents_sales_price": {"price": 10.55, "currency": "EUR"},
        "contents_purchase_price": {"price": 8, "currency": "EUR"},
        "contents_description": "3 t-shirts",
        "parcel_exterior_description": "Branded box",
        "additional_remarks": "Crushed corner",
    }
    for field in DOCUMENT_FIELDS:
        token = upload(client, field.encode(), f"{field}.jpg", "image/jpeg").get_json()
        body[field] = {"file_token": token["file_token"]}
    return body


def post_ticket(client: FlaskClient, body: object, query: str = "", **kwargs: Any) -> Any:
    headers = kwargs.pop("headers", BASIC)
    return client.post(TICKETS + query, headers=headers, json=body, **kwargs)


# --- surface --------------------------------------------------------------------


def test_exported_members() -> None:
    assert set(batch_claims.sandbox.__all__) == {"create_app", "serve"}


def test_each_app_has_its_own_state(make_client: Any) -> None:
    first, second = make_client(), make_client()
    assert upload(first).status_code == 201
    assert len(first.get("/sandbox/files").get_json()) == 1
    assert second.get("/sandbox/files").get_json() == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"TICKET_LIMIT": (0, 60)}, "TICKET_LIMIT count must be a positive integer, not 0"),
        ({"TICKET_LIMIT": (15, 0)}, "TICKET_LIMIT seconds must be positive, not 0"),
        ({"BURST_LIMIT": 15}, "BURST_LIMIT must be a pair (count, seconds), not 15"),
        ({"ERROR_RATE": 1.5}, "ERROR_RATE must be a share between 0 and 1, not 1.5"),
        ({"DROP_RATE": "often"}, "DROP_RATE must be a number, not 'often'"),
        ({"SEED": 1.5}, "SEED must be an integer, not 1.5"),
        ({"RETRY_AFTER": "yes"}, "RETRY_AFTER must be true or false, not 'yes'"),
        ({"LATENCY": -1}, "LATENCY must not be negative, not -1.0"),
    ],
)
def test_bad_config_is_refused(config: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        create_app(config)
    assert str(refused.value) == message


# --- errors in one shape ---------------------------------------------------------------


def test_flask_own_errors_use_the_json_shape(client: FlaskClient) -> None:
    missing = client.get("/api/v3/nothing-here")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    wrong_method = client.get(FILES)
    assert wrong_method.status_code == 405
    assert error_of(wrong_method)["code"] == "method_not_allowed"
    assert sorted(wrong_method.headers["Allow"].split(", ")) == ["OPTIONS", "POST"]


def test_unhandled_exception_answers_json_500() -> None:
    app: Flask = create_app()

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_server_error"


# --- authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Authentication credentials were not provided."),
        (basic("bad", "secret"), "Invalid username/password."),
        (basic("public", ""), "Invalid username/password."),
        (basic("", "secret"), "Invalid username/password."),
        ({"Authorization": "X"}, "Unsupported authentication scheme."),
    ],
    ids=["missing", "bad-user", "no-password", "no-user", "unknown-scheme"],
)
def test_credentials_refused(client: FlaskClient, headers: dict[str, str], detail: str) -> None:
    response = client.post(FILES, headers=headers, data={"file": (io.BytesIO(b"x"), "a.pdf")})
    assert response.status_code == 401
    error = error_of(response)
    assert (error["code"], error["title"], error["detail"]) == (
        "authentication_failed",
        "Unauthorized",
        detail,
    )


def test_auth_is_checked_before_rate_limits_and_not_counted(make_client: Any) -> None:
    client = make_client(TICKET_LIMIT=(1, 10.0))
    assert (
        post_ticket(client, {"tracking_number": "A"}, headers=basic("bad", "x")).status_code == 401
    )
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 202
    assert (
        post_ticket(client, {"tracking_number": "A"}, headers=basic("bad", "x")).status_code == 401
    )
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 429


def test_oauth2_token_with_basic_or_form_credentials(client: FlaskClient) -> None:
    form = {"grant_type": "client_credentials"}
    by_basic = client.post("/oauth2/token/", headers=BASIC, data=form)
    by_form = client.post(
        "/oauth2/token/", data={**form, "client_id": "public", "client_secret": "secret"}
    )
    for response in (by_basic, by_form):
        assert response.status_code == 200
        token = response.get_json()
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 3600
        assert token["scope"] == "api"
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        assert post_ticket(client, {"tracking_number": "A"}, headers=bearer).status_code == 202
    assert by_basic.get_json()["access_token"] != by_form.get_json()["access_token"]


BAD_CLIENT = (401, "authentication_failed", "Invalid client credentials.")


@pytest.mark.parametrize(
    ("headers", "data", "refusal"),
    [
        (basic("bad", "secret"), {"grant_type": "client_credentials"}, BAD_CLIENT),
        ({}, {"grant_type": "client_credentials"}, BAD_CLIENT),
        (
            {},
            {"grant_type": "client_credentials", "client_id": "bad", "client_secret": "s"},
            BAD_CLIENT,
        ),
        (
            BASIC,
            {"grant_type": "password"},
            (400, "unsupported_grant_type", "grant_type must be client_credentials."),
        ),
    ],
)
def test_oauth2_token_refused(
    client: FlaskClient,
    headers: dict[str, str],
    data: dict[str, str],
    refusal: tuple[int, str, str],
) -> None:
    response = client.post("/oauth2/token/", headers=headers, data=data)
    error = error_of(response)
    assert (response.status_code, error["code"], error["detail"]) == refusal


def test_unknown_and_expired_bearer_tokens_are_refused(make_client: Any, clock: FakeClock) -> None:
    client = make_client(TOKEN_EXPIRES_IN=0.5)
    unknown = post_ticket(client, {"tracking_number": "A"}, headers={"Authorization": "Bearer x"})
    assert unknown.status_code == 401
    assert error_of(unknown)["detail"] == "Invalid token."
    token = client.post("/oauth2/token/", headers=BASIC, data={"grant_type": "client_credentials"})
    assert token.get_json()["expires_in"] == 0.5
    bearer = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    assert post_ticket(client, {"tracking_number": "A"}, headers=bearer).status_code == 202
    clock.advance(0.25)
    assert post_ticket(client, {"tracking_number": "A"}, headers=bearer).status_code == 202
    clock.advance(0.25)  # exactly its lifetime: expired
    expired = post_ticket(client, {"tracking_number": "A"}, headers=bearer)
    assert expired.status_code == 401
    assert (error_of(expired)["code"], error_of(expired)["detail"]) == (
        "authentication_failed",
        "Token has expired.",
    )


# --- uploads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/pdf",
        "image/jpeg",
        "image/png",
        "video/mp4",
        "text/plain; charset=utf-8",
        "text/csv",
        "application/rtf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.text",
        "application/xml",
        "application/yaml",
        "Application/JSON",
    ],
)
def test_upload_accepts_allowed_types(client: FlaskClient, content_type: str) -> None:
    response = upload(client, b"content", "file.bin", content_type)
    assert response.status_code == 201
    match = TOKEN_RE.match(response.get_json()["file_token"])
    assert match is not None
    mimetype = content_type.split(";")[0].lower()
    assert bytes.fromhex(match["hex"]).decode() == mimetype


def test_upload_token_ends_in_the_hex_of_the_content_type(client: FlaskClient) -> None:
    token = upload(client).get_json()["file_token"]
    assert token.endswith("-6170706c69636174696f6e2f706466")  # the doc's example suffix


@pytest.mark.parametrize(
    "content_type",
    ["application/octet-stream", "application/zip", "application/x-pdf", "image", None],
)
def test_upload_refuses_other_types(client: FlaskClient, content_type: str | None) -> None:
    response = upload(client, b"content", "file.bin", content_type)
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert client.get("/sandbox/files").get_json() == []


def test_upload_without_file_part(client: FlaskClient) -> None:
    for data in ({"document": (io.BytesIO(b"x"), "a.pdf", "application/pdf")}, {}):
        response = client.post(FILES, headers=BASIC, data=data)
        assert response.status_code == 400
        error = error_of(response)
        assert (error["code"], error["detail"]) == ("bad_request", "file field is required.")
    as_json = client.post(FILES, headers=BASIC, json={"file": "x"})
    assert as_json.status_code == 400


def test_upload_part_without_filename(client: FlaskClient) -> None:
    response = client.post(FILES, headers=BASIC, data={"file": "just text"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "unprocessable_content"
    assert error["detail"] == "file field must contain a file object."


def test_upload_size_limit(make_client: Any) -> None:
    client = make_client(MAX_FILE_SIZE=100)
    assert upload(client, b"x" * 100).status_code == 201
    one_over = upload(client, b"x" * 101)
    assert one_over.status_code == 413
    assert error_of(one_over)["detail"] == "File is too large: the maximum size is 100 bytes."
    far_over = upload(client, b"x" * 200_000)  # beyond MAX_CONTENT_LENGTH: werkzeug refuses
    assert far_over.status_code == 413
    assert error_of(far_over)["code"] == "request_entity_too_large"
    assert len(client.get("/sandbox/files").get_json()) == 1


def test_default_max_file_size_is_6_mb(client: FlaskClient) -> None:
    six_mb = 6 * 1024 * 1024
    assert upload(client, b"x" * six_mb).status_code == 201
    assert upload(client, b"x" * (six_mb + 1)).status_code == 413


def test_uploads_are_listed(client: FlaskClient, clock: FakeClock) -> None:
    uploaded_at = clock.utcnow().timestamp()
    token = upload(client, b"hello", "note.txt", "text/plain; charset=utf-8").get_json()
    clock.advance(3.0)
    [record] = client.get("/sandbox/files").get_json()
    assert record["file_token"] == token["file_token"]
    assert record["filename"] == "note.txt"
    assert record["content_type"] == "text/plain"
    assert record["size"] == 5
    assert record["sha256"] == hashlib.sha256(b"hello").hexdigest()
    assert record["uploaded_at"] == uploaded_at


# --- tickets: accepted ------------------------------------------------------------------


def test_own_contract_ticket(client: FlaskClient, clock: FakeClock) -> None:
    body = {"tracking_number": "JVGL0001", "carrier_contract_id": 123}
    created_at = clock.utcnow().timestamp()
    response = post_ticket(client, body)
    clock.advance(3.0)
    assert response.status_code == 202
    ticket_id = response.get_json()["ticket_id"]
    [ticket] = client.get("/sandbox/tickets").get_json()
    assert ticket["ticket_id"] == ticket_id
    assert ticket["body"] == body
    assert ticket["is_portal_claim"] is False
    assert ticket["files"] == {}
    assert ticket["created_at"] == created_at


def test_complete_sendcloud_rates_body_is_accepted(client: FlaskClient) -> None:
    """The published oneOf would refuse it (it matches both variants); we accept it."""
    body = rates_body(client)
    response = post_ticket(client, body)
    assert response.status_code == 202
    [ticket] = client.get("/sandbox/tickets").get_json()
    assert set(ticket["files"]) == set(DOCUMENT_FIELDS)
    photo = ticket["files"]["damage_photo_1"]
    assert photo == {
        "filename": "damage_photo_1.jpg",
        "content_type": "image/jpeg",
        "size": len(b"damage_photo_1"),
        "sha256": hashlib.sha256(b"damage_photo_1").hexdigest(),
    }


def test_tickets_are_not_deduplicated(client: FlaskClient) -> None:
    body = {"tracking_number": "TWICE"}
    first, second = post_ticket(client, body), post_ticket(client, body)
    assert first.status_code == second.status_code == 202
    assert first.get_json() != second.get_json()
    assert len(client.get("/sandbox/tickets").get_json()) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("false", False), ("False", False), ("0", False)],
)
def test_is_portal_claim_query(client: FlaskClient, value: str, expected: bool) -> None:
    body = {"tracking_number": "P1", "carrier_contract_id": 7}
    assert post_ticket(client, body, f"?is_portal_claim={value}").status_code == 202
    [ticket] = client.get("/sandbox/tickets").get_json()
    assert ticket["is_portal_claim"] is expected


# --- tickets: refused -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("{not json", "application/json"), ("[1, 2]", "application/json"), ("", None)],
)
def test_body_that_is_not_a_json_object(
    client: FlaskClient, data: str, content_type: str | None
) -> None:
    response = client.post(TICKETS, headers=BASIC, data=data, content_type=content_type)
    assert response.status_code == 406
    error = error_of(response)
    assert error == {
        "code": "not_acceptable",
        "detail": "Invalid JSON",
        "title": "Not Acceptable",
        "status": 406,
    }


def test_bad_is_portal_claim_value(client: FlaskClient) -> None:
    response = post_ticket(client, {"tracking_number": "A"}, "?is_portal_claim=maybe")
    assert response.status_code == 400
    assert error_of(response)["detail"] == (
        "Validation Error. Errors: [{'type': 'bool_parsing', 'loc': ('is_portal_claim',), "
        "'msg': 'Input should be a valid boolean, unable to interpret input'}]"
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {},
            "Validation Error. Errors: [{'type': 'missing', 'loc': ('tracking_number',), "
            "'msg': 'Field required'}]",
        ),
        (
            {"tracking_number": "A", "carrier_contract_id": "abc"},
            "Validation Error. Errors: [{'type': 'int_type', 'loc': ('carrier_contract_id',), "
            "'msg': 'Input should be a valid integer'}]",
        ),
        (
            {"tracking_number": 5, "contents_sales_price": {"price": "1", "currency": "XXX"}},
            "Validation Error. Errors: ["
            "{'type': 'string_type', 'loc': ('tracking_number',), "
            "'msg': 'Input should be a valid string'}, "
            "{'type': 'float_type', 'loc': ('contents_sales_price', 'price'), "
            "'msg': 'Input should be a valid number'}, "
            "{'type': 'enum', 'loc': ('contents_sales_price', 'currency'), "
            "'msg': \"Input should be 'EUR', 'GBP' or 'USD'\"}]",
        ),
    ],
)
def test_schema_errors_in_pydantic_style(
    client: FlaskClient, body: dict[str, object], detail: str
) -> None:
    response = post_ticket(client, body)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["title"], error["detail"]) == (
        "bad_request",
        "Bad Request",
        detail,
    )
    assert client.get("/sandbox/tickets").get_json() == []


def test_sendcloud_rates_variant_problems_match_the_doc_example(client: FlaskClient) -> None:
    body = rates_body(client)
    del body["contents_sales_price"]
    rates = TICKET_TYPES["damage"].variant(SENDCLOUD_RATES)
    assert rates is not None
    assert rates.name == "CreateDamagedTransactional"
    assert schema_problems(body, rates) == [
        {"type": "missing", "loc": ("contents_sales_price",), "msg": "Field required"}
    ]
    assert repr(schema_problems(body, rates)) == (
        "[{'type': 'missing', 'loc': ('contents_sales_price',), 'msg': 'Field required'}]"
    )


def test_unknown_or_missing_file_tokens(client: FlaskClient) -> None:
    known = upload(client).get_json()["file_token"]
    body = {
        "tracking_number": "A",
        "sales_invoice": {"file_token": known},
        "exterior_photo": {"file_token": "not-issued-here"},
        "damage_photo_2": {},
    }
    response = post_ticket(client, body)
    assert response.status_code == 400
    assert error_of(response)["detail"] == (
        "Validation Error. Errors: ["
        "{'type': 'value_error', 'loc': ('exterior_photo', 'file_token'), "
        "'msg': 'Unknown file token'}, "
        "{'type': 'missing', 'loc': ('damage_photo_2', 'file_token'), 'msg': 'Field required'}]"
    )


@pytest.mark.parametrize(
    ("body", "query", "status", "code", "detail"),
    [
        ({"tracking_number": "NOTFOUND1"}, "", 400, "bad_request", "Parcel not found."),
        (
            {"tracking_number": "DELIVERED42"},
            "",
            422,
            "unprocessable_content",
            "Cannot create ticket. Reason: Parcel is already delivered",
        ),
        (
            {"tracking_number": "A", "carrier_contract_id": 999},
            "",
            422,
            "unprocessable_content",
            "Carrier support contact is required for own contract parcel",
        ),
        (
            {"tracking_number": "A"},
            "?is_portal_claim=true",
            422,
            "unprocessable_content",
            "Portal claims require a carrier contract.",
        ),
    ],
)
def test_deterministic_bad_cases(
    client: FlaskClient, body: dict[str, object], query: str, status: int, code: str, detail: str
) -> None:
    response = post_ticket(client, body, query)
    assert response.status_code == status
    error = error_of(response)
    assert (error["code"], error["detail"]) == (code, detail)
    assert client.get("/sandbox/tickets").get_json() == []


def test_reset_clears_everything_but_tokens(client: FlaskClient) -> None:
    token = client.post("/oauth2/token/", headers=BASIC, data={"grant_type": "client_credentials"})
    post_ticket(client, rates_body(client))
    assert client.post("/sandbox/reset").status_code == 200
    for listing in ("/sandbox/tickets", "/sandbox/files", "/sandbox/requests"):
        assert client.get(listing).get_json() == []
    bearer = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    assert post_ticket(client, {"tracking_number": "A"}, headers=bearer).status_code == 202


# --- rate limits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "text"),
    [
        ((15, 60.0), "15 per 1 minute"),
        ((100, 60.0), "100 per 1 minute"),
        ((15, 1.0), "15 per 1 second"),
        ((5, 120.0), "5 per 2 minutes"),
        ((3, 0.3), "3 per 0.3 seconds"),
        ((2, 3600.0), "2 per 1 hour"),
    ],
)
def test_limit_description(limit: tuple[int, float], text: str) -> None:
    assert Limit("ticket", *limit).describe() == text


def test_windows_are_strict_moving_windows() -> None:
    now = [100.0]
    windows = Windows([Limit("ticket", 2, 10.0), Limit("burst", 5, 1.0)], lambda: now[0])
    assert windows.admit(["ticket", "burst"]) is None
    now[0] = 104.0
    assert windows.admit(["ticket", "burst"]) is None
    now[0] = 109.999
    refusal = windows.admit(["ticket", "burst"])
    assert refusal is not None
    assert refusal.limit.scope == "ticket"
    assert refusal.wait == pytest.approx(0.001)
    now[0] = 110.0  # the arrival at 100.0 is no longer > now - 10
    assert windows.admit(["ticket"]) is None
    assert windows.admit(["ticket"]) is not None  # 104 and 110 are still in


def test_a_refused_arrival_is_counted_nowhere() -> None:
    now = [0.0]
    windows = Windows([Limit("ticket", 1, 10.0), Limit("burst", 2, 1.0)], lambda: now[0])
    assert windows.admit(["ticket", "burst"]) is None
    assert windows.admit(["ticket", "burst"]) is not None  # refused by ticket...
    assert windows.admit(["burst"]) is None  # ...so burst still has room for one


def test_the_refusal_names_the_window_that_frees_last() -> None:
    now = [0.0]
    windows = Windows([Limit("ticket", 1, 60.0), Limit("burst", 1, 1.0)], lambda: now[0])
    windows.admit(["ticket", "burst"])
    refusal = windows.admit(["ticket", "burst"])
    assert refusal is not None
    assert (refusal.limit.scope, refusal.wait) == ("ticket", 60.0)


def test_windows_are_thread_safe() -> None:
    windows = Windows([Limit("ticket", 5, 60.0)], FakeClock().monotonic)
    admitted: list[bool] = []
    barrier = threading.Barrier(20)

    def arrive() -> None:
        barrier.wait()
        admitted.append(windows.admit(["ticket"]) is None)

    threads = [threading.Thread(target=arrive) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 5


def test_ticket_limit_429_with_retry_after(make_client: Any) -> None:
    client = make_client(TICKET_LIMIT=(3, 0.3))
    for _ in range(3):
        assert post_ticket(client, {"tracking_number": "A"}).status_code == 202
    refused = post_ticket(client, {"tracking_number": "A"})
    assert refused.status_code == 429
    assert error_of(refused) == {
        "code": "hit_rate_limit",
        "detail": "Rate limit exceeded: 3 per 0.3 seconds",
        "title": "Rate limit exceeded",
        "status": 429,
    }
    assert refused.headers["Retry-After"] == "1"  # whole seconds, rounded up
    assert len(client.get("/sandbox/tickets").get_json()) == 3
    log = client.get("/sandbox/requests").get_json()
    assert [entry["status"] for entry in log] == [202, 202, 202, 429]
    assert log[-1]["scopes"] == []
    assert log[0]["scopes"] == ["ticket", "request", "burst"]


def test_window_moves_and_float_retry_after_is_enough(make_client: Any, clock: FakeClock) -> None:
    client = make_client(TICKET_LIMIT=(3, 0.5), RETRY_AFTER_FLOAT=True)
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 202
    clock.advance(0.125)
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 202
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 202
    refused = post_ticket(client, {"tracking_number": "A"})
    assert refused.status_code == 429
    # Until the first arrival leaves the window, not a whole new window.
    assert refused.headers["Retry-After"] == "0.375"
    clock.advance(0.25)
    still_full = post_ticket(client, {"tracking_number": "A"})
    assert (still_full.status_code, still_full.headers["Retry-After"]) == (429, "0.125")
    clock.advance(0.125)
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 202
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 429  # two still in


def test_uploads_count_in_request_and_burst_but_not_ticket(make_client: Any) -> None:
    client = make_client(TICKET_LIMIT=(1, 10.0), REQUEST_LIMIT=(3, 10.0))
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 202
    assert upload(client).status_code == 201
    assert upload(client).status_code == 201
    refused = upload(client)
    assert refused.status_code == 429
    assert error_of(refused)["detail"] == "Rate limit exceeded: 3 per 10 seconds"


def test_burst_limit_and_no_retry_after(make_client: Any) -> None:
    client = make_client(BURST_LIMIT=(2, 1.0), RETRY_AFTER=False)
    assert upload(client).status_code == 201
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 202
    refused = upload(client)
    assert refused.status_code == 429
    assert error_of(refused)["detail"] == "Rate limit exceeded: 2 per 1 second"
    assert "Retry-After" not in refused.headers


def test_default_ticket_limit_text(make_client: Any) -> None:
    client = make_client()
    statuses = [post_ticket(client, {"tracking_number": "A"}).status_code for _ in range(16)]
    assert statuses == [202] * 15 + [429]
    assert error_of(post_ticket(client, {"tracking_number": "A"}))["detail"] == (
        "Rate limit exceeded: 15 per 1 minute"
    )


# --- faults (test client) ------------------------------------------------------------------


def test_error_rate_answers_500_or_503_before_processing(make_client: Any) -> None:
    client = make_client(ERROR_RATE=1.0, **NO_LIMITS)
    answers = [post_ticket(client, {"tracking_number": "A"}) for _ in range(20)]
    assert {answer.status_code for answer in answers} == {500, 503}
    for answer in answers:
        error = error_of(answer)
        assert (error["code"], error["detail"]) == {
            500: ("internal_server_error", "Internal server error."),
            503: ("service_unavailable", "Service temporarily unavailable."),
        }[answer.status_code]
    assert client.get("/sandbox/tickets").get_json() == []


def test_spurious_429_is_not_counted(make_client: Any) -> None:
    client = make_client(RATE_LIMIT_BURST_RATE=1.0)
    response = upload(client)
    assert response.status_code == 429
    assert error_of(response)["code"] == "hit_rate_limit"
    assert response.headers["Retry-After"] == "1"
    assert client.get("/sandbox/requests").get_json()[0]["scopes"] == []


def test_faults_are_deterministic_given_the_seed(make_client: Any) -> None:
    def statuses(seed: int) -> list[int]:
        client = make_client(SEED=seed, ERROR_RATE=0.5, **NO_LIMITS)
        return [upload(client).status_code for _ in range(30)]

    first = statuses(7)
    assert first == statuses(7)
    assert first != statuses(8)
    assert {201, 500, 503} == set(first)


def test_drop_without_a_socket_answers_444_and_processes_nothing(make_client: Any) -> None:
    client = make_client(DROP_RATE=1.0)
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 444
    assert client.get("/sandbox/tickets").get_json() == []
    [entry] = client.get("/sandbox/requests").get_json()
    assert entry["status"] is None
    assert entry["scopes"] == ["ticket", "request", "burst"]  # it did arrive


def test_lost_response_creates_the_ticket(make_client: Any) -> None:
    client = make_client(LOST_RESPONSE_RATE=1.0)
    assert upload(client).status_code == 201  # uploads never lose their answer
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 444
    assert len(client.get("/sandbox/tickets").get_json()) == 1


def test_slow_and_latency_delay_the_answer(make_client: Any, clock: FakeClock) -> None:
    client = make_client(SLOW_RATE=1.0, SLOW_SECONDS=0.2, LATENCY=0.05)
    created_at = clock.utcnow().timestamp()
    started = clock.monotonic()
    assert post_ticket(client, {"tracking_number": "A"}).status_code == 202
    assert clock.monotonic() - started == pytest.approx(0.25)  # slow, then latency
    [ticket] = client.get("/sandbox/tickets").get_json()
    assert ticket["created_at"] == created_at  # created before the slow answer
    started = clock.monotonic()
    assert upload(client).status_code == 201  # slow applies to tickets only
    assert clock.monotonic() - started == pytest.approx(0.05)
    assert max(clock.sleeps) <= HALT_CHECK  # in steps that look for a shutdown


def test_a_pause_ends_at_its_next_step_once_the_server_shuts_down(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = sandbox_state(create_app(clock=clock))
    sleep = clock.sleep

    def sleep_then_shut_down(seconds: float) -> None:
        sleep(seconds)
        state.halt.set()

    monkeypatch.setattr(clock, "sleep", sleep_then_shut_down)
    state.pause(3600.0)
    assert clock.sleeps == [HALT_CHECK]


def test_an_app_runs_on_the_system_clock_unless_given_one() -> None:
    assert isinstance(sandbox_state(create_app()).clock, SystemClock)
    with serve() as server:
        assert isinstance(sandbox_state(server.app).clock, SystemClock)


# --- real HTTP ------------------------------------------------------------------------------


@pytest.fixture
def serve_sandbox(sandbox_factory: Callable[..., Any], clock: FakeClock) -> Callable[..., Any]:
    """Served sandboxes on the test's ``clock`` (over conftest's scaled limits)."""

    def start(**config: object) -> Any:
        return sandbox_factory(config, clock)

    return start


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_server_urls(serve_sandbox: Any) -> None:
    server = serve_sandbox()
    assert server.host == "127.0.0.1"
    assert server.port > 0
    assert server.root_url == f"http://127.0.0.1:{server.port}"
    assert server.base_url == f"http://127.0.0.1:{server.port}/api/v3"
    assert server.token_url == f"http://127.0.0.1:{server.port}/oauth2/token/"


def test_upload_and_ticket_roundtrip(serve_sandbox: Any, session: requests.Session) -> None:
    server = serve_sandbox()
    token = session.post(
        server.token_url, data={"grant_type": "client_credentials"}, auth=("public", "secret")
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    photo = b"\x89PNG fake photo"
    uploaded = session.post(
        f"{server.base_url}/dsf/files", files={"file": ("damage.png", photo, "image/png")}
    )
    assert uploaded.status_code == 201
    body = {"tracking_number": "3S1", "damage_photo_1": uploaded.json()}
    created = session.post(f"{server.base_url}/dsf/tickets/damage", json=body, timeout=5)
    assert created.status_code == 202
    [ticket] = session.get(f"{server.root_url}/sandbox/tickets").json()
    assert ticket["ticket_id"] == created.json()["ticket_id"]
    assert ticket["files"]["damage_photo_1"]["sha256"] == hashlib.sha256(photo).hexdigest()


def test_request_log_timestamps(
    serve_sandbox: Any, session: requests.Session, clock: FakeClock
) -> None:
    server = serve_sandbox(BURST_LIMIT=(2, 1.0))
    started = clock.utcnow().timestamp()
    statuses = []
    for _ in range(3):
        answer = session.post(
            f"{server.base_url}/dsf/tickets/damage",
            json={"tracking_number": "A"},
            auth=("public", "secret"),
            timeout=5,
        )
        statuses.append(answer.status_code)
        clock.advance(0.25)
    assert statuses == [202, 202, 429]
    log = session.get(f"{server.root_url}/sandbox/requests").json()
    assert [entry["status"] for entry in log] == statuses
    assert [entry["arrived_at"] for entry in log] == [started, started + 0.25, started + 0.5]
    assert all(entry["path"] == "/api/v3/dsf/tickets/damage" for entry in log)


def test_concurrent_requests_respect_the_limit(serve_sandbox: Any) -> None:
    server = serve_sandbox(TICKET_LIMIT=(3, 5.0))
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        with requests.Session() as own:
            barrier.wait()
            response = own.post(
                f"{server.base_url}/dsf/tickets/damage",
                json={"tracking_number": "A"},
                auth=("public", "secret"),
                timeout=5,
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202] * 3 + [429] * 5


def test_dropped_connection_raises_connection_error(
    serve_sandbox: Any, session: requests.Session
) -> None:
    server = serve_sandbox(DROP_RATE=1.0)
    with pytest.raises(requests.ConnectionError):
        session.post(
            f"{server.base_url}/dsf/tickets/damage",
            json={"tracking_number": "A"},
            auth=("public", "secret"),
            timeout=5,
        )
    assert session.get(f"{server.root_url}/sandbox/tickets").json() == []
    [entry] = session.get(f"{server.root_url}/sandbox/requests").json()
    assert entry["status"] is None


def test_lost_response_creates_ticket_but_client_gets_an_error(
    serve_sandbox: Any, session: requests.Session
) -> None:
    server = serve_sandbox(LOST_RESPONSE_RATE=1.0)
    with pytest.raises(requests.ConnectionError):
        session.post(
            f"{server.base_url}/dsf/tickets/damage",
            json={"tracking_number": "LOST1"},
            auth=("public", "secret"),
            timeout=5,
        )
    [ticket] = session.get(f"{server.root_url}/sandbox/tickets").json()
    assert ticket["body"] == {"tracking_number": "LOST1"}


def test_slow_answer_exceeds_read_timeout_after_creating(
    sandbox_factory: Callable[..., Any], session: requests.Session
) -> None:
    # The client's read timeout is real time, so this sandbox keeps the system clock.
    server = sandbox_factory({"SLOW_RATE": 1.0, "SLOW_SECONDS": 600.0})
    with pytest.raises(requests.ReadTimeout):
        session.post(
            f"{server.base_url}/dsf/tickets/damage",
            json={"tracking_number": "SLOW1"},
            auth=("public", "secret"),
            timeout=(2, 0.05),
        )
    [ticket] = session.get(f"{server.root_url}/sandbox/tickets").json()
    assert ticket["body"] == {"tracking_number": "SLOW1"}
    server.shutdown()
    # The slow answer's pause sees this at its next step (see the test of pause above).
    assert sandbox_state(server.app).halt.is_set()


def test_too_large_upload_over_http(serve_sandbox: Any, session: requests.Session) -> None:
    server = serve_sandbox(MAX_FILE_SIZE=1000)
    response = session.post(
        f"{server.base_url}/dsf/files",
        files={"file": ("big.pdf", b"x" * 1001, "application/pdf")},
        auth=("public", "secret"),
        timeout=5,
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_entity_too_large"


def test_server_is_a_context_manager() -> None:
    with serve() as server, requests.Session() as session:
        assert session.get(f"{server.root_url}/sandbox/tickets", timeout=5).json() == []
    with pytest.raises(requests.ConnectionError), requests.Session() as session:
        session.get(f"{server.root_url}/sandbox/tickets", timeout=5)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_refuses_non_loopback_host_without_allow_remote() -> None:
    with pytest.raises(InputError, match="allow_remote"):
        serve(host="0.0.0.0")


def test_other_config_keys_reach_flask() -> None:
    app = create_app({"TESTING": True, "MAX_FILE_SIZE": 10})
    assert app.config["TESTING"] is True
    assert app.config["MAX_CONTENT_LENGTH"] > 10


def test_run_forever_serves_until_ctrl_c() -> None:
    # A test run started in the background (nohup, `&`) ignores SIGINT, and a child
    # inherits that: the script restores Python's own handler before serving.
    script = (
        "import signal\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from batch_claims.sandbox.server import run_forever\n"
        "run_forever(port=0, on_ready=lambda url: print(url, flush=True))\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            root_url = process.stdout.readline().strip()
            with requests.Session() as session:
                assert session.get(f"{root_url}/sandbox/tickets", timeout=5).json() == []
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=10)
        except BaseException:
            process.kill()  # never leave a server behind, never hang the suite
            raise
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_document_fields_come_from_the_published_document() -> None:
    assert document_fields() == (
        "customer_confirmation",
        "sales_invoice",
        "purchase_invoice",
        "exterior_photo",
        "interior_photo",
        "damage_photo_1",
        "damage_photo_2",
        "package_photo",
        "entire_product_photo",
    )
