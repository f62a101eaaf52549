"""Could python-calamine read the input sheet? Its fidelity next to the reader's, and the
time of each on a large sheet.

Run: ``python benchmarks/readers.py [--sheet FILE.xlsx] [--rows 50000]`` (python-calamine
must be installed: it is no dependency of batch-claims).

First, a small workbook holds one cell of each kind the README promises to read as the
user sees it: a tracking number stored as a number under a ``0000000000`` format, a
percentage, an amount under a currency format, a formula's cached error, a formula never
calculated, a date and a time; the script prints what batch-claims' reader makes of each
and what python-calamine gives. Then, on the large sheet (generated as
``benchmarks/scale.py`` does, or ``--sheet``), each reader is timed in its own process:
a bare ``pandas.read_excel(engine="openpyxl")``, batch-claims' ``read_sheet``, calamine's
values, and calamine's values plus a scan of the sheet's XML for what calamine drops
(each styled cell's number format, error cells, formulas with no value) — the least a
calamine-based reader would have to add to keep the promises.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent

CASES = (
    ("tracking number 1000000 shown as 0001000000", "0001000000"),
    ("0.15 shown as 15%", "15%"),
    ("12.5 shown as £12.50", "12.5 (in GBP)"),
    ("=1/0, cached #DIV/0!", "#DIV/0!"),
    ("=A1*2, never calculated", "a formula with no value"),
    ("2026-01-02 as a date", "2026-01-02"),
    ("10:30 as a time", "10:30:00"),
)

CALAMINE_VALUES = (
    "import sys; from python_calamine import CalamineWorkbook; "
    "CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python()"
)
BARE_READ = "import sys, pandas; pandas.read_excel(sys.argv[1], engine='openpyxl')"
OUR_READ = (
    "import sys; from pathlib import Path; from batch_claims.read.sheet import read_sheet; "
    "read_sheet(Path(sys.argv[1]), None, {})"
)
# calamine's values, then what it drops, found in the package's XML with regular
# expressions (no XML tree): styles.xml's number formats per style index, and per cell
# its style, its type ("e" for an error) and whether it has a formula but no value.
CALAMINE_AND_SCAN = r"""
import re, sys, zipfile
from python_calamine import CalamineWorkbook
rows = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python()
with zipfile.ZipFile(sys.argv[1]) as package:
    styles = package.read("xl/styles.xml").decode()
    sheet = package.read("xl/worksheets/sheet1.xml").decode()
codes = dict(re.findall(r'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', styles))
xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)[1]
formats = [codes.get(i, i) for i in re.findall(r'<xf[^>]*numFmtId="(\d+)"', xfs)]
special = {}
for ref, attributes, body in re.findall(
    r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>(.*?)</c>)', sheet, re.S
):
    if ' s="' in attributes or ' t="e"' in attributes or "<f" in body:
        special[ref] = (attributes, "<v>" in body)
assert rows and formats
"""


def fidelity_sheet(folder: Path) -> Path:
    path = folder / "fidelity.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Claims")
    sheet.write_row(0, 0, ["tracking_number", "share", "price", "error", "formula", "day", "hour"])
    sheet.write_number(1, 0, 1_000_000, book.add_format({"num_format": "0000000000"}))
    sheet.write_number(1, 1, 0.15, book.add_format({"num_format": "0%"}))
    sheet.write_number(1, 2, 12.5, book.add_format({"num_format": "[$£-809]#,##0.00"}))
    sheet.write_formula(1, 3, "=1/0", None, "#DIV/0!")
    sheet.write_formula(1, 4, "=A1*2", None, "")
    sheet.write_datetime(
        1, 5, dt.datetime(2026, 1, 2), book.add_format({"num_format": "yyyy-mm-dd"})
    )
    sheet.write_datetime(1, 6, dt.time(10, 30), book.add_format({"num_format": "h:mm"}))
    book.close()
    return path


def show_fidelity(folder: Path) -> None:
    from python_calamine import CalamineWorkbook

    from batch_claims.read.sheet import read_sheet

    path = fidelity_sheet(folder)
    ours = read_sheet(path, None, {}).rows[0].cells
    theirs = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[1]
    print(f"{'cell':<46} {'shown in Excel':<24} {'batch-claims reads':<28} python-calamine")
    for (label, shown), mine, calamine in zip(CASES, ours, theirs, strict=False):
        print(f"{label:<46} {shown:<24} {_short(mine):<28} {_short(calamine)}")


def _short(value: object) -> str:
    text = f"{type(value).__name__}({value!s})" if value not in ("", None) else repr(value)
    return text if len(text) <= 27 else text[:26] + "…"


def timed(code: str, sheet: Path) -> tuple[float, float]:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code, str(sheet)], env=env, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {code}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sheet", type=Path, help="A large .xlsx (default: generated).")
    parser.add_argument("--rows", type=int, default=50_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="readers-") as scratch:
        folder = Path(scratch)
        show_fidelity(folder)
        sheet = options.sheet
        if sheet is None:
            sys.path.insert(0, str(Path(__file__).parent))
            from scale import write_input  # type: ignore[import-not-found]

            sheet, _ = write_input(folder, options.rows)
        print(f"\n{sheet.name}: {sheet.stat().st_size / 2**20:.1f} MB, one process each")
        for label, code in (
            ("bare pandas.read_excel (openpyxl)", BARE_READ),
            ("batch-claims read_sheet", OUR_READ),
            ("python-calamine values", CALAMINE_VALUES),
            ("python-calamine + XML scan of formats", CALAMINE_AND_SCAN),
        ):
            seconds, peak = timed(code, sheet)
            print(f"  {label:<40} {seconds:6.2f} s  {peak:5.0f} MB")


if __name__ == "__main__":
    main()
