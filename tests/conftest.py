"""Fixtures that read like a glossary: a clean environment, the sandbox served on
127.0.0.1 in a thread, the environment pointing at it, and a private copy of the sample
week. Plain helpers and constants are in ``helpers.py``."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from batch_claims.clock import Clock
from batch_claims.sandbox import serve
from tests.helpers import SAMPLE, SCALED_LIMITS, point_at


@pytest.fixture(autouse=True)
def clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No SENDCLOUD_* or BATCH_CLAIMS_* from the developer's shell; no real data dir."""
    import os

    for name in list(os.environ):
        if name.startswith(("SENDCLOUD_", "BATCH_CLAIMS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Any]]:
    """Start sandboxes with a config (over the scaled limits) and optionally a clock
    (the system clock by default); all are shut down after the test."""
    servers: list[Any] = []

    def start(config: Mapping[str, object] | None = None, clock: Clock | None = None) -> Any:
        merged: dict[str, object] = dict(SCALED_LIMITS)
        merged.update(config or {})
        server = serve(merged, clock=clock)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Any]) -> Any:
    """A sandbox with every window divided by 100."""
    return sandbox_factory()


@pytest.fixture
def api_env(monkeypatch: pytest.MonkeyPatch, sandbox: Any) -> Any:
    """The environment pointing batch-claims at the sandbox with demo keys."""
    point_at(monkeypatch, sandbox.base_url)
    return sandbox


@pytest.fixture
def week(tmp_path: Path) -> Path:
    """A private copy of sample_data/: returns the sheet path (photos/ beside it)."""
    target = tmp_path / "week"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("*.results.xlsx", "*.py"))
    return target / "damage_claims_week47.xlsx"
