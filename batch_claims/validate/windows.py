"""Claim windows: where each valid row stands in the window Sendcloud recommends filing
its ticket type in, from its optional ``shipped_at`` and ``delivered_at`` dates and the
day of the run; the notices that tell it (once per state and type, listing the rows);
and the order ``submit --order deadline`` hands the claims to the API in.

Warnings only: a row outside its window is checked and sent like any other. The rules
(``ClaimWindow`` per type, overridden by the config's ``[windows]``):

- too early: ``today`` is before the parcel is ``min_age_hours`` old, counted from the
  start of its ``shipped_at`` day (a date has no time of day: shipped on the 23rd, a
  48-hour least age lets it be claimed from the 25th);
- the deadline is ``delivered_at`` plus the type's days: ``past`` when today is after
  it, ``close`` when it is today or at most ``CLOSE_DAYS`` days away, else ``open``.
  A deadline that is close or past wins over too early (the more urgent news).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from batch_claims.outcome import Claim, Item, WindowState
from batch_claims.ticket_types import ClaimWindow, TicketType
from batch_claims.validate.messages import rows_listed

CLOSE_DAYS = 2  # a deadline this many days away or nearer is "close"
_URGENT = (WindowState.PAST, WindowState.CLOSE)


@dataclass(frozen=True)
class Judged:
    """One row's place in its window, with the dates its notice tells."""

    row: int
    ticket_type: TicketType
    state: WindowState
    deadline: date | None
    shipped: date | None
    delivered: date | None
    earliest: date | None  # the first day the parcel is old enough to claim
    window: ClaimWindow


def judge(
    window: ClaimWindow, shipped: date | None, delivered: date | None, today: date
) -> tuple[WindowState | None, date | None, date | None]:
    """The state, the deadline and the first day to claim of a row with these dates;
    the state is None when no date says anything about the window."""
    earliest = deadline = None
    if shipped is not None and window.min_age_hours:
        earliest = shipped + timedelta(days=math.ceil(window.min_age_hours / 24))
    if delivered is not None and window.days_after_delivery is not None:
        deadline = delivered + timedelta(days=window.days_after_delivery)
    state: WindowState | None = None
    if deadline is not None:
        left = (deadline - today).days
        state = (
            WindowState.PAST
            if left < 0
            else WindowState.CLOSE
            if left <= CLOSE_DAYS
            else WindowState.OPEN
        )
    if earliest is not None and today < earliest and state not in _URGENT:
        state = WindowState.TOO_EARLY
    return state, deadline, earliest


def with_window(
    claim: Claim,
    dates: tuple[date | None, date | None],
    windows: Mapping[TicketType, ClaimWindow],
    today: date,
) -> tuple[Claim, Judged | None]:
    """The claim with its deadline and window state (from its ``shipped_at`` and
    ``delivered_at``, as the row was read), and what its notice tells."""
    shipped, delivered = dates
    if shipped is None and delivered is None:
        return claim, None
    window = windows[claim.ticket_type]
    state, deadline, earliest = judge(window, shipped, delivered, today)
    claim = replace(claim, deadline=deadline, window=state)
    if state is None:
        return claim, None
    judged = Judged(
        claim.row, claim.ticket_type, state, deadline, shipped, delivered, earliest, window
    )
    return claim, judged


def window_notices(judged: Iterable[Judged]) -> tuple[str, ...]:
    """One notice per state and ticket type (too early: per least age), past first."""
    groups: dict[tuple[WindowState, object], list[Judged]] = {}
    for one in judged:
        if one.state is WindowState.OPEN:
            continue
        key = one.window.min_age_hours if one.state is WindowState.TOO_EARLY else one.ticket_type
        groups.setdefault((one.state, key), []).append(one)
    order = (WindowState.PAST, WindowState.CLOSE, WindowState.TOO_EARLY)
    return tuple(
        _notice(state, groups[state, key])
        for state in order
        for key in [k for s, k in groups if s is state]
    )


def _notice(state: WindowState, rows: Sequence[Judged]) -> str:
    first = rows[0]
    listed = rows_listed(sorted(one.row for one in rows))
    verb = "is" if len(rows) == 1 else "are"
    they, them = ("it", "it") if len(rows) == 1 else ("they", "them")
    days = f"{first.window.days_after_delivery:g}"
    as_usual = f"a warning: {they} {verb} checked and sent as usual"
    if state is WindowState.PAST:
        delivered = _dates(one.delivered for one in rows)
        return (
            f"{listed} {verb} past the {days}-day window Sendcloud recommends for "
            f"{first.ticket_type} claims (delivered on {delivered}): file {them} first; "
            f"{as_usual}"
        )
    if state is WindowState.CLOSE:
        ends = _dates(one.deadline for one in rows)
        return (
            f"{listed} {verb} close to the end of the {days}-day window Sendcloud recommends "
            f"for {first.ticket_type} claims (it ends on {ends}): file {them} first; {as_usual}"
        )
    hours = f"{first.window.min_age_hours:g}"
    return (
        f"{listed} {verb} claimed before the parcel is {hours} hours old (shipped on "
        f"{_dates(one.shipped for one in rows)}; Sendcloud recommends claiming from "
        f"{_dates(one.earliest for one in rows)}); {as_usual}"
    )


def _dates(values: Iterable[date | None]) -> str:
    """2026-11-10 / 2026-11-10 and 2026-11-12 / 2026-11-03 to 2026-11-12"""
    found = sorted({value for value in values if value is not None})
    if len(found) <= 2:
        return " and ".join(day.isoformat() for day in found)
    return f"{found[0].isoformat()} to {found[-1].isoformat()}"


def deadline_order(items: Sequence[Item]) -> list[int]:
    """The positions of ``items`` in the order ``--order deadline`` sends them: the
    earliest deadline first (past, then closest), rows without one last; rows of one
    deadline, and those without, keep the sheet's order."""
    far = date.max
    return sorted(
        range(len(items)),
        key=lambda i: (items[i].deadline is None, items[i].deadline or far),
    )
