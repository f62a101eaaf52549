"""Work shared with the machine's second core: one part done in a forked child process
while this process does the other.

A forked child starts with a copy of everything this process holds (copied only where
either side writes), so it needs nothing sent to it; what it makes it leaves in files
the caller opened before the fork. Its only answer is its exit status: 0 when its work
ran to the end. Anything else (an exception, a signal, a child that could not start)
is a ``False`` for the caller, who then does that part itself: sharing the work can
make a run faster, never different.

A fork is only safe from a process with one thread (a lock another thread held stays
held in the child), so ``beside`` forks only then, on Linux, and otherwise runs the
parent's part alone and answers ``False``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether a child can be forked safely now: Linux, one thread."""
    return (
        sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1
    )


def beside(there: Callable[[], None], here: Callable[[], T]) -> tuple[T, bool]:
    """Run ``there`` in a forked child while ``here`` runs in this process; returns what
    ``here`` returned and whether ``there`` ran to the end in the child. When no child
    could be forked, ``there`` did not run at all (``False``)."""
    pid = _fork() if can_fork() else None
    if pid == 0:  # the child: never returns to the caller's code
        code = 1
        try:
            there()
            code = 0
        finally:
            os._exit(code)
    try:
        result = here()
    except BaseException:
        if pid is not None:
            _end(pid)
        raise
    if pid is None:
        return result, False
    _, status = os.waitpid(pid, 0)
    return result, os.waitstatus_to_exitcode(status) == 0


def _fork() -> int | None:
    try:
        return os.fork()
    except OSError:  # no memory or process left for it: the parent does it all
        return None


def _end(pid: int) -> None:
    """Stop a child whose work is no longer wanted, and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
