"""The least time strict windows allow, as the dry-run plan prints it."""

from __future__ import annotations

import pytest

from batch_claims.limits import Limit
from batch_claims.send.plan import least_seconds
from batch_claims.settings import Settings


@pytest.mark.parametrize(
    ("tickets", "uploads", "expected"),
    [
        (0, 0, 0.0),
        (1, 0, 0.0),
        (15, 0, 0.0),  # 15 tickets fit in one window
        (16, 0, 60.0),  # the 16th waits a full minute after the first
        (10, 41, 3.0),  # 51 POSTs at 15 a second: three more seconds
        (10, 90, 6.0),  # 100 POSTs fit in the minute, 15 a second
        (10, 91, 60.0),  # the 101st POST waits for the minute window
        (500, 0, 33 * 60.0),
    ],
)
def test_least_seconds_follows_the_binding_window(
    tickets: int, uploads: int, expected: float
) -> None:
    assert least_seconds(Settings(), tickets, uploads) == expected


def test_least_seconds_uses_the_configured_limits() -> None:
    settings = Settings(ticket_limit=Limit(30, 60.0), request_limit=Limit(1000, 60.0))
    assert least_seconds(settings, 31, 0) == 60.0
    assert least_seconds(settings, 30, 0) == 1.0  # burst 15/1: the 16th..30th wait 1 s
