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
held in the child), so ``beside`` forks only then, on Linux, and otherwise runs the
parent's part alone.
"""

from __future__ import annotations

import copyreg
import gc
import operator
import os
import pickle
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PosixPath, PurePath
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


def beside(there: Callable[[], R], here: Callable[[], T]) -> tuple[T, Done[R] | None]:
    """Run ``there`` in a forked child while ``here`` runs in this process; returns what
    ``here`` returned and, when the child did its part, what ``there`` returned (None
    when it did not, or no child could be forked: then ``there`` may not have run)."""
    try:
        answer = tempfile.TemporaryFile() if can_fork() else None
    except OSError:  # nowhere to leave an answer: this process does it all
        answer = None
    if answer is None:
        return here(), None
    with answer:
        pid = _fork()
        if pid == 0:  # the child: never returns to the caller's code
            code = 1
            try:
                # A signal stops the child quietly (not through the handlers of the
                # run, which speak to the user); the parent does what it says.
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                # A child lives seconds: its garbage goes with it, uncollected.
                gc.disable()
                _Pickler(answer, protocol=pickle.HIGHEST_PROTOCOL).dump(there())
                answer.flush()  # the child ends without flushing what it leaves
                code = 0
            finally:
                os._exit(code)
        try:
            result = here()
            if pid is None:
                return result, None
            _, status = os.waitpid(pid, 0)
        except BaseException:  # a failure, or a signal while waiting: no child outlives it
            if pid is not None:
                _end(pid)
            raise
        if os.waitstatus_to_exitcode(status) != 0:
            return result, None
        try:
            answer.seek(0)
            return result, Done(_loaded(answer))
        except Exception:  # an answer that does not read back: the part is undone
            return result, None


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
        return operator.truediv, (parent, name)


def _loaded(answer: IO[bytes]) -> Any:
    """The child's answer read back, the cycle collector off meanwhile (its passes over
    the many objects being made cost several times the reading)."""
    with collector_off():
        return pickle.load(answer)


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
