"""Python's cycle collector over the stages that make the run's many small objects.

Reading, checking and writing a sheet make a few small objects per cell and per file,
kept until the run ends and none of them in a reference cycle. While they are being
made, each of the collector's full passes walks all of them again: at 50,000 rows that
was several seconds of a run that takes a quarter of a minute. ``collector_paused``
pauses the collector for such a stage; at its end, what the stage kept is set aside
from later passes (``gc.freeze``), so that they do not walk it either, and the
collector is left as it was found.

Memory is still given back as ever: an object goes with its last reference. Garbage in
a cycle is collected as the stage starts (one pass over what is not yet set aside:
cheap, as everything earlier stages kept is), so a long submit that refreshes its
workbook every few minutes does not set aside what its requests left; only a cycle
made during the stage itself would wait, and the stages make none worth counting (the
peak at 50,000 rows is the same).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector paused for the block (after one pass over what is not yet
    set aside), what the block kept set aside from later passes, and the collector as
    it was found, after a failure too."""
    gc.collect()
    with collector_off():
        try:
            yield
        finally:
            gc.freeze()  # before the collector is back on


@contextmanager
def collector_off() -> Iterator[None]:
    """Only the pause: the cycle collector off for the block and left as it was found
    (a short stage that makes many objects and no garbage: a forked child's answer
    read back)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def set_aside() -> None:
    """What the process holds now set aside from the collector's later passes, as a
    stage's keepings are at its end: for what a forked child sent back outside a stage
    (the sheet read meanwhile), kept for the whole run."""
    gc.freeze()
