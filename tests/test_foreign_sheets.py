"""Sheets as other programs write them (issue 8 QA): openpyxl, XlsxWriter and pandas
workbooks, exported CSV files. Each test writes the file with the producer itself and
checks what a careful clerk would expect of the run."""

from __future__ import annotations

import io
import string
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import xlsxwriter  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from batch_claims.outcome import Claim, Money, RowOutcome
from batch_claims.settings import Settings
from batch_claims.validate.coerce import parse_tracking_number
from batch_claims.validate.prepare import Prepared, prepare

HEAD = ["Tracking number", "Contract type", "Carrier contract ID", "Sales value"]
HEAD += ["Purchase value", "Currency", "Contents description"]


def checked(sheet: Path) -> Prepared:
    return prepare(sheet, None, Settings())


def by_row(prepared: Prepared) -> dict[int, Claim | RowOutcome]:
    return {item.row: item for item in prepared.items}


def messages(item: Claim | RowOutcome) -> list[str]:
    assert isinstance(item, RowOutcome), f"row {item.row} was valid: {item}"
    return [error.message for error in item.errors]


# --- formulas the writing program never calculated --------------------------------------


def test_openpyxl_formulas_have_no_result_and_are_never_dropped(tmp_path: Path) -> None:
    """openpyxl stores a formula without its result: read as blank, the purchase value
    and contract ID the user wrote were silently left out of the ticket."""
    sheet = tmp_path / "openpyxl.xlsx"
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.append(HEAD)
    ws.append(["3SFORM0000001", "own_contract", 4711, 10, "=D2*0.5", "EUR", "mug"])
    ws.append(["3SFORM0000002", "own_contract", "=4711", 10, 4, "EUR", "lamp"])
    ws.append(["3SFORM0000003", "own_contract", 4711, 10, 4, "EUR", "vase"])
    workbook.save(sheet)

    rows = by_row(checked(sheet))
    assert messages(rows[2]) == [
        'row 2, "Purchase value": =D2*0.5 was never calculated: the program that wrote '
        "this file stores formulas without their results (open the file in Excel and save "
        "it, or type the value itself)"
    ]
    assert [m.split(":")[0] for m in messages(rows[3])] == ['row 3, "Carrier contract ID"']
    assert isinstance(rows[4], Claim)


def test_xlsxwriter_formulas_store_a_zero_that_is_never_sent(tmp_path: Path) -> None:
    """XlsxWriter stores 0 as the result of a formula it was given no value for: sent
    as a purchase value of 0 and a description "0" while Excel shows 5 and LAMP."""
    sheet = tmp_path / "xlsxwriter.xlsx"
    workbook = xlsxwriter.Workbook(str(sheet))
    ws = workbook.add_worksheet("Claims")
    ws.write_row(0, 0, HEAD)
    ws.write_row(1, 0, ["3SXLFM0000001", "own_contract", 4711, 10])
    ws.write_formula(1, 4, "=D2*0.5")
    ws.write_row(1, 5, ["EUR", "mug"])
    ws.write_row(2, 0, ["3SXLFM0000002", "own_contract", 4711, 10, 4, "EUR"])
    ws.write_formula(2, 6, '=UPPER("lamp")')
    ws.write_row(3, 0, ["3SXLFM0000003", "own_contract", 4711])
    ws.write_formula(3, 3, "=2*6", None, 12)  # the writer calculated this one
    ws.write_row(3, 4, [4, "EUR", "x"])
    workbook.close()

    rows = by_row(checked(sheet))
    assert [m.split(":")[0] for m in messages(rows[2])] == ['row 2, "Purchase value"']
    assert "=D2*0.5 was never calculated" in messages(rows[2])[0]
    assert [m.split(":")[0] for m in messages(rows[3])] == ['row 3, "Contents description"']
    claim = rows[4]
    assert isinstance(claim, Claim)
    assert claim.fields["contents_sales_price"] == Money(Decimal(12), "EUR")


def test_pandas_text_starting_with_equals_is_never_sent_as_zero(tmp_path: Path) -> None:
    """pandas' XlsxWriter engine writes text that starts with "=" as a formula."""
    sheet = tmp_path / "pandas.xlsx"
    frame = pd.DataFrame(
        {
            "tracking_number": ["3SEQTX0000001", "3SEQTX0000002"],
            "contract_type": ["own_contract", "own_contract"],
            "contents_description": ["=== FRAGILE ===", "mug"],
        }
    )
    with pd.ExcelWriter(sheet, engine="xlsxwriter") as writer:
        frame.to_excel(writer, index=False)

    rows = by_row(checked(sheet))
    assert "=== FRAGILE === was never calculated" in messages(rows[2])[0]
    assert isinstance(rows[3], Claim) and rows[3].fields["contents_description"] == "mug"


def _as_excel_saves_it(data: bytes) -> bytes:
    """The workbook as Excel stores it: every result calculated, no request to
    calculate on opening (XlsxWriter's ``fullCalcOnLoad`` removed)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/workbook.xml":
                assert b'fullCalcOnLoad="1"' in content
                content = content.replace(b' fullCalcOnLoad="1"', b"")
            target.writestr(item, content)
    return out.getvalue()


@pytest.mark.parametrize("result", [0, ""])
def test_a_formula_excel_calculated_keeps_its_result(tmp_path: Path, result: Any) -> None:
    """Excel's own 0 or empty result of a formula is what the user sees: kept."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = workbook.add_worksheet("Claims")
    ws.write_row(0, 0, HEAD)
    ws.write_row(1, 0, ["3SCALC0000001", "own_contract", 4711, 10])
    ws.write_formula(1, 4, '=IF(D2>100,D2*0.5,"")' if result == "" else "=D2*0", None, result)
    ws.write_row(1, 5, ["EUR", "mug"])
    workbook.close()
    sheet = tmp_path / "excel.xlsx"
    sheet.write_bytes(_as_excel_saves_it(buffer.getvalue()))

    [claim] = checked(sheet).items
    assert isinstance(claim, Claim), claim
    purchase = claim.fields.get("contents_purchase_price")
    assert purchase == (Money(Decimal(0), "EUR") if result == 0 else None)


# --- tracking numbers that are fillers ----------------------------------------------------


def test_a_zero_padded_tracking_format_showing_zero_is_no_tracking_number(
    tmp_path: Path,
) -> None:
    """DPD numbers kept as numbers with a 14-zero format: a lookup that found nothing
    (Excel calculated 0) shows 00000000000000, which no carrier issues."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = workbook.add_worksheet("Claims")
    padded = workbook.add_format({"num_format": "00000000000000"})
    ws.write_row(0, 0, ["Tracking number", "Contract type", "Carrier contract ID"])
    ws.write_number(1, 0, 1234567890123, padded)
    ws.write_formula(2, 0, "=VLOOKUP(B3,Orders!A:B,2,0)", padded, 0)
    for row in (1, 2):
        ws.write_row(row, 1, ["own_contract", 4711])
    workbook.close()
    sheet = tmp_path / "dpd.xlsx"
    sheet.write_bytes(_as_excel_saves_it(buffer.getvalue()))

    rows = by_row(checked(sheet))
    assert isinstance(rows[2], Claim) and rows[2].tracking_number == "01234567890123"
    assert messages(rows[3]) == [
        'row 3, "Tracking number": "00000000000000" is a placeholder, not a tracking number '
        "(fill in the parcel's tracking number as on its label, or remove the row)"
    ]


@given(
    char=st.sampled_from(string.ascii_letters + string.digits),
    length=st.integers(min_value=8, max_value=40),
    hyphen=st.booleans(),
)
def test_one_character_repeated_is_never_a_tracking_number(
    char: str, length: int, hyphen: bool
) -> None:
    text = char * length
    if hyphen:
        text = text[:4] + "-" + text[4:]
    value, problem = parse_tracking_number(text)
    assert value is None and problem is not None
    assert problem.code == "not_a_tracking_number"


# --- wrapped header cells (Alt+Enter in Excel) ---------------------------------------------


def _wrapped_headers(path: Path) -> Path:
    """Headers wrapped with Alt+Enter, as finance sheets often have them."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.append(
        ["Tracking\nnumber", "Contract\ntype", "Sales\nvalue (€)", "Currency"]
        + ["Contents\ndescription", "Box\r\ncondition", "Purchace\nprice", "Additional\nremarks"]
    )
    ws.append(["3SWRAP0000001", "sendcloud_rates", 12, "GBP", "mug", "brown box", 4, "-"])
    workbook.save(path)
    return path


def test_wrapped_headers_are_named_on_one_line(tmp_path: Path) -> None:
    prepared = checked(_wrapped_headers(tmp_path / "wrapped.xlsx"))
    notices = [*prepared.notices, *messages(prepared.items[0])]
    assert all("\n" not in text and "\r" not in text for text in notices), notices
    assert any('"Sales value (€)" says EUR but "Currency" says GBP' in m for m in notices)
    assert any(m.startswith('row 2, "Purchace price": 4 would not be sent') for m in notices)


def test_the_config_line_offered_for_a_wrapped_header_is_valid_toml(tmp_path: Path) -> None:
    """The line the run offers must work when pasted into batch-claims.toml."""
    import tomllib

    from batch_claims.settings import build_settings

    sheet = _wrapped_headers(tmp_path / "wrapped.xlsx")
    [missing] = checked(sheet).sheet_problems
    line = missing.split("e.g. [columns] ", 1)[1]
    assert line == '"Box condition" = "parcel_exterior_description"'
    config = tomllib.loads(f"[columns]\n{line}\n")
    mapped = prepare(sheet, None, build_settings(config, env={}))
    assert mapped.sheet_problems == ()
    assert "parcel_exterior_description" in mapped.table.mapping


# --- the last rows of a sheet ---------------------------------------------------------------


def test_a_last_claim_without_its_tracking_number_is_reported_never_lost(
    tmp_path: Path,
) -> None:
    """The last rows of a week: a parcel whose number is still to come ("TBD"), one whose
    number was forgotten, then the totals. Only the totals are left out."""
    sheet = tmp_path / "week.csv"
    sheet.write_text(
        "Tracking number,Contract type,Carrier contract ID,Sales value,Currency,"
        "Contents description\r\n"
        "3SLAST0000001,own_contract,4711,10,EUR,mug\r\n"
        "TBD,own_contract,4711,12,EUR,lamp\r\n"
        ",own_contract,4711,13,EUR,vase\r\n"
        ",,,35,EUR,\r\n"
        ",,,,,checked by Anna\r\n",
        encoding="utf-8",
    )
    prepared = checked(sheet)
    rows = by_row(prepared)
    assert sorted(rows) == [2, 3, 4]
    assert messages(rows[3]) == [
        'row 3, "Tracking number": "TBD" is a placeholder, not a tracking number (fill in '
        "the parcel's tracking number as on its label, or remove the row)"
    ]
    assert messages(rows[4]) == [
        'row 4, "Tracking number": missing (every row needs a tracking number)'
    ]
    assert prepared.table.skipped_rows == (5, 6)
    assert "rows 5 and 6 have no tracking number and were ignored" in " ".join(prepared.notices)


# --- control characters as workbooks store them (_x000D_) ---------------------------------


def test_text_pasted_with_windows_line_ends_reads_as_excel_shows_it(tmp_path: Path) -> None:
    """Excel (and XlsxWriter) store a carriage return as ``_x000D_``: it was sent in the
    ticket as those seven characters, and a tracking number pasted with its line end
    was refused for an "_" the user cannot see."""
    sheet = tmp_path / "pasted.xlsx"
    workbook = xlsxwriter.Workbook(str(sheet))
    ws = workbook.add_worksheet("Claims")
    ws.write_row(0, 0, ["Tracking number", "Contract type", "Contents description"])
    ws.write_row(1, 0, ["3SCRLF0000001\r\n", "own_contract", "Mug broken\r\nHandle missing"])
    ws.write_row(2, 0, ["3SCTRL\x000000002", "own_contract", "x"])
    workbook.close()
    with zipfile.ZipFile(sheet) as archive:  # stored as Excel stores it
        assert b"_x000D_" in archive.read("xl/sharedStrings.xml")

    rows = by_row(checked(sheet))
    claim = rows[2]
    assert isinstance(claim, Claim), claim
    assert claim.tracking_number == "3SCRLF0000001"
    assert claim.fields["contents_description"] == "Mug broken\r\nHandle missing"
    [message] = messages(rows[3])
    assert "an invisible character (U+0000) is never part of one" in message
    assert message.isprintable(), message


def test_text_typed_like_an_escape_reads_as_typed(tmp_path: Path) -> None:
    """Text typed as "_x000D_" is stored as "_x005F_x000D_" (the underscore escaped):
    read as a carriage return, it changed the words the user wrote."""
    sheet = tmp_path / "typed.xlsx"
    workbook = xlsxwriter.Workbook(str(sheet))
    ws = workbook.add_worksheet("Claims")
    ws.write_row(0, 0, ["Tracking number", "Contract type", "Contents description"])
    ws.write_row(1, 0, ["3SESCP0000001", "own_contract", "Label_x000D_kept"])
    workbook.close()
    with zipfile.ZipFile(sheet) as archive:  # stored as Excel stores it
        assert b"Label_x005F_x000D_kept" in archive.read("xl/sharedStrings.xml")

    [claim] = checked(sheet).items
    assert isinstance(claim, Claim), claim
    assert claim.fields["contents_description"] == "Label_x000D_kept"


# --- values under no header ------------------------------------------------------------------


def test_values_under_a_blank_header_are_never_dropped_without_a_word(tmp_path: Path) -> None:
    """pandas writes its index under a blank header; a clerk forgets a header. Either
    way the values are not read, and the run says so."""
    frame = pd.DataFrame(
        {
            "Tracking number": ["3SBLNK0000001", "3SBLNK0000002"],
            "Contract type": ["own_contract", "own_contract"],
        }
    )
    indexed = tmp_path / "indexed.xlsx"
    frame.to_excel(indexed, engine="openpyxl")  # index=True: column A, no header
    forgotten = tmp_path / "forgotten.csv"
    forgotten.write_text(
        "Tracking number,,Currency,Contract type\r\n"
        "3SBLNK0000001,12.50,EUR,own_contract\r\n3SBLNK0000002,,EUR,own_contract\r\n",
        encoding="utf-8",
    )

    index_notice = [n for n in checked(indexed).notices if "under no header" in n]
    assert index_notice == [
        "values under no header were not read: column A (rows 2 and 3, e.g. 0) — give the "
        "column a header (a column name, or one mapped in the config's [columns]) to have "
        "them checked and sent"
    ]
    prepared = checked(forgotten)
    assert any('column B (row 2, e.g. "12.50")' in notice for notice in prepared.notices)
    assert len(prepared.claims) == 2  # not a column to refuse rows for: it says nothing


# --- header lines below the header -----------------------------------------------------------


def test_a_header_repeated_by_joining_two_exports_is_skipped_with_a_notice(
    tmp_path: Path,
) -> None:
    """Two weeks' CSV exports joined into one file (``cat a.csv b.csv``), and a sheet
    whose second line translates the header: header lines, not invalid claims."""
    columns = ["Tracking number", "Contract type", "Carrier contract ID"]
    weeks = [
        pd.DataFrame([[f"3SJOIN000000{n}", "own_contract", 4711]], columns=columns) for n in (1, 2)
    ]
    joined = tmp_path / "joined.csv"
    joined.write_text("".join(week.to_csv(index=False) for week in weeks), encoding="utf-8")
    translated = tmp_path / "translated.csv"
    translated.write_text(
        "Tracking number;Contract type;Sales value;Currency\r\n"
        "Trackingnummer;Contractsoort;Verkoopwaarde;Valuta\r\n"
        "3SJOIN0000003;own_contract;12,50;EUR\r\n",
        encoding="utf-8",
    )

    prepared = checked(joined)
    assert [claim.tracking_number for claim in prepared.claims] == [
        "3SJOIN0000001",
        "3SJOIN0000002",
    ]
    assert len(prepared.items) == 2
    assert prepared.table.skipped_rows == (3,)
    assert (
        "row 3 repeats the header (its tracking-number cell names the column) and was skipped"
        in prepared.notices
    )
    prepared = checked(translated)
    assert [item.row for item in prepared.items] == [3]
    assert isinstance(prepared.items[0], Claim)


def _shared_formula_sheet(path: Path, master: str) -> Path:
    """An openpyxl workbook (it asks to be calculated) whose purchase values E2:E3 share
    one formula, ``master`` in E2, as Excel writes a formula filled down."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.append(HEAD)
    ws.append(["3SFORM0000001", "own_contract", 4711, 10, "=D2*2", "EUR", "mug"])
    ws.append(["3SFORM0000002", "own_contract", 4711, 10, "=D3*2", "EUR", "lamp"])
    ws.append(["3SFORM0000003", "own_contract", 4711, 10, 4, "EUR", "vase"])
    workbook.save(path)
    part = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts[part].replace(
        b"<f>D2*2</f>", f'<f t="shared" ref="E2:E3" si="0">{master}</f>'.encode()
    )
    parts[part] = xml.replace(b"<f>D3*2</f>", b'<f t="shared" si="0"/>')
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def test_a_formula_shared_down_a_column_is_named_as_each_cell_holds_it(tmp_path: Path) -> None:
    rows = by_row(checked(_shared_formula_sheet(tmp_path / "shared.xlsx", "D2*2")))

    assert [m.split(" was never")[0] for m in messages(rows[2])] == [
        'row 2, "Purchase value": =D2*2'
    ]
    assert [m.split(" was never")[0] for m in messages(rows[3])] == [
        'row 3, "Purchase value": =D3*2'
    ]
    assert isinstance(rows[4], Claim)


def test_a_shared_formula_that_cannot_be_moved_never_costs_the_run(tmp_path: Path) -> None:
    """A shared formula whose text cannot be moved to the next cell (a bracket closed
    that was never opened): each cell is still no value, shown as written, and the run
    goes on."""
    rows = by_row(checked(_shared_formula_sheet(tmp_path / "shared.xlsx", "D2*2)")))

    for row in (2, 3):
        assert [m.split(" was never")[0] for m in messages(rows[row])] == [
            f'row {row}, "Purchase value": =D2*2)'
        ]
    assert isinstance(rows[4], Claim)


def test_a_negative_zero_is_fingerprinted_as_it_reads_back(tmp_path: Path) -> None:
    """A -0.0 cell (a script's negated 0) is written as 0: the results workbook must not
    look changed by a person afterwards, or the next run refuses to overwrite it."""
    from datetime import datetime

    from batch_claims.outcome import RowOutcome, Status
    from batch_claims.read.table import SheetTable, SourceRow
    from batch_claims.report.fingerprint import canonical, changed_since_written
    from batch_claims.report.workbook import write_results
    from batch_claims.send.interfaces import RunInfo

    assert canonical(-0.0) == canonical(0)
    table = SheetTable(
        source=tmp_path / "in.xlsx",
        sheet_name="Claims",
        header_row=1,
        headers=("tracking_number", "amount"),
        mapping={"tracking_number": 0},
        rows=(SourceRow(2, ("3SNEGZ0000001", -0.0)),),
    )
    outcome = RowOutcome(2, "3SNEGZ0000001", "own_contract", Status.INVALID, error_detail="x")
    now = datetime(2026, 1, 2, 3, 4, 5)
    path = tmp_path / "zero.xlsx"
    write_results(
        path, RunInfo("validate", now, now, "in.xlsx", "0", None, "0", "r"), table, [outcome]
    )
    assert changed_since_written(path) is None
