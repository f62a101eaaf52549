"""The sandbox's settings, read once from the mapping given to ``create_app``.

Every key is optional; see ``NOTICE.md`` for what each one does. A bad value is a
``ValueError`` naming the key, raised when the app is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from batch_claims.sandbox.windows import Limit

DEFAULT_MAX_FILE_SIZE = 6 * 1024 * 1024


@dataclass(frozen=True)
class SandboxConfig:
    """Limits, fault shares and other knobs of one sandbox app."""

    ticket_limit: Limit = Limit("ticket", 15, 60.0)
    request_limit: Limit = Limit("request", 100, 60.0)
    burst_limit: Limit = Limit("burst", 15, 1.0)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    retry_after: bool = True
    retry_after_float: bool = False
    seed: int = 0
    latency: float = 0.0
    error_rate: float = 0.0
    rate_limit_burst_rate: float = 0.0
    drop_rate: float = 0.0
    lost_response_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 5.0
    token_expires_in: float = 3600.0

    @classmethod
    def from_mapping(cls, config: Mapping[str, object]) -> SandboxConfig:
        """Read the upper-case keys this sandbox knows; other keys are ignored."""
        defaults = cls()
        return cls(
            ticket_limit=_limit(config, "TICKET_LIMIT", defaults.ticket_limit),
            request_limit=_limit(config, "REQUEST_LIMIT", defaults.request_limit),
            burst_limit=_limit(config, "BURST_LIMIT", defaults.burst_limit),
            max_file_size=_positive_int(config, "MAX_FILE_SIZE", defaults.max_file_size),
            retry_after=_bool(config, "RETRY_AFTER", defaults.retry_after),
            retry_after_float=_bool(config, "RETRY_AFTER_FLOAT", defaults.retry_after_float),
            seed=_int(config, "SEED", defaults.seed),
            latency=_seconds(config, "LATENCY", defaults.latency),
            error_rate=_share(config, "ERROR_RATE"),
            rate_limit_burst_rate=_share(config, "RATE_LIMIT_BURST_RATE"),
            drop_rate=_share(config, "DROP_RATE"),
            lost_response_rate=_share(config, "LOST_RESPONSE_RATE"),
            slow_rate=_share(config, "SLOW_RATE"),
            slow_seconds=_seconds(config, "SLOW_SECONDS", defaults.slow_seconds),
            token_expires_in=_seconds(config, "TOKEN_EXPIRES_IN", defaults.token_expires_in),
        )


def _number(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, not {value!r}")
    return float(value)


def _limit(config: Mapping[str, object], key: str, default: Limit) -> Limit:
    value = config.get(key)
    if value is None:
        return default
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ValueError(f"{key} must be a pair (count, seconds), not {value!r}")
    count, seconds = value
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"{key} count must be a positive integer, not {count!r}")
    period = _number(seconds, key)
    if period <= 0:
        raise ValueError(f"{key} seconds must be positive, not {seconds!r}")
    return Limit(default.scope, count, period)


def _int(config: Mapping[str, object], key: str, default: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer, not {value!r}")
    return value


def _positive_int(config: Mapping[str, object], key: str, default: int) -> int:
    value = _int(config, key, default)
    if value < 1:
        raise ValueError(f"{key} must be positive, not {value!r}")
    return value


def _bool(config: Mapping[str, object], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return value


def _seconds(config: Mapping[str, object], key: str, default: float) -> float:
    value = _number(config.get(key, default), key)
    if value < 0:
        raise ValueError(f"{key} must not be negative, not {value!r}")
    return value


def _share(config: Mapping[str, object], key: str) -> float:
    value = _number(config.get(key, 0.0), key)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{key} must be a share between 0 and 1, not {value!r}")
    return value
