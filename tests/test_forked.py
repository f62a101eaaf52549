"""Work shared with a forked child (``forked.beside``, ``forked.shared``), and the results
workbook written in pieces shared with a child (``pieces.in_pieces``): the same file, part
for part, as one process writes, and the same when the child cannot do its pieces."""

from __future__ import annotations

import _thread
import gc
import os
import pickle
import signal
import threading
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import sleep
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from batch_claims import forked, idle
from batch_claims.errors import InputError
from batch_claims.outcome import RowError, RowOutcome, Status
from batch_claims.read import sheet as sheet_module
from batch_claims.read.table import SheetTable
from batch_claims.report import pieces, sheets
from batch_claims.report.book import Book
from batch_claims.report.fingerprint import PROPERTY, changed_since_written, digest_of
from batch_claims.report.workbook import write_results
from batch_claims.send.interfaces import RunInfo
from batch_claims.settings import Settings
from batch_claims.validate import plain_files
from batch_claims.validate import prepare as prepare_module
from batch_claims.validate.photo_index import PhotoIndex
from tests.helpers import PNG, results_rows, run
from tests.sheet_fixtures import table as sheet_table

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="forks on Linux only")

# ---------------------------------------------------------------- forked.beside


def test_the_child_does_its_part_while_the_parent_does_its_own(tmp_path: Path) -> None:
    """What the child returns comes back; what it writes to a file is there."""
    parent = os.getpid()
    mark = tmp_path / "child"

    def there() -> dict[str, object]:
        mark.write_text("written")
        return {"pid": os.getpid(), "path": tmp_path, "when": date(2026, 1, 2)}

    result, done = forked.beside(there, lambda: "here")
    assert result == "here" and done is not None
    assert done.value["pid"] != parent
    assert (done.value["path"], done.value["when"]) == (tmp_path, date(2026, 1, 2))
    assert mark.read_text() == "written"


_NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
    min_size=1,
    max_size=8,
)


@settings(max_examples=20, deadline=None)
@given(paths=st.lists(st.tuples(st.booleans(), st.lists(_NAME, max_size=4)), max_size=6))
def test_paths_come_back_as_they_went(paths: list[tuple[bool, list[str]]]) -> None:
    """Paths are sent as their folder and name (``_Pickler``): any path, absolute or
    not, comes back equal, as a PosixPath, its text unchanged."""
    sent = [Path("/" if absolute else ".", *names) for absolute, names in paths]
    sent += [Path("/"), Path("."), Path("/tmp/x/../y"), Path("a/b")]
    _, done = forked.beside(lambda: sent, lambda: None)
    assert done is not None
    assert done.value == sent
    assert [(type(p), str(p)) for p in done.value] == [(type(p), str(p)) for p in sent]


def test_a_child_that_returns_none_is_done() -> None:
    assert forked.beside(lambda: None, lambda: 1) == (1, forked.Done(None))


@pytest.mark.parametrize("how", ["raises", "exits", "killed", "unpicklable"])
def test_a_child_that_fails_is_told_as_not_done(how: str) -> None:
    """An exception, an exit status, a signal or an answer that cannot be sent back in
    the child: not done, and the parent's answer all the same (the exception never
    reaches the caller's code)."""

    assert forked.beside(lambda: _failed(how), lambda: 42) == (42, None)


def _failed(how: str) -> object:
    """A child's part that fails as ``how`` says: an exception, an exit status, a
    signal, or an answer that cannot be sent back."""
    if how == "raises":
        raise RuntimeError("child broke")
    if how == "exits":
        os._exit(3)
    if how == "killed":
        os.kill(os.getpid(), 9)
    if how == "interrupted":
        os.kill(os.getpid(), signal.SIGINT)
    return lambda: None  # a lambda does not pickle


def test_a_signal_stops_the_child_without_the_runs_handlers(tmp_path: Path) -> None:
    """Ctrl-C reaches the child too: it stops, quietly (the run's handler, which tells
    the user it is stopping, speaks only in the parent)."""
    told = tmp_path / "told"

    def handler(signum: int, frame: object) -> None:
        told.write_text(str(os.getpid()))

    previous = signal.signal(signal.SIGINT, handler)
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            assert forked.beside(lambda sig=sig: os.kill(os.getpid(), sig), lambda: 1) == (
                1,
                None,
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not told.exists()


def test_no_fork_with_another_thread_running(tmp_path: Path) -> None:
    """A fork is unsafe from a process with threads: the child's part is not done."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        _not_forked(tmp_path)
    finally:
        stop.set()
        thread.join()


def _not_forked(tmp_path: Path) -> None:
    """No fork now: the child's part is not done, the parent's is."""
    assert not forked.can_fork()
    mark = tmp_path / "child"
    assert forked.beside(lambda: mark.write_text("x"), lambda: 1) == (1, None)
    assert not mark.exists()


def test_no_fork_with_a_thread_python_does_not_count(tmp_path: Path) -> None:
    """A thread started below ``threading`` (as a library's own pool is) counts too."""
    stop = _thread.allocate_lock()
    stop.acquire()
    started = _thread.allocate_lock()
    started.acquire()

    def wait() -> None:
        started.release()
        stop.acquire()

    _thread.start_new_thread(wait, ())
    started.acquire()
    try:
        assert threading.active_count() == 1  # Python's own count misses it
        _not_forked(tmp_path)
    finally:
        stop.release()
        for _ in range(500):  # until the thread is gone, for the tests after this one
            if forked.can_fork():
                break
            threading.Event().wait(0.01)
    assert forked.can_fork()


def test_numpys_threads_are_not_started() -> None:
    """batch-claims asks numpy's BLAS for one thread (it uses none), so that pandas,
    loaded, leaves the process able to fork."""
    import pandas  # noqa: F401

    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert forked.can_fork()


def _stuck(tmp_path: Path) -> tuple[Callable[..., None], Callable[[], None]]:
    """A child's part that tells its pid and waits a minute, deaf to all but a signal
    (it would outlive the test, were it not stopped), and what waits for it to start."""
    started = tmp_path / "started"

    def there(*going: object) -> None:
        (tmp_path / "pid").write_text(str(os.getpid()))
        (tmp_path / "pid").rename(started)
        threading.Event().wait(60)

    def once_started() -> None:
        while not started.exists():
            os.sched_yield()

    return there, once_started


def _assert_reaped(tmp_path: Path) -> None:
    """The stuck child (``_stuck``) was stopped and reaped."""
    child = int((tmp_path / "started").read_text())
    with pytest.raises(ChildProcessError):  # reaped already
        os.waitpid(child, os.WNOHANG)


def test_a_parent_that_fails_stops_and_reaps_its_child(tmp_path: Path) -> None:
    there, once_started = _stuck(tmp_path)

    def here() -> None:
        once_started()
        raise ValueError("parent broke")

    with pytest.raises(ValueError, match="parent broke"):
        forked.beside(there, here)
    _assert_reaped(tmp_path)


def test_then_fills_the_wait_for_the_child(tmp_path: Path) -> None:
    """``then`` is given what ``here`` returned and a look at the child, which says it
    is at work until it has ended; the child's answer still comes back."""
    release = tmp_path / "release"
    looks: list[bool] = []

    def there() -> str:
        while not release.exists():
            threading.Event().wait(0.005)
        return "there"

    def then(result: str, working: Callable[[], bool]) -> None:
        looks.append(result == "here")
        while working():
            looks.append(True)
            release.touch()
            threading.Event().wait(0.005)
        looks.append(working())  # once ended, it stays so

    result, done = forked.beside(there, lambda: "here", then)
    assert (result, done) == ("here", forked.Done("there"))
    assert looks[0] is True and looks[1:-1] and all(looks[1:-1]) and looks[-1] is False


def test_then_waits_for_no_child_that_was_not_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    called: list[object] = []
    assert forked.beside(lambda: 1, lambda: 2, lambda *args: called.append(args)) == (2, None)
    assert called == []


def test_a_then_that_fails_stops_and_reaps_the_child(tmp_path: Path) -> None:
    there, once_started = _stuck(tmp_path)

    def then(result: None, working: Callable[[], bool]) -> None:
        once_started()
        raise ValueError("then broke")

    with pytest.raises(ValueError, match="then broke"):
        forked.beside(there, lambda: None, then)
    _assert_reaped(tmp_path)


# ---------------------------------------------------------------- forked.alongside


def test_alongside_the_child_goes_on_while_here_runs(tmp_path: Path) -> None:
    """The child is told to go on while ``here`` runs, and to stop once it returned; its
    answer comes back; no descriptor is left open."""
    before = set(os.listdir("/proc/self/fd"))
    started = tmp_path / "started"

    def there(going: Callable[[], bool]) -> int:
        looks = 0
        while going():
            looks += 1
            started.touch()
            threading.Event().wait(0.001)
        return looks

    def here() -> str:
        while not started.exists():  # the child has looked, and was told to go on
            threading.Event().wait(0.001)
        return "here"

    result, done = forked.alongside(there, here)
    assert result == "here" and done is not None and done.value >= 1
    assert set(os.listdir("/proc/self/fd")) == before


def test_alongside_without_a_child_runs_here_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    ran: list[bool] = []
    assert forked.alongside(lambda going: ran.append(True), lambda: 2) == (2, None)
    assert ran == []


def test_alongside_a_here_that_fails_stops_and_reaps_the_child(tmp_path: Path) -> None:
    there, once_started = _stuck(tmp_path)  # deaf to going(): it must be stopped

    def here() -> None:
        once_started()
        raise ValueError("here broke")

    with pytest.raises(ValueError, match="here broke"):
        forked.alongside(there, here)
    _assert_reaped(tmp_path)


# ---------------------------------------------------------------- idle.when_idle


def _alone() -> bool:
    """Whether this process is down to its one thread again, as the system counts them
    (a thread joined may take a moment more to leave)."""
    for _ in range(500):
        if forked._threads() == 1:
            return True
        threading.Event().wait(0.002)
    return False


def test_idle_work_runs_on_an_idle_thread_until_the_wait_is_over() -> None:
    """The work runs on a thread the system schedules only on an idle core; this
    thread keeps its policy; once the wait is over the work is told to stop, and no
    thread is left (the next fork needs the process alone)."""
    seen: dict[str, object] = {}
    looks = iter(range(5))

    def work(going: Callable[[], bool]) -> None:
        seen["policy"] = os.sched_getscheduler(0)
        seen["thread"] = threading.current_thread() is not threading.main_thread()
        steps = 0
        while going():
            steps += 1
            threading.Event().wait(0.001)
        seen["steps"] = steps

    def waiting() -> bool:
        return next(looks, None) is not None

    policy = os.sched_getscheduler(0)
    assert idle.when_idle(work, waiting) is True
    assert seen["policy"] == os.SCHED_IDLE and seen["thread"] is True
    assert "steps" in seen  # it was told to stop, and did
    assert os.sched_getscheduler(0) == policy
    assert _alone() and forked.can_fork()


def test_idle_work_that_ends_first_ends_the_wait() -> None:
    """Work done before the wait is over: nothing more to wait for here."""
    looks: list[int] = []

    def waiting() -> bool:
        looks.append(1)
        return len(looks) < 10_000  # the work would have ended long before

    assert idle.when_idle(lambda going: None, waiting) is True
    assert len(looks) < 10_000 and _alone()


def test_idle_work_that_fails_is_told_and_leaves_no_thread() -> None:
    """An exception in the work says no (the caller does without what it did); it is
    not raised here, nor printed (pytest turns an exception left in a thread into a
    failing warning)."""

    def work(going: Callable[[], bool]) -> None:
        raise RuntimeError("broke")

    assert idle.when_idle(work, lambda: True) is False
    assert _alone()


def test_no_idle_work_without_an_idle_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object) -> None:
        raise PermissionError("not here")

    monkeypatch.setattr(os, "sched_setscheduler", refused)
    ran: list[bool] = []
    assert idle.when_idle(lambda going: ran.append(True), lambda: True) is False
    assert ran == [] and _alone()


def test_an_interrupted_wait_stops_the_idle_work() -> None:
    """Ctrl-C while waiting: the work is told to stop and its thread ends before the
    interruption goes on."""
    stopped = threading.Event()

    def work(going: Callable[[], bool]) -> None:
        while going():
            threading.Event().wait(0.001)
        stopped.set()

    looks = iter(range(3))

    def waiting() -> bool:
        if next(looks, None) is None:
            raise KeyboardInterrupt
        return True

    with pytest.raises(KeyboardInterrupt):
        idle.when_idle(work, waiting)
    assert stopped.is_set() and _alone()


# ---------------------------------------------------------------- forked.shared


def _started_together(tmp_path: Path, parent: int) -> Callable[[], None]:
    """Called as each piece starts: the parent's first piece waits (up to a minute) for
    the child to have taken one, so that both do some pieces however the machine
    schedules them."""
    mark = tmp_path / "child started"

    def starting() -> None:
        if os.getpid() != parent:
            mark.touch()
            return
        for _ in range(6000):
            if mark.exists():
                return
            threading.Event().wait(0.01)

    return starting


@settings(max_examples=15, deadline=None)
@given(pieces=st.integers(0, 40))
def test_shared_pieces_come_back_in_order(
    tmp_path_factory: pytest.TempPathFactory, pieces: int
) -> None:
    """Any number of pieces: every answer in its place, each piece done once, by one
    process or the other; the child sends its pieces back as it does them."""
    parent = os.getpid()
    starting = _started_together(tmp_path_factory.mktemp("shared"), parent)
    if pieces < 2:  # done here, no child to wait for
        starting = lambda: None  # noqa: E731

    def do(piece: int) -> tuple[int, int, Path]:
        starting()
        return piece, os.getpid(), Path("/photos", f"{piece}.png")

    answers = forked.shared(pieces, do)
    assert [(a[0], a[2]) for a in answers] == [(n, Path(f"/photos/{n}.png")) for n in range(pieces)]
    pids = {a[1] for a in answers}
    assert parent in pids or pieces == 0
    if pieces >= 2:
        assert len(pids) == 2  # the child did some


@pytest.mark.parametrize("how", ["raises", "exits", "killed", "unpicklable", "interrupted"])
@pytest.mark.parametrize("after", [0, 3])
def test_shared_pieces_the_child_does_not_send_are_done_here(how: str, after: int) -> None:
    """The child fails at its first piece or after sending three: what it sent is
    kept, the rest (the piece it failed at too) is done here, the same."""
    parent = os.getpid()
    count = [0]

    def do(piece: int) -> object:
        if os.getpid() == parent:
            return piece
        count[0] += 1
        if count[0] > after:
            return _failed(how)
        threading.Event().wait(0.02)  # the parent takes pieces meanwhile
        return piece

    assert forked.shared(30, do) == list(range(30))


def test_shared_an_answer_that_does_not_load_is_done_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent = os.getpid()
    loaded = forked._loaded

    def broken(answer: Any) -> Any:
        value = loaded(answer)
        if value[1] != parent and value[0] % 2:
            raise pickle.UnpicklingError("broken")
        return value

    monkeypatch.setattr(forked, "_loaded", broken)
    answers = forked.shared(20, lambda piece: (piece, os.getpid()))
    assert [a[0] for a in answers] == list(range(20))
    assert all(a[1] == parent for a in answers if a[0] % 2)


def test_shared_without_a_child_does_every_piece_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    parent = os.getpid()
    assert forked.shared(5, lambda piece: (piece, os.getpid())) == [(n, parent) for n in range(5)]
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    monkeypatch.setattr(forked, "_fork", lambda: None)  # no process left to fork
    assert forked.shared(5, lambda piece: (piece, os.getpid())) == [(n, parent) for n in range(5)]
    with pytest.raises(ValueError):
        forked.shared(forked.MAX_PIECES + 1, lambda piece: piece)


def test_shared_a_parent_that_fails_stops_and_reaps_its_child(tmp_path: Path) -> None:
    parent = os.getpid()
    there, once_started = _stuck(tmp_path)

    def do(piece: int) -> None:
        if os.getpid() != parent:
            there()
        once_started()
        raise ValueError("parent broke")

    with pytest.raises(ValueError, match="parent broke"):
        forked.shared(10, do)
    _assert_reaped(tmp_path)


def test_shared_leaves_no_descriptor_open() -> None:
    before = set(os.listdir("/proc/self/fd"))
    assert forked.shared(10, lambda piece: piece) == list(range(10))
    assert set(os.listdir("/proc/self/fd")) == before


# ---------------------------------------------------------------- the results workbook

HEADERS = ("Tracking No", "Contract", "Shipped", "At", "Took", "Value", "Remarks")
MAPPING = {"tracking_number": 0, "contract_type": 1, "shipped_at": 2, "additional_remarks": 6}
STATUSES = [
    Status.VALID,
    Status.INVALID,
    Status.SUBMITTED,
    Status.REJECTED,
    Status.FAILED,
    Status.UNCONFIRMED,
]


def _cells(n: int) -> tuple[object, ...]:
    return (
        f"3SFORK{n:06d}" if n % 11 else 12_345_678 + n,  # a number in the Text column
        "own_contract" if n % 2 else "sendcloud_rates",
        date(2024, 1, 1) + timedelta(days=n % 300) if n % 5 else None,
        time(9, n % 60) if n % 3 else datetime(2024, 2, 1, 8) + timedelta(minutes=n),
        timedelta(minutes=n),
        n * 1.25,
        "two\nlines" if n % 4 == 0 else f"note {n % 17}",
    )


def _outcome(n: int, cells: tuple[object, ...]) -> RowOutcome:
    status = STATUSES[n % len(STATUSES)]
    row = n + 2
    errors: tuple[RowError, ...] = ()
    if status is Status.INVALID:
        column = ["contract_type", "shipped_at", "additional_remarks", "tracking_number"][n % 4]
        errors = (RowError(row, column, "bad", f"row {row}: bad {column}\nsecond line"),)
    return RowOutcome(
        row,
        str(cells[0]),
        str(cells[1]),
        status,
        ticket_id=str(900_000 + n) if status is Status.SUBMITTED else None,
        http_status=422 if status is Status.REJECTED else None,
        error_code="invalid" if status is Status.INVALID else None,
        error_detail="rejected: the parcel is unknown" if status is Status.REJECTED else "",
        errors=errors,
        attempts=n % 3,
    )


def _sheet(rows: int) -> tuple[SheetTable, list[RowOutcome]]:
    cells = [_cells(n) for n in range(rows)]
    built = sheet_table(HEADERS, cells, MAPPING)
    return built, [_outcome(n, row) for n, row in enumerate(cells)]


INFO = RunInfo(
    "validate",
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
    "claims.xlsx",
    "ab" * 32,
    None,
    "0",
    "run-1",
    sheet_name="Sheet1",
)
# Parts that say when the file was made.
STAMPED = {"docProps/core.xml", "docProps/custom.xml"}


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name not in STAMPED}


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each ``pieces.in_pieces`` took pieces its child wrote (and all of them)."""
    seen: list[bool] = []
    in_pieces = pieces.in_pieces

    def spy(*args: Any) -> bool:
        seen.append(in_pieces(*args))
        return seen[-1]

    monkeypatch.setattr(pieces, "in_pieces", spy)
    return seen


@pytest.fixture
def writers(monkeypatch: pytest.MonkeyPatch) -> list[list[bool]]:
    """For each ``pieces.in_pieces``, by piece: whether this process wrote it."""
    seen: list[list[bool]] = []
    shared = forked.shared

    def spy(count: int, do: Callable[[int], Any]) -> list[Any]:
        answers = shared(count, do)
        seen.append([answer[0] for answer in answers])
        return answers

    monkeypatch.setattr(forked, "shared", spy)
    return seen


def _write(
    path: Path, table: SheetTable, outcomes: list[RowOutcome], halves: bool, piece: int = 50
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sheets, "BESIDE_ROWS", 2 if halves else 10**9)
        patch.setattr(sheets, "PIECE_ROWS", piece)
        write_results(path, INFO, table, outcomes)


def _slowed(monkeypatch: pytest.MonkeyPatch, in_parent: bool, seconds: float) -> None:
    """Each piece the parent (or the child) writes takes ``seconds`` longer."""
    parent = os.getpid()
    write = pieces.PieceFiles.write

    def slowed(files: pieces.PieceFiles, *args: Any) -> Any:
        if (os.getpid() == parent) == in_parent:
            sleep(seconds)
        return write(files, *args)

    monkeypatch.setattr(pieces.PieceFiles, "write", slowed)


def test_the_workbook_written_in_pieces_is_the_one_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, told: list[bool], writers: list[list[bool]]
) -> None:
    """Every part but the dates of the file byte for byte the same (cells, styles,
    comments, widths, filter, dimension), and the fingerprint too."""
    table, outcomes = _sheet(1_300)
    _write(whole := tmp_path / "whole.xlsx", table, outcomes, halves=False)
    assert told == []
    _slowed(monkeypatch, in_parent=True, seconds=0.02)  # so that the child surely writes
    _write(halves := tmp_path / "halves.xlsx", table, outcomes, halves=True)
    assert told == [True]
    assert len(writers[0]) == 26 and False in writers[0]
    assert _parts(halves) == _parts(whole)
    assert changed_since_written(halves) is None
    with zipfile.ZipFile(halves) as archive:
        custom = archive.read("docProps/custom.xml").decode()
    written = custom.split(f'name="{PROPERTY}"')[1].split("<vt:lpwstr>")[1].split("<")[0]
    assert written == digest_of(load_workbook(halves))  # the cells read back
    with zipfile.ZipFile(halves) as archive:
        comments = [n for n in archive.namelist() if "comments" in n]
        assert comments and b"bad shipped_at" in archive.read(comments[0])


@pytest.mark.parametrize("slow_parent", [True, False])
def test_the_process_that_runs_faster_writes_more_pieces(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    writers: list[list[bool]],
    slow_parent: bool,
) -> None:
    """Pieces are dealt as each process finishes one (not cut in fixed halves): when
    one process is slowed, the other writes most of them, and the file is the same."""
    table, outcomes = _sheet(600)
    _write(whole := tmp_path / "whole.xlsx", table, outcomes, halves=False)
    _slowed(monkeypatch, in_parent=slow_parent, seconds=0.2)
    _write(shared := tmp_path / "shared.xlsx", table, outcomes, halves=True, piece=30)
    here = writers[0].count(True)
    assert len(writers[0]) == 20
    assert (here < 8) if slow_parent else (here > 12)
    assert _parts(shared) == _parts(whole)


@settings(max_examples=15, deadline=None)
@given(
    rows=st.integers(2, 60),
    piece=st.integers(1, 25),
    statuses=st.lists(st.sampled_from(STATUSES), min_size=1, max_size=7),
)
def test_any_rows_written_in_pieces_are_as_written_whole(
    tmp_path_factory: pytest.TempPathFactory, rows: int, piece: int, statuses: list[Status]
) -> None:
    tmp_path = tmp_path_factory.mktemp("pieces")
    table, outcomes = _sheet(rows)
    outcomes = [
        RowOutcome(o.row, o.tracking_number, o.contract_type, statuses[n % len(statuses)])
        if o.status is not Status.INVALID
        else o
        for n, o in enumerate(outcomes)
    ]
    _write(whole := tmp_path / "whole.xlsx", table, outcomes, halves=False)
    _write(shared := tmp_path / "shared.xlsx", table, outcomes, halves=True, piece=piece)
    assert _parts(shared) == _parts(whole)


def test_a_child_that_fails_leaves_its_pieces_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, told: list[bool]
) -> None:
    """The child's piece breaks in the child only: the parent writes it, the same."""
    table, outcomes = _sheet(400)
    _write(whole := tmp_path / "whole.xlsx", table, outcomes, halves=False)
    parent = os.getpid()
    result_values = sheets._result_values

    def in_parent_only(*args: Any) -> list[object]:
        if os.getpid() != parent:
            raise MemoryError("the child ran out")
        return result_values(*args)

    monkeypatch.setattr(sheets, "_result_values", in_parent_only)
    _write(halves := tmp_path / "halves.xlsx", table, outcomes, halves=True)
    assert told == [False]
    assert _parts(halves) == _parts(whole)


def test_a_style_the_child_numbers_otherwise_leaves_its_pieces_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, told: list[bool], writers: list[list[bool]]
) -> None:
    """Had a style not been made ahead, each process would number it its own way: the
    child's pieces from the first that made one are then written again by the parent
    (here the child numbers every new style otherwise)."""
    table, outcomes = _sheet(400)
    parent = os.getpid()
    style_index = Book._style_index

    def numbered(book: Book, key: Any) -> int:
        return style_index(book, key) + (0 if os.getpid() == parent else 100)

    monkeypatch.setattr(Book, "_style_index", numbered)
    monkeypatch.setattr(sheets, "_styles_ahead", lambda rows, inputs: rows.date_styles(inputs))
    _write(whole := tmp_path / "whole.xlsx", table, outcomes, halves=False)
    _slowed(monkeypatch, in_parent=True, seconds=0.02)
    _write(halves := tmp_path / "halves.xlsx", table, outcomes, halves=True)
    assert told == [False]
    assert writers[0].count(False) >= 1  # the child wrote pieces, not all of them taken
    assert _parts(halves) == _parts(whole)


def test_rows_miscounted_leave_the_pieces_to_the_parent(tmp_path: Path, told: list[bool]) -> None:
    """A caller whose count of a piece's rows is off: the later pieces would be
    numbered wrong, so every piece is written again here, one after the other."""
    rows = [[f"r{n}", n] for n in range(10)]
    for ahead in (None, 3):
        book = Book()
        sheet = book.sheet("Rows")

        def write(part: list[list[object]], sheet: Any = sheet) -> None:
            for row in part:
                sheet.append_values(row)

        if ahead is None:
            write(rows)
        else:
            pieces.in_pieces(
                book, 2, lambda k: write(rows[5 * k : 5 * k + 5]), [{sheet: ahead}, {sheet: 5}]
            )
        sheet.finish_table(2)
        book.close(tmp_path / f"{ahead}.xlsx")
    assert told == [False]
    assert _parts(tmp_path / "3.xlsx") == _parts(tmp_path / "None.xlsx")


# ---------------------------------------------------------------- the rows' documents


@pytest.mark.parametrize("command", ["validate", "submit"])
def test_the_commands_take_the_files_read_ahead_and_check_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, children: list[bool]
) -> None:
    """Every file the convention may find read ahead while the sheet is read (as if the
    read were slow), and the rows' documents then made in pieces shared with a child:
    the same results workbook as without; what no row took is let go after."""
    sheet, photos = _claims_sheet(tmp_path / "in", 60)
    extra = ["--dry-run", "--journal", str(tmp_path / "journal.sqlite3")]
    args = [command, str(sheet), "--photos", str(photos), *(extra if command == "submit" else [])]
    run(*args, "--out", tmp_path / "here.xlsx")
    indexes: list[Any] = []

    def whole(index: Any, waiting: Callable[[], bool]) -> None:
        plain_files._ahead(index, lambda: True)
        indexes.append((index, len(index.ahead)))

    read_sheet = sheet_module.read_sheet

    def slow(*read: Any) -> Any:
        sleep(0.3)  # the child reads on once the process has its checks loaded
        return read_sheet(*read)

    monkeypatch.setattr(sheet_module, "read_sheet", slow)
    monkeypatch.setattr(plain_files, "read_ahead", whole)
    monkeypatch.setattr(sheet_module, "AHEAD_BYTES", 1)
    monkeypatch.setattr(prepare_module, "BESIDE_ROWS", 10)
    monkeypatch.setattr(prepare_module, "PIECE_ROWS", 7)
    run(*args, "--out", tmp_path / "ahead.xlsx")
    assert children == [True, True]  # the read, then reading on while the rows are checked
    here, ahead = (results_rows(tmp_path / f"{name}.xlsx") for name in ("here", "ahead"))
    assert ahead == here and len(here) == 60
    ((index, read),) = indexes
    assert read == 48 and index.ahead == {}  # 12 flat ones are passed over for folders'


def test_the_files_not_read_ahead_are_read_by_a_child_while_the_rows_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``BESIDE_ROWS``, a child reads on (``read_on``) while the rows are checked;
    the rows take its verdicts (this process reads none of those files again), and the
    claims and outcomes are those of a run that read nothing ahead."""
    sheet, photos = _claims_sheet(tmp_path / "in", 60)
    settings = Settings()
    whole = prepare_module.prepare(sheet, photos, settings, today=date(2026, 2, 1))
    monkeypatch.setattr(prepare_module, "BESIDE_ROWS", 10)
    monkeypatch.setattr(prepare_module, "PIECE_ROWS", 10**6)  # the documents here alone
    real_on = plain_files.read_on
    monkeypatch.setattr(
        prepare_module, "read_on", lambda index, going: real_on(index, lambda: True)
    )
    parent, reads = os.getpid(), []
    real_read = plain_files._read

    def counted(path: str, name: str) -> Any:
        if os.getpid() == parent:
            reads.append(path)
        return real_read(path, name)

    monkeypatch.setattr(plain_files, "_read", counted)
    index = PhotoIndex(photos)
    ahead = prepare_module.prepare(sheet, index, settings, today=date(2026, 2, 1))
    assert ahead.items == whole.items and ahead.warnings == whole.warnings
    assert reads == [] and index.ahead == {}


def _claims_sheet(folder: Path, rows: int) -> tuple[Path, Path]:
    """A CSV of own-contract and Sendcloud-rates rows, some invalid, with documents
    flat, in parcel folders, both (a notice), typed, missing; and dates that put some
    claims' windows near their end or past it."""
    photos = folder / "photos"
    photos.mkdir(parents=True)
    (photos / "other").mkdir()
    lines = ["tracking_number,contract_type,damage_photo_1,delivered_at,sales_value"]
    for n in range(rows):
        tn = f"3SHALF{n:07d}"
        photo = PNG + tn.encode()
        typed = ""
        if n % 5 == 0:
            (photos / f"{tn}_damage_photo_1.png").write_bytes(photo)
        elif n % 5 == 1:
            (photos / tn).mkdir()
            (photos / tn / "damage_photo_1.png").write_bytes(photo)
        elif n % 5 == 2:  # in both: the parcel's folder wins, the flat one is told
            (photos / tn).mkdir()
            (photos / tn / "damage_photo_1.png").write_bytes(photo)
            (photos / f"{tn}_damage_photo_1.jpg").write_bytes(photo + b"flat")
        elif n % 5 == 3:
            (photos / "other" / f"{tn}.png").write_bytes(photo)
            typed = f"other/{tn}.png"
        contract = ["own_contract", "sendcloud_rates", "own_contract", "nonsense"][n % 4]
        delivered = (date(2026, 1, 1) + timedelta(days=n % 40)).isoformat() if n % 3 else ""
        lines.append(f"{tn},{contract},{typed},{delivered},{n % 50 + 1} EUR")
    sheet = folder / "claims.csv"
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sheet, photos


def _prepared(sheet: Path, photos: Path, halves: bool) -> Any:
    """The sheet prepared in one go, or (``halves``) in pieces of 10 rows shared with a
    child."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prepare_module, "BESIDE_ROWS", 2 if halves else 10**9)
        patch.setattr(prepare_module, "PIECE_ROWS", 10)
        return prepare_module.prepare(sheet, photos, Settings(), today=date(2026, 2, 20))


@pytest.fixture
def child_pieces(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pieces of ``forked.shared`` the child sent back."""
    heard: list[int] = []
    answers = forked._Heard.answers

    def spy(self: Any, wait: bool) -> dict[int, Any]:
        found = answers(self, wait)
        heard.extend(found)
        return found

    monkeypatch.setattr(forked._Heard, "answers", spy)
    return heard


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each ``forked.beside`` had its child's part done by the child."""
    seen: list[bool] = []
    beside = forked.beside

    def spy(there: Any, here: Any, *then: Any) -> Any:
        result, done = beside(there, here, *then)
        seen.append(done is not None)
        return result, done

    monkeypatch.setattr(forked, "beside", spy)
    return seen


def test_rows_checked_in_pieces_are_as_checked_in_one_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, child_pieces: list[int]
) -> None:
    """Every row's claim or outcome (documents, checklist, deadline), and every notice
    (a flat file passed over, claim windows), in the same order, whichever process
    checked which piece of rows."""
    sheet, photos = _claims_sheet(tmp_path, 240)
    whole = _prepared(sheet, photos, halves=False)
    assert child_pieces == []
    starting = _started_together(tmp_path, os.getpid())
    item = prepare_module._item

    def started(*args: Any) -> Any:
        starting()
        return item(*args)

    monkeypatch.setattr(prepare_module, "_item", started)
    halves = _prepared(sheet, photos, halves=True)
    assert 0 < len(child_pieces) < 24
    assert halves.items == whole.items
    assert (halves.warnings, halves.facts, halves.sheet_problems) == (
        whole.warnings,
        whole.facts,
        whole.sheet_problems,
    )
    assert len(whole.claims) > 80 and any(c.attachments for c in whole.claims[60:])
    ignored = [w for w in whole.warnings if "was ignored" in w]  # from either half
    assert (
        int(ignored[0].split(",")[0].split()[1]) < 100 < int(ignored[-1].split(",")[0].split()[1])
    )
    assert any(claim.deadline is not None for claim in whole.claims[60:])


@pytest.mark.parametrize("after", [0, 25])
def test_a_child_that_fails_leaves_its_rows_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, child_pieces: list[int], after: int
) -> None:
    """The child stops at its first row or in its third piece (not an error of one row:
    the whole process): the parent checks the rows it did not send back, the same; and
    a row's own error is that row's either way."""
    sheet, photos = _claims_sheet(tmp_path, 120)
    parent = os.getpid()
    item = prepare_module._item
    count = [0]

    def odd(source: Any, *args: Any) -> Any:
        if source.row == 7:
            raise ValueError("this row alone")
        if os.getpid() != parent:
            count[0] += 1
            if count[0] > after:
                raise KeyboardInterrupt  # as a signal would stop the child
            threading.Event().wait(0.002)  # the parent takes pieces meanwhile
        return item(source, *args)

    monkeypatch.setattr(prepare_module, "_item", odd)
    whole = _prepared(sheet, photos, halves=False)
    halves = _prepared(sheet, photos, halves=True)
    assert len(child_pieces) <= after // 10
    assert halves.items == whole.items
    assert halves.warnings == whole.warnings
    assert whole.items[5].error_code == "internal_error"  # row 7


# ---------------------------------------------------------------- the sheet read meanwhile


def test_a_big_sheet_is_read_by_a_child_meanwhile(tmp_path: Path, children: list[bool]) -> None:
    """The same table as read here, and what was done meanwhile; the table, kept for
    the run, is set aside from the collector's later passes (``heap``)."""
    sheet, _ = _claims_sheet(tmp_path, 300)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sheet_module, "AHEAD_BYTES", 1)
        loaded, table = sheet_module.read_meanwhile(sheet, None, {}, lambda: "loaded")
    assert children == [True]
    assert loaded == "loaded"
    assert table == sheet_module.read_sheet(sheet, None, {})
    walked = {id(found) for generation in range(3) for found in gc.get_objects(generation)}
    assert not {id(row) for row in table.rows} & walked


def test_a_small_sheet_is_left_to_the_caller(tmp_path: Path, children: list[bool]) -> None:
    sheet, _ = _claims_sheet(tmp_path, 3)
    assert sheet_module.read_meanwhile(sheet, None, {}, lambda: 1) == (1, None)
    assert children == []


def test_a_sheet_that_cannot_be_used_is_left_to_the_caller(
    tmp_path: Path, children: list[bool]
) -> None:
    """The child cannot read it: the caller reads it and meets the error itself."""
    sheet = tmp_path / "claims.xlsx"
    sheet.write_bytes(b"not a workbook at all " * 100)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sheet_module, "AHEAD_BYTES", 1)
        assert sheet_module.read_meanwhile(sheet, None, {}, lambda: 1) == (1, None)
    assert children == [False]
    with pytest.raises(InputError):
        sheet_module.read_sheet(sheet, None, {})


@pytest.mark.parametrize("command", ["validate", "submit"])
def test_the_commands_read_a_big_sheet_meanwhile_and_check_it_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, children: list[bool]
) -> None:
    """``validate`` and ``submit --dry-run``: the same results workbook whether the
    sheet was read by a child or here; and a photos folder that is no folder is still
    told first (exit 2), the child's read given up."""
    sheet, photos = _claims_sheet(tmp_path / "in", 60)
    extra = ["--dry-run", "--journal", str(tmp_path / "journal.sqlite3")]
    args = [command, str(sheet), "--photos", str(photos), *(extra if command == "submit" else [])]
    monkeypatch.setattr(prepare_module, "BESIDE_ROWS", 10**9)  # only the read is shared
    run(*args, "--out", tmp_path / "here.xlsx")
    assert children == []
    monkeypatch.setattr(sheet_module, "AHEAD_BYTES", 1)
    run(*args, "--out", tmp_path / "ahead.xlsx")
    assert children == [True]
    here, ahead = (results_rows(tmp_path / f"{name}.xlsx") for name in ("here", "ahead"))
    assert ahead == here and len(here) == 60
    (tmp_path / "file").write_text("x")
    config = tmp_path / "batch-claims.toml"
    config.write_text(f'[defaults]\nphotos = "{tmp_path / "file"}"\n')
    del args[2:4]  # the config's photos folder, a file
    result = run(*args, "--config", config, "--out", tmp_path / "never.xlsx")
    assert result.exit_code == 2 and "photos folder" in result.output
    assert not (tmp_path / "never.xlsx").exists()
