"""The run lock is an operating-system lock on ``<journal>.lock``: a live holder (a
real second process) blocks, a dead one never does — killed with SIGKILL, its pid
reused, or its container (host name) gone — and ``unlock`` clears what a dead run left,
refusing while a live process holds the lock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from batch_claims.errors import JournalLocked
from batch_claims.send.journal import Journal, lock_path
from tests.helpers import ROOT, SCALED_FLAGS, run, tickets

# A second process that takes the lock, says so, and holds it until stdin closes.
HOLDER = """
import sys
from datetime import UTC, datetime
from batch_claims.send.journal import Journal
book = Journal(sys.argv[1], lambda: datetime.now(UTC))
book.acquire_lock("run-held", "submit", "week.xlsx")
print("locked", flush=True)
sys.stdin.read()
book.release_lock("run-held")
book.close()
"""


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A live process holding the lock of ``tmp_path/j.sqlite3``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "j.sqlite3")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None and process.stdout.readline() == "locked\n"
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate()


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL


def test_a_live_second_process_blocks_naming_its_run(
    holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    book = Journal(tmp_path / "j.sqlite3", now)
    with pytest.raises(JournalLocked) as caught:
        book.acquire_lock("run-b", "submit", "other.xlsx")
    message = caught.value.message
    assert f"pid {holder.pid} on {socket.gethostname()}" in message
    assert "submit of week.xlsx (run run-held)" in message
    book.close()


def test_submit_beside_a_live_run_exits_3_and_sends_nothing(
    api_env: Any, holder: subprocess.Popen[str], week: Path, tmp_path: Path
) -> None:
    result = run("submit", week, "--journal", tmp_path / "j.sqlite3", "--quiet", *SCALED_FLAGS)
    assert result.exit_code == 3
    assert f"pid {holder.pid}" in result.output
    assert tickets(api_env) == []


def test_the_lock_of_a_killed_process_never_blocks(
    holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    path = tmp_path / "j.sqlite3"
    kill(holder)
    assert json.loads(lock_path(path).read_text())["pid"] == holder.pid  # left behind
    book = Journal(path, now)
    notice = book.acquire_lock("run-b", "submit", None)
    assert notice is not None and "run-held" in notice and "no longer running" in notice
    book.release_lock("run-b")
    book.close()


@pytest.mark.parametrize("host", [socket.gethostname(), "a-container-long-gone"])
def test_a_dead_runs_record_with_a_live_pid_or_another_host_never_blocks(
    tmp_path: Path, host: str
) -> None:
    """The pid a dead run recorded now belongs to a live process (this one, pid 1), or
    the run was in a container whose host name is gone: neither blocks."""
    path = tmp_path / "j.sqlite3"
    book = Journal(path, now)
    book.acquire_lock("run-a", "submit", None)
    book.db.execute("UPDATE lock SET pid = ?, host = ?", (os.getpid(), host))
    record = {"run_id": "run-a", "pid": 1, "host": host, "started_at": "2024-01-01T00:00:00Z"}
    book.close()  # the run died: the kernel drops its lock, its records stay
    lock_path(path).write_text(json.dumps(record))
    again = Journal(path, now)
    assert again.acquire_lock("run-b", "submit", None) is not None
    again.release_lock("run-b")
    again.close()


def test_unlock_refuses_while_a_live_process_holds_the_lock(
    holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    path = tmp_path / "j.sqlite3"
    result = run("unlock", "--journal", path)
    assert result.exit_code == 3
    assert f"pid {holder.pid}" in result.output and "not unlocked" in result.output
    assert json.loads(lock_path(path).read_text())["run_id"] == "run-held"


def test_unlock_clears_what_a_killed_run_left_with_a_warning(
    holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    path = tmp_path / "j.sqlite3"
    kill(holder)
    result = run("unlock", "--journal", path)
    assert result.exit_code == 0
    assert "warning: removed the lock of submit of week.xlsx (run run-held)" in result.output
    assert "check the Sendcloud panel" in result.output
    assert not lock_path(path).exists()
    book = Journal(path, now)
    assert book.lock_record() is None
    assert book.acquire_lock("run-b", "submit", None) is None  # nothing to take over
    book.close()


def test_unlock_of_an_unlocked_journal_says_so(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path, now).close()
    result = run("unlock", "--journal", path)
    assert result.exit_code == 0 and "was not locked" in result.output
    missing = run("unlock", "--journal", tmp_path / "none.sqlite3")
    assert missing.exit_code == 2 and "no journal at" in missing.output


def test_a_lock_file_removed_during_the_run_stops_its_next_write(tmp_path: Path) -> None:
    """Else a second run would lock a new file and both would send."""
    path = tmp_path / "j.sqlite3"
    book = Journal(path, now)
    book.acquire_lock("run-a", "submit", None)
    lock_path(path).unlink()
    other = Journal(path, now)
    assert other.acquire_lock("run-b", "submit", None) is not None
    with pytest.raises(Exception, match=r"j\.sqlite3\.lock was deleted or replaced"):
        book.set_meta("probe", "x")
    other.close()
    book.close()
