"""The week's workflow: what a person typed is never overwritten, and after any number
of retries the newest workbook tells the whole week with the original row numbers."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_claims.report.fingerprint import changed_since_written
from batch_claims.report.outputs import default_results_path
from tests.helpers import SCALED_FLAGS, results_rows, run, sha


def fix_failed_row(results: Path, tracking_number: str, header: str, value: object) -> None:
    """What a person does in Excel: type a fix into the Failed rows sheet and save."""
    workbook = openpyxl.load_workbook(results)
    failed = workbook["Failed rows"]
    names = [c.value for c in failed[1]]
    for row in failed.iter_rows(min_row=2):
        if row[0].value == tracking_number:
            row[names.index(header)].value = value
    workbook.save(results)


# --- never overwrite what the user typed -----------------------------------------------------


def test_validate_again_replaces_its_own_untouched_workbook(week: Path) -> None:
    assert run("validate", week).exit_code == 1
    out = week.with_name("damage_claims_week47.results.xlsx")
    assert changed_since_written(out) is None
    assert run("validate", week).exit_code == 1  # unchanged: replaced without a word


def test_a_workbook_with_typed_fixes_is_never_overwritten(week: Path) -> None:
    run("validate", week)
    out = week.with_name("damage_claims_week47.results.xlsx")
    fix_failed_row(out, "3SSCL0000000111", "Currency", "EUR")
    before = sha(out)
    journal = ["--journal", week.with_name("j.sqlite3")]
    for command in (["validate"], ["submit", "--dry-run", *journal], ["submit", "--sandbox"]):
        result = run(*command, week)
        assert result.exit_code == 2, (command, result.output)
        assert result.output == (
            f"Error: {out} was changed since batch-claims wrote it; it is not overwritten, "
            "since its 'Failed rows' may hold your fixes — to send them, run "
            f"`batch-claims retry {out}`; or write this run's results elsewhere with --out FILE\n"
        )
    assert sha(out) == before


def test_a_file_batch_claims_did_not_write_is_never_overwritten(week: Path) -> None:
    mine = week.with_name("mine.xlsx")
    workbook = openpyxl.Workbook()
    workbook.active.append(["my own notes"])  # type: ignore[union-attr]
    workbook.save(mine)
    before = sha(mine)
    result = run("validate", week, "--out", mine)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {mine} exists and was not written by batch-claims (or by a version before "
        "0.2); it is not overwritten — move it away, or write the results elsewhere with "
        "--out FILE\n"
    )
    assert sha(mine) == before


def test_out_into_a_missing_folder_is_an_error_not_a_new_tree(week: Path) -> None:
    target = week.parent / "no" / "such" / "folder" / "out.xlsx"
    result = run("validate", week, "--out", target)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: --out {target}: the folder {target.parent} does not exist; create it first "
        "or choose another file\n"
    )
    assert not (week.parent / "no").exists()


def test_template_never_replaces_an_existing_file_without_force(tmp_path: Path) -> None:
    target = tmp_path / "claims.xlsx"
    assert run("template", target).exit_code == 0
    workbook = openpyxl.load_workbook(target)
    workbook.active.cell(3, 1, "3SMYCLAIM0001")  # type: ignore[union-attr]
    workbook.save(target)
    before = sha(target)
    result = run("template", target)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {target} already exists and may hold your claims; it is not replaced — "
        "choose another name, or pass --force to replace it\n"
    )
    assert sha(target) == before
    assert run("template", target, "--force").exit_code == 0
    assert sha(target) != before


def test_template_as_csv_is_a_header_row(tmp_path: Path) -> None:
    target = tmp_path / "claims.csv"
    assert run("template", target).exit_code == 0
    text = target.read_bytes().decode("utf-8-sig")
    assert text.startswith("tracking_number,contract_type,ticket_type,carrier_contract_id,")
    assert text.count("\n") == 1
    # ... and it is a sheet batch-claims reads.
    target.write_text(text + "3SABC0000001,own_contract,damage,5" + "," * text.count(",") + "\n")
    assert run("validate", target).exit_code == 0


# --- one workbook tells the whole week -------------------------------------------------------


def test_names_never_grow_and_count_up(tmp_path: Path) -> None:
    sheet = tmp_path / "week48.xlsx"
    first = default_results_path(sheet, retry=False)
    assert first.name == "week48.results.xlsx"
    first.touch()
    assert default_results_path(first, retry=True).name == "week48.results-2.xlsx"
    (tmp_path / "week48.results-2.xlsx").touch()
    (tmp_path / "week48.results-5.xlsx").touch()
    # Retrying an older one never overwrites a newer one.
    assert default_results_path(first, retry=True).name == "week48.results-6.xlsx"
    two = tmp_path / "week48.results-2.xlsx"
    assert default_results_path(two, retry=True).name == "week48.results-6.xlsx"


def test_two_retries_leave_one_workbook_with_the_whole_week(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite3"
    common = ["--journal", journal, "--quiet", *SCALED_FLAGS]
    assert run("submit", week, *common).exit_code == 1
    first = week.with_name("damage_claims_week47.results.xlsx")
    original = {line["row"]: line for line in results_rows(first)}
    assert original[12]["tracking_number"] == "3SSCL0000000111"
    assert original[12]["status"] == "invalid"

    fix_failed_row(first, "3SSCL0000000111", "Currency", "EUR")
    first_sha = sha(first)
    result = run("retry", first, "--photos", week.parent / "photos", *common)
    second = week.with_name("damage_claims_week47.results-2.xlsx")
    assert second.exists(), result.output
    assert sha(first) == first_sha  # the earlier workbook is kept as it is
    week_two = {line["row"]: line for line in results_rows(second)}
    assert sorted(week_two) == sorted(original)  # every original row, original numbers
    assert week_two[12]["status"] == "submitted"
    for number, line in original.items():
        if line["status"] == "submitted":  # carried with its ticket, from an earlier run
            assert week_two[number]["status"] == "already_submitted"
            assert week_two[number]["ticket_id"] == line["ticket_id"]
    # Messages name the original sheet's rows, not the Failed rows sheet's.
    invalid = [line for line in week_two.values() if line["status"] == "invalid"]
    assert invalid and all(
        str(line["error_detail"]).startswith(f"row {line['row']}") for line in invalid
    )

    fix_failed_row(second, "3SSCL0000000110", "Sales value", "10.00")
    second_sha = sha(second)
    run("retry", second, "--photos", week.parent / "photos", *common)
    third = week.with_name("damage_claims_week47.results-3.xlsx")
    assert third.exists()
    assert sha(second) == second_sha and sha(first) == first_sha
    week_three = {line["row"]: line for line in results_rows(third)}
    assert sorted(week_three) == sorted(original)
    assert week_three[12]["status"] == "already_submitted"  # created by the first retry
    assert week_three[12]["ticket_id"] == week_two[12]["ticket_id"]
    # Failed rows still point at the original rows.
    failed = results_rows(third, "Failed rows")
    assert {line["row"] for line in failed} == {
        number
        for number, line in week_three.items()
        if line["status"] not in ("submitted", "already_submitted")
    }
    assert not list(week.parent.glob("*.results.results*"))


def test_a_row_added_in_failed_rows_is_numbered_after_the_last(
    api_env: Any, week: Path, tmp_path: Path
) -> None:
    common = ["--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS]
    run("submit", week, *common)
    first = week.with_name("damage_claims_week47.results.xlsx")
    last = max(line["row"] for line in results_rows(first))
    workbook = openpyxl.load_workbook(first)
    failed = workbook["Failed rows"]
    width = failed.max_column
    failed.append(["3SOWNNEW0000001", "own_contract", 4321] + [None] * (width - 3))
    workbook.save(first)
    run("retry", first, "--photos", week.parent / "photos", *common)
    second = week.with_name("damage_claims_week47.results-2.xlsx")
    added = [line for line in results_rows(second) if line["tracking_number"] == "3SOWNNEW0000001"]
    assert [line["row"] for line in added] == [last + 1]


# --- the fingerprint --------------------------------------------------------------------------

cell_values = st.one_of(
    st.none(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
    st.dates(min_value=date(1900, 3, 1)),
    st.times(),
)


# Each example writes, reads, edits and saves a workbook (~0.15 s): fewer examples with
# more rows each see as many cell values as 25 examples of up to 5 rows did.
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(cell_values, min_size=3, max_size=3), min_size=3, max_size=12),
    st.data(),
)
def test_fingerprint_survives_the_file_and_sees_any_typed_change(
    tmp_path_factory: Any, rows: list[list[Any]], data: st.DataObject
) -> None:
    from batch_claims.outcome import RowOutcome, Status
    from batch_claims.read.table import SheetTable, SourceRow
    from batch_claims.report.workbook import write_results
    from batch_claims.send.interfaces import RunInfo

    tmp = tmp_path_factory.mktemp("fp")
    table = SheetTable(
        source=tmp / "in.xlsx",
        sheet_name="Claims",
        header_row=1,
        headers=("tracking_number", "a", "b"),
        mapping={"tracking_number": 0},
        rows=tuple(SourceRow(i + 2, tuple(row)) for i, row in enumerate(rows)),
    )
    outcomes = [
        RowOutcome(i + 2, f"T{i}", "own_contract", Status.INVALID, error_detail="x")
        for i in range(len(rows))
    ]
    now = datetime(2026, 1, 2, 3, 4, 5)
    out = tmp / "out.xlsx"
    write_results(
        out, RunInfo("validate", now, now, "in.xlsx", "0", None, "0", "r"), table, outcomes
    )
    assert changed_since_written(out) is None
    # A person types a new value into any cell of Failed rows.
    workbook = openpyxl.load_workbook(out)
    failed = workbook["Failed rows"]
    row = data.draw(st.integers(min_value=2, max_value=failed.max_row))
    column = data.draw(st.integers(min_value=1, max_value=3))
    old = failed.cell(row, column).value
    printable = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
    new = data.draw(st.text(printable, min_size=1, max_size=10).filter(lambda t: t != old))
    failed.cell(row, column).value = new
    workbook.save(out)
    assert changed_since_written(out) == "was changed since batch-claims wrote it"


def test_fingerprint_times_and_dates_round_trip(tmp_path: Path) -> None:
    from batch_claims.report.fingerprint import canonical

    assert canonical(date(2026, 1, 2)) == canonical(datetime(2026, 1, 2))
    assert canonical(time(1, 2, 3, 999_999)) == canonical(time(1, 2, 4))
    assert canonical(12) == canonical(12.0)
