"""A rate limit as a value, and the scopes it applies to: shared by the settings (which
read limits from flags and the config file), the API's rate limiter that keeps them,
and the sandbox's defaults.

``Limit(15, 60)`` is "at most 15 requests in any 60 seconds", written ``15/60``. A
``Scope`` names what a limit counts: ticket POSTs, all POSTs, the short burst window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """What a rate limit counts."""

    TICKET = "ticket"  # ticket-creating POSTs
    REQUEST = "request"  # every POST (uploads and tickets)
    BURST = "burst"  # every POST, in the short window


_LIMIT_RE = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d*)?|\.\d+)\s*")


def _limit_error(text: str) -> ValueError:
    return ValueError(
        f"expected N/SECONDS with N a whole number ≥ 1 and SECONDS > 0, e.g. 15/60; got '{text}'"
    )


def _format_seconds(seconds: float) -> str:
    value = float(seconds)
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True)
class Limit:
    """At most ``count`` requests in any span of ``seconds``."""

    count: int
    seconds: float

    def __post_init__(self) -> None:
        count_ok = isinstance(self.count, int) and not isinstance(self.count, bool)
        seconds_ok = isinstance(self.seconds, int | float) and not isinstance(self.seconds, bool)
        if not (count_ok and self.count >= 1):
            raise _limit_error(f"{self.count}/{self.seconds}")
        if not (seconds_ok and math.isfinite(self.seconds) and self.seconds > 0):
            raise _limit_error(f"{self.count}/{self.seconds}")
        object.__setattr__(self, "seconds", float(self.seconds))

    @classmethod
    def parse(cls, text: str) -> Limit:
        """Parse ``"15/60"`` (fractional seconds allowed: ``"15/0.05"``)."""
        match = _LIMIT_RE.fullmatch(text)
        if match is None:
            raise _limit_error(text)
        try:
            return cls(int(match.group(1)), float(match.group(2)))
        except ValueError:
            raise _limit_error(text) from None

    def __str__(self) -> str:
        return f"{self.count}/{_format_seconds(self.seconds)}"
