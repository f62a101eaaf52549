"""Kill a real batch-claims process at every step of a row, run again, and check the
sandbox's own ledger: no parcel ticketed twice, none forgotten, every status true."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCALED_FLAGS
from tests.helpers import EXPECTED, results_rows, tickets

SECOND = "3SSCL0000000102"  # the row the crash hits (the second claim of the week)
WANT_TICKETS = sorted(tn for tn, status in EXPECTED.items() if status == "submitted")


def batch_claims(
    *args: str | Path, env: dict[str, str], crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = dict(env)
    if crash_at:
        full_env["BATCH_CLAIMS_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "batch_claims", *map(str, args)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env(api_env: Any) -> dict[str, str]:
    return dict(os.environ)


def ledger(server: Any) -> Counter[str]:
    return Counter(t["body"]["tracking_number"] for t in tickets(server))


def statuses(out: Path) -> dict[str, str]:
    rows = results_rows(out)
    return {r["tracking_number"]: r["status"] for r in rows if r["row"] != 14}


def crash_then_run_again(
    point: str, env: dict[str, str], week: Path, tmp_path: Path
) -> tuple[Path, Path, tuple[str | Path, ...]]:
    """Kill a submit (SIGKILL) when the second claim reaches ``point``, then run the
    same submit again to its end; the journal, the workbook and the arguments."""
    journal = tmp_path / "journal.sqlite3"
    out = tmp_path / "out.xlsx"
    args = ("submit", week, "--journal", journal, "--out", out, "--quiet", *SCALED_FLAGS)
    crashed = batch_claims(*args, env=env, crash_at=f"{point}:2")
    assert crashed.returncode == -signal.SIGKILL
    assert not out.exists()  # never a half-written workbook
    again = batch_claims(*args, env=env)
    assert again.returncode == 1, again.stderr
    return journal, out, args


@pytest.mark.parametrize("point", ["before_upload", "after_upload", "after_record"])
def test_crash_where_no_ticket_request_is_open_loses_and_duplicates_nothing(
    point: str, api_env: Any, env: dict[str, str], week: Path, tmp_path: Path
) -> None:
    journal, out, args = crash_then_run_again(point, env, week, tmp_path)
    counts = ledger(api_env)
    assert sorted(counts) == WANT_TICKETS
    assert set(counts.values()) == {1}
    got = statuses(out)
    assert got["3SSCL0000000101"] == "already_submitted"
    assert got[SECOND] == ("already_submitted" if point == "after_record" else "submitted")


@pytest.mark.parametrize("point", ["before_ticket", "after_ticket"])
def test_crash_with_a_ticket_request_open_makes_the_row_unconfirmed_never_resent(
    point: str, api_env: Any, env: dict[str, str], week: Path, tmp_path: Path
) -> None:
    journal, out, args = crash_then_run_again(point, env, week, tmp_path)
    got = statuses(out)
    assert got[SECOND] == "unconfirmed"
    counts = ledger(api_env)
    assert set(counts.values()) == {1}
    assert counts[SECOND] == (1 if point == "after_ticket" else 0)
    assert sorted(counts) == sorted(
        tn for tn in WANT_TICKETS if tn != SECOND or point == "after_ticket"
    )

    # A third run still does not resend it.
    third = batch_claims(*args, env=env)
    assert statuses(out)[SECOND] == "unconfirmed", third.stderr
    assert ledger(api_env)[SECOND] == counts[SECOND]

    # The user checks the panel and closes the row.
    if point == "after_ticket":
        ticket_id = next(
            t["ticket_id"] for t in tickets(api_env) if t["body"]["tracking_number"] == SECOND
        )
        resolved = batch_claims(
            "resolve", SECOND, "--ticket-id", ticket_id, "--journal", journal, env=env
        )
    else:
        resolved = batch_claims("resolve", SECOND, "--not-created", "--journal", journal, env=env)
    assert resolved.returncode == 0, resolved.stderr
    final = batch_claims(*args, env=env)
    assert final.returncode == 1, final.stderr
    assert statuses(out)[SECOND] == (
        "already_submitted" if point == "after_ticket" else "submitted"
    )
    counts = ledger(api_env)
    assert sorted(counts) == WANT_TICKETS
    assert set(counts.values()) == {1}


def test_sigterm_finishes_the_request_under_way_and_writes_the_workbook(
    sandbox_factory: Any, week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox_factory({"LATENCY": 0.15})
    monkeypatch.setenv("SENDCLOUD_BASE_URL", server.base_url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "pk")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "sk")
    journal = tmp_path / "journal.sqlite3"
    out = tmp_path / "out.xlsx"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "batch_claims",
            "submit",
            str(week),
            "--journal",
            str(journal),
            "--out",
            str(out),
            "--quiet",
            *SCALED_FLAGS,
        ],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not tickets(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    got = statuses(out)
    assert "not_attempted" in got.values()
    sent = ledger(server)
    assert set(sent.values()) == {1}
    # Every ticket the server holds is in the workbook as submitted: nothing forgotten.
    assert {tn for tn, s in got.items() if s == "submitted"} == set(sent)


def test_a_server_that_fails_drops_and_loses_answers_never_gets_a_claim_twice(
    sandbox_factory: Any, week: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same week submitted three times to a server that answers 500/503, drops
    connections and loses answers after creating tickets: every ticket it holds is
    accounted for (submitted, already_submitted or unconfirmed), none twice."""
    from tests.helpers import run

    server = sandbox_factory(
        {"ERROR_RATE": 0.2, "DROP_RATE": 0.1, "LOST_RESPONSE_RATE": 0.15, "SEED": 7}
    )
    monkeypatch.setenv("SENDCLOUD_BASE_URL", server.base_url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "pk")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "sk")
    journal = tmp_path / "journal.sqlite3"
    out = tmp_path / "out.xlsx"
    seen_unconfirmed: set[str] = set()
    for _ in range(3):
        result = run("submit", week, "--journal", journal, "--out", out, "--quiet", *SCALED_FLAGS)
        assert result.exit_code in (0, 1), result.output
        got = statuses(out)
        seen_unconfirmed |= {tn for tn, s in got.items() if s == "unconfirmed"}
        counts = ledger(server)
        assert set(counts.values()) <= {1}, counts  # never twice
        for tn in counts:  # nothing the server created is forgotten
            assert got[tn] in ("submitted", "already_submitted", "unconfirmed"), (tn, got[tn])
        ticket_ids = {t["body"]["tracking_number"]: t["ticket_id"] for t in tickets(server)}
        for row in results_rows(out):
            if row["status"] in ("submitted", "already_submitted"):
                assert ticket_ids[row["tracking_number"]] == row["ticket_id"]
    assert seen_unconfirmed, "the faults should have made at least one row unconfirmed"
