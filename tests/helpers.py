"""Helpers the tests share: running the CLI in-process, reading results workbooks,
asking the sandbox what it received, and writing small input sheets and photos.

Fixtures live in ``conftest.py``; these are plain functions, imported by name."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import openpyxl
import requests
from click.testing import CliRunner, Result

from batch_claims.cli import cli
from batch_claims.send.interfaces import RunHooks
from tests.conftest import SCALED_FLAGS

# The sample week's rows and what a first submit gives each.
EXPECTED = {
    "3SSCL0000000101": "submitted",
    "3SSCL0000000102": "submitted",
    "3SSCL0000000103": "submitted",
    "JJD000390007812345": "submitted",
    "00340434161094015": "submitted",
    "1234567890123": "submitted",
    "NOTFOUND-9981": "rejected",
    "DELIVERED-4410": "rejected",
    "3SOWN0000000999": "rejected",
    "3SSCL0000000110": "invalid",
    "3SSCL0000000111": "invalid",
    "3SSCL0000000112": "invalid",
    "3SSCL0000000114": "submitted",
}


def run(*args: str | Path, hooks: RunHooks | None = None) -> Result:
    """The CLI in-process; ``hooks`` (a fault hook at the run's crash points) are handed
    to it as tests/crash_entry.py does, never through the shipped command line."""
    return CliRunner().invoke(cli, [str(a) for a in args], obj=hooks, catch_exceptions=False)


def submit_once(week: Path, tmp_path: Path) -> Path:
    """Submit the week with a journal in tmp_path; the results workbook."""
    first = tmp_path / "first.xlsx"
    run(
        "submit",
        week,
        "--journal",
        tmp_path / "j.sqlite3",
        "--out",
        first,
        "--quiet",
        *SCALED_FLAGS,
    )
    return first


def results_rows(path: Path, sheet: str = "Results") -> list[dict[str, Any]]:
    workbook = openpyxl.load_workbook(path)
    rows = list(workbook[sheet].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def tickets(server: Any) -> list[dict[str, Any]]:
    answer = requests.get(f"{server.root_url}/sandbox/tickets", timeout=5)
    answer.raise_for_status()
    data: list[dict[str, Any]] = answer.json()
    return data


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def write_sheet(folder: Path, rows: list[list[object]], headers: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    path = folder / "claims.xlsx"
    workbook.save(path)
    return path


def photo(folder: Path, name: str, salt: bytes = b"") -> bytes:
    """A real PNG, made unique by a trailing comment-like chunk-free suffix."""
    data = PNG + salt
    target = folder / "photos" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return data


def a_real_journal(tmp_path: Path) -> tuple[Path, Path]:
    """A sheet of two rows (one with a photo) submitted once to the sandbox that the
    environment points at (``api_env``): the sheet and its journal, closed."""
    photo(tmp_path, "3SJOURNAL0/damage_photo_1.png", b"zero")
    sheet = write_sheet(
        tmp_path,
        [["3SJOURNAL0", "own_contract"], ["3SJOURNAL1", "own_contract"]],
        ["tracking_number", "contract_type"],
    )
    journal = tmp_path / "j.sqlite3"
    assert run("submit", sheet, "--journal", journal, *SCALED_FLAGS).exit_code == 0
    return sheet, journal
