"""A journal damaged or swapped out under the tool: found when it is opened (exit 2,
nothing sent) or at the first read or write that meets it during a run (exit 3, the
results workbook written, the rows not reached ``not_attempted``) — always a message
naming the file and what to do, never a ``sqlite3`` traceback. Real files: pages and
records overwritten with garbage, a file deleted or replaced, a second connection
checkpointing the WAL while the run has the journal open."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batch_claims.send.interfaces import RunHooks
from batch_claims.send.submitter import LOOKAHEAD_ROWS
from tests.helpers import (
    SCALED_FLAGS,
    a_real_journal,
    photo,
    results_rows,
    run,
    tickets,
    write_sheet,
)

# --- corrupt ----------------------------------------------------------------------------------


def overwrite_tables(journal: Path, *tables: str) -> None:
    """Garbage bytes over the root pages of ``tables`` (tables or indexes) in a real
    journal's file."""
    db = sqlite3.connect(journal)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    roots = [
        db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (t,)).fetchone()[0]
        for t in tables
    ]
    db.close()
    with journal.open("r+b") as handle:
        for root in roots:
            handle.seek((root - 1) * page_size)
            handle.write(bytes((i * 37 + 11) % 256 for i in range(page_size)))


def test_a_corrupt_journal_stops_before_anything_is_sent_naming_the_file(
    api_env: Any, tmp_path: Path
) -> None:
    sheet, journal = a_real_journal(tmp_path)
    # The tables a run reads only after the journal opened: file tokens and POST times.
    overwrite_tables(journal, "posts", "file_tokens")
    before = journal.read_bytes()
    sent = len(tickets(api_env))
    result = run("submit", sheet, "--journal", journal, "--force", *SCALED_FLAGS)
    assert result.exit_code == 2
    assert f"the journal {journal} is damaged" in result.output
    assert "nothing was sent" in result.output
    assert "Traceback" not in result.output and "DatabaseError" not in result.output
    assert len(tickets(api_env)) == sent
    assert journal.read_bytes() == before  # left untouched


def test_history_of_a_corrupt_journal_names_the_file(api_env: Any, tmp_path: Path) -> None:
    _, journal = a_real_journal(tmp_path)
    overwrite_tables(journal, "attempts")
    result = run("history", "3SJOURNAL0", "--journal", journal)
    assert result.exit_code == 2
    assert f"the journal {journal} is damaged" in result.output


# --- deleted or replaced while the run has it open ---------------------------------------------


def three_rows(tmp_path: Path, prefix: str) -> Path:
    return write_sheet(
        tmp_path,
        [[f"{prefix}{n}", "own_contract"] for n in range(3)],
        ["tracking_number", "contract_type"],
    )


def after_the_first_row(act: Callable[[], None]) -> RunHooks:
    """Hooks that run ``act`` once the first row's ticket is recorded (the run's fault
    hook, handed to the CLI as tests/crash_entry.py does)."""
    done = []

    def fault(point: str) -> None:
        if point == "after_record" and not done:
            done.append(point)
            act()

    return RunHooks(fault=fault)


@pytest.mark.parametrize("how", ["deleted", "replaced", "wal deleted", "shm replaced"])
def test_a_journal_deleted_or_replaced_during_the_run_stops_it_at_the_next_write(
    api_env: Any, tmp_path: Path, how: str
) -> None:
    sheet, journal = a_real_journal(tmp_path)
    backup = tmp_path / "backup.sqlite3"
    shutil.copy(journal, backup)  # an old copy, put back while the run goes on
    target = {"wal": Path(f"{journal}-wal"), "shm": Path(f"{journal}-shm")}.get(
        how.split()[0], journal
    )

    def act() -> None:
        if how.endswith("deleted"):
            target.unlink()
        else:
            os.replace(backup, target)

    hooks = after_the_first_row(act)
    before = len(tickets(api_env))
    args = ("submit", three_rows(tmp_path, "3SGONEAWAY"), "--journal", journal, *SCALED_FLAGS)
    result = run(*args, hooks=hooks)
    assert result.exit_code == 3, result.output
    assert f"the journal {journal} cannot be used: {target} was {how.split()[-1]}" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert len(tickets(api_env)) == before + 1  # the rows after it were never sent
    assert sheet.exists()


# --- damaged records that SQLite still reads as sound pages --------------------------------------


def overwrite_bytes(journal: Path, find: bytes, garbage: bytes) -> None:
    """Garbage over bytes inside a record of a real, closed journal: the page stays
    sound to SQLite (quick_check passes); only a query reading that record sees it."""
    data = journal.read_bytes()
    at = data.index(find)
    with journal.open("r+b") as handle:
        handle.seek(at)
        handle.write(garbage[: len(find)].ljust(len(find), b"#"))


def test_a_damaged_claim_record_is_found_before_sending_naming_the_file(
    api_env: Any, tmp_path: Path
) -> None:
    sheet, journal = a_real_journal(tmp_path)
    overwrite_bytes(journal, b'"tracking_number": "3SJOURNAL0"', b"\x01%&garbage{{[[")
    sent = len(tickets(api_env))
    result = run("submit", sheet, "--journal", journal, "--force", *SCALED_FLAGS)
    assert result.exit_code == 2, result.output
    assert f"the journal {journal} is damaged" in result.output
    assert "check the Sendcloud panel before sending them again" in result.output
    assert len(tickets(api_env)) == sent
    history = run("history", "--journal", journal)
    assert history.exit_code == 2 and f"the journal {journal} is damaged" in history.output


def test_a_damaged_state_in_a_claim_record_is_a_damaged_journal(
    api_env: Any, tmp_path: Path
) -> None:
    _, journal = a_real_journal(tmp_path)
    # A claims record is its fields back to back: ticket type, then state.
    overwrite_bytes(journal, b"damagecreated", b"damagecr\x00ated")
    history = run("history", "--journal", journal)
    assert history.exit_code == 2, history.output
    assert f"the journal {journal} is damaged" in history.output


# --- damaged while the run has it open ---------------------------------------------------------


def damaged_behind_the_runs_back(journal: Path, name: str) -> None:
    """What another program and a bad disk do to a journal a run has open: the program
    checkpoints the WAL into the file (as ``sqlite3 j.sqlite3 'PRAGMA wal_checkpoint'``
    would), so the run reads its pages from the file again, and garbage lands on the root
    page of the table or index ``name`` — after the open-time check passed."""
    db = sqlite3.connect(journal, isolation_level=None)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    overwrite_tables(journal, name)


@pytest.mark.parametrize(
    ("name", "sent"),
    [
        ("attempts_by_claim", 1),  # met by the second ticket's in_flight record
        ("claims", 1),  # the same, in the other table that write touches
        # Met by the last row's upload on a worker thread (the rows between have no
        # photo, and it is the first row out of the look-ahead of the first one): when,
        # among the tickets of the rows between, depends on the threads (None: any).
        ("sqlite_autoindex_file_tokens_1", None),
        # Met by the rate limiter recording the second ticket's POST, before the
        # request goes out: it is never sent.
        ("posts_by_time", 1),
    ],
)
def test_a_journal_damaged_during_the_run_stops_it_naming_the_file(
    api_env: Any, tmp_path: Path, name: str, sent: int | None
) -> None:
    _, journal = a_real_journal(tmp_path)
    count = 2 + LOOKAHEAD_ROWS
    photo(tmp_path, f"3SHALFWAY{count - 1}/damage_photo_1.png", b"the last row's")
    sheet = write_sheet(
        tmp_path,
        [[f"3SHALFWAY{n}", "own_contract"] for n in range(count)],
        ["tracking_number", "contract_type"],
    )
    out = tmp_path / "results.xlsx"
    hooks = after_the_first_row(lambda: damaged_behind_the_runs_back(journal, name))
    before = len(tickets(api_env))
    result = run("submit", sheet, "--journal", journal, "--out", out, *SCALED_FLAGS, hooks=hooks)
    assert result.exit_code == 3, result.output
    assert f"the journal {journal} is damaged" in result.output
    assert "restore it from a backup, or move it aside" in result.output
    assert "check the Sendcloud panel" in result.output
    assert "Traceback" not in result.output and "DatabaseError" not in result.output
    rows = results_rows(out)
    if sent is None:  # at least the first row, never the last (its upload met the damage)
        sent = sum(r["status"] == "submitted" for r in rows)
        assert 1 <= sent < count
    assert [r["status"] for r in rows] == ["submitted"] * sent + ["not_attempted"] * (count - sent)
    assert f"the journal {journal} is damaged" in rows[sent]["error_detail"]
    assert len(tickets(api_env)) == before + sent  # no row after the damage was sent


@pytest.mark.parametrize("name", ["lock", "runs"])
def test_damage_first_met_when_the_run_releases_its_lock_is_exit_3(
    api_env: Any, tmp_path: Path, name: str
) -> None:
    """Damage to the pages only the run lock reads is met at the run's very end: the
    tickets are all made and recorded, yet the journal cannot serve the next run, so the
    run must not end 0 as if all were well."""
    _, journal = a_real_journal(tmp_path)
    out = tmp_path / "results.xlsx"
    hooks = after_the_first_row(lambda: damaged_behind_the_runs_back(journal, name))
    args = ("submit", three_rows(tmp_path, "3SLOCKPAGE"), "--journal", journal, "--out", out)
    result = run(*args, *SCALED_FLAGS, hooks=hooks)
    assert result.exit_code == 3, result.output
    assert f"the journal {journal} is damaged" in result.output
    assert "the next run takes its lock over" not in result.output
    assert "Traceback" not in result.output and "DatabaseError" not in result.output
    assert [r["status"] for r in results_rows(out)] == ["submitted"] * 3
