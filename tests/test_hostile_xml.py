"""Workbooks come from outside the team: with defusedxml installed (a dependency),
openpyxl refuses XML entity declarations — a "billion laughs" never expands."""

from __future__ import annotations

import gc
import zipfile
from pathlib import Path

import openpyxl
import pytest

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


# openpyxl leaves the archive open when it refuses the sheet (sheet.py's reader passes
# it a path); the warning of that leak is collected here, in this test, not in another.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_workbook_with_an_entity_expansion_is_refused_not_expanded(tmp_path: Path) -> None:
    workbook = laughing_workbook(tmp_path)
    result = run("validate", workbook)
    code, output = result.exit_code, result.output
    del result  # its traceback holds the leaked archive: release and collect it here
    gc.collect()
    assert code == 2
    assert "claims.xlsx: cannot be read as an Excel workbook" in output
    assert "lol" not in output
    assert not workbook.with_suffix(".results.xlsx").exists()
