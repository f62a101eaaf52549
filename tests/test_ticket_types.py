"""Every ticket type from one sheet: a week mixing all eight types and both contract
types goes through validate, submit against the sandbox, a second submit and a retry,
with every body valid for its type and variant, no claim filed twice, and every row
without a ticket explained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from batch_claims.columns import COLUMNS, Variant
from batch_claims.report.columns_table import markdown_table
from batch_claims.ticket_types import (
    TYPES,
    TicketType,
    required_columns,
    ticket_type_of,
)
from tests.helpers import SCALED_FLAGS, photo, run, tickets, write_sheet

HEADERS = [
    "tracking_number",
    "ticket_type",
    "contract_type",
    "carrier_contract_id",
    "contents_sales_price",
    "contents_sales_currency",
    "contents_description",
    "parcel_exterior_description",
    "additional_remarks",
    "parcel_dimensions",
    "is_parcel_returned",
    "additional_details",
    "new_address",
    "subject",
    "question",
]
OWN, RATES = "own_contract", "sendcloud_rates"
GOODS = [24.95, "EUR", "2 mugs", "brown box"]


def row(tn: str, kind: str, contract: str, **cells: object) -> list[object]:
    values: dict[str, object] = {"tracking_number": tn, "ticket_type": kind}
    values["contract_type"] = contract
    values.update(cells)
    return [values.get(header) for header in HEADERS]


def goods(**more: object) -> dict[str, object]:
    names = HEADERS[4:8]
    return {**dict(zip(names, GOODS, strict=True)), **more}


# tracking number -> (ticket type, the row's cells, the documents the type's variant needs)
WEEK: list[tuple[str, str, str, dict[str, object]]] = [
    ("3SDAMAGE0001", "damage", OWN, {"carrier_contract_id": 4711}),
    ("3SDAMAGE0002", "Damage", RATES, goods(additional_remarks="one mug broken")),
    ("3SLOST00001", "verloren", OWN, {"carrier_contract_id": 4711}),
    ("3SLOST00002", "lost", RATES, goods(additional_remarks="never arrived")),
    ("3SDBNR00001", "delivered but not received", OWN, {}),
    ("3SDBNR00002", "delivered_but_not_received", RATES, goods(additional_remarks="no")),
    ("3SDELAY0001", "Verspätung", RATES, goods()),
    ("3SLATE00001", "late-delivery", OWN, {"carrier_contract_id": 4711}),
    ("3SRETURN001", "unjust-return", OWN, {"carrier_contract_id": 4711}),
    ("3SRETURN002", "Retour injustifié", RATES, {"is_parcel_returned": "yes"}),
    ("3SADDRESS01", "address-change", OWN, {"new_address": "Main St 1, 1011 AB Amsterdam"}),
    ("3SADDRESS02", "adreswijziging", RATES, {"additional_details": "wrong house number"}),
    ("3SOTHER0001", "other", OWN, {"subject": "Invoice", "question": "Is it paid?"}),
    ("3SOTHER0002", "otro", RATES, {"subject": "Label", "question": "Reprint?"}),
    # The same parcel as the first row, another type: a second ticket, not a duplicate.
    ("3SDAMAGE0001", "address change", OWN, {"new_address": "Side St 2, Utrecht"}),
]
SIZES = {"parcel_dimensions": "40 x 30 x 20 cm"}
WEEK = [
    (tn, kind, contract, {**cells, **(SIZES if tn in ("3SLOST00002", "3SDBNR00002") else {})})
    for tn, kind, contract, cells in WEEK
]
WEEK[9][3]["additional_details"] = "returned without reason"
BAD: list[tuple[str, str, str, dict[str, object]]] = [
    ("3SDELAY0002", "delay", OWN, goods()),  # delay is for Sendcloud rates only
    ("3SLATE00002", "late delivery", RATES, {}),  # late delivery for own contracts only
    ("3SLOST00003", "lost", OWN, {"new_address": "not a field of lost"}),
    ("3SDAMAGE0002", "damage", OWN, {}),  # the same parcel and type twice
    ("3SLOST00004", "lost", RATES, goods(additional_remarks="x", parcel_dimensions="40x30")),
    ("3SOTHER0003", "a question", OWN, {"subject": "?", "question": "?"}),
]
REFUSED = ("INTRANSIT0042", "lost", RATES, goods(additional_remarks="lost", **SIZES))


def kind_of(row_: tuple[str, str, str, dict[str, object]]) -> TicketType:
    found = ticket_type_of(row_[1])
    assert found is not None
    return found


def documents(folder: Path, rows: list[tuple[str, str, str, dict[str, object]]]) -> None:
    """Every document each row's type and variant needs, by the folder convention."""
    for index, (tn, _, contract, _) in enumerate(rows):
        kind = ticket_type_of(rows[index][1])
        if kind is None:
            continue
        for column in required_columns(Variant(contract), kind):
            if column.is_document:
                photo(folder, f"{tn}/{column.name}.png", f"{tn}-{column.name}".encode())


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    everything = [*WEEK, *BAD, REFUSED]
    documents(tmp_path, everything)
    return write_sheet(
        tmp_path, [row(tn, k, c, **cells) for tn, k, c, cells in everything], HEADERS
    )


def by_row(results: Path) -> dict[int, dict[str, Any]]:
    """Results lines by row number; a header the input repeats (its own ticket_type
    column) reads as our column, the first."""
    rows = list(openpyxl.load_workbook(results)["Results"].iter_rows(values_only=True))
    lines = {}
    for values in rows[1:]:
        line: dict[str, Any] = {}
        for header, value in zip(rows[0], values, strict=False):
            line.setdefault(str(header), value)
        lines[int(line["row"])] = line
    return lines


def test_validate_checks_each_row_by_its_own_type(mixed: Path) -> None:
    result = run("validate", mixed)
    assert result.exit_code == 1, result.output
    lines = by_row(mixed.with_suffix(".results.xlsx"))
    good = {2 + i for i in range(len(WEEK))} | {2 + len(WEEK) + len(BAD)}
    assert {n for n, line in lines.items() if line["status"] == "valid"} == good
    for i, entry in enumerate(WEEK):
        assert lines[2 + i]["ticket_type"] == kind_of(entry).value
    bad = {line["tracking_number"]: line for line in lines.values() if line["status"] == "invalid"}
    assert set(bad) == {b[0] for b in BAD}
    assert (
        "delay tickets are for sendcloud_rates parcels only, and this row is own_contract"
        in (bad["3SDELAY0002"]["error_detail"])
    )
    assert (
        "late-delivery tickets are for own_contract parcels only"
        in (bad["3SLATE00002"]["error_detail"])
    )
    assert bad["3SLOST00003"]["error_detail"] == (
        f'row {2 + len(WEEK) + 2}, "new_address": "not a field of lost" is not part of a '
        "lost claim (lost parcel tickets have no such field): clear the cell, or set the "
        'row\'s "ticket_type" to the claim it is'
    )
    assert "is already on row 3" in bad["3SDAMAGE0002"]["error_detail"]
    assert '"40x30" is not length x width x height in cm' in bad["3SLOST00004"]["error_detail"]
    assert '"a question" is not a ticket type' in bad["3SOTHER0003"]["error_detail"]


def test_submit_files_each_type_at_its_endpoint_with_its_variants_body(
    api_env: Any, mixed: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite3"
    result = run("submit", mixed, "--journal", journal, *SCALED_FLAGS)
    assert result.exit_code == 1, result.output
    sent = tickets(api_env)
    assert len(sent) == len(WEEK)  # the sandbox refused none it accepted the body of
    filed = {(ticket["body"]["tracking_number"], ticket["type"]): ticket for ticket in sent}
    assert set(filed) == {(entry[0], kind_of(entry).value) for entry in WEEK}
    body = {key: ticket["body"] for key, ticket in filed.items()}
    assert body["3SDBNR00001", "delivered-but-not-received"] == {"tracking_number": "3SDBNR00001"}
    assert body["3SLOST00002", "lost"]["parcel_dimensions"] == {
        "length": 40,
        "width": 30,
        "height": 20,
    }
    assert set(body["3SLOST00002", "lost"]) == {
        "tracking_number",
        "contents_sales_price",
        "contents_description",
        "parcel_exterior_description",
        "parcel_dimensions",
        "additional_remarks",
        "sales_invoice",
        "purchase_invoice",
        "customer_confirmation",
        "carrier_claim_form",
    }
    assert body["3SRETURN002", "unjust-return"] == {
        "tracking_number": "3SRETURN002",
        "is_parcel_returned": True,
        "additional_details": "returned without reason",
    }
    assert body["3SLATE00001", "late-delivery"] == {
        "tracking_number": "3SLATE00001",
        "carrier_contract_id": 4711,
    }
    assert body["3SDAMAGE0001", "address-change"] == {
        "tracking_number": "3SDAMAGE0001",
        "new_address": "Side St 2, Utrecht",
    }
    lines = by_row(mixed.with_suffix(".results.xlsx"))
    refused = lines[2 + len(WEEK) + len(BAD)]
    assert (refused["status"], refused["http_status"]) == ("rejected", 422)
    assert "Parcel is still in transit" in refused["error_detail"]
    assert sum(line["status"] == "submitted" for line in lines.values()) == len(WEEK)
    summary = list(openpyxl.load_workbook(mixed.with_suffix(".results.xlsx"))["Summary"].values)
    per_type = {line[0]: line for line in summary if line and line[0] in {t.value for t in TYPES}}
    assert set(per_type) == {t.value for t in TicketType}

    # A second submit files nothing twice: every claim has its ticket, per type.
    again = run("submit", mixed, "--journal", journal, "--out", tmp_path / "2.xlsx", *SCALED_FLAGS)
    assert again.exit_code == 1, again.output
    assert len(tickets(api_env)) == len(WEEK)
    second = by_row(tmp_path / "2.xlsx")
    assert sum(line["status"] == "already_submitted" for line in second.values()) == len(WEEK)


def test_retry_keeps_each_rows_type(api_env: Any, mixed: Path, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite3"
    run("submit", mixed, "--journal", journal, *SCALED_FLAGS)
    results = mixed.with_suffix(".results.xlsx")
    book = openpyxl.load_workbook(results)
    failed = book["Failed rows"]
    header = [cell.value for cell in failed[1]]
    for line in failed.iter_rows(min_row=2):
        if line[0].value == "3SLOST00003":  # the value a lost claim has no field for
            line[header.index("new_address")].value = None
    book.save(results)
    result = run("retry", results, "--journal", journal, *SCALED_FLAGS)
    assert result.exit_code == 1, result.output
    lines = by_row(mixed.with_name("claims.results-2.xlsx"))
    fixed = next(line for line in lines.values() if line["tracking_number"] == "3SLOST00003")
    assert (fixed["status"], fixed["ticket_type"]) == ("submitted", "lost")
    lost = [t for t in tickets(api_env) if t["body"]["tracking_number"] == "3SLOST00003"]
    assert [(t["type"], t["body"]) for t in lost] == [("lost", {"tracking_number": "3SLOST00003"})]
    assert len(tickets(api_env)) == len(WEEK) + 1


def test_a_sheet_without_a_type_column_takes_the_run_default(api_env: Any, tmp_path: Path) -> None:
    sheet = write_sheet(
        tmp_path,
        [["3SDEFAULT001", OWN, 4711]],
        ["tracking_number", "contract_type", "carrier_contract_id"],
    )
    result = run("submit", sheet, "--ticket-type", "lost", *SCALED_FLAGS)
    assert result.exit_code == 0, result.output
    assert [(t["type"], t["body"]) for t in tickets(api_env)] == [
        ("lost", {"tracking_number": "3SDEFAULT001", "carrier_contract_id": 4711})
    ]
    assert run("validate", sheet, "--ticket-type", "parcel").exit_code == 2


def test_every_type_has_words_in_five_languages_and_one_meaning() -> None:
    for spec in TYPES.values():
        assert ticket_type_of(spec.type.value) is spec.type
        assert ticket_type_of(spec.type.value.replace("-", "_").upper()) is spec.type
        assert len(spec.aliases) >= 5
        assert all(ticket_type_of(alias) is spec.type for alias in spec.aliases)


def test_the_readme_columns_table_names_every_type_and_column() -> None:
    table = markdown_table()
    assert all(f"`{column.name}`" in table for column in COLUMNS)
    assert "| `carrier_claim_form` | lost, delivered-but-not-received |" in table


# The client's and the sandbox's definitions are written apart on purpose (a slip in one
# cannot hide behind the other); they must agree on what a body may hold and need. The
# client may require more than the API (an `other` ticket without its question helps no
# one), never less, and never sends a field the API does not define.
STRICTER = {("other", OWN): {"subject", "question"}}


@pytest.mark.parametrize("ticket_type", list(TicketType))
def test_the_client_and_the_sandbox_agree_on_every_type(ticket_type: TicketType) -> None:
    from batch_claims.sandbox.ticket_types import TICKET_TYPES

    spec, served = TYPES[ticket_type], TICKET_TYPES[ticket_type.value]
    assert {v.value for v in spec.contracts} == set(served.contracts)
    assert spec.portal_claim == served.portal_claims
    for variant in spec.contracts:
        accepted = served.variant(variant.value)
        assert accepted is not None
        sent = {name for name, rule in spec.fields.items() if variant in rule.allowed}
        assert sent | {"tracking_number"} == set(accepted.fields)
        needed = set(accepted.validator.schema.get("required") or ())
        if ticket_type is not TicketType.DAMAGE:  # damage: the vendored document's own form
            required = {c.name for c in required_columns(variant, ticket_type)}
            assert required - STRICTER.get((ticket_type.value, variant.value), set()) == needed
