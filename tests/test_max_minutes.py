"""--max-minutes is a hard slot for cron: no row, wait or request starts that the rate
limits let start only after the deadline, and the plan counts the POSTs of an earlier
run still in the windows. On the injected clock: each ticket takes ``REQUEST`` seconds
of it, every wait is the limiter's own."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_claims.api.ratelimit import RateLimiter, least_span
from batch_claims.clock import FakeClock
from batch_claims.limits import Limit
from batch_claims.outcome import RowOutcome
from batch_claims.send.journal import Journal
from batch_claims.send.plan import least_seconds, least_seconds_now
from batch_claims.send.submitter import TOO_LATE_TICKET, Submitter, connect
from batch_claims.settings import Settings
from batch_claims.validate.prepare import prepare
from tests.helpers import tickets, write_sheet

REQUEST = 1.0  # seconds one ticket request takes on the injected clock
TICKET = ("ticket", "request", "burst")
ROOMY = {"TICKET_LIMIT": (1000, 0.01), "REQUEST_LIMIT": (1000, 0.01), "BURST_LIMIT": (1000, 0.01)}
_names = itertools.count()


def earlier_tickets(book: Journal, clock: FakeClock, count: int, seconds_ago: float) -> None:
    """``count`` ticket POSTs of an earlier run, answered ``seconds_ago``."""
    at = clock.utcnow().timestamp() - seconds_ago
    for _ in range(count):
        book.post_answered(book.post_sent(TICKET, at), at)


def slot_run(
    server: Any,
    folder: Path,
    rows: int,
    minutes: float,
    ticket_limit: Limit,
    before: Callable[[Journal, FakeClock], None] = lambda book, clock: None,
) -> tuple[list[RowOutcome], float, float, list[float]]:
    """Own-contract rows sent with a deadline; (outcomes, start, deadline, ticket starts)."""
    n = next(_names)
    sheet = write_sheet(
        folder / f"run{n}",
        [[f"3SMAXMIN{n}X{i}", "own_contract"] for i in range(rows)],
        ["tracking_number", "contract_type"],
    )
    config = Settings(
        base_url=server.base_url, public_key="pk", secret_key="sk", ticket_limit=ticket_limit
    )
    prepared = prepare(sheet, None, config)
    clock = FakeClock()
    book = Journal(folder / f"run{n}" / "j.sqlite3", clock.utcnow)
    before(book, clock)
    started: list[float] = []

    def fault(point: str) -> None:
        if point == "before_ticket":  # the request goes out now and takes REQUEST seconds
            started.append(clock.monotonic())
            clock.advance(REQUEST)

    start = clock.monotonic()
    deadline = start + minutes * 60
    with connect(config, clock, book) as client:
        submitter = Submitter(
            client, book, config, clock, f"run{n}", deadline=deadline, fault=fault
        )
        outcomes, aborted = submitter.run(prepared.items)
    assert aborted is None  # a slot that ends is a clean stop (exit 1), not an abort
    book.close()
    return outcomes, clock.monotonic(), deadline, started


def test_a_wait_for_the_window_past_the_deadline_is_never_started(
    sandbox_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """The issue's run: --max-minutes 0.3 after an earlier run's 15 tickets 12 s ago.
    The window frees 48 s later, after the 18 s slot: nothing waits for it."""
    server = sandbox_factory(ROOMY)
    outcomes, end, deadline, started = slot_run(
        server,
        tmp_path,
        3,
        0.3,
        Limit(15, 60),
        before=lambda book, clock: earlier_tickets(book, clock, 15, 12.0),
    )
    assert end <= deadline  # it did not even start the wait
    assert started == [] and tickets(server) == []
    assert [o.status.value for o in outcomes] == ["not_attempted"] * 3
    assert outcomes[0].error_detail == f"not attempted: {TOO_LATE_TICKET}"
    assert outcomes[1].error_detail == "not attempted: the --max-minutes slot ended"


def test_rows_go_while_their_tickets_fit_then_the_run_ends_in_its_slot(
    sandbox_factory: Callable[..., Any], tmp_path: Path
) -> None:
    # 2 tickets per 10 s, counted from each answer: starts at 0, 1, 11, 12, then 21 > 15.
    server = sandbox_factory(ROOMY)
    outcomes, end, deadline, started = slot_run(server, tmp_path, 6, 0.25, Limit(2, 10))
    assert started == [1000.0, 1001.0, 1011.0, 1012.0]
    assert [o.status.value for o in outcomes] == ["submitted"] * 4 + ["not_attempted"] * 2
    assert outcomes[4].error_detail == f"not attempted: {TOO_LATE_TICKET}"
    assert end <= deadline + REQUEST


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    count=st.integers(1, 3),
    window=st.sampled_from([5.0, 20.0, 60.0]),
    minutes=st.sampled_from([0.05, 0.2, 0.5]),
    earlier=st.integers(0, 3),
    ago=st.floats(0, 30),
)
def test_a_run_ends_within_one_request_after_its_deadline(
    sandbox_factory: Callable[..., Any],
    tmp_path: Path,
    count: int,
    window: float,
    minutes: float,
    earlier: int,
    ago: float,
) -> None:
    server = sandbox_factory(ROOMY)
    outcomes, end, deadline, started = slot_run(
        server,
        tmp_path,
        4,
        minutes,
        Limit(count, window),
        before=lambda book, clock: earlier_tickets(book, clock, earlier, ago),
    )
    assert end <= deadline + REQUEST
    assert all(at <= deadline for at in started)
    assert [o.status.value for o in outcomes].count("submitted") == len(started)


# --- the plan -------------------------------------------------------------------------------


def test_the_plans_least_time_counts_an_earlier_runs_posts(tmp_path: Path) -> None:
    clock = FakeClock()
    book = Journal(tmp_path / "j.sqlite3", clock.utcnow)
    config = Settings()  # Sendcloud's limits: 15 tickets a minute
    assert least_seconds_now(config, book, clock, tickets=1, uploads=0) == 0.0
    earlier_tickets(book, clock, 15, 12.0)
    assert least_seconds_now(config, book, clock, tickets=1, uploads=0) == pytest.approx(48.0)
    assert least_seconds_now(config, book, clock, tickets=16, uploads=0) == pytest.approx(108.0)


@given(
    tickets_=st.integers(0, 200),
    uploads=st.integers(0, 400),
    ticket=st.tuples(st.integers(1, 20), st.sampled_from([1.0, 60.0])),
    request=st.tuples(st.integers(1, 120), st.sampled_from([1.0, 60.0])),
)
def test_without_earlier_posts_the_least_span_is_the_known_formula(
    tickets_: int, uploads: int, ticket: tuple[int, float], request: tuple[int, float]
) -> None:
    config = Settings(ticket_limit=Limit(*ticket), request_limit=Limit(*request))
    posts = tickets_ + uploads
    counts = {"ticket": tickets_, "request": posts, "burst": posts}
    assert least_span(config.limits, counts) == pytest.approx(
        least_seconds(config, tickets_, uploads)
    )


@settings(max_examples=150, deadline=None)
@given(
    count=st.integers(1, 60),
    n=st.integers(1, 8),
    seconds=st.sampled_from([1.0, 10.0, 60.0]),
    margin=st.sampled_from([0.0, 0.5]),
    ago=st.lists(st.floats(0.0, 80.0, allow_nan=False), max_size=20),
)
def test_the_least_span_is_when_the_limiter_grants_the_last_request(
    count: int, n: int, seconds: float, margin: float, ago: list[float]
) -> None:
    """Earlier requests in the window or not, few new ones or many (past the first two
    windows' worth, which ``least_span`` no longer steps through): the span is when the
    limiter itself grants the last of them, one after the other from now."""
    clock = FakeClock()
    now = clock.monotonic()
    earlier = [(("ticket",), now - back) for back in ago]
    limiter = RateLimiter(clock, {"ticket": Limit(n, seconds)}, margin)
    limiter.seed(earlier)
    for _ in range(count):
        limiter.reserve(["ticket"]).done()
    granted = clock.monotonic() - now
    span = least_span({"ticket": Limit(n, seconds)}, {"ticket": count}, earlier, now, margin)
    assert span == pytest.approx(granted, abs=1e-4)
