"""Hostile servers and neighbours: secrets never leave, a request that never left is
never unconfirmed, answers are bounded, text is shown safely, and the sandbox answers
this machine only. Every test runs against a real local server."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
import tracemalloc
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests

from batch_claims.api.auth import BasicAuth
from batch_claims.api.client import SupportClient
from batch_claims.api.ratelimit import RateLimiter
from batch_claims.clock import SystemClock
from batch_claims.errors import Rejected, Unconfirmed
from batch_claims.limits import Limit
from batch_claims.redact import printable
from tests.helpers import SCALED_FLAGS, point_at, run
from tests.hostile_servers import Answer, hostile

PUBLIC = "pk-live-0123456789abcdef"
SECRET = "sk-live-fedcba9876543210-do-not-leak"
BASIC = base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()


def own_contract_csv(folder: Path, count: int = 2, prefix: str = "3SHOSTILE") -> Path:
    sheet = folder / "claims.csv"
    rows = ["tracking_number,contract_type,carrier_contract_id,additional_remarks"]
    rows += [f"{prefix}{n:04d},own_contract,{n + 1},dented" for n in range(count)]
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return sheet


def all_text_of(*paths: Path) -> str:
    """Everything a person could read afterwards: workbooks, journal, log."""
    texts = []
    for path in paths:
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path)
            texts += [str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row]
        elif path.suffix == ".sqlite3":
            with sqlite3.connect(path) as db:
                for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                    texts += [repr(row) for row in db.execute(f"SELECT * FROM {table}")]
        else:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def keys(monkeypatch: pytest.MonkeyPatch, base_url: str | None = None) -> None:
    """The user's real-looking keys, which must never reach any output."""
    point_at(monkeypatch, base_url, PUBLIC, SECRET)


# --- 1. secrets never leave --------------------------------------------------------------


def echo_the_credentials(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
    """A server that quotes the request's Authorization header back in its error."""
    said = f"bad request from {headers.get('Authorization')} (user {PUBLIC}, pw {SECRET})"
    answer = {"errors": [{"code": "invalid", "detail": said, "title": "Bad Request"}]}
    return 400, "application/json", [json.dumps(answer).encode()], 0.0


def test_a_server_echoing_the_credentials_never_gets_them_into_any_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hostile(echo_the_credentials) as server:
        keys(monkeypatch, server.base_url)
        sheet = own_contract_csv(tmp_path)
        journal, log = tmp_path / "j.sqlite3", tmp_path / "run.log"
        result = run(
            "submit",
            sheet,
            "--journal",
            journal,
            "--log-file",
            log,
            "--no-hold-back",
            *SCALED_FLAGS,
        )
    assert result.exit_code == 1, result.output
    assert len(server.seen) == 2  # the server did see (and echo) the credentials
    out = sheet.with_name("claims.results.xlsx")
    everything = result.output + all_text_of(out, journal, log)
    assert "bad request from" in everything  # the answer itself is kept…
    for secret in (SECRET, BASIC, PUBLIC):
        assert secret not in everything  # …without the credentials
    assert "***" in everything


def test_sandbox_never_receives_the_users_real_keys(
    week: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import batch_claims.sandbox as sandbox_package
    from batch_claims.sandbox.state import sandbox_state

    keys(monkeypatch)
    started: list[Any] = []
    real_serve = sandbox_package.serve

    def recording_serve(*args: Any, **kwargs: Any) -> Any:
        started.append(real_serve(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(sandbox_package, "serve", recording_serve)
    result = run("submit", week, "--sandbox", "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 1, result.output
    (server,) = started
    users = {entry["user"] for entry in sandbox_state(server.app).requests}
    assert len(users) == 1 and str(users.pop()).startswith("sandbox-")  # its own, not ours


def test_requests_to_a_loopback_host_never_go_through_a_proxy(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def proxy(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        return 502, "text/plain", [b"proxy"], 0.0

    with hostile(proxy) as fake_proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, fake_proxy.root)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        keys(monkeypatch, sandbox.base_url)
        sheet = own_contract_csv(tmp_path)
        result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3", *SCALED_FLAGS)
    assert result.exit_code == 0, result.output
    assert fake_proxy.seen == []  # the keys never travelled to the proxy


# --- 2. a request that never left is never unconfirmed -------------------------------------


def test_a_secret_http_cannot_carry_is_refused_before_anything_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hostile(echo_the_credentials) as server:
        monkeypatch.setenv("SENDCLOUD_BASE_URL", server.base_url)
        monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", PUBLIC)
        monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "sk-live-€uro-0123456789")
        sheet = own_contract_csv(tmp_path)
        result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3", *SCALED_FLAGS)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == (
        "Error: SENDCLOUD_PUBLIC_KEY or SENDCLOUD_SECRET_KEY holds a character HTTP Basic "
        "cannot send (outside Latin-1): copy the keys again from the Sendcloud panel"
    )
    assert "€uro" not in result.output
    assert server.seen == []
    assert not sheet.with_name("claims.results.xlsx").exists()


def odd_token_endpoint(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
    """A token endpoint that hands out a token HTTP cannot carry in a header."""
    if path.startswith("/oauth2/token"):
        token = {"access_token": "tøkén-€-0123456789", "token_type": "Bearer", "expires_in": 3600}
        return 200, "application/json", [json.dumps(token).encode("utf-8")], 0.0
    return 202, "application/json", [b'{"ticket_id": "T-1"}'], 0.0


def test_a_request_that_cannot_be_put_on_the_wire_is_not_attempted_never_unconfirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hostile(odd_token_endpoint) as server:
        keys(monkeypatch, server.base_url)
        monkeypatch.setenv("SENDCLOUD_AUTH", "oauth2")
        monkeypatch.setenv("SENDCLOUD_TOKEN_URL", f"{server.root}/oauth2/token/")
        sheet = own_contract_csv(tmp_path)
        journal = tmp_path / "j.sqlite3"
        result = run("submit", sheet, "--journal", journal, *SCALED_FLAGS)
        tickets = [seen for seen in server.seen if seen[1].startswith("/api/v3")]
    assert result.exit_code == 3, result.output
    for row, tracking_number in ((2, "3SHOSTILE0000"), (3, "3SHOSTILE0001")):
        assert (
            f"row {row} {tracking_number}: not_attempted — not attempted: a request could not "
            "be sent: a credential or header holds a character HTTP cannot carry (outside "
            "Latin-1) — check SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY\n"
        ) in result.output
    assert tickets == []  # nothing reached the ticket endpoint
    lines = list(openpyxl.load_workbook(sheet.with_name("claims.results.xlsx"))["Results"].values)
    assert [line[4] for line in lines[1:]] == ["not_attempted", "not_attempted"]
    with sqlite3.connect(journal) as db:
        states = {state for (state,) in db.execute("SELECT state FROM claims")}
    assert "unconfirmed" not in states and "in_flight" not in states


# --- 6. bounded by design ------------------------------------------------------------------


def client_for(base_url: str, **kwargs: Any) -> SupportClient:
    clock = SystemClock()
    limits = {"ticket": Limit(100, 1.0), "request": Limit(100, 1.0), "burst": Limit(100, 1.0)}
    return SupportClient(
        base_url, BasicAuth(PUBLIC, SECRET), RateLimiter(clock, limits), clock, **kwargs
    )


def test_a_huge_error_body_is_cut_off_not_read_into_memory() -> None:
    megabyte = b"x" * (1 << 20)

    def huge(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        return 400, "text/plain", [megabyte] * 200, 0.0  # 200 MB

    with hostile(huge) as server, client_for(server.base_url) as client:
        tracemalloc.start()
        with pytest.raises(Rejected) as refused:
            client.create_ticket({"tracking_number": "3SHUGE00001"})
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 30 * (1 << 20)
    assert len(refused.value.detail) < 2_000


def test_a_trickling_server_is_cut_off_at_the_requests_overall_deadline() -> None:
    # A byte every 50 ms, well within the read timeout: 5 s for the whole answer.
    def trickle(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        return 202, "application/json", [b" "] * 100 + [b'{"ticket_id": "T"}'], 0.05

    # The deadline is a real-time watchdog in the transport, so this test takes 0.3 s.
    with (
        hostile(trickle) as server,
        client_for(server.base_url, timeout=(1.0, 5.0), overall_deadline=0.3) as client,
    ):
        started = time.monotonic()
        with pytest.raises(Unconfirmed) as unknown:
            client.create_ticket({"tracking_number": "3STRICKLE001"})
        took = time.monotonic() - started
    assert took < 2.5  # cut off at the deadline, long before the answer's 5 s were over
    assert unknown.value.detail == (
        "the answer did not arrive in time (the request's overall deadline) after the "
        "ticket request was sent; the ticket may have been created: check the Sendcloud panel"
    )


# --- 7. text from a sheet or a server is shown safely --------------------------------------


def test_escape_sequences_from_a_sheet_or_a_server_never_reach_the_terminal_or_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clipboard = "\x1b]52;c;ZXZpbA==\x07"

    def say_escape(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        answer = {"errors": [{"code": "invalid", "detail": f"no{clipboard}pe\rX", "title": "x"}]}
        return 400, "application/json", [json.dumps(answer).encode()], 0.0

    with hostile(say_escape) as server:
        keys(monkeypatch, server.base_url)
        sheet = tmp_path / "claims.csv"
        sheet.write_text(
            "tracking_number,contract_type,carrier_contract_id,notes intern\n"
            f"3SESCAPE0001,own_contract,1,evil{clipboard}\n",
            encoding="utf-8",
        )
        log = tmp_path / "run.log"
        result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3", "--log-file", log)
    shown = result.output + log.read_text(encoding="utf-8")
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown
    assert "\\x1b]52;c;ZXZpbA==\\x07" in shown  # visible, not obeyed


def test_printable_keeps_line_breaks_and_shows_every_control_character() -> None:
    assert printable("a\nb\tc") == "a\nb\tc"
    assert printable("x\x1b[2Jy") == "x\\x1b[2Jy"
    assert printable("right\u202eleft") == "right\\u202eleft"


# --- 8. the sandbox answers this machine only ---------------------------------------------


@pytest.mark.parametrize(
    ("headers", "method", "expected"),
    [
        ({}, "GET", 200),
        ({"Host": "localhost"}, "GET", 200),
        ({"Host": "attacker.example"}, "GET", 403),  # DNS rebinding
        ({"Origin": "https://attacker.example"}, "GET", 403),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "POST", 403),
        ({"Content-Type": "text/plain", "Origin": "null"}, "POST", 403),
        ({}, "POST", 200),
    ],
)
def test_sandbox_inspection_and_reset_answer_this_machine_only(
    sandbox: Any, headers: dict[str, str], method: str, expected: int
) -> None:
    path = "/sandbox/tickets" if method == "GET" else "/sandbox/reset"
    response = requests.request(method, f"{sandbox.root_url}{path}", headers=headers, timeout=5)
    assert response.status_code == expected


# --- 3d/4. four different files; check before spending ------------------------------------


@pytest.mark.parametrize(
    ("same", "named"),
    [
        ("out", "--out and --journal"),
        ("journal", "--journal and --log-file"),
        ("log", "the input and --log-file"),
    ],
)
def test_input_out_journal_and_log_must_be_four_different_files(
    api_env: Any, tmp_path: Path, same: str, named: str
) -> None:
    sheet = own_contract_csv(tmp_path)
    out, journal, log = tmp_path / "out.xlsx", tmp_path / "j.sqlite3", tmp_path / "run.log"
    if same == "out":
        journal = shared = out.with_suffix(".xlsx")
    elif same == "journal":
        log = shared = journal
    else:
        log = shared = sheet
    before = sheet.read_bytes()
    result = run(
        "submit", sheet, "--out", out, "--journal", journal, "--log-file", log, *SCALED_FLAGS
    )
    assert result.exit_code == 2, result.output
    assert result.output == f"Error: {named} are the same file ({shared}): give each its own\n"
    assert sheet.read_bytes() == before
    assert requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json() == []


def test_an_output_folder_that_cannot_be_written_is_found_before_any_request(
    api_env: Any, tmp_path: Path
) -> None:
    import shutil
    import subprocess

    sheet = own_contract_csv(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    if (
        shutil.which("chattr") is None
        or subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode
    ):
        pytest.skip("chattr +i is not available here (root ignores chmod)")
    try:
        result = run(
            "submit",
            sheet,
            "--out",
            locked / "out.xlsx",
            "--journal",
            tmp_path / "j.sqlite3",
            *SCALED_FLAGS,
        )
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"Error: --out {locked / 'out.xlsx'}: cannot write in {locked} (Operation not "
        "permitted); choose another place\n"
    )
    assert requests.get(f"{api_env.root_url}/sandbox/requests", timeout=5).json() == []
