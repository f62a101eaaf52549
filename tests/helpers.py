"""Helpers the tests share: the scaled limits, running the CLI in-process, pointing it at
a server, reading results workbooks, asking the sandbox what it received, and writing
small input sheets and photos.

Fixtures live in ``conftest.py`` (which takes its constants from here); these are plain
functions and constants, imported by name. No test module imports another one."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests
from click.testing import CliRunner, Result

from batch_claims.cli import cli
from batch_claims.send.interfaces import RunHooks

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"

# Every window divided by 100: a minute of Sendcloud's limits in 0.6 s.
SCALED_LIMITS: dict[str, tuple[int, float]] = {
    "TICKET_LIMIT": (15, 0.6),
    "REQUEST_LIMIT": (100, 0.6),
    "BURST_LIMIT": (15, 0.01),
}
# The same limits for the client, as command-line options.
SCALED_FLAGS = [
    "--ticket-limit",
    "15/0.6",
    "--request-limit",
    "100/0.6",
    "--burst-limit",
    "15/0.01",
]

# The keys ``point_at`` sets unless told others; the secret must never be printed.
PUBLIC_KEY = "test-public"
SECRET_KEY = "test-secret-do-not-leak"

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


# --- running the CLI -----------------------------------------------------------------------


def run(*args: str | Path, hooks: RunHooks | None = None) -> Result:
    """``batch-claims ARGS`` in-process; an unexpected exception fails the test.
    ``hooks`` (a fault hook at the run's crash points) are handed to it as
    tests/crash_entry.py does, never through the shipped command line."""
    return CliRunner().invoke(cli, [str(a) for a in args], obj=hooks, catch_exceptions=False)


def point_at(
    monkeypatch: pytest.MonkeyPatch,
    base_url: str | None,
    public: str = PUBLIC_KEY,
    secret: str = SECRET_KEY,
) -> None:
    """The environment of a user with these keys and (unless None) this base URL."""
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", public)
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", secret)
    if base_url is not None:
        monkeypatch.setenv("SENDCLOUD_BASE_URL", base_url)


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


# --- reading a results workbook ------------------------------------------------------------


def results_rows(path: Path, sheet: str = "Results") -> list[dict[str, Any]]:
    """The lines of one sheet of a results workbook, by header."""
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    header: tuple[Any, ...] = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def statuses(results: Path) -> list[str]:
    """The ``status`` of every line of the Results sheet, in its order."""
    return [str(line["status"]) for line in results_rows(results)]


def summary(results: Path) -> dict[str, object]:
    """The Summary sheet's name → value pairs."""
    rows = openpyxl.load_workbook(results)["Summary"].iter_rows(values_only=True)
    return {str(row[0]): row[1] for row in rows if row and row[0] is not None}


# --- what a sandbox received ---------------------------------------------------------------


def sandbox_list(server: Any, route: str) -> list[dict[str, Any]]:
    """``GET /sandbox/<route>`` of a served sandbox: tickets, files or requests."""
    answer = requests.get(f"{server.root_url}/sandbox/{route}", timeout=5)
    answer.raise_for_status()
    data: list[dict[str, Any]] = answer.json()
    return data


def tickets(server: Any) -> list[dict[str, Any]]:
    return sandbox_list(server, "tickets")


# --- writing inputs ------------------------------------------------------------------------


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def write_sheet(folder: Path, rows: list[list[object]], headers: list[str]) -> Path:
    """``folder/claims.xlsx`` with one header row and these rows."""
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


def own_contract_sheet(folder: Path, count: int, prefix: str) -> Path:
    """``count`` own-contract rows, tracking numbers ``<prefix>0``, ``<prefix>1``…"""
    return write_sheet(
        folder,
        [[f"{prefix}{n}", "own_contract"] for n in range(count)],
        ["tracking_number", "contract_type"],
    )


def photo(folder: Path, name: str, salt: bytes = b"") -> bytes:
    """A real PNG at ``folder/photos/<name>``, made unique by bytes after its end."""
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
