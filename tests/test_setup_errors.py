"""A wrong set-up stops the run at once with one message that says what to fix: missing
keys before the sheet is read, a base URL that is not the Support API, an API that
cannot be reached, a TLS failure, a command that cannot tell which journal to use —
against real servers on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.client
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests.exceptions as rex
import urllib3.exceptions
from urllib3.connection import HTTPConnection

from batch_claims.api.retry import classify_request_error
from batch_claims.clock import FakeClock
from batch_claims.send.journal import Journal
from tests.helpers import (
    PUBLIC_KEY,
    SCALED_FLAGS,
    own_contract_sheet,
    photo,
    point_at,
    results_rows,
    run,
    statuses,
)
from tests.web_servers import (
    HTML_200,
    HTML_404,
    JSON_ROUTE_404,
    NOT_ALLOWED,
    NOT_IMPLEMENTED,
    PARCEL_404,
    TO_LOGIN,
    Reply,
    self_signed_certificate,
    serving,
)

# What must never reach a row, the console or the log: Python's own words.
PYTHON_TEXT = (
    "HTTPConnectionPool",
    "HTTPSConnectionPool",
    "NewConnectionError",
    "MaxRetryError",
    "Errno",
    "Traceback",
    "object at 0x",
    "SSLError",
    "ConnectionError",
)


def own_contract_rows(folder: Path, count: int = 3, prefix: str = "3SWRONGAPI") -> Path:
    return own_contract_sheet(folder, count, prefix)


def results_of(sheet: Path) -> Path:
    """The results workbook a run writes beside ``sheet``."""
    return sheet.with_suffix(".results.xlsx")


def details(sheet: Path) -> list[str]:
    return [r["error_detail"] or "" for r in results_rows(results_of(sheet))]


def journal_at(path: Path) -> Journal:
    return Journal(path, lambda: datetime.now(UTC))


# --- missing keys: before any reading work ---------------------------------------------------


@pytest.mark.parametrize("command", ["submit", "retry"])
def test_missing_keys_are_told_before_the_sheet_is_read(tmp_path: Path, command: str) -> None:
    # A file that would fail to read: the keys must be asked for first.
    broken = tmp_path / "claims.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is no workbook")
    result = run(command, broken)
    assert result.exit_code == 2
    assert result.output == (  # nothing about the workbook: it was not read
        "Error: set SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY (your Sendcloud API keys), "
        "or use --sandbox to try the local sandbox\n"
    )
    assert not broken.with_suffix(".results.xlsx").exists()


def test_a_wrong_base_url_is_refused_before_the_sheet_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(monkeypatch, "http://api.example.com/api/v3")
    broken = tmp_path / "claims.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is no workbook")
    result = run("submit", broken)
    assert result.exit_code == 2
    assert result.output == (  # nothing about the workbook: it was not read
        "Error: SENDCLOUD_BASE_URL uses plain http:// for api.example.com, so the credentials "
        "would cross the network unencrypted: use https:// (plain http:// is accepted only for "
        "loopback hosts: 127.0.0.0/8, ::1 and localhost).\n"
    )


# --- a base URL that is not the Support API ---------------------------------------------------


def not_the_support_api(base_url: str, answered: str) -> str:
    """A row's error_detail when the API at ``base_url`` answered like a web site."""
    return (
        f"not attempted: the API at {base_url} does not answer like Sendcloud's Support API — "
        f"SENDCLOUD_BASE_URL should end in /api/v3 ({answered})"
    )


@pytest.mark.parametrize(
    ("reply", "answered"),
    [
        (HTML_404, "HTTP 404 Not Found with a web page"),
        (HTML_200, "HTTP 200 OK with a web page"),
        (NOT_ALLOWED, "HTTP 405 Method Not Allowed"),
        (NOT_IMPLEMENTED, "HTTP 501 Not Implemented"),
        (TO_LOGIN, "HTTP 302 Found, a redirect to /login?next=/api/v3/dsf/tickets/damage"),
        (JSON_ROUTE_404, "HTTP 404 Not Found (Not found)"),
    ],
    ids=["404-page", "200-page", "405", "501-file-server", "302-login", "404-json-route"],
)
def test_a_base_url_that_is_not_the_support_api_stops_at_the_first_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reply: Reply, answered: str
) -> None:
    sheet = own_contract_rows(tmp_path)
    journal = tmp_path / "j.sqlite3"
    with serving(reply) as server:
        point_at(monkeypatch, server.base_url)
        result = run("submit", sheet, "--journal", journal, *SCALED_FLAGS)
    assert result.exit_code == 3
    assert (
        f"the API at {server.base_url} does not answer like Sendcloud's Support API — "
        "SENDCLOUD_BASE_URL should end in /api/v3" in result.output
    )
    assert len(server.paths) == 1  # stopped at the first answer
    assert statuses(results_of(sheet)) == ["not_attempted"] * 3
    detail = not_the_support_api(
        server.base_url, f"POST /dsf/tickets/damage was answered {answered}"
    )
    assert details(sheet) == [detail] * 3
    book = journal_at(journal)
    record = book.claim("3SWRONGAPI0", "damage")
    assert record is not None and record.state == "not_created"
    assert book.unconfirmed() == []


def test_a_web_page_for_an_upload_stops_the_run_before_any_ticket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo(tmp_path, "3SUNREACH0/damage_photo_1.png", b"one")
    photo(tmp_path, "3SUNREACH1/damage_photo_1.png", b"two")
    sheet = own_contract_rows(tmp_path, 2, "3SUNREACH")
    with serving(HTML_404) as server:
        point_at(monkeypatch, server.base_url)
        result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3", *SCALED_FLAGS)
    assert result.exit_code == 3
    assert "SENDCLOUD_BASE_URL should end in /api/v3" in result.output
    assert all(path.startswith("/api/v3/dsf/files") for path in server.paths)
    assert statuses(results_of(sheet)) == ["not_attempted", "not_attempted"]
    detail = not_the_support_api(
        server.base_url, "POST /dsf/files was answered HTTP 404 Not Found with a web page"
    )
    assert details(sheet) == [detail] * 2


def test_a_support_api_404_naming_the_parcel_is_that_rows_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sendcloud's own JSON error body for one parcel is not a wrong base URL."""
    sheet = own_contract_rows(tmp_path)
    with serving(PARCEL_404) as server:
        point_at(monkeypatch, server.base_url)
        result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3", *SCALED_FLAGS)
    assert result.exit_code == 1
    assert len(server.paths) == 3
    assert statuses(results_of(sheet)) == ["rejected"] * 3
    assert details(sheet) == ["Parcel not found."] * 3


# --- an API that cannot be reached ------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_api_stops_after_the_first_rows_retries_in_plain_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    point_at(monkeypatch, f"http://127.0.0.1:{port}/api/v3")
    # The back-off between the five tries waits on an injected clock, not real time.
    monkeypatch.setattr("batch_claims.cli.send_commands.SystemClock", FakeClock)
    sheet = own_contract_rows(tmp_path)
    log = tmp_path / "run.log"
    result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3", "--log-file", log)
    assert result.exit_code == 3
    message = f"cannot connect to 127.0.0.1:{port}: connection refused"
    assert message in result.output
    assert statuses(results_of(sheet)) == ["not_attempted"] * 3
    assert details(sheet) == [f"not attempted: {message} (tried 5 times)"] * 3
    seen = result.output + log.read_text() + " ".join(details(sheet))
    for fragment in PYTHON_TEXT:
        assert fragment not in seen
    book = journal_at(tmp_path / "j.sqlite3")
    assert book.unconfirmed() == []
    record = book.claim("3SWRONGAPI0", "damage")
    assert record is not None and record.state == "not_created"
    assert book.claim("3SWRONGAPI1", "damage") is None  # never tried


def _pool(reason: Exception) -> rex.ConnectionError:
    pool = urllib3.HTTPSConnectionPool("panel.sendcloud.sc", 443)
    return rex.ConnectionError(urllib3.exceptions.MaxRetryError(pool, "/api/v3", reason))


def _conn() -> HTTPConnection:
    return HTTPConnection("panel.sendcloud.sc", 443)


def _refused() -> Exception:
    error = urllib3.exceptions.NewConnectionError(_conn(), "Failed to establish a connection")
    error.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return _pool(error)


URL = "https://panel.sendcloud.sc/api/v3/dsf/tickets/damage"


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (_refused(), "cannot connect to panel.sendcloud.sc:443: connection refused"),
        (
            _pool(
                urllib3.exceptions.NameResolutionError(
                    "panel.sendcloud.sc", _conn(), socket.gaierror(-2, "Name or service not known")
                )
            ),
            "cannot connect to panel.sendcloud.sc:443: the host name is not known",
        ),
        (
            rex.ConnectTimeout(_pool(urllib3.exceptions.ConnectTimeoutError(_conn(), "x"))),
            "cannot connect to panel.sendcloud.sc:443: no answer to the connection attempt",
        ),
        (rex.ReadTimeout("HTTPSConnectionPool: Read timed out."), "no answer from panel"),
        (
            rex.ConnectionError(
                urllib3.exceptions.ProtocolError(
                    "Connection aborted.", ConnectionResetError(104, "reset by peer")
                )
            ),
            "the connection to panel.sendcloud.sc:443 was reset",
        ),
        (
            rex.ConnectionError(
                urllib3.exceptions.ProtocolError(
                    "Connection aborted.", http.client.RemoteDisconnected("closed")
                )
            ),
            "the connection to panel.sendcloud.sc:443 was dropped without an answer",
        ),
        (rex.ChunkedEncodingError("IncompleteRead(3 bytes read)"), "was cut off"),
    ],
    ids=["refused", "dns", "connect-timeout", "read-timeout", "reset", "dropped", "cut-off"],
)
@pytest.mark.parametrize("ticket", [True, False], ids=["ticket", "upload"])
def test_connection_failures_are_told_in_plain_words(
    exc: Exception, words: str, ticket: bool
) -> None:
    text = str(classify_request_error(exc, ticket=ticket, url=URL))
    assert words in text
    for fragment in (*PYTHON_TEXT, "Read timed out", "IncompleteRead", "Connection aborted"):
        assert fragment not in text


# --- TLS ----------------------------------------------------------------------------------------


def test_a_tls_failure_names_the_fix_and_never_makes_a_row_unconfirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificate = self_signed_certificate(tmp_path)
    if certificate is None:
        pytest.skip("the openssl command is not installed")
    sheet = own_contract_rows(tmp_path)
    journal = tmp_path / "j.sqlite3"
    with serving(None, tls=certificate) as server:
        point_at(monkeypatch, server.base_url)
        result = run("submit", sheet, "--journal", journal, *SCALED_FLAGS)
        assert result.exit_code == 3
        assert f"TLS verification failed for 127.0.0.1:{server.port}" in result.output
        assert (
            "nothing was sent. Behind a corporate proxy that inspects TLS, set REQUESTS_CA_BUNDLE "
            "to the file of its CA certificate (ask your IT department for it); batch-claims "
            "never turns certificate verification off"
        ) in result.output
        assert server.paths == []  # nothing was sent
        assert statuses(results_of(sheet)) == ["not_attempted"] * 3
        book = journal_at(journal)
        assert book.unconfirmed() == []
        record = book.claim("3SWRONGAPI0", "damage")
        assert record is not None and record.state == "not_created"
        book.close()
        # The fix the message names works: trust the proxy's (here: the server's) CA.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
        again = run("submit", sheet, "--journal", journal, *SCALED_FLAGS)
    assert again.exit_code == 0, again.output
    assert statuses(results_of(sheet)) == ["submitted"] * 3
    assert len(server.paths) == 3


# --- which journal -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["history"],
        ["history", "3SWRONGAPI0"],
        ["resolve", "3SWRONGAPI0", "--not-created"],
        ["submit-dry"],
    ],
)
def test_without_keys_a_command_asks_which_journal(tmp_path: Path, args: list[str]) -> None:
    if args == ["submit-dry"]:
        args = ["submit", str(own_contract_rows(tmp_path)), "--dry-run"]
    result = run(*args)
    assert result.exit_code == 2
    assert result.output == (
        "Error: which journal? The journal is kept per API account, and SENDCLOUD_PUBLIC_KEY "
        "is not set: set SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY (the keys the claims "
        "were sent with), or pass --journal FILE\n"
    )


def test_commands_say_which_journal_and_account_they_used(
    api_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = own_contract_rows(tmp_path)
    journal = tmp_path / "j.sqlite3"
    sent = run("submit", sheet, "--journal", journal, *SCALED_FLAGS)
    assert sent.exit_code == 0
    key = hashlib.sha256(PUBLIC_KEY.encode()).hexdigest()[:12]
    account = f"key {key} at {api_env.base_url}"
    assert f"journal {journal} (account {account})" in sent.output
    monkeypatch.delenv("SENDCLOUD_PUBLIC_KEY")
    monkeypatch.delenv("SENDCLOUD_SECRET_KEY")
    # Without keys, --journal answers from that journal, naming its account.
    listing = run("history", "--journal", journal)
    assert listing.exit_code == 0
    assert f"journal {journal} (account {account})" in listing.stderr
    assert sum(" created " in line for line in listing.stdout.splitlines()) == 3
    dry = run("submit", sheet, "--dry-run", "--journal", journal, *SCALED_FLAGS)
    assert dry.exit_code == 0
    assert f"journal {journal} (account {account})" in dry.output
    assert "3 rows already have a ticket" in dry.output
