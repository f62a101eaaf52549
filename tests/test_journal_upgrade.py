"""A journal written by the release before schema 4 opens, loses nothing, and serves
a run. ``fixtures/journal-schema3.sqlite3`` was made by that release's own code (commit
a1d84cd), not by hand:

    batch-claims submit first.xlsx --sandbox --journal journal-schema3.sqlite3
        3SLEGACY01 (a photo), 3SLEGACY02: tickets; NOTFOUND0042: refused (400)
    BATCH_CLAIMS_CRASH_AT=after_ticket batch-claims submit second.xlsx --sandbox ... (test hook)
        the same rows and 3SLEGACY03, whose ticket request went out and whose answer
        was never recorded: SIGKILL, leaving it in_flight and the run's lock record
    batch-claims history --journal journal-schema3.sqlite3   (checkpoints the WAL)

Its ``claims`` table still has the ``payload_hash`` and ``fingerprint`` columns that
schema 4 drops."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batch_claims.send.journal import (
    CREATED,
    IN_FLIGHT,
    MIGRATIONS,
    NOT_CREATED,
    UNCONFIRMED,
    Journal,
)
from tests.helpers import photo, results_rows, run, write_sheet

FIXTURE = Path(__file__).parent / "fixtures" / "journal-schema3.sqlite3"
KEPT_CLAIM_COLUMNS = (
    "tracking_number, ticket_type, state, ticket_id, claim_json, run_id, updated_at"
)
TABLES = {  # every table of schema 3 and the columns schema 4 keeps
    "claims": KEPT_CLAIM_COLUMNS,
    "attempts": "*",
    "file_tokens": "*",
    "runs": "*",
    "lock": "*",
    "posts": "*",
    "meta": "*",
}


def now() -> datetime:
    return datetime.now(UTC)


def a_copy(tmp_path: Path) -> Path:
    target = tmp_path / "journal.sqlite3"
    shutil.copy(FIXTURE, target)
    return target


def rows_of(path: Path, table: str, columns: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(f"SELECT {columns} FROM {table} ORDER BY 1, 2").fetchall()
    finally:
        db.close()


def columns_of(path: Path, table: str) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    finally:
        db.close()


def test_the_fixture_is_a_journal_of_the_previous_release() -> None:
    db = sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 4
        assert db.execute("SELECT count(*) FROM attempts").fetchone()[0] == 4
    finally:
        db.close()
    assert {"payload_hash", "fingerprint"} <= set(columns_of(FIXTURE, "claims"))


def test_opening_it_drops_the_unread_columns_and_keeps_every_row(tmp_path: Path) -> None:
    path = a_copy(tmp_path)
    before = {table: rows_of(path, table, columns) for table, columns in TABLES.items()}
    book = Journal(path, now)
    assert book.schema_version == len(MIGRATIONS) == 4
    assert book.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    book.close()
    assert columns_of(path, "claims") == [c.strip() for c in KEPT_CLAIM_COLUMNS.split(",")]
    assert "payload_hash" in columns_of(path, "attempts")  # read by the hold-back
    after = {table: rows_of(path, table, columns) for table, columns in TABLES.items()}
    assert after == before
    book = Journal(path, now)  # and as the journal reads them
    states = {r.tracking_number: (r.state, r.ticket_id) for r in book.claims()}
    assert states == {
        "3SLEGACY01": (CREATED, "365be5b7-bfeb-402f-af86-edb22fdd5a0e"),
        "3SLEGACY02": (CREATED, "d6f86fa9-9cc3-4612-8567-f3ee5d0e77e8"),
        "NOTFOUND0042": (NOT_CREATED, None),
        "3SLEGACY03": (IN_FLIGHT, None),
    }
    legacy = book.claim("3SLEGACY01", "damage")
    assert legacy is not None and legacy.claim is not None
    assert legacy.claim["tracking_number"] == "3SLEGACY01"
    refused = book.attempts("NOTFOUND0042")
    assert [(a.state, a.http_status, a.detail) for a in refused] == [
        (NOT_CREATED, 400, "Parcel not found.")
    ]
    book.close()


def test_a_run_on_it_keeps_its_history_and_sends_only_the_new_row(tmp_path: Path) -> None:
    path = a_copy(tmp_path)
    attempts_before = rows_of(path, "attempts", "*")
    photo(tmp_path, "legacy-photo.png", b"legacy")  # the bytes the first run sent
    sheet = write_sheet(
        tmp_path,
        [
            ["3SLEGACY01", "own_contract", "legacy-photo.png"],
            ["3SLEGACY02", "own_contract", None],
            ["NOTFOUND0042", "own_contract", None],
            ["3SLEGACY03", "own_contract", None],
            ["3SLEGACY04", "own_contract", None],
        ],
        ["tracking_number", "contract_type", "damage_photo_1"],
    )
    out = tmp_path / "out.xlsx"
    result = run("submit", sheet, "--sandbox", "--journal", path, "--out", out)
    assert result.exit_code == 1, result.output  # rows without a ticket remain
    assert "took over the journal lock of run 22a2b265e00b46d58c3ee92b6c411929" in result.output
    assert "Traceback" not in result.output
    rows = {r["tracking_number"]: r for r in results_rows(out)}
    assert {number: r["status"] for number, r in rows.items()} == {
        "3SLEGACY01": "already_submitted",
        "3SLEGACY02": "already_submitted",
        "NOTFOUND0042": "not_attempted",  # refused for what it contains, unchanged since
        "3SLEGACY03": "unconfirmed",  # its answer was lost when that run was killed
        "3SLEGACY04": "submitted",
    }
    assert rows["3SLEGACY01"]["ticket_id"] == "365be5b7-bfeb-402f-af86-edb22fdd5a0e"
    assert rows["3SLEGACY01"]["error_detail"] is None  # what was sent reads back the same
    assert "unchanged since refused" in rows["NOTFOUND0042"]["error_detail"]
    attempts_after = rows_of(path, "attempts", "*")
    kept, new = attempts_after[: len(attempts_before)], attempts_after[len(attempts_before) :]
    assert kept[:3] == attempts_before[:3]  # the tickets and the refusal, untouched
    lost = kept[3]  # the killed run's request: now said to be unconfirmed, all else kept
    assert (lost[2], lost[5]) == ("3SLEGACY03", UNCONFIRMED)
    assert lost[:5] == attempts_before[3][:5]
    assert [(row[2], row[5]) for row in new] == [("3SLEGACY04", CREATED)]
    resolved = run("resolve", "3SLEGACY03", "--not-created", "--journal", path)
    assert resolved.exit_code == 0, resolved.output
