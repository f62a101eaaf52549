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

import os
import pickle
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Done(Generic[R]):
    """What a child that did its part returned."""

    value: R


def can_fork() -> bool:
    """Whether a child can be forked safely now: Linux, one thread."""
    return (
        sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1
    )


def beside(there: Callable[[], R], here: Callable[[], T]) -> tuple[T, Done[R] | None]:
    """Run ``there`` in a forked child while ``here`` runs in this process; returns what
    ``here`` returned and, when the child did its part, what ``there`` returned (None
    when it did not, or no child could be forked: then ``there`` may not have run)."""
    with tempfile.TemporaryFile() as answer:
        pid = _fork() if can_fork() else None
        if pid == 0:  # the child: never returns to the caller's code
            code = 1
            try:
                # A signal stops the child quietly (not through the handlers of the
                # run, which speak to the user); the parent does what it says.
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                pickle.dump(there(), answer, protocol=pickle.HIGHEST_PROTOCOL)
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
            return result, Done(pickle.load(answer))
        except Exception:  # an answer that does not read back: the part is undone
            return result, None


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
