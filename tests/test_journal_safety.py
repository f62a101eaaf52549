"""The journal and the log hold an account's claim history: private files. A journal
that is read-only or on a full disk stops the run with a message naming the file —
never a traceback, never a row recorded as sent that was not. Real files: an immutable
file (chattr +i, as the tests run as root; chmod otherwise), and a full disk made by
SQLite's own ``PRAGMA max_page_count``. Damaged journals: ``test_journal_damage.py``."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from batch_claims.cli.console import Console
from batch_claims.clock import SystemClock
from batch_claims.errors import JournalFailed
from batch_claims.outcome import RowOutcome
from batch_claims.send.journal import CREATED, IN_FLIGHT, Journal
from batch_claims.send.submitter import Submitter, connect
from batch_claims.settings import Settings
from batch_claims.validate.prepare import prepare
from tests.helpers import SCALED_FLAGS, a_real_journal, run, tickets, write_sheet


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def now() -> datetime:
    return datetime.now(UTC)


# --- private files ---------------------------------------------------------------------------


def test_a_new_journal_its_wal_and_shm_and_its_new_folder_are_the_users_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "made" / "by-us" / "journal.sqlite3"
    with umask(0o022):
        book = Journal(path, now)
        book.set_meta("probe", "x")  # the WAL and its index exist while the journal is open
        assert mode(path) == 0o600
        assert mode(Path(f"{path}-wal")) == 0o600
        assert mode(Path(f"{path}-shm")) == 0o600
        assert mode(path.parent) == 0o700
        book.close()


def test_an_existing_journal_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    Journal(path, now).close()
    os.chmod(path, 0o644)
    Journal(path, now).close()
    assert mode(path) == 0o600


def test_a_new_log_file_is_the_users_only(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    with umask(0o022):
        console = Console(quiet=True, log_file=log)
        console.info("row 2 3SABC: submitted")
        console.close()
    assert mode(log) == 0o600
    assert "3SABC" in log.read_text()


# --- read-only -------------------------------------------------------------------------------


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` unwritable even for root: immutable (chattr +i), else chmod 0444."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        try:
            yield
        finally:
            os.chmod(path, 0o600)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)]).returncode != 0:
        pytest.skip("running as root without chattr +i: no way to make a file read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_read_only_journal_stops_before_anything_is_sent_naming_the_file(
    api_env: Any, tmp_path: Path
) -> None:
    sheet, journal = a_real_journal(tmp_path)
    sent = len(tickets(api_env))
    with read_only(journal):
        result = run("submit", sheet, "--journal", journal, "--force", *SCALED_FLAGS)
        history = run("history", "--journal", journal)
    assert result.exit_code == 2
    assert f"the journal {journal} is not writable (read-only)" in result.output
    assert "Traceback" not in result.output
    assert len(tickets(api_env)) == sent
    assert history.exit_code == 2 and str(journal) in history.output


# --- a full disk during the run ---------------------------------------------------------------


def fill(book: Journal) -> None:
    """The disk is full from now on: no page may be added to the journal, and every
    table's pages are filled to the brim (SQLite answers SQLITE_FULL)."""
    db = sqlite3.connect(book.path, isolation_level=None)
    number = 0
    for table, columns in (
        ("posts", "(scopes, sent_at) VALUES (?, 0)"),
        (
            "attempts",
            "(run_id, tracking_number, ticket_type, payload_hash, state, started_at) "
            "VALUES ('filler', ?, 'filler', '', 'not_created', '')",
        ),
        (
            "claims",
            "(tracking_number, ticket_type, state, updated_at) "
            "VALUES (?, 'filler', 'not_created', '')",
        ),
        ("meta", "(key, value) VALUES (?, 'x')"),
    ):
        pages = book.db.execute("PRAGMA page_count").fetchone()[0]
        book.db.execute(f"PRAGMA max_page_count = {pages}")
        db.execute(f"PRAGMA max_page_count = {pages}")
        for size in (200, 40, 1):  # big rows, then smaller ones into the space left
            try:
                while True:
                    number += 1
                    db.execute(f"INSERT INTO {table} {columns}", (f"{'x' * size}{number}",))
            except sqlite3.OperationalError as exc:
                assert "full" in str(exc)
    db.close()


def run_rows(
    api_env: Any, tmp_path: Path, count: int, fault: Callable[[str, Journal], None]
) -> tuple[list[RowOutcome], Any, Path]:
    sheet = write_sheet(
        tmp_path,
        [[f"3SFULLDISK{n}", "own_contract"] for n in range(count)],
        ["tracking_number", "contract_type"],
    )
    settings = Settings(base_url=api_env.base_url, public_key="pk", secret_key="sk")
    prepared = prepare(sheet, None, settings)
    path = tmp_path / "j.sqlite3"
    book = Journal(path, now)
    clock = SystemClock()
    with connect(settings, clock, book) as client:
        submitter = Submitter(
            client, book, settings, clock, "run-full", fault=lambda point: fault(point, book)
        )
        outcomes, aborted = submitter.run(prepared.items)
    book.close()
    return outcomes, aborted, path


def test_a_full_disk_between_rows_stops_the_run_and_records_nothing_unsent(
    api_env: Any, tmp_path: Path
) -> None:
    reached = Counter[str]()

    def full_after_the_first_row(point: str, book: Journal) -> None:
        reached[point] += 1
        if point == "after_record" and reached[point] == 1:
            fill(book)

    outcomes, aborted, path = run_rows(api_env, tmp_path, 3, full_after_the_first_row)
    assert isinstance(aborted, JournalFailed) and aborted.exit_code == 3
    assert aborted.message.startswith(f"the journal {path} cannot be written: the disk is full")
    assert [o.status.value for o in outcomes] == ["submitted", "not_attempted", "not_attempted"]
    assert "the disk is full" in (outcomes[1].error_detail or "")
    assert [t["body"]["tracking_number"] for t in tickets(api_env)] == ["3SFULLDISK0"]
    book = Journal(path, now)  # a new connection: no page limit
    assert book.claim("3SFULLDISK1", "damage") is None  # never recorded as sent
    first = book.claim("3SFULLDISK0", "damage")
    assert first is not None and first.state == CREATED


def test_a_full_disk_while_a_ticket_is_under_way_never_loses_the_ticket(
    api_env: Any, tmp_path: Path
) -> None:
    reached = Counter[str]()

    def full_while_the_second_ticket_goes_out(point: str, book: Journal) -> None:
        reached[point] += 1
        if point == "before_ticket" and reached[point] == 2:
            fill(book)

    outcomes, aborted, path = run_rows(api_env, tmp_path, 3, full_while_the_second_ticket_goes_out)
    assert isinstance(aborted, JournalFailed)
    assert [o.status.value for o in outcomes] == ["submitted", "submitted", "not_attempted"]
    sent = {t["body"]["tracking_number"]: t for t in tickets(api_env)}
    assert set(sent) == {"3SFULLDISK0", "3SFULLDISK1"}
    book = Journal(path, now)
    second = book.claim("3SFULLDISK1", "damage")
    assert second is not None and second.state in (CREATED, IN_FLIGHT)
    if second.state == IN_FLIGHT:  # the answer could not be recorded: say how to close it
        assert "batch-claims resolve 3SFULLDISK1 --ticket-id" in (outcomes[1].error_detail or "")
    assert outcomes[1].ticket_id is not None
    assert book.claim("3SFULLDISK2", "damage") is None
