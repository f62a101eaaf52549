"""What the user sees while a run goes: a tqdm bar on a terminal, plain timestamped log
lines otherwise (cron), nothing with --quiet. It is the ``RunView`` of the send layer:
messages, rows, rate-limit waits and the client's retries (``retry_line``).

The --log-file holds an account's claim history: a new one is created readable by the
user only (0600). Every line is masked of secrets and has its control characters made
visible (``shown``): text from a sheet or a server never drives the terminal."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click
from tqdm import tqdm

from batch_claims.clock import Clock, SystemClock, iso_utc
from batch_claims.outcome import RowOutcome, Status
from batch_claims.redact import shown

if TYPE_CHECKING:
    from batch_claims.api.client import ClientEvent


class Console:
    """Messages, per-row progress and rate-limit waits for one command."""

    def __init__(
        self, quiet: bool = False, log_file: Path | None = None, clock: Clock | None = None
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self.quiet = quiet
        self.interactive = not quiet and sys.stderr.isatty()
        self._bar: tqdm[Any] | None = None
        self._log: IO[str] | None = None
        if log_file is not None:
            try:
                fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._log = os.fdopen(fd, "a", encoding="utf-8")
            except OSError as exc:
                raise click.UsageError(
                    f"cannot open --log-file {log_file}: {exc.strerror}"
                ) from None
        self.counts: Counter[Status] = Counter()

    def stop(self) -> None:
        """End the progress bar (before the summary is printed)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _stamp(self) -> str:
        return iso_utc(self._clock.utcnow()) or ""

    def _write_log(self, line: str) -> None:
        if self._log is not None:
            self._log.write(f"{self._stamp()} {line}\n")
            self._log.flush()

    def info(self, message: str) -> None:
        """A line for the user (stderr), also in the log file."""
        message = shown(message)
        self._write_log(message)
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(message, file=sys.stderr)
        elif self.interactive:
            click.echo(message, err=True)
        else:
            click.echo(f"{self._stamp()} {message}", err=True)

    def result(self, message: str) -> None:
        """The closing summary line: always on stdout, even with --quiet."""
        message = shown(message)
        self._write_log(message)
        click.echo(message)

    def show_plan(self, text: str) -> None:
        """A dry run's plan: its answer, on stdout even with --quiet."""
        click.echo(text)

    def start(self, total: int, label: str) -> None:
        if self.interactive:
            self._bar = tqdm(total=total, desc=label, unit="row", file=sys.stderr, leave=True)

    def row_done(self, outcome: RowOutcome) -> None:
        self.counts[outcome.status] += 1
        line = f"row {outcome.row} {outcome.tracking_number or '(no tracking number)'}: "
        line += outcome.status.value
        if outcome.ticket_id:
            line += f" ticket {outcome.ticket_id}"
        if outcome.status not in (Status.SUBMITTED, Status.VALID) and outcome.error_detail:
            line += f" — {outcome.error_detail.splitlines()[0]}"
        line = shown(line)
        self._write_log(line)
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(_tally(self.counts), refresh=True)
        elif not self.quiet and outcome.status is not Status.INVALID:
            click.echo(f"{self._stamp()} {line}", err=True)

    def waiting(self, seconds: float, scope: str) -> None:
        """The rate limiter is about to wait: show it so a pause never looks like a hang."""
        if self._bar is not None:
            self._bar.set_postfix_str(
                f"{_tally(self.counts)} · waiting {seconds:.1f}s for the {scope} limit",
                refresh=True,
            )
        elif seconds >= 5:
            self.info(f"waiting {seconds:.0f}s for the {scope} rate limit")

    def retrying(self, event: ClientEvent) -> None:
        """The client waits before trying a request again: on a terminal in the bar,
        else a timestamped line (and in the log file); nothing on screen with --quiet."""
        if event.kind != "retry":
            return
        line = shown(retry_line(event))
        if self._bar is not None:
            self._write_log(line)
            self._bar.set_postfix_str(f"{_tally(self.counts)} · {line}", refresh=True)
        else:
            self.info(line)


def retry_line(event: ClientEvent) -> str:
    """ "ticket request: server error (503), retrying in 8 s (attempt 2/5)"."""
    what = "ticket request" if event.ticket else "file upload"
    status = event.http_status
    if status == 429:
        why = "rate limited (429)"
    elif status is not None and status >= 500:
        why = f"server error ({status})"
    elif status is not None:
        why = f"unexpected answer ({status})"
    else:
        why = event.detail.splitlines()[0] if event.detail else "the request failed"
    wait = f"{event.delay:.0f} s" if event.delay >= 10 else f"{event.delay:.1f} s"
    attempt = f"attempt {event.attempt + 1}/{event.max_attempts}"
    return f"{what}: {why}, retrying in {wait} ({attempt})"


def _tally(counts: Counter[Status]) -> str:
    return ", ".join(f"{status.value} {n}" for status, n in counts.items() if n)
