"""Work that fills a wait: while this process only waits (for a forked child), a thread
of its own does what saves time later, on a core nothing else wants (``SCHED_IDLE``),
so it takes no time from the child, nor from any other process (``when_idle``)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

# How often ``when_idle`` looks at whether the wait is over, in seconds.
_LOOK = 0.002


def when_idle(work: Callable[[Callable[[], bool]], object], waiting: Callable[[], bool]) -> bool:
    """While ``waiting()`` says so (a child at work): ``work`` on a thread of its own that
    the system runs only on a core nothing else wants (``SCHED_IDLE``), so that it takes
    no time from the child, nor from any other process. ``work`` is given a function
    that says whether to go on, and should return soon after it says no.

    Returns once the wait is over and the thread has ended (no thread outlives it: a
    fork needs this process alone, ``forked.can_fork``): whether ``work`` ran, without an
    exception, to its end or to the wait's. Where the system has no such policy,
    nothing is done. What ``work`` does should only save time later."""
    stop = threading.Event()
    ran: list[bool] = []

    def run() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # this thread only
        except (AttributeError, OSError):
            return
        try:
            work(lambda: not stop.is_set())
        except Exception:  # it only saves time: the caller does without it
            return
        ran.append(True)

    thread = threading.Thread(target=run, name="batch-claims-idle", daemon=True)
    thread.start()
    try:
        while thread.is_alive() and waiting():
            time.sleep(_LOOK)
    finally:
        stop.set()
        thread.join()
    return bool(ran)
