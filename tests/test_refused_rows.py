"""A row the API refused for what it contains is not sent again while it is unchanged:
it is held back as not_attempted with the earlier answer, until the row changes or
--force sends it. Refusals that say nothing about the row never hold it back."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from batch_claims.columns import Variant
from batch_claims.outcome import Attachment, Claim, Money
from batch_claims.send.holdback import CONTENT_REFUSALS, refused_unchanged
from batch_claims.send.journal import CREATED, NOT_CREATED, UNCONFIRMED, AttemptRecord, Journal
from batch_claims.send.payload import request_hash
from tests.helpers import SCALED_FLAGS, results_rows, run

REFUSED = ("NOTFOUND-9981", "DELIVERED-4410", "3SOWN0000000999")


def ticket_posts(server: Any, since: int = 0) -> list[dict[str, Any]]:
    """The ticket POSTs in the sandbox's own request log, after the first ``since``."""
    log = requests.get(f"{server.root_url}/sandbox/requests", timeout=5).json()
    return [r for r in log[since:] if r["path"].endswith("/tickets/damage")]


def posts(server: Any) -> int:
    return len(requests.get(f"{server.root_url}/sandbox/requests", timeout=5).json())


def by_tracking(path: Path) -> dict[str, dict[str, Any]]:
    return {r["tracking_number"]: r for r in results_rows(path)}


def set_cell(sheet: Path, tracking_number: str, header: str, value: object) -> None:
    """What a person does in Excel: change one cell of a row and save."""
    workbook = openpyxl.load_workbook(sheet)
    worksheet = workbook.worksheets[0]
    names = [c.value for c in worksheet[1]]
    for row in worksheet.iter_rows(min_row=2):
        if row[0].value == tracking_number:
            row[names.index(header)].value = value
    workbook.save(sheet)


def submit(week: Path, journal: Path, *extra: str | Path) -> Any:
    return run("submit", week, "--journal", journal, *extra, *SCALED_FLAGS)


# --- with the real sandbox --------------------------------------------------------------


def test_an_unchanged_refused_row_is_held_back_and_a_changed_one_is_sent(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite3"
    out = week.with_name("damage_claims_week47.results.xlsx")
    first = submit(week, journal, "--quiet")
    assert first.exit_code == 1, first.output
    rows = by_tracking(out)
    assert {rows[tn]["status"] for tn in REFUSED} == {"rejected"}
    assert rows["NOTFOUND-9981"]["http_status"] == 400
    assert rows["DELIVERED-4410"]["http_status"] == 422

    # Second run, unchanged sheet: no ticket (and no upload) for them, and it says why.
    before = posts(api_env)
    second = submit(week, journal)
    assert second.exit_code == 1, second.output
    assert posts(api_env) == before  # nothing at all was sent
    rows = by_tracking(out)
    for tn in REFUSED:
        assert rows[tn]["status"] == "not_attempted"
        assert rows[tn]["error_code"] == "unchanged_since_refused"
        assert rows[tn]["error_detail"].startswith("unchanged since refused on 20")
        assert rows[tn]["error_detail"].endswith(" — fix the row, or --force")
        assert rows[tn]["http_status"] is None  # nothing was asked in this run
    assert "Parcel not found." in rows["NOTFOUND-9981"]["error_detail"]
    assert "already delivered" in rows["DELIVERED-4410"]["error_detail"]
    assert "Carrier support contact" in rows["3SOWN0000000999"]["error_detail"]
    assert "row 8 NOTFOUND-9981: not_attempted — unchanged since refused on" in second.output
    failed = {r["Tracking number"] for r in results_rows(out, "Failed rows")}
    assert set(REFUSED) <= failed  # there to be fixed

    # A column that is not sent ("Handled by") changes nothing of the request.
    set_cell(week, "DELIVERED-4410", "Handled by", "Dana")
    # A changed row is sent: a field, or the bytes of one of its files.
    set_cell(week, "3SOWN0000000999", "Carrier contract ID", 4711)
    photo = week.parent / "photos" / "DELIVERED-4410" / "damage_photo_1.jpg"
    before = posts(api_env)
    third = submit(week, journal, "--quiet")
    assert third.exit_code == 1, third.output
    sent = ticket_posts(api_env, before)
    assert len(sent) == 1  # the contract row only
    rows = by_tracking(out)
    assert rows["3SOWN0000000999"]["status"] == "submitted"
    assert rows["DELIVERED-4410"]["status"] == "not_attempted"
    assert rows["NOTFOUND-9981"]["status"] == "not_attempted"

    photo.write_bytes(photo.read_bytes() + b"\0")  # a new photo of the same parcel
    before = posts(api_env)
    fourth = submit(week, journal, "--quiet")
    assert fourth.exit_code == 1, fourth.output
    assert len(ticket_posts(api_env, before)) == 1
    rows = by_tracking(out)
    assert rows["DELIVERED-4410"]["status"] == "rejected"  # sent, and refused again
    assert rows["NOTFOUND-9981"]["status"] == "not_attempted"


def test_force_sends_a_row_refused_before(api_env: Any, week: Path, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite3"
    out = week.with_name("damage_claims_week47.results.xlsx")
    submit(week, journal, "--quiet")
    before = posts(api_env)
    forced = submit(week, journal, "--quiet", "--force")
    assert forced.exit_code == 1, forced.output
    # --force sends every valid row again: the 7 with a ticket and the 3 refused before.
    assert len(ticket_posts(api_env, before)) == 10
    rows = by_tracking(out)
    assert {rows[tn]["status"] for tn in REFUSED} == {"rejected"}


def test_retry_holds_back_the_unchanged_refused_rows_and_sends_a_fixed_one(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite3"
    first = tmp_path / "first.xlsx"
    submit(week, journal, "--out", first, "--quiet")
    before = posts(api_env)
    second = tmp_path / "second.xlsx"
    photos = ("--photos", week.parent / "photos")
    result = run("retry", first, *photos, "--journal", journal, "--out", second, *SCALED_FLAGS)
    assert result.exit_code == 1, result.output
    assert ticket_posts(api_env, before) == []
    rows = by_tracking(second)
    assert {rows[tn]["status"] for tn in REFUSED} == {"not_attempted"}
    assert rows["3SOWN0000000999"]["row"] == 10  # the original sheet's row

    # Fixed in the Failed rows sheet: sent.
    workbook = openpyxl.load_workbook(second)
    failed = workbook["Failed rows"]
    names = [c.value for c in failed[1]]
    for row in failed.iter_rows(min_row=2):
        if row[names.index("Tracking number")].value == "3SOWN0000000999":
            row[names.index("Carrier contract ID")].value = 4711
    workbook.save(second)
    third = tmp_path / "third.xlsx"
    before = posts(api_env)
    result = run("retry", second, *photos, "--journal", journal, "--out", third, *SCALED_FLAGS)
    assert result.exit_code == 1, result.output
    assert len(ticket_posts(api_env, before)) == 1
    assert by_tracking(third)["3SOWN0000000999"]["status"] == "submitted"


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, None), (403, None), (429, "hit_rate_limit"), (503, None), (500, None), (None, None)],
)
def test_a_refusal_that_is_not_about_the_row_never_holds_it_back(
    api_env: Any, week: Path, tmp_path: Path, status: int | None, code: str | None
) -> None:
    """The same request, last answered by something that says nothing about it (the
    credentials, a rate limit, a server error, the network): it is sent again."""
    sheet = week.with_name("one.xlsx")
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.append(["tracking_number", "carrier_contract_id", "contents_description"])
    ws.append(["DELIVERED-4410", 4711, "Phone charger"])
    workbook.save(sheet)
    journal = tmp_path / "j.sqlite3"
    submit(sheet, journal, "--quiet")
    db = sqlite3.connect(journal)
    with db:
        db.execute("UPDATE attempts SET http_status = ?, error_code = ?", (status, code))
    db.close()
    before = posts(api_env)
    result = submit(sheet, journal, "--quiet")
    assert result.exit_code == 1, result.output
    assert len(ticket_posts(api_env, before)) == 1
    assert by_tracking(sheet.with_name("one.results.xlsx"))["DELIVERED-4410"]["status"] == (
        "rejected"
    )


# --- the rule, on its own ------------------------------------------------------------------


def attempt(**values: Any) -> AttemptRecord:
    base = AttemptRecord(
        id=1,
        run_id="r",
        tracking_number="3SOWN0000000999",
        state=NOT_CREATED,
        started_at="2026-11-27T09:15:02Z",
        finished_at="2026-11-27T09:15:03Z",
        http_status=422,
        error_code="unprocessable_content",
        detail="Cannot create ticket. Reason: Parcel is already delivered",
        ticket_id=None,
        payload_hash="h",
    )
    return replace(base, **values)


def test_the_reason_names_the_date_and_the_answer() -> None:
    assert refused_unchanged(attempt(), "h") == (
        "unchanged since refused on 2026-11-27 09:15 UTC: Cannot create ticket. Reason: "
        "Parcel is already delivered — fix the row, or --force"
    )


@pytest.mark.parametrize("status", sorted(CONTENT_REFUSALS))
def test_content_refusals_hold_back_only_the_same_request(status: int) -> None:
    assert refused_unchanged(attempt(http_status=status), "h") is not None
    assert refused_unchanged(attempt(http_status=status), "other") is None
    assert refused_unchanged(attempt(http_status=status, payload_hash=None), "h") is None


@given(st.one_of(st.none(), st.integers(100, 599).filter(lambda s: s not in CONTENT_REFUSALS)))
def test_no_other_answer_holds_a_row_back(status: int | None) -> None:
    """401/403, 429, 5xx, a network failure (no status), a web page …"""
    assert refused_unchanged(attempt(http_status=status), "h") is None


@pytest.mark.parametrize("state", [CREATED, UNCONFIRMED, "in_flight"])
def test_only_a_refused_attempt_holds_back(state: str) -> None:
    assert refused_unchanged(attempt(state=state), "h") is None


def test_a_refused_file_token_is_no_reason_to_hold_back() -> None:
    detail = "Validation Error: damage_photo_1.file_token: Unknown file token"
    assert refused_unchanged(attempt(http_status=400, detail=detail), "h") is None


def test_no_attempt_no_hold_back() -> None:
    assert refused_unchanged(None, "h") is None


# --- what counts as the same request -----------------------------------------------------


def claim(**changes: Any) -> Claim:
    photo = Attachment(
        "damage_photo_1", Path("p.jpg"), "p.jpg", "image/jpeg", 10, "a" * 64, "folder convention"
    )
    base = Claim(
        row=4,
        tracking_number="JJD000390007812345",
        variant=Variant.OWN_CONTRACT,
        is_portal_claim=False,
        fields={
            "carrier_contract_id": 4711,
            "contents_description": "3 wine glasses",
            "contents_sales_price": Money(Decimal("120"), "GBP"),
        },
        attachments={"damage_photo_1": photo},
    )
    return replace(base, **changes)


def test_the_request_hash_is_of_the_body_and_the_file_bytes() -> None:
    same = request_hash(claim())
    assert request_hash(claim(row=9, evidence="seen")) == same  # not part of the request
    assert request_hash(claim(is_portal_claim=True)) != same
    assert request_hash(claim(fields={**claim().fields, "contents_description": "4"})) != same
    moved = replace(claim().attachments["damage_photo_1"], path=Path("elsewhere/p.jpg"))
    assert request_hash(claim(attachments={"damage_photo_1": moved})) == same
    other = replace(moved, sha256="b" * 64)
    assert request_hash(claim(attachments={"damage_photo_1": other})) != same
    assert request_hash(claim(attachments={})) != same


def test_the_journal_finds_the_latest_attempt_of_many_claims_at_once(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    book = Journal(tmp_path / "j.sqlite3", lambda: datetime(2026, 11, 27, tzinfo=UTC))
    numbers = [f"3SOWN{n:010d}" for n in range(1200)]  # more than one query's worth
    for number in numbers:
        for status in (503, 422):
            attempt_id = book.begin_attempt("r", number, "damage", f"h{status}", {})
            book.finish_attempt(attempt_id, NOT_CREATED, http_status=status, detail="x")
    latest = book.last_attempts([*numbers, "UNKNOWN123"], "damage")
    assert set(latest) == set(numbers)
    assert {a.http_status for a in latest.values()} == {422}
    assert {a.payload_hash for a in latest.values()} == {"h422"}
    assert book.last_attempts(numbers, "other") == {}
    book.close()


def test_the_dry_run_plan_counts_held_back_rows_and_shows_them(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite3"
    first = submit(week, journal, "--quiet")
    assert first.exit_code == 1, first.output
    before = posts(api_env)
    dry = run("submit", week, "--journal", journal, "--dry-run", *SCALED_FLAGS)
    assert posts(api_env) == before
    assert (
        "plan: 0 ticket POSTs and 0 file uploads (0 POSTs); 7 rows already have a ticket, "
        "0 are unconfirmed, 3 are held back (refused earlier, unchanged since)" in dry.output
    )
    rows = by_tracking(week.with_name("damage_claims_week47.results.xlsx"))
    for tn in REFUSED:
        assert rows[tn]["status"] == "not_attempted"
        assert rows[tn]["error_code"] == "unchanged_since_refused"
