"""Test-only entry point of the crash tests:

    python tests/crash_entry.py POINT[:N] COMMAND [ARGS...]

runs ``batch-claims COMMAND ARGS`` and kills this process with SIGKILL (as a power cut
would) the Nth time (default 1) a row reaches POINT: ``before_upload``,
``after_upload``, ``before_ticket``, ``after_ticket`` or ``after_record``. The shipped
CLI reads no switch for this: the killing hook is installed here, as the click context
object (``RunHooks``) the submit and retry commands pass to the run."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package

from batch_claims.cli import cli  # noqa: E402
from batch_claims.send.interfaces import RunHooks  # noqa: E402

POINTS = ("before_upload", "after_upload", "before_ticket", "after_ticket", "after_record")


def killer(spec: str) -> Callable[[str], None]:
    """The fault hook for ``POINT[:N]``."""
    target, _, nth = spec.partition(":")
    if target not in POINTS:
        raise SystemExit(f"crash_entry: unknown point {target!r}; one of {', '.join(POINTS)}")
    remaining = [int(nth or 1)]

    def fault(point: str) -> None:
        if point == target:
            remaining[0] -= 1
            if remaining[0] == 0:
                os.kill(os.getpid(), signal.SIGKILL)

    return fault


def main(argv: list[str]) -> None:
    spec, *args = argv
    cli.main(args, prog_name="batch-claims", obj=RunHooks(fault=killer(spec)))


if __name__ == "__main__":
    main(sys.argv[1:])
