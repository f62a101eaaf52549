"""Work shared with the machine's second core: one part done in a forked child process
while this process does the other.

A forked child starts with a copy of everything this process holds (copied only where
either side writes), so it needs nothing sent to it; what it returns comes back
pickled through a temporary file, and what it writes to files the caller opened before
the fork is there for the caller to read. It is done when its work ran to the end and
its answer reads back. Anything else (an exception, a signal, a child that could not
start) leaves its part undone, and the caller does it itself: sharing the work can make
a run faster, never different.

A fork is only safe from a process with one thread (a lock another thread held stays
held in the child), so ``beside`` and ``shared`` fork only then, on Linux, and
otherwise do all the work here.

Two ways to share: ``beside`` runs two given parts at once (``alongside``: the child's
for as long as this process's runs); ``shared`` deals out many
like pieces of work, each process taking the next one left as it finishes one (so the
one the machine lets run faster does more), the child's results read back here piece by
piece between this process's own, so reading them is shared out too.

While this process only waits for a child, ``idle.when_idle`` can fill the wait.
"""

from __future__ import annotations

import copyreg
import gc
import io
import os
import pickle
import signal
import struct
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PosixPath, PurePath
from typing import IO, Any, Generic, TypeVar

from batch_claims.heap import collector_off

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Done(Generic[R]):
    """What a child that did its part returned."""

    value: R


def can_fork() -> bool:
    """Whether a child can be forked safely now: Linux, one thread (as the system counts
    them: a library's own threads too, which Python's ``threading`` does not see)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and _threads() == 1


def _threads() -> int:
    """The process's threads as the system counts them (``threading``'s count where the
    system does not say)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return threading.active_count()


def beside(
    there: Callable[[], R],
    here: Callable[[], T],
    then: Callable[[T, Callable[[], bool]], object] | None = None,
) -> tuple[T, Done[R] | None]:
    """Run ``there`` in a forked child while ``here`` runs in this process; returns what
    ``here`` returned and, when the child did its part, what ``there`` returned (None
    when it did not, or no child could be forked: then ``there`` may not have run).

    ``then``, when given, fills the wait for a child still at work once ``here`` is done:
    it is called with what ``here`` returned and a function that says whether the child
    is at work still, and should return soon after that says no. It is not called when
    there is no child to wait for."""
    try:
        answer = tempfile.TemporaryFile() if can_fork() else None
    except OSError:  # nowhere to leave an answer: this process does it all
        answer = None
    if answer is None:
        return here(), None
    with answer:
        pid = _fork()
        if pid == 0:  # the child: never returns to the caller's code

            def answered() -> None:
                _Pickler(answer, protocol=pickle.HIGHEST_PROTOCOL).dump(there())
                answer.flush()  # the child ends without flushing what it leaves

            _child(answered)
        child = None if pid is None else _Child(pid)
        try:
            result = here()
            if child is None:
                return result, None
            if then is not None and child.working():
                then(result, child.working)
            status = child.ended()
        except BaseException:  # a failure, or a signal while waiting: no child outlives it
            if child is not None and child.status is None:
                _end(child.pid)
            raise
        if os.waitstatus_to_exitcode(status) != 0:
            return result, None
        try:
            answer.seek(0)
            return result, Done(_loaded(answer))
        except Exception:  # an answer that does not read back: the part is undone
            return result, None


def alongside(
    there: Callable[[Callable[[], bool]], R], here: Callable[[], T]
) -> tuple[T, Done[R] | None]:
    """``beside``, with ``there`` given a function that says whether to go on: yes for
    as long as ``here`` runs, no once it has returned. ``there`` should return soon
    after; its answer comes back as ``beside``'s does."""
    try:
        stop, told = os.pipe()
    except OSError:
        return here(), None
    opened = {stop, told}

    def close(fd: int) -> None:
        if fd in opened:
            opened.discard(fd)
            os.close(fd)

    def child() -> R:
        close(told)  # the child's copy: the end is heard once this process closes its own
        os.set_blocking(stop, False)
        return there(lambda: _open(stop))

    def mine() -> T:
        try:
            return here()
        finally:
            close(told)

    try:
        return beside(child, mine)
    finally:
        for fd in list(opened):
            close(fd)


def _open(fd: int) -> bool:
    """Whether the far end of a pipe (read without blocking) is open still."""
    try:
        return os.read(fd, 1) != b""
    except BlockingIOError:
        return True


# ``shared``: at most this many pieces (each dealt out as two bytes on a pipe, all of
# them written before the fork, so within the one page any pipe holds).
MAX_PIECES = 2048
_TOKEN = struct.Struct("<H")  # a piece's number, as dealt out
_SENT = struct.Struct("<HQQ")  # a piece the child sent back: its number, where its answer is


def shared(pieces: int, do: Callable[[int], R]) -> list[R]:
    """``[do(0), do(1), …, do(pieces - 1)]``, the pieces shared with a forked child:
    each process takes the next piece nobody took as it finishes one, and the child's
    answers are read back here between this process's own pieces. A piece the child
    took but did not send back (it failed, or was signalled) is done here after."""
    if not 0 <= pieces <= MAX_PIECES:
        raise ValueError(f"{pieces} pieces: from 0 to {MAX_PIECES}")
    if pieces < 2 or not can_fork():
        return [do(piece) for piece in range(pieces)]
    try:
        answer = tempfile.TemporaryFile()
        dealt, deal = os.pipe()
        told, tell = os.pipe()
    except OSError:
        return [do(piece) for piece in range(pieces)]
    done: dict[int, R] = {}
    opened = {dealt, deal, told, tell}

    def close(fd: int) -> None:
        opened.discard(fd)
        os.close(fd)

    with answer:
        try:
            os.write(deal, b"".join(_TOKEN.pack(piece) for piece in range(pieces)))
            close(deal)  # once the pieces dealt are all taken, a read finds the end
            pid = _fork()
            if pid == 0:
                close(told)
                _child(lambda: _pieces_sent(dealt, do, answer.fileno(), tell))
            close(tell)  # the child's end closes the last: the answers' end is heard
            if pid is not None:
                try:
                    heard = _Heard(told, answer.fileno())
                    for piece in _taken(dealt):
                        done[piece] = do(piece)
                        done.update(heard.answers(wait=False))
                    done.update(heard.answers(wait=True))
                    os.waitpid(pid, 0)
                except BaseException:  # no child outlives a failure or a signal here
                    _end(pid)
                    raise
        finally:
            for fd in list(opened):
                close(fd)
    # The pieces nobody sent back (all of them when no child could be forked).
    return [done[piece] if piece in done else do(piece) for piece in range(pieces)]


def _taken(dealt: int) -> Iterator[int]:
    """The pieces this process takes, one after the other, until none is left."""
    while token := os.read(dealt, _TOKEN.size):
        yield _TOKEN.unpack(token)[0]


def _pieces_sent(dealt: int, do: Callable[[int], Any], answer: int, tell: int) -> None:
    """The child's part of ``shared``: each piece taken, done, its answer written to the
    ``answer`` file and where it is told on the ``tell`` pipe (one write of a few bytes,
    which a pipe never splits)."""
    position = 0
    for piece in _taken(dealt):
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(do(piece))
        data = buffer.getbuffer()
        written = 0
        while written < len(data):  # the child alone moves the file's offset
            written += os.write(answer, data[written:])
        os.write(tell, _SENT.pack(piece, position, position + written))
        position += written


class _Heard:
    """The child's answers, as it tells them on the pipe: each read from the answer
    file by position (the child's offset in it is left alone) and loaded."""

    def __init__(self, told: int, answer: int) -> None:
        self.told = told
        self.answer = answer
        self.buffer = b""
        self.closed = False

    def answers(self, wait: bool) -> dict[int, Any]:
        """The answers told since last asked: those told so far, or (``wait``) all,
        up to the child's end."""
        os.set_blocking(self.told, wait)
        while not self.closed:
            try:
                chunk = os.read(self.told, 64 * _SENT.size)
            except BlockingIOError:
                break
            if not chunk:
                self.closed = True
            self.buffer += chunk
        found: dict[int, Any] = {}
        whole = len(self.buffer) - len(self.buffer) % _SENT.size
        for offset in range(0, whole, _SENT.size):
            piece, start, end = _SENT.unpack_from(self.buffer, offset)
            try:
                found[piece] = _loaded(io.BytesIO(read_at(self.answer, start, end)))
            except Exception:  # an answer that does not read back: done here after
                continue
        self.buffer = self.buffer[whole:]
        return found


def read_at(fd: int, start: int, end: int) -> bytes:
    """Bytes ``start`` to ``end`` of an open file, whatever its offset (one read where the
    system gives them all); ``EOFError`` when the file ends before ``end``. For files a
    child wrote and this process reads back: its answers, the results workbook's rows."""
    parts = []
    while start < end:
        part = os.pread(fd, end - start, start)
        if not part:
            raise EOFError(f"the file ends before byte {end}")
        parts.append(part)
        start += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _child(work: Callable[[], None]) -> None:
    """A forked child's life: ``work``, then its end, with code 0 when it ran to the
    end (never a return to the caller's code)."""
    code = 1
    try:
        # A signal stops the child quietly (not through the handlers of the run,
        # which speak to the user); the parent does what it says.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # A child lives seconds: its garbage goes with it, uncollected.
        gc.disable()
        work()
        code = 0
    finally:
        os._exit(code)


# ``Path._make_child_relpath`` (Python 3.11 to 3.13, what ``Path.iterdir`` uses): a
# folder and one name in it joined without parsing the name again (``joined``).
_JOIN: Callable[[Any, str], Any] | None = getattr(Path, "_make_child_relpath", None)


def joined(folder: Path, name: str) -> Path:
    """``folder / name`` for one ``name`` in ``folder`` (no separator, not empty, not
    ``.``), made the cheap way where Python has one: the same path either way. For the
    paths a child sends back (``_Pickler``) and the files of a folder's listing."""
    return folder / name if _JOIN is None else _JOIN(folder, name)


class _Pickler(pickle.Pickler):
    """A pickler that sends a path as its folder and its name, each folder once: made
    again as ``folder / name``, a path costs a fraction of what parsing it whole does
    (tens of thousands of them, the documents of a sheet's rows)."""

    def __init__(self, file: IO[bytes], protocol: int) -> None:
        super().__init__(file, protocol)
        self._folders: dict[str, PurePath] = {}
        self.dispatch_table = {**copyreg.dispatch_table, PosixPath: self._path}

    def _path(self, path: PurePath) -> tuple[Any, tuple[Any, ...]]:
        text = str(path)
        folder, _, name = text.rpartition("/")
        if not folder or not name:  # "x", "/x", "/": as a whole
            return type(path), (text,)
        parent = self._folders.get(folder)
        if parent is None:
            parent = self._folders[folder] = type(path)(folder)
        return joined, (parent, name)


def _loaded(answer: IO[bytes]) -> Any:
    """The child's answer read back, the cycle collector off meanwhile (its passes over
    the many objects being made cost several times the reading)."""
    with collector_off():
        return pickle.load(answer)


class _Child:
    """A forked child waited for: whether it is at work still, then its end."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.status: int | None = None

    def working(self) -> bool:
        """Whether the child is at work still (reaped here once it is not)."""
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == 0:
                return True
            self.status = status
        return False

    def ended(self) -> int:
        """The child's wait status, once it has ended."""
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)
        return self.status


def _fork() -> int | None:
    try:
        return os.fork()
    except OSError:  # no memory or process left for it: the parent does it all
        return None


def _end(pid: int) -> None:
    """Stop a child whose work is no longer wanted, and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):  # reaped already
        pass
