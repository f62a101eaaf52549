"""Columns the sheet lacks or cannot be matched: told once, and never silently dropped."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_claims.cli import cli
from batch_claims.columns import COLUMNS, normalise_header
from batch_claims.read.headers import header_lookup
from batch_claims.settings import Settings, build_settings, load_config
from batch_claims.validate.prepare import prepare
from tests.sheet_fixtures import write_xlsx

OWN = ["Tracking number", "Contract type", "Carrier contract ID"]


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def results(path: Path, sheet: str = "Results") -> list[dict[str, Any]]:
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


def summary_notices(path: Path) -> list[str]:
    rows = list(openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == "notices")
    notices = []
    for row in rows[start + 1 :]:
        if row[0] is not None or row[1] is None:
            break
        notices.append(str(row[1]))
    return notices


# --- a header that looks like a column but is not one -------------------------------------


def test_typo_header_with_a_value_makes_its_row_invalid_naming_header_and_fix(
    tmp_path: Path,
) -> None:
    sheet = write_xlsx(
        tmp_path / "typo.xlsx",
        [
            [*OWN, "contents_purchace_price"],
            ["3SABC0000001", "own_contract", 12, "8.00"],
            ["3SABC0000002", "own_contract", 12, None],
        ],
    )
    out = tmp_path / "out.xlsx"
    result = run("validate", sheet, "--out", out)
    assert result.exit_code == 1
    first, second = results(out)
    assert first["status"] == "invalid"
    assert first["error_detail"] == (
        'row 2, "contents_purchace_price": "8.00" would not be sent — the header is not a '
        "column batch-claims knows (did you mean contents_purchase_price?); rename the "
        "header to contents_purchase_price, or map it in batch-claims.toml: [columns] "
        '"contents_purchace_price" = "contents_purchase_price"'
    )
    assert second["status"] == "valid"  # an empty cell under it costs nothing
    assert "did you mean contents_purchase_price?" in result.output


def test_header_holding_a_column_name_is_a_lookalike(tmp_path: Path) -> None:
    sheet = write_xlsx(
        tmp_path / "vat.xlsx",
        [[*OWN, "Purchase price incl. VAT", "Internal notes"], ["3SABC0000001", "own", 5, 9, "x"]],
    )
    out = tmp_path / "out.xlsx"
    run("validate", sheet, "--out", out)
    (row,) = results(out)
    assert row["status"] == "invalid"
    assert '"Purchase price incl. VAT": 9 would not be sent' in row["error_detail"]
    assert "Internal notes" not in row["error_detail"]  # a plain unknown column is carried


def test_mapping_the_lookalike_in_the_config_sends_its_value(tmp_path: Path) -> None:
    sheet = write_xlsx(
        tmp_path / "typo.xlsx",
        [[*OWN, "contents_purchace_price", "Currency"], ["3SABC0000001", "own", 12, "8.00", "EUR"]],
    )
    config = tmp_path / "batch-claims.toml"
    config.write_text('[columns]\n"contents_purchace_price" = "contents_purchase_price"\n')
    settings = build_settings(load_config(config), {})
    prepared = prepare(sheet, None, settings)
    (claim,) = prepared.claims
    assert (
        str(claim.fields["contents_purchase_price"])
        == "Money(price=Decimal('8.00'), currency='EUR')"
    )


_LONG_NAMES = sorted(
    {
        (column.name, text)
        for column in COLUMNS
        for text in (column.name, *column.aliases)
        if len(normalise_header(text)) >= 8
    }
)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(_LONG_NAMES),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(["delete", "insert", "swap", "replace"]),
    st.sampled_from("aeioustxz"),
)
def test_a_one_letter_typo_of_any_column_is_never_silently_dropped(
    tmp_path_factory: Any, name: tuple[str, str], where: int, edit: str, letter: str
) -> None:
    column, text = name
    at = where % len(text)
    if edit == "delete":
        typo = text[:at] + text[at + 1 :]
    elif edit == "insert":
        typo = text[:at] + letter + text[at:]
    elif edit == "swap" and at + 1 < len(text):
        typo = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    else:
        typo = text[:at] + letter + text[at + 1 :]
    tmp = tmp_path_factory.mktemp("typo")
    headers = ["Tracking number", typo] if column != "tracking_number" else ["Zending", typo]
    sheet = write_xlsx(tmp / "t.xlsx", [headers, ["3SABC0000001", "some value"]])
    lookup = header_lookup()
    try:
        prepared = prepare(sheet, None, Settings())
    except Exception as exc:  # no tracking column left: refused as a whole, never sent
        assert "no header row" in str(exc)
        return
    mapped = (
        normalise_header(typo) in lookup
        or typo in prepared.table.headers
        and any(prepared.table.headers[i] == typo for i in prepared.table.mapping.values())
    )
    if mapped:
        return  # the typo is itself a known name: its value is read
    (item,) = prepared.items
    codes = {error.code for error in getattr(item, "errors", ())}
    assert "unrecognised_column" in codes, (typo, column)


# --- a required column the sheet lacks --------------------------------------------------


def test_missing_required_column_is_told_once_at_the_top_and_in_the_summary(
    tmp_path: Path,
) -> None:
    header = [
        "Tracking number",
        "Sales value",
        "Currency",
        "Contents",
        "Box condition",
        "Remarks",
    ]
    rows = [[f"3SABC000000{i}", 10, "EUR", "shoes", "brown box", "dented"] for i in range(1, 6)]
    sheet = write_xlsx(tmp_path / "week.xlsx", [header, *rows])
    out = tmp_path / "out.xlsx"
    result = run("validate", sheet, "--out", out, "--photos", tmp_path)
    assert result.exit_code == 1
    expected = (
        "the sheet has no column for parcel_exterior_description (required for "
        "sendcloud_rates claims: 5 rows; those rows are invalid); not recognised: "
        '"Box condition" — if one of them is such a column, map it in batch-claims.toml, '
        'e.g. [columns] "Box condition" = "parcel_exterior_description"'
    )
    lines = [re.sub(r"^\S+Z ", "", line) for line in result.output.splitlines()]
    assert lines[1] == expected  # right after "read week.xlsx, …"
    assert result.output.count("parcel_exterior_description (required") == 1
    assert "the sheet has no such column" not in result.output  # not once per row
    assert summary_notices(out)[0] == expected
    # Each row still says why it has no ticket.
    assert all("no such column" in row["error_detail"] for row in results(out))


def test_no_missing_column_notice_when_rows_do_not_need_it(tmp_path: Path) -> None:
    sheet = write_xlsx(
        tmp_path / "own.xlsx", [[*OWN, "Box condition"], ["3SABC0000001", "own", 5, None]]
    )
    prepared = prepare(sheet, None, Settings())
    assert prepared.sheet_problems == ()


def test_missing_column_without_unrecognised_headers_says_how_to_map_one(
    tmp_path: Path,
) -> None:
    sheet = write_xlsx(tmp_path / "bare.xlsx", [["Tracking number"], ["3SABC0000001"]])
    prepared = prepare(sheet, None, Settings())
    (notice,) = prepared.sheet_problems
    assert notice.startswith(
        "the sheet has no columns for contents_sales_price, contents_description, "
        "parcel_exterior_description, additional_remarks (required for sendcloud_rates "
        "claims: 1 row; those rows are invalid); add the columns to the sheet, or map your "
        'own header in batch-claims.toml: [columns] "Your header" = "contents_sales_price"'
    )
