"""What a run of submit or retry is given and gives back, and how it talks to the
CLI: the request (``SendRequest``), the result (``SendResult``), the ``RunView`` it tells
the user through, the ``ResultsSink`` its workbooks go to with their ``RunInfo``, and the
``RunHooks`` a test installs (``fault``: the crash points). Nothing here loads a stage."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from batch_claims.errors import RunAborted
from batch_claims.outcome import RowOutcome, Status

if TYPE_CHECKING:
    from batch_claims.api.client import ClientEvent
    from batch_claims.validate.prepare import Prepared


class RunView(Protocol):
    """What a run tells the user while it goes (the CLI's console)."""

    def info(self, message: str) -> None:
        """A line of news: what was read, the plan, a problem, a stop."""

    def show_plan(self, text: str) -> None:
        """The plan of a dry run: its whole answer."""

    def waiting(self, seconds: float, scope: str) -> None:
        """The rate limiter waits ``seconds`` for the ``scope`` window."""

    def retrying(self, event: ClientEvent) -> None:
        """The client waits before trying a failed request again."""

    def start(self, total: int, label: str) -> None:
        """Sending starts: ``total`` rows."""

    def row_done(self, outcome: RowOutcome) -> None:
        """One row's outcome, in the order the rows are sent (the sheet's, unless
        ``--order deadline``)."""

    def stop(self) -> None:
        """Sending ended (before the summary)."""


@dataclass(frozen=True)
class RunInfo:
    """What a results workbook's Summary tells about the run (never secrets)."""

    command: str
    started_at: datetime
    finished_at: datetime
    input_name: str
    input_sha256: str
    base_url: str | None
    tool_version: str
    run_id: str
    account: str | None = None
    journal: str | None = None
    sheet_name: str | None = None
    source_results: str | None = None
    notices: tuple[str, ...] = ()
    stats: Mapping[str, int | float | str] = field(default_factory=dict)


class ResultsSink(Protocol):
    """Writes the run's results workbook: the final one (told with a summary line), or
    a refresh of a long run (``running``: told nothing)."""

    def write(
        self,
        facts: RunInfo,
        prepared: Prepared,
        outcomes: Sequence[RowOutcome],
        *,
        running: bool = False,
    ) -> None: ...


def no_fault(point: str) -> None:
    """The shipped fault hook: nothing happens at any step of a row."""


@dataclass(frozen=True)
class RunHooks:
    """What a test installs into a run (``click`` passes it as the context object):
    ``fault`` is called at each step of a row (see ``Submitter.fault``)."""

    fault: Callable[[str], None] = no_fault


@dataclass(frozen=True)
class SendRequest:
    """What submit or retry was asked to do (the CLI's options, already checked)."""

    sheet: Path  # the input sheet; for retry, the earlier results workbook
    out: Path
    photos: Path | None = None
    sheet_name: str | None = None
    retry: bool = False  # send the rows of the sheet's 'Failed rows'
    sandbox: bool = False
    temp_journal: bool = False  # the built-in sandbox's journal forgets with it
    force: bool = False
    resubmit_unconfirmed: bool = False
    dry_run: bool = False
    max_minutes: float | None = None

    @property
    def command(self) -> str:
        if self.dry_run:
            return "submit --dry-run"
        return "retry" if self.retry else "submit"


@dataclass(frozen=True)
class SendResult:
    """Every row's outcome, and the error that stopped the run (exit 3), if any."""

    outcomes: list[RowOutcome]
    aborted: RunAborted | None = None
    dry_run: bool = False
    # What the run made (its prepared rows), held by the result so that it goes with
    # the process (``cli.exit_now``) rather than object by object as ``send`` returns:
    # at 50,000 rows, 0.2 s of freeing memory the system takes back at once.
    kept: object = field(default=None, repr=False, compare=False)

    @property
    def all_done(self) -> bool:
        """Exit 0: every row has a ticket (a dry run: every row is ready to send)."""
        if self.dry_run:
            ready = (Status.VALID, Status.ALREADY_SUBMITTED)
            return all(o.status in ready for o in self.outcomes)
        return all(o.status.has_ticket for o in self.outcomes)
