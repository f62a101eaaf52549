"""The SQLite journal on real files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_claims.errors import InputError, JournalLocked
from batch_claims.send.journal import (
    CREATED,
    IN_FLIGHT,
    MIGRATIONS,
    NOT_CREATED,
    UNCONFIRMED,
    Journal,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class Now:
    def __init__(self) -> None:
        self.value = NOW

    def __call__(self) -> datetime:
        return self.value


def journal(path: Path | str = ":memory:") -> Journal:
    return Journal(path, Now())


def test_attempt_is_in_flight_and_committed_before_the_answer(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    book = journal(path)
    attempt = book.begin_attempt("run1", "3S1", "damage", "hash", {"a": 1})
    # Another connection (as a process after a crash would) sees the in-flight attempt.
    other = journal(path)
    record = other.claim("3S1", "damage")
    assert record is not None and record.state == IN_FLIGHT
    book.finish_attempt(attempt, CREATED, ticket_id="T-1", http_status=202)
    record = other.claim("3S1", "damage")
    assert record is not None
    assert (record.state, record.ticket_id, record.claim) == (CREATED, "T-1", {"a": 1})
    assert [a.state for a in other.attempts("3S1")] == [CREATED]


def test_leftover_in_flight_becomes_unconfirmed_and_can_be_resolved() -> None:
    book = journal()
    book.begin_attempt("run1", "3S1", "damage", "hash", {})
    book.resolve_in_flight_as_unconfirmed("3S1", "damage")
    assert [r.tracking_number for r in book.unconfirmed()] == ["3S1"]
    record = book.claim("3S1", "damage")
    assert record is not None and record.state == UNCONFIRMED
    book.resolve("3S1", "damage", "T-9")
    record = book.claim("3S1", "damage")
    assert record is not None and (record.state, record.ticket_id) == (CREATED, "T-9")
    with pytest.raises(InputError, match="not unconfirmed"):
        book.resolve("3S1", "damage", None)


def test_resolve_not_created_allows_sending_again() -> None:
    book = journal()
    attempt = book.begin_attempt("run1", "3S2", "damage", "hash", {})
    book.finish_attempt(attempt, UNCONFIRMED, detail="read timeout")
    book.resolve("3S2", "damage", None)
    record = book.claim("3S2", "damage")
    assert record is not None and record.state == NOT_CREATED


def test_second_run_on_the_same_journal_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    first = journal(path)
    assert first.acquire_lock("run-a", "submit", "week.xlsx") is None
    with pytest.raises(JournalLocked, match=r"pid \d+ on .*started"):
        journal(path).acquire_lock("run-b", "submit", "week.xlsx")
    first.release_lock("run-a")
    assert journal(path).acquire_lock("run-c", "submit", "week.xlsx") is None


def test_lock_of_a_dead_process_is_taken_over_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    book = journal(path)
    book.acquire_lock("run-a", "submit", None)
    book.close()  # the process ended without releasing: the OS lock goes with it
    notice = journal(path).acquire_lock("run-b", "submit", None)
    assert notice is not None and "run-a" in notice and "no longer running" in notice


def test_token_cache_respects_max_age() -> None:
    clock = Now()
    book = Journal(":memory:", clock)
    book.store_token("abc", "image/jpeg", "tok-1")
    assert book.cached_token("abc", "image/jpeg", timedelta(hours=24)) == "tok-1"
    assert book.cached_token("abc", "image/png", timedelta(hours=24)) is None
    clock.value = NOW + timedelta(hours=25)
    assert book.cached_token("abc", "image/jpeg", timedelta(hours=24)) is None
    book.forget_token("tok-1")
    clock.value = NOW
    assert book.cached_token("abc", "image/jpeg", timedelta(hours=24)) is None


TYPES = ("image/jpeg", "image/png", "application/pdf")


@settings(max_examples=40, deadline=None)
@given(
    stored=st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from(TYPES), st.integers(0, 48)), max_size=40
    ),
    asked=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(TYPES)), max_size=40),
)
def test_cached_keys_answers_as_cached_token_for_each_file(
    stored: list[tuple[int, str, int]], asked: list[tuple[int, str]]
) -> None:
    """The plan's one batch look-up of the file tokens says of every file what asking
    for it alone would: the same file (hash and type), young enough."""
    clock = Now()
    book = Journal(":memory:", clock)
    for n, (file, content_type, hours_ago) in enumerate(stored):
        clock.value = NOW - timedelta(hours=hours_ago)
        book.store_token(f"sha-{file}", content_type, f"tok-{n}")
    clock.value = NOW
    keys = [(f"sha-{file}", content_type) for file, content_type in asked]
    max_age = timedelta(hours=24)
    alone = {key for key in keys if book.cached_token(*key, max_age) is not None}
    assert book.cached_keys(keys, max_age) == alone


@pytest.mark.parametrize(("stored", "queries"), [(2_400, 3), (600, 1)])
def test_cached_keys_asks_in_batches_or_reads_the_few_tokens_once(
    stored: int, queries: int
) -> None:
    """1,200 files asked of: in batches of 500 from a journal holding more tokens, in
    one pass over them all from one holding fewer (besides counting them)."""
    book = journal()
    for i in range(0, 2 * stored, 2):
        book.store_token(f"sha-{i}", "image/jpeg", f"tok-{i}")
    statements: list[str] = []
    book.db.set_trace_callback(statements.append)
    found = book.cached_keys([(f"sha-{i}", "image/jpeg") for i in range(1_200)], timedelta(1))
    book.db.set_trace_callback(None)
    assert found == {(f"sha-{i}", "image/jpeg") for i in range(0, 1_200, 2)}
    reads = [s for s in statements if "file_tokens" in s and "count(*)" not in s]
    assert len(reads) == queries


def test_corrupt_journal_is_a_clear_error_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"garbage!" * 1024)
    with pytest.raises(InputError, match="not a readable batch-claims journal|cannot be opened"):
        journal(path)
    assert path.read_bytes() == b"garbage!" * 1024


def test_schema_is_versioned(tmp_path: Path) -> None:
    book = journal(tmp_path / "j.sqlite3")
    assert book.schema_version == len(MIGRATIONS)
    mode = book.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_journal_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    db.close()
    with pytest.raises(InputError, match="newer batch-claims"):
        journal(path)


def test_journal_belongs_to_one_account() -> None:
    book = journal()
    book.bind_account("pk@https://panel.sendcloud.sc/api/v3")
    book.bind_account("pk@https://panel.sendcloud.sc/api/v3")
    with pytest.raises(InputError, match="another API account"):
        book.bind_account("other@https://panel.sendcloud.sc/api/v3")


@pytest.mark.parametrize("size", [0, 1000, 4096 + 100])
def test_truncated_journal_is_a_clear_error_never_a_new_empty_one(
    tmp_path: Path, size: int
) -> None:
    good = tmp_path / "good.sqlite3"
    book = journal(good)
    attempt = book.begin_attempt("run1", "3S1", "damage", "hash", {})
    book.finish_attempt(attempt, CREATED, ticket_id="T-1")
    book.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    book.close()
    cut = tmp_path / "cut.sqlite3"
    cut.write_bytes(good.read_bytes()[:size])
    with pytest.raises(InputError, match="truncated"):
        journal(cut)
    assert cut.stat().st_size == size


def test_journal_in_a_folder_that_refuses_writes_is_refused(tmp_path: Path) -> None:
    # /proc refuses new files even to root, like a read-only disk.
    with pytest.raises(InputError, match="not writable"):
        journal("/proc/self/batch-claims.sqlite3")


def test_upload_workers_share_the_journal_safely(tmp_path: Path) -> None:
    import threading

    book = journal(tmp_path / "j.sqlite3")

    def work(n: int) -> None:
        for i in range(50):
            book.store_token(f"{n}-{i}", "image/jpeg", f"tok-{n}-{i}")
            book.cached_token(f"{n}-{i}", "image/jpeg", timedelta(hours=1))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    count = book.db.execute("SELECT count(*) FROM file_tokens").fetchone()[0]
    assert count == 300


def test_a_journal_of_an_older_schema_is_migrated_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    name, first_step = MIGRATIONS[0]
    assert name == "initial"
    first_step(db)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO claims (tracking_number, ticket_type, state, ticket_id, updated_at) "
        "VALUES ('3S1', 'damage', 'created', 'T-1', '2026-11-01T00:00:00Z')"
    )
    db.close()
    book = journal(path)
    assert book.schema_version == len(MIGRATIONS) >= 2
    record = book.claim("3S1", "damage")
    assert record is not None and record.ticket_id == "T-1"
    indexes = {row[1] for row in book.db.execute("PRAGMA index_list(file_tokens)")}
    assert "file_tokens_by_token" in indexes


def test_request_log_gives_the_posts_that_still_count_on_the_monotonic_clock(
    tmp_path: Path,
) -> None:
    from batch_claims.clock import FakeClock
    from batch_claims.send.journal import RequestLog

    clock = FakeClock(start=500.0)
    book = Journal(tmp_path / "j.sqlite3", clock.utcnow)
    log = RequestLog(book, clock)
    first = log.sent(("ticket", "request"))
    clock.advance(0.5)
    log.answered(first)  # answered at 500.5
    clock.advance(10)
    log.sent(("request",))  # never answered: the run died, sent at 510.5
    clock.advance(100)  # now 610.5
    # A new process: its monotonic clock has another origin.
    later = FakeClock(start=7.0, epoch=clock.utcnow() - timedelta(seconds=7.0))
    again = RequestLog(Journal(tmp_path / "j.sqlite3", later.utcnow), later)
    counting = again.still_counting(window=120.0, patience=60.0)
    assert counting == [
        (("ticket", "request"), pytest.approx(7.0 - 110.0)),
        (("request",), pytest.approx(7.0 - 100.0 + 60.0)),  # sent + patience
    ]
    assert again.still_counting(window=50.0, patience=60.0) == [
        (("request",), pytest.approx(7.0 - 40.0))
    ]


def test_seeded_limiter_waits_for_an_earlier_runs_window() -> None:
    from batch_claims.api.ratelimit import RateLimiter
    from batch_claims.clock import FakeClock
    from batch_claims.limits import Limit

    clock = FakeClock(start=100.0)
    limiter = RateLimiter(clock, {"ticket": Limit(2, 60.0)})
    limiter.seed([(("ticket",), 90.0), (("ticket",), 95.0)])
    assert limiter.wait_time(("ticket",)) == pytest.approx(50.0)
    with limiter.reserve(("ticket",)):
        pass
    assert clock.monotonic() == pytest.approx(150.0)
