"""The sliding-window limiter: never more than N in any window, and no longer waits than needed."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_claims.api.ratelimit import RateLimiter
from batch_claims.clock import FakeClock, SystemClock
from batch_claims.limits import Limit

EPS = 1e-9
PIPELINE_LIMITS = {
    "ticket": Limit(15, 60),
    "request": Limit(100, 60),
    "burst": Limit(15, 1),
}
UPLOAD = ("request", "burst")
TICKET = ("ticket", "request", "burst")

Record = tuple[float, float, tuple[str, ...]]  # granted, done, scopes


def assert_never_over(
    records: Sequence[Record], limits: dict[str, Limit], margin: float = 0.0
) -> None:
    """No N+1 requests of a scope can arrive within one window, wherever in [granted, done].

    N+1 requests fit into a window of W when max(granted) - min(done) < W; so, for each
    request, the earlier-granted ones done later than its grant minus W must be < N.
    """
    for scope, limit in limits.items():
        mine = sorted((g, d) for g, d, scopes in records if scope in scopes)
        window = limit.seconds + margin
        for j, (granted, _) in enumerate(mine):
            overlapping = sum(1 for g, d in mine[:j] if d > granted - window + EPS)
            assert overlapping < limit.count, (scope, granted, overlapping)


def run(
    limiter: RateLimiter, clock: FakeClock, plan: Sequence[tuple[float, float, Sequence[str]]]
) -> list[Record]:
    records: list[Record] = []
    for gap, latency, scopes in plan:
        clock.advance(gap)
        slot = limiter.reserve(scopes)
        clock.advance(latency)
        slot.done()
        assert slot.done_at is not None
        records.append((slot.reserved_at, slot.done_at, tuple(scopes)))
    return records


# --- Limit ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count", "seconds", "shown"),
    [
        ("15/60", 15, 60.0, "15/60"),
        ("15/0.05", 15, 0.05, "15/0.05"),
        (" 3 / 1.5 ", 3, 1.5, "3/1.5"),
    ],
)
def test_limit_parse(text: str, count: int, seconds: float, shown: str) -> None:
    limit = Limit.parse(text)
    assert (limit.count, limit.seconds) == (count, seconds)
    assert str(limit) == shown
    assert Limit.parse(str(limit)) == limit


@pytest.mark.parametrize(
    "text", ["15/0", "abc", "-1/60", "15/-60", "0/60", "1.5/60", "15", "/60", ""]
)
def test_limit_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError) as info:
        Limit.parse(text)
    assert str(info.value) == (
        f"expected N/SECONDS with N a whole number ≥ 1 and SECONDS > 0, e.g. 15/60; got '{text}'"
    )


@pytest.mark.parametrize(
    ("count", "seconds", "text"), [(0, 60, "0/60"), (1, float("inf"), "1/inf")]
)
def test_limit_constructor_validates(count: int, seconds: float, text: str) -> None:
    with pytest.raises(ValueError) as info:
        Limit(count, seconds)
    assert str(info.value) == (
        f"expected N/SECONDS with N a whole number ≥ 1 and SECONDS > 0, e.g. 15/60; got '{text}'"
    )


# --- exact waits ---------------------------------------------------------------------------


def test_free_limiter_does_not_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock, PIPELINE_LIMITS)
    assert limiter.wait_time(TICKET) == 0
    with limiter.reserve(TICKET) as slot:
        assert slot.waited == 0
    assert clock.sleeps == []


def test_n_plus_first_waits_exactly_one_window_from_completion() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock, {"ticket": Limit(15, 60)})
    for _ in range(15):
        with limiter.reserve(["ticket"]):
            clock.advance(0.5)  # latency: the window counts from completion
    last_done = clock.monotonic()  # 7.5
    first_done = 0.5
    assert limiter.wait_time(["ticket"]) == pytest.approx(first_done + 60 - last_done)
    slot = limiter.reserve(["ticket"])
    assert slot.reserved_at == pytest.approx(first_done + 60)
    assert sum(clock.sleeps) == pytest.approx(first_done + 60 - last_done)


def test_not_2n_per_window_like_a_token_bucket() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock, {"ticket": Limit(15, 60)})
    records = run(limiter, clock, [(0.0, 0.0, ["ticket"])] * 45)
    granted = [g for g, _, _ in records]
    assert granted[:15] == [0.0] * 15
    assert granted[15:30] == pytest.approx([60.0] * 15)
    assert granted[30:] == pytest.approx([120.0] * 15)
    for start in granted:
        assert sum(1 for g in granted if start <= g < start + 60) <= 15


def test_margin_lengthens_the_window() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock, {"burst": Limit(2, 1)}, margin=0.25)
    records = run(limiter, clock, [(0.0, 0.0, ["burst"])] * 3)
    assert records[2][0] == pytest.approx(1.25)


def test_on_wait_reports_each_sleep_with_its_scope() -> None:
    clock = FakeClock(start=0.0)
    seen: list[tuple[float, str]] = []
    limiter = RateLimiter(clock, PIPELINE_LIMITS, on_wait=lambda s, scope: seen.append((s, scope)))
    run(limiter, clock, [(0.0, 0.0, UPLOAD)] * 16)
    assert [(round(s, 6), scope) for s, scope in seen] == [(1.0, "burst")]
    assert clock.sleeps == [pytest.approx(1.0)]
    limiter = RateLimiter(clock, PIPELINE_LIMITS, on_wait=lambda s, scope: seen.append((s, scope)))
    run(limiter, clock, [(2.0, 0.0, TICKET)] * 16)  # 2 s apart: only the ticket limit binds
    assert [(round(s, 6), scope) for s, scope in seen[1:]] == [(30.0, "ticket")]


def test_unknown_scope_is_unlimited() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock, {"ticket": Limit(1, 60)})
    run(limiter, clock, [(0.0, 0.0, ["request"])] * 50)
    assert clock.sleeps == []


def test_penalise_blocks_the_named_scopes_only() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock, PIPELINE_LIMITS)
    limiter.penalise(["ticket"], 30.0)
    assert limiter.wait_time(TICKET) == pytest.approx(30.0)
    assert limiter.wait_time(UPLOAD) == 0
    limiter.reserve(UPLOAD).done()
    slot = limiter.reserve(TICKET)
    assert slot.reserved_at == pytest.approx(30.0)
    limiter.penalise(["ticket"], 10.0)
    limiter.penalise(["ticket"], 5.0)  # a shorter penalty never shortens a longer one
    assert limiter.wait_time(["ticket"]) == pytest.approx(10.0)


def test_done_is_idempotent_and_called_on_exception() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock, {"ticket": Limit(1, 10)})
    with pytest.raises(RuntimeError), limiter.reserve(["ticket"]) as slot:
        clock.advance(2.0)
        raise RuntimeError("boom")
    assert slot.done_at == 2.0
    clock.advance(1.0)
    slot.done()
    assert slot.done_at == 2.0
    assert limiter.wait_time(["ticket"]) == pytest.approx(9.0)


def test_long_run_with_pipeline_scopes_never_exceeds_any_limit() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock, PIPELINE_LIMITS)
    rng = random.Random(7)
    plan: list[tuple[float, float, Sequence[str]]] = []
    for _ in range(120):  # 120 Sendcloud-rates rows: 9 uploads then a ticket
        for _ in range(9):
            plan.append((rng.choice([0.0, 0.0, 0.01, 0.3]), rng.uniform(0.0, 0.4), UPLOAD))
        plan.append((0.0, rng.uniform(0.0, 2.0), TICKET))
    records = run(limiter, clock, plan)
    assert_never_over(records, PIPELINE_LIMITS)
    # The account-wide limit is what caps such rows: ~10 rows (100 POSTs) a minute.
    minutes = records[-1][1] / 60
    assert 11 <= minutes <= 14


@settings(max_examples=150, deadline=None)
@given(
    limits=st.dictionaries(
        st.sampled_from(["ticket", "request", "burst"]),
        st.builds(
            Limit,
            st.integers(1, 8),
            st.floats(0.05, 100, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
    ),
    margin=st.sampled_from([0.0, 0.01, 1.0]),
    plan=st.lists(
        st.tuples(
            st.floats(0, 30, allow_nan=False),
            st.floats(0, 30, allow_nan=False),
            st.lists(st.sampled_from(["ticket", "request", "burst"]), min_size=1, unique=True),
        ),
        max_size=60,
    ),
)
def test_any_limits_and_arrivals_stay_within_limits_and_wait_minimally(
    limits: dict[str, Limit],
    margin: float,
    plan: list[tuple[float, float, list[str]]],
) -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock, limits, margin=margin)
    records: list[Record] = []
    for gap, latency, scopes in plan:
        clock.advance(gap)
        asked = clock.monotonic()
        slot = limiter.reserve(scopes)
        if slot.reserved_at > asked:  # it waited: just before, some scope was full
            just_before = slot.reserved_at - 1e-6
            assert any(
                sum(
                    1
                    for _, d, s in records
                    if name in s and d + limit.seconds + margin > just_before
                )
                >= limit.count
                for name, limit in limits.items()
                if name in scopes
            )
        clock.advance(latency)
        slot.done()
        assert slot.done_at is not None
        records.append((slot.reserved_at, slot.done_at, tuple(scopes)))
    assert_never_over(records, limits, margin)


# --- threads ------------------------------------------------------------------------------


def test_threads_share_the_windows_with_a_real_clock() -> None:
    clock = SystemClock()
    # Six threads, 24 requests: at 4 per 0.05 s about 0.3 s of real waiting.
    limits = {"request": Limit(4, 0.05), "burst": Limit(2, 0.01)}
    limiter = RateLimiter(clock, limits)
    records: list[Record] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(4):
            with limiter.reserve(["request", "burst"]) as slot:
                clock.sleep(rng.uniform(0, 0.005))  # the request in flight
            assert slot.done_at is not None
            with lock:
                records.append((slot.reserved_at, slot.done_at, slot.scopes))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert len(records) == 24
    assert_never_over(records, limits)


def test_in_flight_request_of_another_thread_holds_its_place() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(clock, {"ticket": Limit(1, 1)})
    outer = limiter.reserve(["ticket"])  # held by this thread, not yet done
    granted: list[float] = []
    started = threading.Event()

    def other() -> None:
        started.set()
        granted.append(limiter.reserve(["ticket"]).reserved_at)

    t = threading.Thread(target=other)
    t.start()
    started.wait()
    clock.advance(5.0)  # far past the window counted from the reservation...
    t.join(timeout=0.2)
    assert t.is_alive()  # ...yet still in flight, so the other thread keeps waiting
    outer.done()  # completes at 5.0: the next one may go at 6.0
    t.join(timeout=5)
    assert not t.is_alive()
    assert granted == [pytest.approx(6.0)]
