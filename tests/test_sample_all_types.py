"""The second sample workbook, ``sample_data/claims_week48_all_types.xlsx``: every ticket
type on one sheet goes through validate and submit against the sandbox with the counts
the README gives (10 submitted, 7 rejected, 5 invalid), and a second submit files
nothing twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import SCALED_FLAGS, results_rows, run, tickets

SHEET = "claims_week48_all_types.xlsx"

# row -> (tracking number, ticket type, status, what the row's error says)
EXPECTED_ALL_TYPES: dict[int, tuple[str, str | None, str, str]] = {
    2: ("3SWK48DMG0001", "damage", "submitted", ""),
    3: ("3SWK48LOST001", "lost", "submitted", ""),
    4: ("3SWK48LOST002", "lost", "submitted", ""),
    5: ("3SWK48DBNR001", "delivered-but-not-received", "submitted", ""),
    6: ("3SWK48DELAY01", "delay", "submitted", ""),
    7: ("3SWK48LATE001", "late-delivery", "submitted", ""),
    8: ("3SWK48RET0001", "unjust-return", "submitted", ""),
    9: ("3SWK48ADDR001", "address-change", "submitted", ""),
    10: ("3SWK48OTHER01", "other", "submitted", ""),
    11: ("3SWK48ADDR001", "damage", "submitted", ""),  # the same parcel, another type
    12: ("INTRANSIT4801", "lost", "rejected", "Parcel is still in transit"),
    13: ("NOTDELIVERED4802", "late-delivery", "rejected", "Parcel has no delivered scan"),
    14: ("NOTRETURNED4803", "unjust-return", "rejected", "has not been returned"),
    15: ("ONTIME4804", "delay", "rejected", "Parcel is not delayed"),
    16: ("NOTFOUND4805", "delivered-but-not-received", "rejected", "Parcel not found."),
    17: ("DELIVERED4806", "address-change", "rejected", "Parcel is already delivered"),
    18: ("3SWK48RET0999", "unjust-return", "rejected", "Carrier support contact"),
    19: ("3SWK48DELAY02", "delay", "invalid", "for sendcloud_rates parcels only"),
    20: ("3SWK48LATE002", "late-delivery", "invalid", "for own_contract parcels only"),
    21: ("3SWK48LOST003", "lost", "invalid", "is not part of a lost claim"),
    22: ("3SWK48DBNR002", "delivered-but-not-received", "invalid", "carrier_claim_form"),
    23: ("3SWK48CLAIM01", None, "invalid", '"Beschwerde" is not a ticket type'),
}


def lines(results: Path) -> dict[int, tuple[str, str | None, str, str]]:
    """Each Results line as (tracking number, ticket type, status, its error), by row."""
    found = {}
    for line in results_rows(results):
        error = str(line["error_detail"] or "")
        found[int(line["row"])] = (
            str(line["tracking_number"]),
            line["ticket_type"] or None,
            str(line["status"]),
            error,
        )
    return found


def matches(got: dict[int, tuple[str, str | None, str, str]]) -> None:
    assert set(got) == set(EXPECTED_ALL_TYPES)
    for row, (tracking, kind, status, says) in EXPECTED_ALL_TYPES.items():
        assert got[row][:3] == (tracking, kind, status), row
        assert says in got[row][3], (row, got[row][3])


def test_the_sample_validates_with_its_invalid_rows_explained(week: Path) -> None:
    sheet = week.with_name(SHEET)
    result = run("validate", sheet)
    assert result.exit_code == 1, result.output
    assert "22 rows: 17 valid, 5 invalid" in result.output
    got = lines(sheet.with_name("claims_week48_all_types.results.xlsx"))
    statuses = {row: line[2] for row, line in got.items()}
    assert statuses == {
        row: "invalid" if status == "invalid" else "valid"
        for row, (_, _, status, _) in EXPECTED_ALL_TYPES.items()
    }


def test_the_sample_submits_every_type_with_its_counts(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    sheet = week.with_name(SHEET)
    journal = tmp_path / "j.sqlite3"
    result = run("submit", sheet, "--journal", journal, *SCALED_FLAGS)
    assert result.exit_code == 1, result.output
    assert "22 rows: 5 invalid, 10 submitted, 7 rejected" in result.output
    results = sheet.with_name("claims_week48_all_types.results.xlsx")
    got = lines(results)
    matches(got)

    # Every type filed once, at its own endpoint; the refused ones were sent and refused.
    filed = sorted((t["type"], t["body"]["tracking_number"]) for t in tickets(api_env))
    assert filed == sorted(
        (kind, tracking)
        for tracking, kind, status, _ in EXPECTED_ALL_TYPES.values()
        if status == "submitted" and kind is not None
    )
    assert len({kind for kind, _ in filed}) == 8
    photos = sheet.parent / "photos"
    damage = next(t for t in tickets(api_env) if t["body"]["tracking_number"] == "3SWK48DMG0001")
    assert set(damage["files"]) == {p.stem for p in (photos / "3SWK48DMG0001").iterdir()}

    # A second submit files nothing twice.
    again = run("submit", sheet, "--journal", journal, "--out", tmp_path / "2.xlsx", *SCALED_FLAGS)
    assert again.exit_code == 1, again.output
    assert len(tickets(api_env)) == len(filed)
    second = lines(tmp_path / "2.xlsx")
    assert sum(line[2] == "already_submitted" for line in second.values()) == len(filed)
