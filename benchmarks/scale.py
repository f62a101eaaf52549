"""End to end as the user runs it: ``batch-claims validate`` and ``batch-claims submit
--dry-run`` as processes on generated sheets of 1,000, 10,000 and 50,000 rows.

Run: ``python benchmarks/scale.py [--sizes 1000,10000,50000] [--keep DIR] [--repeat N]``.

Per size it writes (with xlsxwriter, a test dependency, shared strings as Excel writes
them) a sheet of both contract types; half the rows have their documents in a photos
folder (Sendcloud-rates rows all nine in the parcel's folder, own-contract rows one flat
``<tn>_damage_photo_1.jpg``), the other half none (so the Sendcloud-rates ones are
invalid); and a journal already holding 50,000 earlier claims, a tenth of the sheet's
rows among them. Each command runs in a fresh process with a new results workbook, and
prints: seconds, seconds per 1,000 rows, peak RSS of the process (``os.wait4``), and the
ratio to a bare ``pandas.read_excel(engine="openpyxl")`` of the same file, itself timed
as a process in the same run. python-calamine, when importable, is timed too, with what
it makes of a tracking number shown through a ``0000000000`` format.

After ``validate``, the check a second run makes before replacing that results workbook
(is it as batch-claims wrote it?) is timed in this process: as the file stands (the
digest of its parts), and cell by cell as for a file saved again by Excel.

With ``--repeat N`` each timed process (the bare read and each command) runs N times, in
rounds (the bare read, then each command), and the least time is kept, the largest peak
memory: on a shared machine a run is only ever slowed by its neighbours, so the least
is the nearest to what the code costs. Each ratio is also given for each round alone
(runs a minute apart), as the spread the machine's neighbours make.

Peak RSS is the process's or, when larger, that of a child it forked (``os.wait4``
reports the largest of them); a forked child shares the pages of its parent until
either writes one, so the two together use less than their sum.

The package is byte-compiled first (``compileall``), as pip does when it installs one:
where ``PYTHONDONTWRITEBYTECODE`` is set (this machine sets it), nothing else would
write the bytecode, and every timed process would compile the package's source again,
as no installed copy ever does; the libraries the bare read imports are compiled too.

Then the start-up time of ``batch-claims --help`` next to ``python -c pass`` (best of 5).
Targets (printed, not asserted): 50,000 rows end to end at most 1.5x the bare read; the
cost per 1,000 rows at 50,000 within 1.3x of that at 1,000; peak memory under 500 MB.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter  # type: ignore[import-untyped]

from batch_claims.clock import SystemClock
from batch_claims.columns import DOCUMENT_COLUMNS
from batch_claims.send.journal import CREATED, Journal

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000, 50_000)
EARLIER_CLAIMS = 50_000
HEADERS = (
    "Tracking number",
    "Contract type",
    "Carrier contract",
    "Portal claim",
    "Sales value",
    "Currency",
    "Contents",
    "Exterior description",
    "Remarks",
    "Order date",
    "Internal ref",
)
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb0043") + b"\x08" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF_SLOTS = {"customer_confirmation", "sales_invoice", "purchase_invoice"}


def tracking_number(i: int) -> str:
    return f"3SSCALE{i:09d}"


def write_input(folder: Path, rows: int) -> tuple[Path, Path]:
    """The sheet and its photos folder."""
    sheet_path = folder / "claims.xlsx"
    photos = folder / "photos"
    photos.mkdir()
    workbook = xlsxwriter.Workbook(str(sheet_path))
    sheet = workbook.add_worksheet("Claims")
    zeros = workbook.add_format({"num_format": "0000000000"})
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADERS)
    for i in range(rows):
        r = i + 1
        own = i % 2 == 1
        tn = tracking_number(i)
        if i == 0:
            sheet.write_number(r, 0, 1_000_000, zeros)  # shown as 0001000000
            tn = "0001000000"
        else:
            sheet.write_string(r, 0, tn)
        sheet.write_string(r, 1, "own_contract" if own else "sendcloud_rates")
        if own:
            sheet.write_number(r, 2, 10_000 + i % 50)
            sheet.write_string(r, 3, "no")
        if i % 3 == 0:
            sheet.write_string(r, 4, f"{i % 900 + 1},{i % 100:02d}")
        else:
            sheet.write_number(r, 4, (i % 5000) / 4 + 1)
        sheet.write_string(r, 5, ("EUR", "GBP", "USD")[i % 3])
        sheet.write_string(r, 6, f"{i % 17 + 1} ceramic mugs, model {i % 250}")
        sheet.write_string(r, 7, "brown box, Sendcloud tape")
        sheet.write_string(r, 8, "corner crushed" if i % 2 else "torn open on arrival")
        sheet.write_number(r, 9, 45_000 + i % 365, dates)
        sheet.write_string(r, 10, f"ORD-{i:07d}")
        if (i // 2) % 2 == 0:
            write_documents(photos, tn, own)
    workbook.close()
    return sheet_path, photos


def write_documents(photos: Path, tn: str, own: bool) -> None:
    """Unique bytes per file (no shared-evidence warnings)."""
    salt = tn.encode()
    if own:
        (photos / f"{tn}_damage_photo_1.jpg").write_bytes(JPEG + salt)
        return
    folder = photos / tn
    folder.mkdir()
    for column in DOCUMENT_COLUMNS:
        if column.name in PDF_SLOTS:
            (folder / f"{column.name}.pdf").write_bytes(PDF + b"%" + salt + b"\n")
        else:
            (folder / f"{column.name}.jpg").write_bytes(JPEG + salt + column.name.encode())


def write_journal(path: Path, rows: int) -> None:
    """50,000 earlier claims, a tenth of this sheet's rows among them, through the
    Journal (its schema) and one SQL batch."""
    book = Journal(path, SystemClock().utcnow)
    mine = [tracking_number(i) for i in range(0, rows, 10)]
    older = [f"3SOLDER{i:09d}" for i in range(EARLIER_CLAIMS - len(mine))]
    with book.atomic():
        book.db.executemany(
            "INSERT INTO claims (tracking_number, ticket_type, state, ticket_id, run_id, "
            "updated_at) VALUES (?, 'damage', ?, ?, 'earlier', '2026-01-05T10:00:00Z')",
            [(tn, CREATED, f"ticket-{n}") for n, tn in enumerate(mine + older)],
        )
    book.close()


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mb: float
    code: int


def measure(command: list[str], env: dict[str, str]) -> Measured:
    """Wall time and peak RSS of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{errors.decode(errors='replace')}")
    return Measured(seconds, usage.ru_maxrss / 1024, process.returncode)


def best(runs: list[Measured]) -> Measured:
    """The least time of several runs (the machine is shared: a run can only be slowed by
    its neighbours, never sped up) and the largest peak memory among them."""
    fastest = min(runs, key=lambda run: run.seconds)
    return Measured(fastest.seconds, max(run.peak_mb for run in runs), fastest.code)


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "BATCH_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


BARE_READ = "import sys, pandas; pandas.read_excel(sys.argv[1], engine='openpyxl')"
CALAMINE_READ = (
    "import sys; from python_calamine import CalamineWorkbook; "
    "CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python()"
)


def has_calamine() -> bool:
    try:
        import python_calamine  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def calamine_first_tracking_number(sheet: Path) -> object:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(sheet)).get_sheet_by_index(0).to_python()[1][0]


def overwrite_check(results: Path) -> None:
    """The time to tell the results workbook unchanged before it is replaced."""
    import openpyxl

    from batch_claims.report.fingerprint import changed_since_written, digest_of

    started = time.perf_counter()
    assert changed_since_written(results) is None
    as_written = time.perf_counter() - started
    started = time.perf_counter()
    book = openpyxl.load_workbook(results, read_only=True)
    digest_of(book)
    book.close()
    cells = time.perf_counter() - started
    print(
        f"  {'  unchanged? (parts digest)':<28} {as_written:7.2f} s   "
        f"(cell by cell, as after a save in Excel: {cells:.2f} s)"
    )


def startup(env: dict[str, str]) -> None:
    script = shutil.which("batch-claims")
    cli = [script] if script else [sys.executable, "-m", "batch_claims"]
    for label, command in (
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("batch-claims --help", [*cli, "--help"]),
        ("batch-claims --version", [*cli, "--version"]),
    ):
        best = min(measure(command, env).seconds for _ in range(5))
        print(f"start-up  {label:<34} {best:6.2f} s (best of 5; target --help < 0.5 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--keep", type=Path, help="Generate into DIR and keep it.")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="Time each process N times and keep the least (the bare read too).",
    )
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    env = environment()
    python = sys.executable
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores")
    # As installed: the package's bytecode written once, not compiled in every process.
    if not compileall.compile_dir(ROOT / "batch_claims", quiet=1):
        raise SystemExit("the package does not byte-compile")
    startup(env)
    per_1000: dict[tuple[str, int], float] = {}
    peaks: list[float] = []
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="scale-") as scratch:
        base = options.keep or Path(scratch)
        for rows in sizes:
            folder = base / f"rows{rows}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            started = time.perf_counter()
            sheet, photos = write_input(folder, rows)
            journal = folder / "journal.sqlite3"
            write_journal(journal, rows)
            files = sum(len(names) for _, _, names in os.walk(photos))
            print(
                f"\n{rows:,} rows: {sheet.stat().st_size / 2**20:.1f} MB sheet, {files:,} files "
                f"in photos, journal of {EARLIER_CLAIMS:,} claims "
                f"(made in {time.perf_counter() - started:.0f} s)"
            )
            commands = {
                "validate": ["validate", str(sheet), "--photos", str(photos)],
                "submit --dry-run": [
                    "submit",
                    str(sheet),
                    "--photos",
                    str(photos),
                    "--journal",
                    str(journal),
                    "--dry-run",
                ],
            }
            outs = {name: folder / f"{name.split()[0]}.results.xlsx" for name in commands}
            # Round after round, the bare read then each command: each ratio is of runs
            # a minute apart, whatever the machine's neighbours do from one quarter hour
            # to the next.
            bares: list[Measured] = []
            runs: dict[str, list[Measured]] = {name: [] for name in commands}
            for _ in range(options.repeat):
                bares.append(measure([python, "-c", BARE_READ, str(sheet)], env))
                for name, args in commands.items():
                    outs[name].unlink(missing_ok=True)
                    command = [python, "-m", "batch_claims", *args, "--out", str(outs[name])]
                    runs[name].append(measure([*command, "--quiet"], env))
            bare = best(bares)
            print(f"  bare pandas.read_excel       {bare.seconds:7.2f} s  {bare.peak_mb:6.0f} MB")
            if has_calamine():
                fast = measure([python, "-c", CALAMINE_READ, str(sheet)], env)
                print(
                    f"  python-calamine read         {fast.seconds:7.2f} s  {fast.peak_mb:6.0f} MB"
                    f"  (0001000000 reads as {calamine_first_tracking_number(sheet)!r})"
                )
            for name in commands:
                run = best(runs[name])
                per_1000[name, rows] = run.seconds / rows * 1000
                peaks.append(run.peak_mb)
                ratio = run.seconds / bare.seconds
                ratios[name] = ratio
                pairs = zip(runs[name], bares, strict=True)
                rounds = sorted(m.seconds / b.seconds for m, b in pairs)
                # Each round's own ratio, and their median: on a shared machine the least
                # times of a command and of the bare read may come from different rounds.
                middle = statistics.median(rounds)
                spread = (
                    f" (rounds {rounds[0]:.2f}-{rounds[-1]:.2f}, median {middle:.2f})"
                    if len(rounds) > 1
                    else ""
                )
                print(
                    f"  {name:<28} {run.seconds:7.2f} s  {run.peak_mb:6.0f} MB  "
                    f"{per_1000[name, rows]:6.3f} s/1000 rows  {ratio:5.2f}x bare read{spread}"
                )
                if name == "validate":
                    overwrite_check(outs[name])
    print("\ntargets")
    largest, smallest = max(sizes), min(sizes)
    for name in ("validate", "submit --dry-run"):
        flat = per_1000[name, largest] / per_1000[name, smallest]
        print(
            f"  {name:<18} at {largest:,} rows: {ratios[name]:.2f}x bare read (target <= 1.5); "
            f"cost per 1,000 rows {flat:.2f}x that at {smallest:,} (target <= 1.3)"
        )
    print(f"  peak RSS {max(peaks):.0f} MB (target < 500 MB)")


if __name__ == "__main__":
    main()
