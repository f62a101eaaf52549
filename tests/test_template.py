"""The blank input workbook is generated from columns.py and ticket_types.py and never
drifts from them: every type and every column it requires appears in its guidance."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from batch_claims.columns import (
    BY_NAME,
    COLUMNS,
    EXAMPLE_ROW,
    EXAMPLE_TRACKING_NUMBER,
    TRACKING_NUMBER,
    Kind,
    Variant,
)
from batch_claims.read.sheet import read_sheet
from batch_claims.report.guidance import PURPOSE
from batch_claims.report.template import write_template
from batch_claims.ticket_types import TYPES, TicketType, required_for
from batch_claims.validate.attachments import MAX_FILE_SIZE
from batch_claims.validate.rows import validate_table
from tests.sheet_fixtures import table

COMMITTED = Path(__file__).resolve().parent.parent / "templates" / "claims_template.xlsx"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.xlsx"
    write_template(path)
    return path


def header(sheet: Worksheet) -> list[object]:
    return [cell.value for cell in sheet[1]]


def test_sheets_present_claims_first(template: Path) -> None:
    assert load_workbook(template).sheetnames == [
        "Claims",
        "Ticket types",
        "Columns",
        "Instructions",
    ]


def test_headers_are_the_canonical_columns(template: Path) -> None:
    sheet = load_workbook(template)["Claims"]
    assert header(sheet) == [c.name for c in COLUMNS]
    assert sheet.max_row == 2  # the header and the example row
    assert sheet.freeze_panes == "B2"
    assert all(cell.font.bold for cell in sheet[1])


def test_committed_template_matches_columns(template: Path) -> None:
    assert COMMITTED.exists(), "run: batch-claims template templates/claims_template.xlsx"
    committed = load_workbook(COMMITTED)
    fresh = load_workbook(template)
    assert committed.sheetnames == fresh.sheetnames
    for name in fresh.sheetnames:
        assert list(committed[name].values) == list(fresh[name].values), name


ALL_TYPES = {t.value for t in TicketType}


def types_in(phrase: str) -> set[str]:
    """The ticket types a guidance phrase lists ("every type" is all of them)."""
    if phrase == "every type":
        return set(ALL_TYPES)
    named = set(phrase.split(", "))
    assert named <= ALL_TYPES, phrase
    return named


def requiring(text: str) -> dict[Variant, set[str]]:
    """Per contract, the types a "Required ..." sentence says need the column."""
    found: dict[Variant, set[str]] = {variant: set() for variant in Variant}
    if text == "Never required":
        return found
    if text.endswith(" (both contracts)"):
        types = types_in(text.removeprefix("Required for ").removesuffix(" (both contracts)"))
        return {variant: set(types) for variant in Variant}
    for part in text.removeprefix("Required ").split("; "):
        variant, _, types = part.removeprefix("with ").partition(" for ")
        found[Variant(variant)] = types_in(types)
    return found


def required_by_data(name: str) -> dict[Variant, set[str]]:
    """Per contract, the types whose definition requires the column."""
    return {
        variant: {t.value for t in TicketType if variant in required_for(name, t)}
        for variant in Variant
    }


def test_header_notes_say_per_type_what_is_required(template: Path) -> None:
    sheet = load_workbook(template)["Claims"]
    for cell, column in zip(sheet[1], COLUMNS, strict=True):
        assert cell.comment is not None
        help_line, used, required, pointer = cell.comment.text.split("\n")
        assert help_line == column.help
        assert types_in(used.removeprefix("Used by: ").removesuffix(".")) == {
            t.value for t, spec in TYPES.items() if spec.uses(column.name)
        }
        assert requiring(required.removesuffix(".")) == required_by_data(column.name)
        assert pointer == "See the 'Ticket types' sheet for what each type needs."
        # Highlighted when some type needs it for some contract.
        needed = any(required_by_data(column.name).values())
        assert (cell.fill.start_color.rgb == "FFFFF2CC") is needed, column.name


def listed(line: str, label: str) -> list[str]:
    """The column names on a "Fill: a, b (+ c or currency)" line of the guidance."""
    assert line.startswith(f"{label}: "), line
    items = line.removeprefix(f"{label}: ")
    return [] if items == "nothing" else [item.split(" (")[0] for item in items.split(", ")]


def test_ticket_types_sheet_guides_every_type_per_contract(template: Path) -> None:
    rows = list(load_workbook(template)["Ticket types"].values)
    assert rows[0][:5] == (
        "ticket_type",
        "what it is for",
        "contract types it accepts",
        "own_contract parcels",
        "sendcloud_rates parcels",
    )
    by_type = {row[0]: row for row in rows[1 : 1 + len(TYPES)]}
    assert list(by_type) == [t.value for t in TYPES]
    for kind, spec in TYPES.items():
        row = by_type[kind.value]
        assert row[1] == PURPOSE[kind]
        assert row[2] == ", ".join(v.value for v in Variant if v in spec.contracts)
        assert all(alias in row[5] for alias in spec.aliases)
        for variant, cell in zip(Variant, row[3:5], strict=True):
            if variant not in spec.contracts:
                assert cell.startswith("Not accepted: "), (kind, variant)
                continue
            lines = cell.split("\n")
            required = {TRACKING_NUMBER, *spec.required(variant)}
            fill, attach = listed(lines[0], "Fill"), listed(lines[1], "Attach")
            assert set(fill) == {n for n in required if not BY_NAME[n].is_document}
            assert set(attach) == {n for n in required if BY_NAME[n].is_document}
            rest: list[str] = []
            for line in lines[2:]:
                label = line.split(": ")[0]
                assert label in ("May attach", "Optional"), line
                rest += listed(line, label)
            assert not set(rest) & required
            assert set(spec.documents(variant)) <= set(attach + rest)
            assert all(spec.uses(name) for name in fill + attach + rest)


def test_every_type_has_a_purpose() -> None:
    assert set(PURPOSE) == set(TYPES)
    assert all(sentence.endswith(".") for sentence in PURPOSE.values())


def test_dropdowns(template: Path) -> None:
    sheet = load_workbook(template)["Claims"]
    letters = {cell.value: get_column_letter(i) for i, cell in enumerate(sheet[1], start=1)}
    lists = {
        str(dv.sqref): dv.formula1
        for dv in sheet.data_validations.dataValidation
        if dv.type == "list"
    }
    expected = {
        "contract_type": '"own_contract,sendcloud_rates"',
        "ticket_type": '"' + ",".join(t.value for t in TicketType) + '"',
        "is_portal_claim": '"yes,no"',
        "is_parcel_returned": '"yes,no"',
        "contents_sales_currency": '"EUR,GBP,USD"',
        "contents_purchase_currency": '"EUR,GBP,USD"',
        "currency": '"EUR,GBP,USD"',
    }
    assert lists == {
        f"{letters[name]}2:{letters[name]}1000": formula for name, formula in expected.items()
    }


def test_tracking_number_column_is_text(template: Path) -> None:
    sheet = load_workbook(template)["Claims"]
    assert sheet.cell(1, 1).value == "tracking_number"
    assert sheet.column_dimensions["A"].number_format == "@"


def test_columns_sheet_explains_every_column(template: Path) -> None:
    rows = list(load_workbook(template)["Columns"].values)
    assert rows[0][:5] == (
        "column",
        "used by",
        "required for",
        "meaning",
        "accepted values",
    )
    assert [r[0] for r in rows[1:]] == [c.name for c in COLUMNS]
    for row, column in zip(rows[1:], COLUMNS, strict=True):
        assert row[3] == column.help
        assert row[4]
        assert types_in(str(row[1])) == {
            t.value for t, spec in TYPES.items() if spec.uses(column.name)
        }
        assert requiring(str(row[2])) == required_by_data(column.name)


def test_instructions_mention_the_photo_rules(template: Path) -> None:
    text = "\n".join(
        str(v) for (v,) in load_workbook(template)["Instructions"].iter_rows(values_only=True)
    )
    assert "<tracking_number>/<column>.*" in text
    assert "<tracking_number>_<column>.*" in text
    assert f"{MAX_FILE_SIZE // 1024 // 1024} MB" in text
    assert "application/pdf" in text and "image/*" in text


def test_instructions_explain_the_type_column_and_type_sheets(template: Path) -> None:
    text = "\n".join(
        str(v) for (v,) in load_workbook(template)["Instructions"].iter_rows(values_only=True)
    )
    assert all(t.value in text for t in TicketType)
    assert "'Ticket types' sheet" in text
    assert "Why one sheet for every type" in text
    assert "--sheet NAME" in text and "<workbook>.<sheet>.results.xlsx" in text


def test_write_template_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "t.xlsx"
    target.parent.mkdir()
    write_template(target)
    assert [p.name for p in target.parent.iterdir()] == ["t.xlsx"]


def test_example_row_is_row_2_in_italic_grey(template: Path) -> None:
    sheet = load_workbook(template)["Claims"]
    example = sheet[2]
    expected: list[object] = []
    for column in COLUMNS:
        text = EXAMPLE_ROW[column.name]
        if text and column.kind is Kind.AMOUNT:
            expected.append(float(text))
        else:
            expected.append(text or None)
    assert [cell.value for cell in example] == expected
    assert example[0].value == EXAMPLE_TRACKING_NUMBER
    assert all(cell.font.italic and cell.font.color.rgb == "FF808080" for cell in example)
    assert example[0].comment is not None
    assert example[0].comment.text.startswith("Example row: it shows how a claim is filled in.")
    assert EXAMPLE_TRACKING_NUMBER in example[0].comment.text


def test_example_row_has_one_entry_per_column() -> None:
    assert list(EXAMPLE_ROW) == [c.name for c in COLUMNS]


def test_example_row_is_a_valid_claim_shape(template: Path) -> None:
    # Read as a plain row (other tracking number), the example is a valid rates claim.
    sheet_rows = [[cell.value for cell in row] for row in load_workbook(template)["Claims"]]
    headers = [str(v) for v in sheet_rows[0]]
    example = ["3SABCD1234567", *sheet_rows[1][1:]]
    (parsed,) = validate_table(table(headers, [example]))
    assert parsed.errors == ()
    assert parsed.variant is Variant.SENDCLOUD_RATES


def test_a_forgotten_example_row_is_skipped_with_a_notice(template: Path) -> None:
    read = read_sheet(template)
    assert read.rows == ()
    assert read.skipped_rows == (2,)
    assert read.notices == (
        'read sheet "Claims" (the active sheet); passed over "Ticket types", "Instructions" '
        '(no header row with a tracking number column); "Columns" (a list of column names, '
        "no claims)",
        "row 2 is the template's example row and was skipped",
    )
