"""The cycle collector over a stage: paused, what the stage kept set aside from later
passes, and left as it was found."""

from __future__ import annotations

import gc

import pytest

from batch_claims.heap import collector_paused


class Node:
    def __init__(self) -> None:
        self.me = self


def test_the_collector_is_paused_for_the_block_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("a failure inside")
    assert gc.isenabled()


def test_a_paused_collector_stays_paused() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_the_block_kept_is_left_out_of_later_passes() -> None:
    """Without the freeze, the next passes would walk the stage's objects again."""
    gc.unfreeze()
    try:
        with collector_paused():
            kept = [Node() for _ in range(1_000)]
        assert gc.get_freeze_count() >= len(kept)
        young = {id(o) for o in gc.get_objects(0)}
        assert not any(id(node) in young for node in kept)
    finally:
        gc.unfreeze()


def test_garbage_from_before_the_block_is_collected_not_set_aside() -> None:
    """A long submit refreshes its workbook every few minutes: the cycles its requests
    left since must be freed, not kept for good."""
    freed: list[str] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            freed.append("freed")

    gc.unfreeze()
    was = gc.isenabled()
    gc.disable()
    try:
        Cycle()  # garbage at once, but only the collector can free it
        with collector_paused():
            pass
        assert freed == ["freed"]
    finally:
        gc.enable() if was else gc.disable()
        gc.unfreeze()
