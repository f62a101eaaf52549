"""The journal and the log hold an account's claim history: private files. A journal
that is corrupt, read-only or on a full disk stops the run with a message naming the
file — never a traceback, never a row recorded as sent that was not. Real files: pages
overwritten with garbage, an immutable file (chattr +i, as the tests run as root; chmod
otherwise), and a full disk made by SQLite's own ``PRAGMA max_page_count``."""

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
from tests.conftest import SCALED_FLAGS
from tests.helpers import photo, run, tickets, write_sheet


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


# --- corrupt ----------------------------------------------------------------------------------


def overwrite_tables(journal: Path, *tables: str) -> None:
    """Garbage bytes over the root pages of ``tables`` in a real, closed journal."""
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


def a_real_journal(api_env: Any, tmp_path: Path) -> tuple[Path, Path]:
    photo(tmp_path, "3SJOURNAL0/damage_photo_1.png", b"zero")
    sheet = write_sheet(
        tmp_path,
        [["3SJOURNAL0", "own_contract"], ["3SJOURNAL1", "own_contract"]],
        ["tracking_number", "contract_type"],
    )
    journal = tmp_path / "j.sqlite3"
    assert run("submit", sheet, "--journal", journal, *SCALED_FLAGS).exit_code == 0
    return sheet, journal


def test_a_corrupt_journal_stops_before_anything_is_sent_naming_the_file(
    api_env: Any, tmp_path: Path
) -> None:
    sheet, journal = a_real_journal(api_env, tmp_path)
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
    _, journal = a_real_journal(api_env, tmp_path)
    overwrite_tables(journal, "attempts")
    result = run("history", "3SJOURNAL0", "--journal", journal)
    assert result.exit_code == 2
    assert f"the journal {journal} is damaged" in result.output


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
    sheet, journal = a_real_journal(api_env, tmp_path)
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


# --- deleted or replaced while the run has it open ---------------------------------------------


def three_rows(tmp_path: Path, prefix: str) -> Path:
    return write_sheet(
        tmp_path,
        [[f"{prefix}{n}", "own_contract"] for n in range(3)],
        ["tracking_number", "contract_type"],
    )


def after_the_first_row(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """``act`` runs once the first row's ticket is recorded (the run's fault hook)."""
    done = []

    def hook(spec: str | None) -> Callable[[str], None]:
        def fault(point: str) -> None:
            if point == "after_record" and not done:
                done.append(point)
                act()

        return fault

    monkeypatch.setattr("batch_claims.cli._crash_hook", hook)


@pytest.mark.parametrize("how", ["deleted", "replaced", "wal deleted", "shm replaced"])
def test_a_journal_deleted_or_replaced_during_the_run_stops_it_at_the_next_write(
    api_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    sheet, journal = a_real_journal(api_env, tmp_path)
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

    after_the_first_row(monkeypatch, act)
    before = len(tickets(api_env))
    result = run("submit", three_rows(tmp_path, "3SGONEAWAY"), "--journal", journal, *SCALED_FLAGS)
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
    sheet, journal = a_real_journal(api_env, tmp_path)
    overwrite_bytes(journal, b'"tracking_number": "3SJOURNAL0"', b"\x01%&garbage{{[[")
    sent = len(tickets(api_env))
    result = run("submit", sheet, "--journal", journal, "--force", *SCALED_FLAGS)
    assert result.exit_code == 2, result.output
    assert f"the journal {journal} is damaged" in result.output
    assert "check the Sendcloud panel before sending them again" in result.output
    assert len(tickets(api_env)) == sent
    history = run("history", "--journal", journal)
    assert history.exit_code == 2 and f"the journal {journal} is damaged" in history.output
