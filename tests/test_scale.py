"""Scale and start-up, guarded by counting work rather than timing it: the results
writer's calls per row stay flat, the photos folder is listed once per run, the journal
is asked in batches, the CLI imports nothing heavy to start, and a long submit
refreshes its results workbook between rows on the injected clock."""

from __future__ import annotations

import cProfile
import itertools
import pstats
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from batch_claims import forked
from batch_claims.clock import FakeClock
from batch_claims.outcome import RowError, RowOutcome, Status
from batch_claims.read.table import SheetTable, SourceRow
from batch_claims.report import book
from batch_claims.report.fingerprint import changed_since_written
from batch_claims.report.workbook import ResultsFile, write_results
from batch_claims.send import holdback
from batch_claims.send.interfaces import RunInfo
from batch_claims.send.journal import CREATED, Journal
from batch_claims.send.plan import dry_run_outcomes, plan
from batch_claims.send.submitter import STILL_GOING, Submitter, connect
from batch_claims.settings import Settings
from batch_claims.validate import photo_index
from batch_claims.validate import prepare as prepare_module
from batch_claims.validate.prepare import prepare
from tests.helpers import PNG, results_rows, run, write_sheet

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"pandas", "pandera", "openpyxl", "flask"}


# --- start-up ------------------------------------------------------------------------


def _python(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_cli_loads_nothing_heavy() -> None:
    loaded = _python(
        "import batch_claims.cli, sys; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'pandas','pandera','openpyxl','flask'}))"
    )
    assert loaded == "[]"


LIGHT_RUN = """
import sys
from batch_claims.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="batch-claims", standalone_mode=True)
except SystemExit:
    pass
print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'pandera', 'openpyxl',
    'flask', 'requests'}))
"""


@pytest.mark.parametrize(
    ("args", "needed"),
    [
        (["--help"], "[]"),
        (["--version"], "[]"),
        (["validate", "--help"], "[]"),
        (["history", "--journal", "{tmp}/none.sqlite3"], "[]"),
        (["resolve", "3SABC", "--not-created", "--journal", "{tmp}/none.sqlite3"], "[]"),
        (["template", "{tmp}/blank.xlsx"], "['openpyxl']"),  # it writes the workbook
    ],
)
def test_light_commands_start_without_the_heavy_libraries(
    tmp_path: Path, args: list[str], needed: str
) -> None:
    """--help, --version, history, resolve and template load neither pandas, pandera,
    Flask nor requests (each loads where a command needs it), nor openpyxl but to write
    the template."""
    loaded = _python(LIGHT_RUN, *(arg.format(tmp=tmp_path) for arg in args))
    assert loaded == needed


BEFORE_THE_READ = """
import sys
from batch_claims.cli import cli
from batch_claims.read import sheet

def stop(*args, **kwargs):
    print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'pandera', 'openpyxl',
        'numpy', 'requests'}))
    raise SystemExit(0)

sheet.read_meanwhile = stop
cli.main(sys.argv[1:], prog_name="batch-claims", standalone_mode=False)
"""


@pytest.mark.parametrize("command", ["validate", "submit"])
def test_a_sheet_starts_being_read_before_the_heavy_libraries_load(
    tmp_path: Path, command: str
) -> None:
    """``validate`` and ``submit --dry-run`` get to the read (which a child does while
    the process loads pandas and pandera: ``read_meanwhile``) with none of them loaded,
    nor openpyxl, numpy or requests: the set-up checks before it need none."""
    sheet = tmp_path / "claims.csv"
    sheet.write_text("tracking_number,contract_type\n3SSTART0001,own_contract\n")
    args = [command, str(sheet), "--out", str(tmp_path / "out.xlsx")]
    if command == "submit":
        args += ["--dry-run", "--journal", str(tmp_path / "journal.sqlite3")]
    assert _python(BEFORE_THE_READ, *args) == "[]"


@pytest.mark.parametrize("command", ["validate", "submit"])
def test_a_dry_run_loads_no_http_client(tmp_path: Path, command: str) -> None:
    """``validate`` and ``submit --dry-run``, run to their end, never load requests (nor
    its few megabytes): the plan reads the journal, it sends nothing."""
    sheet = tmp_path / "claims.csv"
    sheet.write_text("tracking_number,contract_type\n3SSTART0001,own_contract\n")
    args = [command, str(sheet), "--out", str(tmp_path / "out.xlsx")]
    if command == "submit":
        args += ["--dry-run", "--journal", str(tmp_path / "journal.sqlite3")]
    loaded = _python(LIGHT_RUN, *args)
    assert "requests" not in loaded
    assert "pandas" in loaded  # the run went as far as the rows


LOADED_BEFORE_CHECKING = """
import sys
from pathlib import Path
from batch_claims.send.run import WRITER_MODULES, checks_loaded
from batch_claims.settings import Settings
from batch_claims.validate.prepare import prepare, validate

sheet = Path(sys.argv[1])
checks_loaded(sheet, None, Settings(), *WRITER_MODULES)
loaded = set(sys.modules)
prepared = prepare(sheet, None, Settings())
outcomes = validate(prepared)
from batch_claims.report.workbook import write_results
from batch_claims.send.interfaces import RunInfo
from datetime import UTC, datetime
info = RunInfo(
    command="validate", started_at=datetime.now(UTC), finished_at=datetime.now(UTC),
    input_name=sheet.name, input_sha256="0" * 64, base_url=None, tool_version="0",
    run_id="r",
)
write_results(sheet.with_suffix(".results.xlsx"), info, prepared.table, outcomes)
# The reader's modules are the child's, in a run that reads the sheet meanwhile.
print(sorted(
    name for name in set(sys.modules) - loaded
    if not name.startswith(("encodings.", "batch_claims.read."))
))
"""


def test_what_checking_loads_is_loaded_while_the_sheet_is_read(tmp_path: Path) -> None:
    """pandera loads its backends on its first validation (a sixth of a second), the
    writer XlsxWriter when it starts: they are loaded with the rest while a big sheet is
    read (``checks_loaded``), not on the way after it."""
    sheet = tmp_path / "claims.csv"
    sheet.write_text("tracking_number,contract_type\n3SSTART0001,own_contract\n")
    assert _python(LOADED_BEFORE_CHECKING, str(sheet)) == "[]"


def test_the_readers_epochs_are_openpyxls() -> None:
    """The reader's own day-number epochs (it loads openpyxl only when it reads styles)
    equal openpyxl's, which ``from_excel`` compares against."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH

    from batch_claims.read import book

    assert (book.WINDOWS_EPOCH, book.MAC_EPOCH) == (WINDOWS_EPOCH, CALENDAR_MAC_1904)


# --- the results writer ----------------------------------------------------------------

HEADERS = ("Tracking No", "Contract", "Sales price", "Remarks", "Photo")


def _table(tmp_path: Path, rows: int) -> tuple[SheetTable, list[RowOutcome]]:
    source = tmp_path / "claims.xlsx"
    source.write_bytes(b"input")
    cells = [
        (f"3SGROW{i:07d}", "own_contract", i / 4, f"=remark {i}\nsecond line", None)
        for i in range(rows)
    ]
    table = SheetTable(
        source=source,
        sheet_name="Claims",
        header_row=1,
        headers=HEADERS,
        mapping={"tracking_number": 0, "contract_type": 1, "contents_sales_price": 2},
        rows=tuple(SourceRow(i + 2, row) for i, row in enumerate(cells)),
    )
    outcomes = []
    for i in range(rows):
        row = i + 2
        if i % 2:
            error = RowError(row, "contents_sales_price", "amount", f"row {row}: not an amount")
            outcomes.append(
                RowOutcome(row, cells[i][0], "own_contract", Status.INVALID, errors=(error,))
            )
        else:
            outcomes.append(RowOutcome(row, cells[i][0], "own_contract", Status.VALID))
    return table, outcomes


def _calls_to_write(tmp_path: Path, rows: int) -> int:
    folder = tmp_path / str(rows)
    folder.mkdir()
    table, outcomes = _table(folder, rows)
    now = datetime(2026, 1, 2, tzinfo=UTC)
    info = RunInfo("validate", now, now, "claims.xlsx", "0" * 64, None, "0", "run")
    profile = cProfile.Profile()
    profile.enable()
    write_results(folder / "out.xlsx", info, table, outcomes)
    profile.disable()
    assert changed_since_written(folder / "out.xlsx") is None
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def test_the_results_writer_does_the_same_work_per_row_at_any_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Function calls (not time) of writing 2,000, 3,000 and 4,000 rows: the thousand
    rows from 3,000 to 4,000 cost no more calls than those from 2,000 to 3,000 (the old
    writer asked the sheet for its size on every row: calls grew with the rows). The
    steps leave out what any write costs once. Every call is made here: the rows go
    through the pieces (``pieces``), which no child shares, so none is made where the
    profile cannot see it."""
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    _calls_to_write(tmp_path, 2_001)  # what the first write loads and compiles
    at = [_calls_to_write(tmp_path, rows) for rows in (2_000, 3_000, 4_000)]
    first, second = at[1] - at[0], at[2] - at[1]
    assert second <= first * 1.01, at


def test_the_results_writer_keeps_no_more_than_a_row_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows go to disk as they are written, a batch at a time: a sheet's file grows at
    least every batch of rows, and XlsxWriter holds no cell at all, so memory does not
    grow with the rows (it did by about 150 MB at 50,000 rows when XlsxWriter kept the
    cells)."""
    monkeypatch.setattr(book, "_BATCH", 7)
    table, outcomes = _table(tmp_path, 300)
    seen: list[tuple[str, int, int]] = []
    real_append = book.Sheet.append

    def counting(sheet: book.Sheet, values: Any, **options: Any) -> int:
        row = real_append(sheet, values, **options)
        seen.append((sheet.part, sheet.data.tell(), len(sheet.worksheet.table)))
        return row

    monkeypatch.setattr(book.Sheet, "append", counting)
    now = datetime(2026, 1, 2, tzinfo=UTC)
    info = RunInfo("validate", now, now, "claims.xlsx", "0" * 64, None, "0", "run")
    write_results(tmp_path / "out.xlsx", info, table, outcomes)
    assert len(seen) > 450 and all(cells == 0 for _, _, cells in seen)
    for part in {part for part, _, _ in seen}:
        sizes = [size for written, size, _ in seen if written == part]
        unwritten = [len(list(rows)) for _, rows in itertools.groupby(sizes)]
        assert max(unwritten) <= 7  # on disk at least every 7th row
    assert changed_since_written(tmp_path / "out.xlsx") is None
    failed = openpyxl.load_workbook(tmp_path / "out.xlsx")["Failed rows"]
    assert failed["C3"].comment is not None and failed.freeze_panes == "A2"


def test_an_unchanged_workbook_is_known_without_reading_its_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before overwriting a results workbook (a run again on the same sheet)
    compares the digest of its parts; it reads cells back (about 14 s at 50,000 rows)
    only for a file saved since by another program."""
    table, outcomes = _table(tmp_path, 2_000)
    now = datetime(2026, 1, 2, tzinfo=UTC)
    info = RunInfo("validate", now, now, "claims.xlsx", "0" * 64, None, "0", "run")
    out = tmp_path / "out.xlsx"
    write_results(out, info, table, outcomes)
    loads: list[object] = []
    real_load = openpyxl.load_workbook

    def counting(*args: Any, **kwargs: Any) -> Any:
        loads.append(args)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    assert changed_since_written(out) is None
    assert loads == []
    resaved = real_load(out)  # another program saves it again, unchanged
    resaved.save(out)
    assert changed_since_written(out) is None
    assert len(loads) == 1


# --- the photos folder -------------------------------------------------------------------


def test_documents_listed_plainly_are_not_resolved_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file found in the photos folder or in a parcel folder, no link on the way, is
    known to be inside the photos folder without ``Path.resolve`` (a system call per
    folder on its path, per file: the largest cost of checking 125,000 documents)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    lines = ["tracking_number,contract_type,damage_photo_1"]
    for i in range(200):
        tn = f"3SPLAIN{i:07d}"
        if i % 2:
            (photos / f"{tn}_damage_photo_1.png").write_bytes(PNG + tn.encode())
        else:
            (photos / tn).mkdir()
            (photos / tn / "damage_photo_1.png").write_bytes(PNG + tn.encode())
        lines.append(f"{tn},own_contract,")
    sheet = tmp_path / "claims.csv"
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    resolved: list[Path] = []
    real_resolve = Path.resolve

    def counting(path: Path, strict: bool = False) -> Path:
        if str(path).startswith(str(photos)):  # not the imports' own look-ups
            resolved.append(path)
        return real_resolve(path, strict=strict)

    monkeypatch.setattr(Path, "resolve", counting)
    prepared = prepare(sheet, photos, Settings())
    assert len(prepared.claims) == 200
    root = real_resolve(photos)
    for claim in prepared.claims:
        [attachment] = claim.attachments.values()
        assert attachment.path == real_resolve(attachment.path)
        assert attachment.path.is_relative_to(root)
    assert len(resolved) <= 1, resolved[:5]  # the photos folder itself


def test_the_photos_folder_is_listed_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2,000 rows finding files by the folder convention (flat and in parcel folders) and
    by typed names in another case: each folder is listed once for the whole sheet."""
    photos = tmp_path / "photos"
    (photos / "other").mkdir(parents=True)
    lines = ["tracking_number,contract_type,damage_photo_1"]
    parcel_folders = 0
    for i in range(2_000):
        tn = f"3SLIST{i:07d}"
        salt = tn.encode()
        if i % 4 == 0:
            (photos / f"{tn}_damage_photo_1.png").write_bytes(PNG + salt)
            lines.append(f"{tn},own_contract,")
        elif i % 4 == 1:
            (photos / tn).mkdir()
            (photos / tn / "damage_photo_1.png").write_bytes(PNG + salt)
            parcel_folders += 1
            lines.append(f"{tn},own_contract,")
        elif i % 4 == 2:
            (photos / "other" / f"{tn}.png").write_bytes(PNG + salt)
            lines.append(f"{tn},own_contract,OTHER/{tn.lower()}.PNG")
        else:
            lines.append(f"{tn},own_contract,")  # none: fine for own_contract
    sheet = tmp_path / "claims.csv"
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")

    listed: Counter[Path] = Counter()
    real_scan = photo_index._scan

    def counting(folder: str, *going: Any) -> Any:
        listed[Path(folder)] += 1  # by the folder as a Path, however it is named
        return real_scan(folder, *going)

    monkeypatch.setattr(photo_index, "_scan", counting)
    # One process (a forked child's listings would be counted in its own copy).
    monkeypatch.setattr(prepare_module, "BESIDE_ROWS", 10**9)
    prepared = prepare(sheet, photos, Settings())
    assert len(prepared.claims) == 2_000  # every row valid
    found = sum(1 for claim in prepared.claims if "damage_photo_1" in claim.attachments)
    assert found == 1_500
    assert listed[photos] == 1 and listed[photos / "other"] == 1
    assert max(listed.values()) == 1
    assert len(listed) == 2 + parcel_folders


# --- the journal -------------------------------------------------------------------------


def test_the_journal_is_asked_for_the_whole_sheet_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 2_000
    sheet = tmp_path / "claims.csv"
    sheet.write_text(
        "tracking_number,contract_type\n"
        + "".join(f"3SBATCH{i:07d},own_contract\n" for i in range(rows)),
        encoding="utf-8",
    )
    prepared = prepare(sheet, None, Settings())
    book = Journal(tmp_path / "j.sqlite3", lambda: datetime.now(UTC))
    with book.atomic():
        book.db.executemany(
            "INSERT INTO claims (tracking_number, ticket_type, state, ticket_id, updated_at) "
            "VALUES (?, 'damage', ?, ?, '2026-01-01T00:00:00Z')",
            [(f"3SBATCH{i:07d}", CREATED, f"t-{i}") for i in range(0, rows, 2)],
        )
    statements: list[str] = []
    built: list[str] = []
    real_hash = holdback.request_hash
    monkeypatch.setattr(
        holdback,
        "request_hash",
        lambda claim: built.append(claim.tracking_number) or real_hash(claim),
    )
    book.db.set_trace_callback(statements.append)
    the_plan = plan(prepared, book, Settings())
    outcomes = dry_run_outcomes(prepared, the_plan)
    book.db.set_trace_callback(None)
    book.close()
    assert the_plan.already_submitted == rows // 2 and the_plan.tickets == rows // 2
    assert Counter(o.status for o in outcomes) == {
        Status.ALREADY_SUBMITTED: rows // 2,
        Status.VALID: rows // 2,
    }
    claim_queries = [s for s in statements if "FROM claims" in s]
    assert len(claim_queries) <= 4  # 500 tracking numbers a query, once for plan and outcomes
    assert built == []  # no claim was refused before: no request is built to compare


def test_claims_of_finds_every_known_record(tmp_path: Path) -> None:
    book = Journal(tmp_path / "j.sqlite3", lambda: datetime.now(UTC))
    with book.atomic():
        book.db.executemany(
            "INSERT INTO claims (tracking_number, ticket_type, state, updated_at) "
            "VALUES (?, ?, 'created', 'x')",
            [(f"T{i}", "damage") for i in range(1_200)] + [("T5", "other")],
        )
    wanted = [f"T{i}" for i in range(0, 2_400, 2)] + ["T4"]  # a repeat
    found = book.claims_of(wanted, "damage")
    book.close()
    assert sorted(found) == sorted(f"T{i}" for i in range(0, 1_200, 2))
    assert all(record.ticket_type == "damage" for record in found.values())


# --- a long run stays visible --------------------------------------------------------------


def test_a_long_submit_refreshes_its_workbook_between_rows(
    sandbox_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """Each ticket takes 100 s of the injected clock: the workbook is rewritten after the
    rows that end each 5-minute stretch, showing the rows done and the rest still to go."""
    server = sandbox_factory()
    sheet = write_sheet(
        tmp_path,
        [[f"3SLIVE{i:07d}", "own_contract"] for i in range(10)],
        ["tracking_number", "contract_type"],
    )
    config = Settings(base_url=server.base_url, public_key="pk", secret_key="sk")
    prepared = prepare(sheet, None, config)
    clock = FakeClock()
    book = Journal(tmp_path / "j.sqlite3", clock.utcnow)
    out = ResultsFile(tmp_path / "claims.results.xlsx")
    now = datetime(2026, 1, 2, tzinfo=UTC)
    info = RunInfo("submit", now, now, sheet.name, "0" * 64, None, "0", "run")
    seen: list[list[str]] = []

    def refresh(outcomes: list[RowOutcome]) -> None:
        assert len(outcomes) == 10
        target = out.write(info, prepared.table, outcomes)
        assert changed_since_written(target) is None
        seen.append([row["status"] for row in results_rows(target)])
        still = [row for row in results_rows(target) if row["status"] == "not_attempted"]
        assert all(row["error_detail"] == STILL_GOING for row in still)

    def fault(point: str) -> None:
        if point == "before_ticket":
            clock.advance(100.0)

    with connect(config, clock, book) as client:
        submitter = Submitter(client, book, config, clock, "run", fault=fault, refresh=refresh)
        outcomes, aborted = submitter.run(prepared.items)
    book.close()
    assert aborted is None
    assert [o.status for o in outcomes] == [Status.SUBMITTED] * 10
    done = ["submitted"]
    waiting = ["not_attempted"]
    assert seen == [done * 3 + waiting * 7, done * 6 + waiting * 4, done * 9 + waiting * 1]


def test_a_refresh_that_fails_costs_the_run_nothing(
    sandbox_factory: Callable[..., Any], tmp_path: Path
) -> None:
    server = sandbox_factory()
    sheet = write_sheet(
        tmp_path,
        [[f"3SFAIL{i:07d}", "own_contract"] for i in range(4)],
        ["tracking_number", "contract_type"],
    )
    config = Settings(base_url=server.base_url, public_key="pk", secret_key="sk")
    prepared = prepare(sheet, None, config)
    clock = FakeClock()
    book = Journal(tmp_path / "j.sqlite3", clock.utcnow)
    calls: list[int] = []

    def refresh(outcomes: list[RowOutcome]) -> None:
        calls.append(len(outcomes))
        raise OSError("disk full")

    def fault(point: str) -> None:
        if point == "before_ticket":
            clock.advance(400.0)

    with connect(config, clock, book) as client:
        submitter = Submitter(client, book, config, clock, "run", fault=fault, refresh=refresh)
        outcomes, aborted = submitter.run(prepared.items)
    book.close()
    assert aborted is None and calls == [4]  # tried once, then left alone
    assert [o.status for o in outcomes] == [Status.SUBMITTED] * 4


def test_the_cli_refreshes_a_long_run_and_writes_the_final_workbook_in_place(
    api_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ticket a minute on the injected clock: 8 rows take 7 minutes, so the workbook
    is refreshed once mid-run; the final write replaces the run's own refresh (it is not
    taken for a person's edit) and no second file appears."""
    from batch_claims.report import workbook as report

    monkeypatch.setattr("batch_claims.cli.send_commands.SystemClock", FakeClock)
    sheet = write_sheet(
        tmp_path,
        [[f"3SCLI{i:08d}", "own_contract"] for i in range(8)],
        ["tracking_number", "contract_type"],
    )
    written: list[tuple[str, list[str]]] = []
    real = report.write_results

    def recording(path: Path, info: RunInfo, table: SheetTable, outcomes: Any) -> None:
        written.append((info.notices[0] if info.notices else "", [o.status for o in outcomes]))
        real(path, info, table, outcomes)

    monkeypatch.setattr(report, "write_results", recording)
    result = run(
        "submit",
        sheet,
        "--journal",
        tmp_path / "j.sqlite3",
        "--quiet",
        "--ticket-limit",
        "1/60",
    )
    assert result.exit_code == 0, result.output
    assert len(written) == 2
    notice, statuses = written[0]
    assert notice.startswith("the run is still going")
    assert 0 < statuses.count(Status.SUBMITTED) < 8
    assert written[1][1] == [Status.SUBMITTED] * 8
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx") == [
        "claims.results.xlsx",
        "claims.xlsx",
    ]
    assert [r["status"] for r in results_rows(sheet.with_suffix(".results.xlsx"))] == [
        "submitted"
    ] * 8


def test_a_refreshed_workbook_a_person_edited_is_kept(tmp_path: Path) -> None:
    table, outcomes = _table(tmp_path, 3)
    now = datetime(2026, 1, 2, tzinfo=UTC)
    info = RunInfo("submit", now, now, "claims.xlsx", "0" * 64, None, "0", "run")
    results = ResultsFile(tmp_path / "claims.results.xlsx")
    first = results.write(info, table, outcomes)
    assert results.write(info, table, outcomes) == first  # its own refresh: replaced
    workbook = openpyxl.load_workbook(first)
    workbook["Failed rows"]["C2"] = 12.5  # a fix typed while the run goes on
    workbook.save(first)
    second = results.write(info, table, outcomes)
    assert second.name == "claims.results (2).xlsx"
    assert openpyxl.load_workbook(first)["Failed rows"]["C2"].value == 12.5
    assert results.write(info, table, outcomes) == second
