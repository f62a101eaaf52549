"""SupportClient and the auth classes over real HTTP on 127.0.0.1.

Scripted servers answer exactly what a test needs (any status, body or header, or a
hang-up after reading the request); the sandbox covers the realistic end-to-end cases.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from batch_claims.api import (
    BasicAuth,
    ClientEvent,
    Limit,
    OAuth2ClientCredentials,
    RateLimiter,
    RetryPolicy,
    SupportClient,
)
from batch_claims.api.client import window_in_detail
from batch_claims.clock import FakeClock
from batch_claims.errors import (
    AuthRefused,
    GaveUp,
    InputError,
    NotTheApi,
    RateLimited,
    Rejected,
    Retryable,
    Unconfirmed,
    Unreachable,
)
from batch_claims.netloc import check_base_url
from tests.helpers import PUBLIC_KEY, SECRET_KEY

FAST = RetryPolicy(max_attempts=3, backoff_base=0.5, jitter=0.0)
GATEWAY_PAGE = (
    b"<html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head>"
    b"<body>\n<center><h1>502   Bad Gateway</h1></center>\n<hr><center>nginx</center></body></html>"
)
LIMITS = {"ticket": Limit(15, 60), "request": Limit(100, 60), "burst": Limit(15, 1)}

# --- scripted HTTP server ---------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: Any = None  # dict/list -> JSON; bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


class Scripted:
    """Answers POSTs per path from a list of Answers, recording every request."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Answer]] = {}
        self.seen: list[Seen] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                path = self.path.split("?")[0]
                outer.seen.append(Seen(self.path, dict(self.headers), body))
                script = outer.scripts.get(path) or [Answer(500, b"no script")]
                answer = script.pop(0) if len(script) > 1 else script[0]
                data = answer.body
                if isinstance(data, dict | list):
                    data = json.dumps(data).encode()
                data = data or b""
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if isinstance(answer.body, dict | list):
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.base_url = f"{self.root}/api/v3/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def script(self, path: str, *answers: Answer) -> None:
        self.scripts[path] = list(answers)

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class RawServer:
    """Reads each request in full, then hangs up (``hang_up``) or never answers."""

    def __init__(self, *, hang_up: bool) -> None:
        self.hang_up = hang_up
        self.requests = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/v3"
        self.stop = threading.Event()
        self.open: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            conn.settimeout(2)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += conn.recv(65536)
            self.requests += 1
            if self.hang_up:
                conn.close()
            else:
                self.open.append(conn)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for conn in self.open:
            conn.close()
        self.sock.close()


@pytest.fixture
def api() -> Iterator[Scripted]:
    server = Scripted()
    yield server
    server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=0.0)


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., SupportClient]]:
    clients: list[SupportClient] = []

    def make(base_url: str, **kwargs: Any) -> SupportClient:
        kwargs.setdefault("auth", BasicAuth("test-public-key", SECRET_KEY))
        kwargs.setdefault("limiter", RateLimiter(clock, LIMITS))
        kwargs.setdefault("policy", FAST)
        kwargs.setdefault("rng", random.Random(0))
        client = SupportClient(base_url, clock=clock, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def error_body(*items: tuple[str, str]) -> dict[str, Any]:
    return {"errors": [{"code": c, "detail": d, "title": "t", "status": "x"} for c, d in items]}


TOKEN = {"file_token": "0f3c-6170706c69636174696f6e2f706466"}
TICKET = {"ticket_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}

# --- check_base_url ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://panel.sendcloud.sc/api/v3/", "https://panel.sendcloud.sc/api/v3"),
        ("http://127.0.0.1:8765/api/v3", "http://127.0.0.1:8765/api/v3"),
        ("http://127.8.9.10/api/v3//", "http://127.8.9.10/api/v3"),
        ("http://localhost:1/api/v3", "http://localhost:1/api/v3"),
        ("http://[::1]:8765/api/v3", "http://[::1]:8765/api/v3"),
    ],
)
def test_check_base_url_accepts(url: str, expected: str) -> None:
    assert check_base_url(url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://panel.sendcloud.sc/api/v3", "plain http://"),
        ("http://10.0.0.1/api/v3", "plain http://"),
        ("ftp://panel.sendcloud.sc/api/v3", "must be an https:// URL"),
        ("panel.sendcloud.sc/api/v3", "must be an https:// URL"),
        ("https://", "must be an https:// URL"),
        ("https://key:hunter2@panel.sendcloud.sc/api/v3", "must not contain credentials"),
        ("https://panel.sendcloud.sc:99999/api/v3", "not a usable URL"),
    ],
)
def test_check_base_url_refuses(url: str, says: str) -> None:
    with pytest.raises(InputError) as info:
        check_base_url(url)
    assert says in str(info.value)
    assert "SENDCLOUD_BASE_URL" in str(info.value)
    assert "hunter2" not in str(info.value)


# --- success ------------------------------------------------------------------------------


def test_upload_sends_one_named_typed_part(
    api: Scripted, make_client: Callable[..., SupportClient]
) -> None:
    api.script("/api/v3/dsf/files", Answer(201, TOKEN))
    client = make_client(api.base_url)
    result = client.upload_file("invoice 7.pdf", b"%PDF-1.4 data", "application/pdf")
    assert (result.file_token, result.attempts, result.http_status) == (TOKEN["file_token"], 1, 201)
    (seen,) = api.seen
    assert seen.path == "/api/v3/dsf/files"
    assert b'name="file"; filename="invoice 7.pdf"' in seen.body
    assert b"Content-Type: application/pdf" in seen.body
    assert b"%PDF-1.4 data" in seen.body
    expected = base64.b64encode(f"test-public-key:{SECRET_KEY}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {expected}"
    assert seen.headers["User-Agent"].startswith("batch-claims/")
    assert client.stats.uploads == 1 and client.stats.requests == 1


@pytest.mark.parametrize(("portal", "query"), [(False, ""), (True, "?is_portal_claim=true")])
def test_ticket_posts_json_and_portal_flag_only_when_true(
    api: Scripted, make_client: Callable[..., SupportClient], portal: bool, query: str
) -> None:
    api.script("/api/v3/dsf/tickets/damage", Answer(202, TICKET))
    client = make_client(api.base_url)
    payload = {"tracking_number": "3SABC", "carrier_contract_id": 7}
    result = client.create_ticket(payload, is_portal_claim=portal)
    assert (result.ticket_id, result.attempts, result.http_status) == (TICKET["ticket_id"], 1, 202)
    (seen,) = api.seen
    assert seen.path == f"/api/v3/dsf/tickets/damage{query}"
    assert json.loads(seen.body) == payload
    assert seen.headers["Content-Type"] == "application/json"
    assert client.stats.tickets == 1


def test_every_attempt_waits_for_the_limiter(
    api: Scripted, make_client: Callable[..., SupportClient], clock: FakeClock
) -> None:
    api.script("/api/v3/dsf/files", Answer(201, TOKEN))
    limiter = RateLimiter(clock, {"burst": Limit(1, 10.0)})
    client = make_client(api.base_url, limiter=limiter)
    client.upload_file("a.pdf", b"a", "application/pdf")
    client.upload_file("b.pdf", b"b", "application/pdf")
    assert clock.sleeps == [pytest.approx(10.0)]


# --- answers that are not a success -------------------------------------------------------


def test_429_penalises_the_limiter_honours_retry_after_and_retries(
    api: Scripted, make_client: Callable[..., SupportClient], clock: FakeClock
) -> None:
    api.script(
        "/api/v3/dsf/tickets/damage",
        Answer(
            429,
            error_body(("hit_rate_limit", "Rate limit exceeded: 15 per 1 minute")),
            {"Retry-After": "7"},
        ),
        Answer(202, TICKET),
    )
    events: list[ClientEvent] = []
    client = make_client(api.base_url, on_event=events.append)
    result = client.create_ticket({"tracking_number": "3SABC"})
    assert result.attempts == 2
    assert clock.sleeps == [pytest.approx(7.0)]
    assert client.stats.rate_limited == 1 and client.stats.retries == 1
    assert client.stats.requests == 2
    assert [(e.kind, e.http_status, e.delay) for e in events] == [("retry", 429, 7.0)]


@pytest.mark.parametrize(
    ("detail", "wait"),
    [
        ("Rate limit exceeded: 15 per 1 minute", 60.0),
        ("Rate limit exceeded: 3 per 0.3 seconds", 0.3),
        ("Too many requests", None),  # no window named: the scopes' longest window
    ],
)
def test_429_without_retry_after_waits_for_the_window_to_free(
    api: Scripted,
    make_client: Callable[..., SupportClient],
    clock: FakeClock,
    detail: str,
    wait: float | None,
) -> None:
    api.script(
        "/api/v3/dsf/tickets/damage",
        Answer(429, error_body(("hit_rate_limit", detail))),
        Answer(202, TICKET),
    )
    client = make_client(api.base_url)
    assert client.create_ticket({"tracking_number": "3SABC"}).attempts == 2
    longest = max(LIMITS[s].seconds for s in ("ticket", "request", "burst") if s in LIMITS)
    assert sum(clock.sleeps) == pytest.approx(wait if wait is not None else longest)


def test_window_named_in_a_429_detail() -> None:
    assert window_in_detail("Rate limit exceeded: 15 per 1 minute") == 60.0
    assert window_in_detail("100 per 2 hours") == 7200.0
    assert window_in_detail("15 per second") == 1.0
    assert window_in_detail("slow down") is None


def test_repeated_429_gives_up_with_the_last_answer(
    api: Scripted, make_client: Callable[..., SupportClient]
) -> None:
    api.script(
        "/api/v3/dsf/tickets/damage",
        Answer(429, error_body(("hit_rate_limit", "Rate limit exceeded: 15 per 1 minute"))),
    )
    client = make_client(api.base_url)
    with pytest.raises(GaveUp) as info:
        client.create_ticket({"tracking_number": "3SABC"})
    error = info.value
    assert (error.http_status, error.error_code, error.attempts) == (429, "hit_rate_limit", 3)
    assert "Rate limit exceeded: 15 per 1 minute" in error.detail
    assert isinstance(error.__cause__, RateLimited)
    assert len(api.seen) == 3


@pytest.mark.parametrize("status", [400, 404, 406, 409, 413, 415, 422])
def test_client_errors_are_rejected_with_the_api_detail_verbatim(
    api: Scripted, make_client: Callable[..., SupportClient], status: int
) -> None:
    body = error_body(
        ("bad_request", "Validation Error. Errors: [{'loc': ('tracking_number',)}]"),
        ("other", "Parcel not found."),
    )
    api.script("/api/v3/dsf/tickets/damage", Answer(status, body))
    client = make_client(api.base_url)
    with pytest.raises(Rejected) as info:
        client.create_ticket({"tracking_number": "X"})
    error = info.value
    assert error.detail == (
        "Validation Error. Errors: [{'loc': ('tracking_number',)}]; Parcel not found."
    )
    assert (error.http_status, error.error_code, error.attempts) == (status, "bad_request", 1)
    assert len(api.seen) == 1


def test_503_is_retried_even_for_tickets(
    api: Scripted, make_client: Callable[..., SupportClient], clock: FakeClock
) -> None:
    api.script(
        "/api/v3/dsf/tickets/damage",
        Answer(503, error_body(("service_unavailable", "Service temporarily unavailable."))),
        Answer(202, TICKET),
    )
    client = make_client(api.base_url)
    assert client.create_ticket({"tracking_number": "3SABC"}).attempts == 2
    assert clock.sleeps == [0.5]  # FAST: base 0.5, no jitter


@pytest.mark.parametrize("status", [500, 502, 504])
def test_other_5xx_on_a_ticket_is_unconfirmed_and_never_resent(
    api: Scripted, make_client: Callable[..., SupportClient], status: int
) -> None:
    api.script("/api/v3/dsf/tickets/damage", Answer(status, b""), Answer(202, TICKET))
    client = make_client(api.base_url)
    with pytest.raises(Unconfirmed) as info:
        client.create_ticket({"tracking_number": "3SABC"})
    assert info.value.http_status == status and info.value.attempts == 1
    assert "may have been created" in info.value.detail
    assert len(api.seen) == 1


def test_5xx_on_an_upload_is_retried(
    api: Scripted, make_client: Callable[..., SupportClient]
) -> None:
    api.script("/api/v3/dsf/files", Answer(500, b"oops"), Answer(201, TOKEN))
    client = make_client(api.base_url)
    assert client.upload_file("a.pdf", b"a", "application/pdf").attempts == 2


def test_html_gateway_page_becomes_a_readable_detail(
    api: Scripted, make_client: Callable[..., SupportClient]
) -> None:
    api.script("/api/v3/dsf/files", Answer(502, GATEWAY_PAGE, {"Content-Type": "text/html"}))
    client = make_client(api.base_url)
    with pytest.raises(GaveUp) as info:
        client.upload_file("a.pdf", b"a", "application/pdf")
    assert info.value.http_status == 502 and info.value.attempts == 3
    assert info.value.detail == (
        "Gave up after 3 attempts: HTTP 502 Bad Gateway "
        "(non-JSON answer: 502 Bad Gateway 502 Bad Gateway nginx)"
    )


def test_long_non_json_answer_is_cut_to_200_characters(
    api: Scripted, make_client: Callable[..., SupportClient]
) -> None:
    api.script("/api/v3/dsf/tickets/damage", Answer(418, b"<p>" + b"x" * 5000 + b"</p>"))
    client = make_client(api.base_url)
    with pytest.raises(Rejected) as info:
        client.create_ticket({"tracking_number": "3SABC"})
    assert info.value.detail == f"HTTP 418 I'm a Teapot (non-JSON answer: {'x' * 200}…)"


def test_success_without_ticket_id_is_unconfirmed(
    api: Scripted, make_client: Callable[..., SupportClient]
) -> None:
    api.script("/api/v3/dsf/tickets/damage", Answer(202, b"<html>accepted</html>"))
    client = make_client(api.base_url)
    with pytest.raises(Unconfirmed) as info:
        client.create_ticket({"tracking_number": "3SABC"})
    assert info.value.http_status == 202
    assert len(api.seen) == 1


def test_upload_success_without_token_is_retried(
    api: Scripted, make_client: Callable[..., SupportClient]
) -> None:
    api.script("/api/v3/dsf/files", Answer(201, {"nope": 1}), Answer(201, TOKEN))
    client = make_client(api.base_url)
    assert client.upload_file("a.pdf", b"a", "application/pdf").attempts == 2


def test_redirect_is_not_followed(api: Scripted, make_client: Callable[..., SupportClient]) -> None:
    api.script("/api/v3/dsf/tickets/damage", Answer(301, b"", {"Location": "https://elsewhere/"}))
    client = make_client(api.base_url)
    with pytest.raises(NotTheApi) as info:
        client.create_ticket({"tracking_number": "3SABC"})
    assert "SENDCLOUD_BASE_URL should end in /api/v3" in info.value.message
    assert "https://elsewhere/" in info.value.message
    assert len(api.seen) == 1


def test_payload_that_is_not_json_is_rejected_without_sending(
    api: Scripted, make_client: Callable[..., SupportClient]
) -> None:
    client = make_client(api.base_url)
    with pytest.raises(Rejected):
        client.create_ticket({"contents_sales_price": {"price": float("nan")}})
    assert api.seen == []


# --- credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_refused_basic_credentials_abort_without_retry(
    api: Scripted, make_client: Callable[..., SupportClient], status: int
) -> None:
    body = error_body(("authentication_failed", "Invalid username/password."))
    api.script("/api/v3/dsf/files", Answer(status, body))
    client = make_client(api.base_url)
    with pytest.raises(AuthRefused) as info:
        client.upload_file("a.pdf", b"a", "application/pdf")
    message = str(info.value)
    assert "SENDCLOUD_PUBLIC_KEY" in message and "SENDCLOUD_SECRET_KEY" in message
    assert "Invalid username/password." in message
    assert SECRET_KEY not in message
    assert info.value.exit_code == 3
    assert len(api.seen) == 1


def oauth2(api: Scripted, clock: FakeClock, session: requests.Session | None = None) -> Any:
    return OAuth2ClientCredentials(
        f"{api.root}/oauth2/token/", "client-id", SECRET_KEY, clock, session
    )


def token_answer(token: str, expires_in: float = 3600) -> Answer:
    return Answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in})


def test_oauth2_fetches_with_client_credentials_and_caches(
    api: Scripted, make_client: Callable[..., SupportClient], clock: FakeClock
) -> None:
    api.script("/oauth2/token/", token_answer("tok-1"))
    api.script("/api/v3/dsf/files", Answer(201, TOKEN))
    auth = oauth2(api, clock)
    client = make_client(api.base_url, auth=auth)
    client.upload_file("a.pdf", b"a", "application/pdf")
    client.upload_file("b.pdf", b"b", "application/pdf")
    assert api.paths() == ["/oauth2/token/", "/api/v3/dsf/files", "/api/v3/dsf/files"]
    token_request = api.seen[0]
    basic = base64.b64encode(f"client-id:{SECRET_KEY}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {basic}"
    assert token_request.body == b"grant_type=client_credentials&scope=api"
    assert api.seen[1].headers["Authorization"] == "Bearer tok-1"


@pytest.mark.parametrize(
    ("lifetime", "refresh_after"),
    # A minute before expiry, 10% of shorter lifetimes, at least a second of short ones.
    [(3600.0, 3540.0), (100.0, 90.0), (5.0, 4.0), (1.0, 0.5)],
)
def test_oauth2_refreshes_before_expiry(
    api: Scripted, clock: FakeClock, lifetime: float, refresh_after: float
) -> None:
    api.script("/oauth2/token/", token_answer("tok-1", lifetime), token_answer("tok-2", lifetime))
    auth = oauth2(api, clock)
    assert auth.token() == "tok-1"
    clock.advance(refresh_after - 0.001)
    assert auth.token() == "tok-1"
    clock.advance(0.002)
    assert auth.token() == "tok-2"
    assert auth.fetches == 2


def test_invalidate_keeps_a_token_fetched_since_the_refused_one(
    api: Scripted, clock: FakeClock
) -> None:
    api.script("/oauth2/token/", token_answer("tok-1"), token_answer("tok-2"))
    auth = oauth2(api, clock)
    assert auth.token() == "tok-1"
    auth.invalidate("Bearer tok-1")
    assert auth.token() == "tok-2"
    auth.invalidate("Bearer tok-1")  # another thread's late 401 for the old token
    assert auth.token() == "tok-2"
    assert auth.fetches == 2


def test_oauth2_401_refreshes_the_token_once(
    api: Scripted, make_client: Callable[..., SupportClient], clock: FakeClock
) -> None:
    api.script("/oauth2/token/", token_answer("tok-1"), token_answer("tok-2"))
    expired = error_body(("authentication_failed", "Token has expired."))
    api.script("/api/v3/dsf/tickets/damage", Answer(401, expired), Answer(202, TICKET))
    events: list[ClientEvent] = []
    client = make_client(api.base_url, auth=oauth2(api, clock), on_event=events.append)
    assert client.create_ticket({"tracking_number": "3SABC"}).attempts == 2
    assert [s.headers.get("Authorization") for s in api.seen[1::2]] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]
    assert [e.kind for e in events] == ["auth_refresh"]


def test_oauth2_second_401_aborts(
    api: Scripted, make_client: Callable[..., SupportClient], clock: FakeClock
) -> None:
    api.script("/oauth2/token/", token_answer("tok-1"), token_answer("tok-2"))
    api.script("/api/v3/dsf/tickets/damage", Answer(401, error_body(("x", "Invalid token."))))
    client = make_client(api.base_url, auth=oauth2(api, clock))
    with pytest.raises(AuthRefused):
        client.create_ticket({"tracking_number": "3SABC"})
    assert api.paths().count("/api/v3/dsf/tickets/damage") == 2


@pytest.mark.parametrize("status", [400, 401])
def test_token_endpoint_refusal_names_the_settings(
    api: Scripted, clock: FakeClock, status: int
) -> None:
    api.script("/oauth2/token/", Answer(status, {"error": "invalid_client"}))
    with pytest.raises(AuthRefused) as info:
        oauth2(api, clock).token()
    message = str(info.value)
    for name in ("SENDCLOUD_PUBLIC_KEY", "SENDCLOUD_SECRET_KEY", "SENDCLOUD_TOKEN_URL"):
        assert name in message
    assert "invalid_client" in message
    assert SECRET_KEY not in message


def test_token_endpoint_outage_is_retryable(api: Scripted, clock: FakeClock) -> None:
    api.script("/oauth2/token/", Answer(503, b"down"))
    with pytest.raises(Retryable):
        oauth2(api, clock).token()


def test_reprs_never_show_secrets(clock: FakeClock) -> None:
    basic = BasicAuth("public-key-0123456789", SECRET_KEY)
    auth = OAuth2ClientCredentials(
        "https://account.sendcloud.com/oauth2/token/", "client-id-0123456789", SECRET_KEY, clock
    )
    limiter = RateLimiter(clock, LIMITS)
    with SupportClient("https://panel.sendcloud.sc/api/v3", auth, limiter, clock) as client:
        texts = [repr(basic), repr(auth), repr(client), str(vars(client.stats))]
    for text in texts:
        assert SECRET_KEY not in text
        assert "0123456789" not in text
    assert repr(basic) == "BasicAuth(public_key='publ…', secret_key='***')"


def test_missing_credentials_are_an_input_error(clock: FakeClock) -> None:
    with pytest.raises(InputError, match="SENDCLOUD_SECRET_KEY"):
        BasicAuth("public", "")


def test_plain_http_token_url_is_refused(clock: FakeClock) -> None:
    auth = OAuth2ClientCredentials("http://account.example/oauth2/token/", "id", SECRET_KEY, clock)
    with pytest.raises(InputError, match="SENDCLOUD_TOKEN_URL"):
        SupportClient("https://panel.sendcloud.sc/api/v3", auth, RateLimiter(clock, {}), clock)


# --- no answer or a broken one ------------------------------------------------------------


@pytest.fixture
def hang_up_server() -> Iterator[RawServer]:
    server = RawServer(hang_up=True)
    yield server
    server.close()


@pytest.fixture
def silent_server() -> Iterator[RawServer]:
    server = RawServer(hang_up=False)
    yield server
    server.close()


def test_hang_up_after_a_ticket_request_is_unconfirmed(
    hang_up_server: RawServer, make_client: Callable[..., SupportClient]
) -> None:
    client = make_client(hang_up_server.base_url)
    with pytest.raises(Unconfirmed) as info:
        client.create_ticket({"tracking_number": "3SABC"})
    assert info.value.attempts == 1 and info.value.http_status is None
    assert hang_up_server.requests == 1


def test_hang_up_after_an_upload_is_retried_then_given_up(
    hang_up_server: RawServer, make_client: Callable[..., SupportClient], clock: FakeClock
) -> None:
    client = make_client(hang_up_server.base_url)
    with pytest.raises(GaveUp) as info:
        client.upload_file("a.pdf", b"a", "application/pdf")
    assert info.value.attempts == 3
    assert hang_up_server.requests == 3
    assert clock.sleeps == [0.5, 1.0]


def test_no_answer_to_a_ticket_is_unconfirmed(
    silent_server: RawServer, make_client: Callable[..., SupportClient]
) -> None:
    client = make_client(silent_server.base_url, timeout=(1.0, 0.2))
    with pytest.raises(Unconfirmed) as info:
        client.create_ticket({"tracking_number": "3SABC"})
    assert "no answer from 127.0.0.1:" in info.value.detail
    assert "read timeout" in info.value.detail and "ReadTimeout" not in info.value.detail
    assert silent_server.requests == 1


def test_refused_connection_is_retried_then_given_up(
    make_client: Callable[..., SupportClient], clock: FakeClock
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}/api/v3")
    with pytest.raises(Unreachable) as info:
        client.create_ticket({"tracking_number": "3SABC"})
    assert info.value.message == f"cannot connect to 127.0.0.1:{port}: connection refused" + (
        " (tried 3 times)"
    )
    assert client.stats.retries == 2


# --- against the sandbox -------------------------------------------------------------------

# The sandbox and the client share the test's FakeClock: the client's waits move the
# sandbox's windows, so these runs are instant and the same every time.
SMALL = {"TICKET_LIMIT": (3, 0.3), "REQUEST_LIMIT": (5, 0.3), "BURST_LIMIT": (3, 0.05)}


def sandbox_client(
    server: Any, limits: dict[str, Limit], clock: FakeClock, **kwargs: Any
) -> SupportClient:
    kwargs.setdefault("auth", BasicAuth(PUBLIC_KEY, SECRET_KEY))
    return SupportClient(
        server.base_url,
        limiter=RateLimiter(clock, limits),
        clock=clock,
        policy=RetryPolicy(max_attempts=6, backoff_base=0.01, backoff_cap=0.05),
        rng=random.Random(0),
        **kwargs,
    )


def test_sandbox_row_of_uploads_and_tickets_within_limits(
    sandbox_factory: Callable[..., Any], clock: FakeClock
) -> None:
    server = sandbox_factory(SMALL, clock)
    limits = {"ticket": Limit(3, 0.3), "request": Limit(5, 0.3), "burst": Limit(3, 0.05)}
    with sandbox_client(server, limits, clock) as client:
        tokens = [client.upload_file(f"{i}.jpg", b"\xff\xd8\xff", "image/jpeg") for i in range(3)]
        tickets = [
            client.create_ticket({"tracking_number": f"3SOWN{i}", "carrier_contract_id": 1})
            for i in range(4)
        ]
        assert client.stats.rate_limited == 0
        assert client.stats.requests == 7
        # The least waits the windows allow: the first ticket for the burst window,
        # the third for the request window, the fourth for the ticket window.
        assert clock.sleeps == pytest.approx([0.05, 0.25, 0.05])
    assert all(t.file_token for t in tokens)
    listed = requests.get(f"{server.root_url}/sandbox/tickets", timeout=5).json()
    assert [t["ticket_id"] for t in listed] == [t.ticket_id for t in tickets]


def test_sandbox_429_when_our_limits_are_looser_is_waited_out(
    sandbox_factory: Callable[..., Any], clock: FakeClock
) -> None:
    server = sandbox_factory({**SMALL, "RETRY_AFTER_FLOAT": True}, clock)
    with sandbox_client(server, {}, clock) as client:  # no local limits: the server refuses
        results = [client.upload_file(f"{i}.jpg", b"\xff\xd8\xff", "image/jpeg") for i in range(6)]
        # The 4th upload meets the burst window (3 per 0.05 s), the 6th the request
        # window (5 per 0.3 s); each waits exactly its Retry-After and goes through.
        assert (client.stats.rate_limited, client.stats.requests) == (2, 8)
        assert clock.sleeps == pytest.approx([0.05, 0.25])
    assert len({r.file_token for r in results}) == 6


def test_sandbox_rules_and_credentials(
    sandbox_factory: Callable[..., Any], clock: FakeClock
) -> None:
    server = sandbox_factory(SMALL, clock)
    limits = {"ticket": Limit(3, 0.3), "request": Limit(5, 0.3), "burst": Limit(3, 0.05)}
    with sandbox_client(server, limits, clock) as client:
        with pytest.raises(Rejected) as info:
            client.create_ticket({"tracking_number": "DELIVERED1", "carrier_contract_id": 1})
        assert info.value.http_status == 422
        assert "Parcel is already delivered" in info.value.detail
    with sandbox_client(server, limits, clock, auth=BasicAuth("bad", SECRET_KEY)) as client:
        with pytest.raises(AuthRefused):
            client.upload_file("a.jpg", b"\xff\xd8\xff", "image/jpeg")


def test_sandbox_oauth2_and_lost_ticket_response(
    sandbox_factory: Callable[..., Any], clock: FakeClock
) -> None:
    server = sandbox_factory({**SMALL, "LOST_RESPONSE_RATE": 1.0}, clock)
    auth = OAuth2ClientCredentials(server.token_url, "client-id", SECRET_KEY, clock)
    with sandbox_client(server, {}, clock, auth=auth) as client:
        with pytest.raises(Unconfirmed):
            client.create_ticket({"tracking_number": "3SLOST", "carrier_contract_id": 1})
    listed = requests.get(f"{server.root_url}/sandbox/tickets", timeout=5).json()
    assert len(listed) == 1  # created, though the answer never came
