"""Kill a real batch-claims process at every step of a row, run again, and check the
sandbox's own ledger: no parcel ticketed twice, none forgotten, every status true.

The killed runs are real processes started through ``tests/crash_entry.py`` (the test-
only entry point that installs the killing hook), one per crash point, all at once and
each with its own sandbox and journal; the runs after a crash go in-process, reading
the journal the killed process left."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batch_claims.sandbox import serve
from tests.helpers import EXPECTED, SAMPLE, SCALED_FLAGS, SCALED_LIMITS, results_rows, run, tickets

SECOND = "3SSCL0000000102"  # the row the crash hits (the second claim of the week)
WANT_TICKETS = sorted(tn for tn, status in EXPECTED.items() if status == "submitted")
CRASH_ENTRY = Path(__file__).resolve().parent / "crash_entry.py"
POINTS = ("before_upload", "after_upload", "before_ticket", "after_ticket", "after_record")


def ledger(server: Any) -> Counter[str]:
    return Counter(t["body"]["tracking_number"] for t in tickets(server))


def status_by_tracking(out: Path) -> dict[str, str]:
    rows = results_rows(out)
    return {r["tracking_number"]: r["status"] for r in rows if r["row"] != 14}


@dataclass
class Crashed:
    """A submit killed (SIGKILL) when the second claim reached ``point``."""

    server: Any
    journal: Path
    out: Path
    args: tuple[str | Path, ...]  # the submit's arguments, to run it again
    returncode: int
    stderr: str


@pytest.fixture(scope="module")
def crashes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Crashed]]:
    """Every crash point's killed submit, started together (start-up is most of their
    time); each against its own sandbox, week and journal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "BATCH_"))}
    started: dict[str, tuple[Any, Path, Path, tuple[str | Path, ...], subprocess.Popen[str]]] = {}
    try:
        for point in POINTS:
            folder = tmp_path_factory.mktemp(f"crash-{point}")
            shutil.copytree(
                SAMPLE, folder / "week", ignore=shutil.ignore_patterns("*.results.xlsx", "*.py")
            )
            week = folder / "week" / "damage_claims_week47.xlsx"
            server = serve(SCALED_LIMITS)
            journal, out = folder / "journal.sqlite3", folder / "out.xlsx"
            args = ("submit", week, "--journal", journal, "--out", out, "--quiet", *SCALED_FLAGS)
            process = subprocess.Popen(
                [sys.executable, str(CRASH_ENTRY), f"{point}:2", *map(str, args)],
                env={
                    **env,
                    "XDG_DATA_HOME": str(folder / "xdg"),
                    "SENDCLOUD_BASE_URL": server.base_url,
                    "SENDCLOUD_PUBLIC_KEY": "test-public",
                    "SENDCLOUD_SECRET_KEY": "test-secret-do-not-leak",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            started[point] = (server, journal, out, args, process)
        found = {}
        for point, (server, journal, out, args, process) in started.items():
            _, stderr = process.communicate(timeout=120)
            found[point] = Crashed(server, journal, out, args, process.returncode, stderr)
        yield found
    finally:
        for server, *_, process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
            server.shutdown()


def crash_then_run_again(
    point: str, crashes: dict[str, Crashed], monkeypatch: pytest.MonkeyPatch
) -> Crashed:
    """The submit killed at ``point``, then the same submit run again to its end."""
    crashed = crashes[point]
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert not crashed.out.exists()  # never a half-written workbook
    monkeypatch.setenv("SENDCLOUD_BASE_URL", crashed.server.base_url)
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", "test-public")
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", "test-secret-do-not-leak")
    again = run(*crashed.args)
    assert again.exit_code == 1, again.output
    return crashed


@pytest.mark.parametrize("point", ["before_upload", "after_upload", "after_record"])
def test_crash_where_no_ticket_request_is_open_loses_and_duplicates_nothing(
    point: str, crashes: dict[str, Crashed], monkeypatch: pytest.MonkeyPatch
) -> None:
    crashed = crash_then_run_again(point, crashes, monkeypatch)
    out, server = crashed.out, crashed.server
    counts = ledger(server)
    assert sorted(counts) == WANT_TICKETS
    assert set(counts.values()) == {1}
    got = status_by_tracking(out)
    assert got["3SSCL0000000101"] == "already_submitted"
    assert got[SECOND] == ("already_submitted" if point == "after_record" else "submitted")


@pytest.mark.parametrize("point", ["before_ticket", "after_ticket"])
def test_crash_with_a_ticket_request_open_makes_the_row_unconfirmed_never_resent(
    point: str, crashes: dict[str, Crashed], monkeypatch: pytest.MonkeyPatch
) -> None:
    crashed = crash_then_run_again(point, crashes, monkeypatch)
    journal, out, args, server = crashed.journal, crashed.out, crashed.args, crashed.server
    got = status_by_tracking(out)
    assert got[SECOND] == "unconfirmed"
    counts = ledger(server)
    assert set(counts.values()) == {1}
    assert counts[SECOND] == (1 if point == "after_ticket" else 0)
    assert sorted(counts) == sorted(
        tn for tn in WANT_TICKETS if tn != SECOND or point == "after_ticket"
    )

    # A third run still does not resend it.
    third = run(*args)
    assert status_by_tracking(out)[SECOND] == "unconfirmed", third.output
    assert ledger(server)[SECOND] == counts[SECOND]

    # The user checks the panel and closes the row.
    if point == "after_ticket":
        ticket_id = next(
            t["ticket_id"] for t in tickets(server) if t["body"]["tracking_number"] == SECOND
        )
        resolved = run("resolve", SECOND, "--ticket-id", ticket_id, "--journal", journal)
    else:
        resolved = run("resolve", SECOND, "--not-created", "--journal", journal)
    assert resolved.exit_code == 0, resolved.output
    final = run(*args)
    assert final.exit_code == 1, final.output
    assert status_by_tracking(out)[SECOND] == (
        "already_submitted" if point == "after_ticket" else "submitted"
    )
    counts = ledger(server)
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
    got = status_by_tracking(out)
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
        got = status_by_tracking(out)
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
