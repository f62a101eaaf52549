"""Read+validate speed and memory on a generated 50,000-row workbook.

Run: ``python benchmarks/read_validate.py [ROWS]``. Prints the time of a bare
``pandas.read_excel`` (default engine, openpyxl), the time of our whole read+validate
(``read_sheet`` + ``validate_table``), their ratio (target: at most 1.5), peak memory,
and, for the engine choice, the time of reading the same file with openpyxl in
read-only mode and with python-calamine (when installed).

The workbook is written by xlsxwriter (a test dependency), not by our own code: both
variants, text and numeric amounts in both conventions, numeric and text tracking
numbers, a leading-zero number format, document paths and a few unknown columns.
"""

from __future__ import annotations

import gc
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter  # type: ignore[import-untyped]

from batch_claims.columns import Variant
from batch_claims.read.sheet import read_sheet
from batch_claims.validate.rows import validate_table

ROWS = 50_000
HEADERS = (
    "Tracking number",
    "Contract type",
    "Carrier contract",
    "Portal claim",
    "Sales value",
    "Purchase value",
    "Currency",
    "Contents",
    "Exterior description",
    "Remarks",
    "damage_photo_1",
    "exterior_photo",
    "Order date",
    "Internal ref",
)


def write_workbook(path: Path, rows: int) -> None:
    # Shared strings, as Excel writes them (constant_memory would write inline strings,
    # which no spreadsheet program produces and openpyxl reads far more slowly).
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Claims")
    zeros = workbook.add_format({"num_format": "0000000000"})
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADERS)
    for i in range(rows):
        r = i + 1
        own = i % 3 == 0
        if i % 10 == 0:
            sheet.write_number(r, 0, 1_000_000 + i, zeros)  # numeric, shown with zeros
        else:
            sheet.write_string(r, 0, f"3SABCD{i:09d}")
        sheet.write_string(r, 1, "own_contract" if own else "sendcloud_rates")
        if own:
            sheet.write_number(r, 2, 10_000 + i % 50)
            sheet.write_string(r, 3, "no")
        if i % 4 == 0:
            sheet.write_string(r, 4, f"{i % 900 + 1},{i % 100:02d}")  # decimal comma text
        elif i % 4 == 1:
            sheet.write_string(r, 4, f"€ {i % 9 + 1}.{i % 1000:03d},50")
        else:
            sheet.write_number(r, 4, (i % 5000) / 4)
        sheet.write_number(r, 5, (i % 700) / 2)
        sheet.write_string(r, 6, "EUR" if i % 4 == 1 else ("EUR", "GBP", "USD")[i % 3])
        sheet.write_string(r, 7, f"{i % 17 + 1} ceramic mugs, model {i % 250}")
        sheet.write_string(r, 8, "brown box, Sendcloud tape")
        sheet.write_string(r, 9, "corner crushed" if i % 2 else "torn open on arrival")
        if not own:
            sheet.write_string(r, 10, f"3SABCD{i:09d}/damage.jpg")
            sheet.write_string(r, 11, f"3SABCD{i:09d}/outside.jpg")
        sheet.write_number(r, 12, 45_000 + i % 365, dates)
        sheet.write_string(r, 13, f"ORD-{i:07d}")
    workbook.close()


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def peak_mib(function: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def max_rss_mib() -> float:
    # Linux reports kilobytes, macOS bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def ours(path: Path) -> int:
    table = read_sheet(path)
    parsed = validate_table(table, Variant.SENDCLOUD_RATES)
    return sum(1 for row in parsed if row.errors)


def openpyxl_read_only(path: Path) -> int:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()


def calamine_rows(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    return len(workbook.get_sheet_by_index(0).to_python())


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "claims.xlsx"
        started = time.perf_counter()
        write_workbook(path, rows)
        print(
            f"workbook: {rows:,} rows x {len(HEADERS)} columns, "
            f"{path.stat().st_size / 2**20:.1f} MiB, written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        rss_before = max_rss_mib()
        t_ours, invalid = timed(lambda: ours(path))
        rss_ours = max_rss_mib() - rss_before
        # pandas 3's default engine for .xlsx is still openpyxl (it warns that this will
        # change to calamine); name it, so the figure does not move silently.
        t_pandas, frame = timed(lambda: pd.read_excel(path, engine="openpyxl"))
        assert len(frame) == rows
        del frame
        print(f"pandas.read_excel (openpyxl)      {t_pandas:7.2f} s")
        print(f"our read_sheet + validate_table   {t_ours:7.2f} s   ({invalid} invalid rows)")
        print(f"ratio ours / pandas               {t_ours / t_pandas:7.2f}   (target <= 1.5)")
        print(f"max RSS growth during ours        {rss_ours:7.1f} MiB")
        print(f"peak memory, ours (tracemalloc)   {peak_mib(lambda: ours(path)):7.1f} MiB")
        print()
        print("engines (bare read of every cell):")
        t_ro, _ = timed(lambda: openpyxl_read_only(path))
        print(f"openpyxl read-only, values only   {t_ro:7.2f} s")
        try:
            import python_calamine  # noqa: F401
        except ImportError:
            print("python-calamine                   not installed (pip install python-calamine)")
        else:
            t_cal, _ = timed(lambda: calamine_rows(path))
            t_pcal, _ = timed(lambda: pd.read_excel(path, engine="calamine"))
            print(f"python-calamine, direct           {t_cal:7.2f} s")
            print(f"pandas.read_excel (calamine)      {t_pcal:7.2f} s")
            print(f"ratio ours / pandas calamine      {t_ours / t_pcal:7.2f}")


if __name__ == "__main__":
    main()
