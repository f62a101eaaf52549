"""Claim windows: the optional shipped_at and delivered_at dates make the run warn per row
when a claim is too early, close to or past the window Sendcloud recommends — warnings,
never refusals — with the windows as settings per type ([windows]); the Summary lists the
rows close to or past their window; ``submit --order deadline`` sends the most urgent
first. "Today" is the injected clock's (a fixed day), never the real date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_claims.clock import FakeClock
from batch_claims.columns import Variant
from batch_claims.outcome import Claim, WindowState
from batch_claims.send.interfaces import RunHooks
from batch_claims.settings import SendOrder, build_settings
from batch_claims.ticket_types import ClaimWindow, TicketType
from batch_claims.validate.windows import deadline_order, judge
from tests.helpers import point_at, results_rows, run, tickets, write_sheet

TODAY = date(2026, 11, 27)
ROOMY = {"TICKET_LIMIT": (1000, 0.01), "REQUEST_LIMIT": (1000, 0.01), "BURST_LIMIT": (1000, 0.01)}
HEADERS = ["tracking_number", "ticket_type", "contract_type", "shipped_at", "delivered_at"]
HEADERS += ["new_address"]
# Own-contract rows (no documents needed), sheet rows 2 to 9.
WEEK: list[list[object]] = [
    ["3SWINDOW001", "damage", "own_contract", None, "2026-11-10"],  # 11-17: past
    ["3SWINDOW002", "lost", "own_contract", None, date(2026, 11, 25)],  # 12-02: open
    ["3SWINDOW003", "damage", "own_contract", None, None],  # no date
    ["3SWINDOW004", "delivered but not received", "own_contract", None, "19-11-2026"],  # 11-26
    ["3SWINDOW005", "damage", "own_contract", None, "2026-11-21"],  # 11-28: close
    ["3SWINDOW006", "late-delivery", "own_contract", "2026-11-26", None],  # too early
    ["3SWINDOW007", "address-change", "own_contract", None, "2026-11-01", "Main St 1"],  # none
    ["3SWINDOW008", "damage", "own_contract", "2026-11-10", "2026-11-15"],  # 11-22: past
]
# The sheet rows by deadline, those without one last in sheet order.
BY_DEADLINE = [2, 9, 5, 6, 3, 4, 7, 8]
PAST_DAMAGE = (
    "rows 2 and 9 are past the 7-day window Sendcloud recommends for damage claims "
    "(delivered on 2026-11-10 and 2026-11-15): file them first; a warning: they are "
    "checked and sent as usual"
)
PAST_DBNR = (
    "row 5 is past the 7-day window Sendcloud recommends for delivered-but-not-received "
    "claims (delivered on 2026-11-19): file it first; a warning: it is checked and sent "
    "as usual"
)
CLOSE_DAMAGE = (
    "row 6 is close to the end of the 7-day window Sendcloud recommends for damage claims "
    "(it ends on 2026-11-28): file it first; a warning: it is checked and sent as usual"
)
TOO_EARLY = (
    "row 7 is claimed before the parcel is 48 hours old (shipped on 2026-11-26; Sendcloud "
    "recommends claiming from 2026-11-28); a warning: it is checked and sent as usual"
)


class Clocks:
    """Stands in for the CLI's SystemClock: a FakeClock on TODAY, each one kept."""

    def __init__(self) -> None:
        self.made: list[FakeClock] = []

    def __call__(self) -> FakeClock:
        clock = FakeClock(epoch=datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC))
        self.made.append(clock)
        return clock


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> Clocks:
    made = Clocks()
    for module in ("sheet_commands", "send_commands"):
        monkeypatch.setattr(f"batch_claims.cli.{module}.SystemClock", made)
    return made


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    return write_sheet(tmp_path, WEEK, HEADERS)


@pytest.fixture
def server(sandbox_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    server = sandbox_factory(ROOMY)
    point_at(monkeypatch, server.base_url)
    return server


def summary_rows(results: Path) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(results)["Summary"]
    return [tuple(row) for row in book.iter_rows(values_only=True)]


def urgent(results: Path) -> list[tuple[Any, ...]]:
    """The Summary's list of rows close to or past their window, as written."""
    rows = summary_rows(results)
    start = [row[0] for row in rows].index("row")
    assert rows[start - 1][0] == "close to or past the claim window: file these first"
    assert rows[start][:6] == (
        "row", "tracking_number", "ticket_type", "deadline", "window", "status"
    )  # fmt: skip
    found = []
    for row in rows[start + 1 :]:
        if row[0] is None:
            break
        deadline = row[3].date() if isinstance(row[3], datetime) else row[3]
        found.append((row[0], row[1], row[2], deadline, row[4], row[5]))
    return found


def notices(results: Path) -> list[str]:
    rows = summary_rows(results)
    start = [row[0] for row in rows].index("notices")
    return [str(row[1]) for row in rows[start + 1 :] if row[0] is None and row[1]]


def sent_rows(server: Any) -> list[int]:
    """The sheet rows of the tickets the sandbox received, in the order received."""
    row_of = {line[0]: 2 + i for i, line in enumerate(WEEK)}
    return [row_of[ticket["body"]["tracking_number"]] for ticket in tickets(server)]


def write_config(folder: Path, text: str) -> Path:
    path = folder / "bc.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the rules -----------------------------------------------------------------------------

SEVEN = ClaimWindow()  # 48 hours, 7 days


@pytest.mark.parametrize(
    ("delivered", "state", "deadline"),
    [
        (date(2026, 11, 19), WindowState.PAST, date(2026, 11, 26)),  # yesterday
        (date(2026, 11, 20), WindowState.CLOSE, date(2026, 11, 27)),  # today
        (date(2026, 11, 22), WindowState.CLOSE, date(2026, 11, 29)),  # in two days
        (date(2026, 11, 23), WindowState.OPEN, date(2026, 11, 30)),  # in three
        (date(2026, 12, 1), WindowState.OPEN, date(2026, 12, 8)),  # delivery ahead
    ],
)
def test_the_deadline_is_delivery_plus_the_days_close_within_two_days(
    delivered: date, state: WindowState, deadline: date
) -> None:
    assert judge(SEVEN, None, delivered, TODAY) == (state, deadline, None)


def test_a_parcel_is_old_enough_from_the_start_of_its_shipping_day_plus_the_hours() -> None:
    assert judge(SEVEN, date(2026, 11, 26), None, TODAY) == (
        WindowState.TOO_EARLY,
        None,
        date(2026, 11, 28),
    )
    assert judge(SEVEN, date(2026, 11, 25), None, TODAY)[0] is None  # 48 hours old today
    assert judge(ClaimWindow(min_age_hours=49), date(2026, 11, 25), None, TODAY)[0] is (
        WindowState.TOO_EARLY
    )
    # A deadline close or past is the more urgent news; an open one is not.
    one_day = ClaimWindow(days_after_delivery=1)
    assert judge(one_day, TODAY, TODAY, TODAY)[0] is WindowState.CLOSE
    assert judge(SEVEN, TODAY, TODAY, TODAY)[0] is WindowState.TOO_EARLY
    # A type without the window says nothing of it.
    assert judge(ClaimWindow(None, None), TODAY, date(2026, 1, 1), TODAY) == (None, None, None)


def claims(deadlines: list[date | None]) -> list[Claim]:
    return [
        Claim(2 + i, f"3SORDER{i:04d}", Variant.OWN_CONTRACT, False, {}, deadline=deadline)
        for i, deadline in enumerate(deadlines)
    ]


@given(st.lists(st.one_of(st.none(), st.dates(date(2026, 11, 1), date(2026, 11, 8)))))
def test_the_deadline_order_is_a_stable_permutation(deadlines: list[date | None]) -> None:
    items = claims(deadlines)
    order = deadline_order(items)
    assert sorted(order) == list(range(len(items)))
    keys = [(deadlines[i] is None, deadlines[i] or date.max) for i in order]
    assert keys == sorted(keys)  # the earliest deadline first, none last
    for at in range(len(order) - 1):
        if keys[at] == keys[at + 1]:
            assert order[at] < order[at + 1]  # ties keep the sheet's order


# --- the settings --------------------------------------------------------------------------


def test_config_windows_override_the_types_own() -> None:
    config = {
        "windows": {"damage": 14, "delivered_but_not_received": False, "min_age_hours": 72},
        "defaults": {"order": "deadline"},
    }
    windows = build_settings(config, env={}).windows
    assert windows[TicketType.DAMAGE] == ClaimWindow(72.0, 14.0)
    assert windows[TicketType.DELIVERED_NOT_RECEIVED] == ClaimWindow(72.0, None)
    assert windows[TicketType.LOST] == ClaimWindow(72.0, 7.0)
    assert windows[TicketType.DELAY] == ClaimWindow(72.0, None)
    assert windows[TicketType.OTHER] == ClaimWindow(None, None)  # it has no least age
    assert build_settings(config, env={}).order is SendOrder.DEADLINE
    assert build_settings({}, env={}, order="deadline").order is SendOrder.DEADLINE
    unset = build_settings({"windows": {"min_age_hours": 0}}, env={}).windows
    assert unset[TicketType.DAMAGE] == ClaimWindow(None, 7.0)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[windows]\ndamaged = 7", "[windows] damaged: unknown key (expected min_age_hours, "),
        ("[windows]\ndamage = 7.5", "[windows] damage: expected a whole number of days"),
        ('[windows]\ndamage = "7"', "[windows] damage: expected a whole number of days"),
        ("[windows]\nlost = 0", "[windows] lost: expected a whole number of days after"),
        ("[windows]\nlost = 400", "[windows] lost: expected a whole number of days after"),
        ("[windows]\nlost = true", "[windows] lost: expected a whole number of days after"),
        ("[windows]\nmin_age_hours = -1", "[windows] min_age_hours: expected a number of hours"),
        ('[windows]\nmin_age_hours = "48h"', "[windows] min_age_hours: expected a number"),
        (
            "[windows]\ndelivered-but-not-received = 7\ndelivered_but_not_received = 8",
            "[windows] delivered_but_not_received: delivered-but-not-received is given twice",
        ),
        ("windows = 7", "[windows]: must be a table"),
        ('[defaults]\norder = "urgent"', "[defaults] order: must be sheet or deadline"),
    ],
)
def test_a_bad_window_setting_is_refused_naming_file_and_key(
    clocks: Clocks, sheet: Path, tmp_path: Path, toml: str, message: str
) -> None:
    config = write_config(tmp_path, toml)
    result = run("validate", sheet, "--config", config)
    assert result.exit_code == 2, result.output
    assert f"{config}, {message}" in result.output
    assert not sheet.with_suffix(".results.xlsx").exists()


def test_a_bad_order_flag_is_a_usage_error(clocks: Clocks, sheet: Path) -> None:
    result = run("submit", sheet, "--order", "urgent", "--sandbox")
    assert result.exit_code == 2
    assert "'urgent' is not one of 'sheet', 'deadline'" in result.output


# --- validate and submit -------------------------------------------------------------------


def test_validate_warns_per_state_and_the_summary_lists_the_urgent_rows(
    clocks: Clocks, sheet: Path
) -> None:
    result = run("validate", sheet)
    assert result.exit_code == 0, result.output  # warnings, every row valid
    for notice in (PAST_DAMAGE, PAST_DBNR, CLOSE_DAMAGE, TOO_EARLY):
        assert result.output.count(notice) == 1
    out = sheet.with_suffix(".results.xlsx")
    assert notices(out) == [PAST_DAMAGE, PAST_DBNR, CLOSE_DAMAGE, TOO_EARLY]
    assert urgent(out) == [
        (2, "3SWINDOW001", "damage", date(2026, 11, 17), "past", "valid"),
        (9, "3SWINDOW008", "damage", date(2026, 11, 22), "past", "valid"),
        (5, "3SWINDOW004", "delivered-but-not-received", date(2026, 11, 26), "past", "valid"),
        (6, "3SWINDOW005", "damage", date(2026, 11, 28), "close", "valid"),
    ]


def test_without_dates_nothing_is_told(clocks: Clocks, tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path, [line[:3] for line in WEEK[:3]], HEADERS[:3])
    assert run("validate", sheet).exit_code == 0
    rows = summary_rows(sheet.with_suffix(".results.xlsx"))
    assert "row" not in [row[0] for row in rows] and "notices" not in [row[0] for row in rows]


def test_config_windows_change_the_warnings(clocks: Clocks, sheet: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, "[windows]\ndamage = 14\nlost = 1\nmin_age_hours = 0\n")
    assert run("validate", sheet, "--config", config).exit_code == 0
    out = sheet.with_suffix(".results.xlsx")
    assert [(line[0], line[3], line[4]) for line in urgent(out)] == [
        (2, date(2026, 11, 24), "past"),
        (3, date(2026, 11, 26), "past"),
        (5, date(2026, 11, 26), "past"),
        (9, date(2026, 11, 29), "close"),
    ]
    told = notices(out)
    assert any(n.startswith("row 2 is past the 14-day window") for n in told)
    assert any(n.startswith("row 3 is past the 1-day window") for n in told)
    assert not any("hours old" in n for n in told)

    config = write_config(tmp_path, "[windows]\ndamage = false\nmin_age_hours = 72\n")
    assert run("validate", sheet, "--config", config).exit_code == 0
    assert [line[0] for line in urgent(out)] == [5]
    told = notices(out)
    assert any(n.startswith("row 7 is claimed before the parcel is 72 hours old") for n in told)


def test_submit_warns_and_still_sends_every_row_in_sheet_order(
    clocks: Clocks, server: Any, sheet: Path, tmp_path: Path
) -> None:
    result = run("submit", sheet, "--journal", tmp_path / "j.sqlite3")
    assert result.exit_code == 0, result.output  # warnings are not refusals
    assert PAST_DAMAGE in result.output and TOO_EARLY in result.output
    assert sent_rows(server) == list(range(2, 10))  # the default stays the sheet's order
    out = sheet.with_suffix(".results.xlsx")
    assert [line[0] for line in urgent(out)] == [2, 9, 5, 6]
    assert {line[5] for line in urgent(out)} == {"submitted"}


@pytest.mark.parametrize("how", ["flag", "config"])
def test_order_deadline_sends_the_most_urgent_first_and_never_twice(
    clocks: Clocks, server: Any, sheet: Path, tmp_path: Path, how: str
) -> None:
    journal = tmp_path / "j.sqlite3"
    order = ["--order", "deadline"]
    if how == "config":
        order = ["--config", write_config(tmp_path, '[defaults]\norder = "deadline"\n')]
    result = run("submit", sheet, "--journal", journal, *order)
    assert result.exit_code == 0, result.output
    assert "order: the earliest claim deadline first" in result.output
    assert sent_rows(server) == BY_DEADLINE
    out = sheet.with_suffix(".results.xlsx")
    lines = results_rows(out)
    assert [line["row"] for line in lines] == list(range(2, 10))  # Results: sheet order
    assert {line["status"] for line in lines} == {"submitted"}
    # A second run in deadline order files nothing again.
    again = run("submit", sheet, "--journal", journal, *order)
    assert again.exit_code == 0, again.output
    assert len(tickets(server)) == len(WEEK)
    assert {line["status"] for line in results_rows(out)} == {"already_submitted"}


def test_a_max_minutes_slot_spends_its_time_on_the_urgent_rows(
    clocks: Clocks, server: Any, sheet: Path, tmp_path: Path
) -> None:
    """Each ticket takes a second of the injected clock; a 3.5-second slot sends the
    first rows by deadline, and the rest stay not_attempted."""

    def fault(point: str) -> None:
        if point == "before_ticket":
            clocks.made[-1].advance(1.0)

    flags = ["--journal", tmp_path / "j.sqlite3", "--max-minutes", "0.06", "--order", "deadline"]
    result = run("submit", sheet, *flags, hooks=RunHooks(fault=fault))
    assert result.exit_code == 1, result.output
    sent = sent_rows(server)
    assert 2 <= len(sent) < len(WEEK) and sent == BY_DEADLINE[: len(sent)]
    lines = results_rows(sheet.with_suffix(".results.xlsx"))
    statuses = {line["row"]: line["status"] for line in lines}
    assert {row for row, status in statuses.items() if status == "submitted"} == set(sent)
    assert {status for row, status in statuses.items() if row not in sent} == {"not_attempted"}


def test_a_retry_judges_the_failed_rows_dates_again(
    clocks: Clocks, server: Any, tmp_path: Path
) -> None:
    """The dates travel in Failed rows: a retry warns and lists them as a submit does."""
    sheet = write_sheet(
        tmp_path,
        [
            ["NOTFOUND0001", "damage", "own_contract", None, "2026-11-10"],
            ["3SWINDOW002", "damage", "own_contract", None, "2026-11-26"],
        ],
        HEADERS[:5],
    )
    journal = tmp_path / "j.sqlite3"
    assert run("submit", sheet, "--journal", journal).exit_code == 1
    first = sheet.with_suffix(".results.xlsx")
    second = tmp_path / "second.xlsx"
    result = run("retry", first, "--journal", journal, "--out", second, "--order", "deadline")
    assert result.exit_code == 1, result.output
    assert "row 2 is past the 7-day window Sendcloud recommends for damage claims" in (
        result.output
    )
    assert [(line[0], line[4]) for line in urgent(second)] == [(2, "past")]
