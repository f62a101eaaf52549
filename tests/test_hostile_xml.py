"""Workbooks come from outside the team: the reader's XML parser refuses every document
type declaration, in every part it reads — a "billion laughs" never expands, and an
external entity (XXE) never reads a file of this machine."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter  # type: ignore[import-untyped]

from tests.helpers import run

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


def laughing_workbook(folder: Path) -> Path:
    """A real workbook whose sheet XML declares nested entities and uses them in a cell
    (small enough that expat's own amplification limit would let it through)."""
    plain = folder / "plain.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["tracking_number", "contract_type"])
    sheet.append(["3SLAUGH", "own_contract"])
    workbook.save(plain)
    target = folder / "claims.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = (LAUGHS + data.decode().replace("3SLAUGH", "&lol3;")).encode()
            out.writestr(name, data)
    return target


def test_a_workbook_with_an_entity_expansion_is_refused_not_expanded(tmp_path: Path) -> None:
    workbook = laughing_workbook(tmp_path)
    result = run("validate", workbook)
    assert result.exit_code == 2
    assert "claims.xlsx: cannot be read as an Excel workbook" in result.output
    assert "lol" not in result.output
    assert not workbook.with_suffix(".results.xlsx").exists()


SECRET = "3SSECRET0000001 never leaves this file"


@pytest.mark.parametrize(
    "part",
    ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "xl/styles.xml"],
)
def test_an_external_entity_in_any_part_is_refused_and_reads_nothing(
    tmp_path: Path, part: str
) -> None:
    """XXE: an entity naming a file of this machine, declared in any part the reader
    parses; the file's text appears nowhere."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    plain = tmp_path / "plain.xlsx"
    with xlsxwriter.Workbook(str(plain)) as book:  # shared strings, as Excel writes them
        sheet = book.add_worksheet("Claims")
        sheet.write_row(0, 0, ["tracking_number", "contract_type"])
        sheet.write_row(1, 0, ["3SXXE00000001", "own_contract"])
    target = tmp_path / "claims.xlsx"
    doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'.encode()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == part:
                head, _, rest = data.partition(b"?>")
                data = head + b"?>" + doctype + rest.replace(b"3SXXE00000001", b"&xxe;")
            out.writestr(name, data)

    result = run("validate", target)

    assert result.exit_code == 2, result.output
    assert "claims.xlsx: cannot be read as an Excel workbook" in result.output
    assert "document type" in result.output
    assert "SECRET" not in result.output
    assert not target.with_suffix(".results.xlsx").exists()
