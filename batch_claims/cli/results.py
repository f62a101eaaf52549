"""The results workbook as the CLI writes it: the ``ResultsSink`` of a run (and of
validate), which turns the run's facts into the Summary's ``RunInfo``, writes the
workbook (never over a person's edits) and tells where, with the summary line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from batch_claims.cli.console import Console
from batch_claims.outcome import RowOutcome, Status

if TYPE_CHECKING:
    from batch_claims.report.workbook import ResultsFile
    from batch_claims.send.interfaces import RunInfo
    from batch_claims.validate.prepare import Prepared


class WorkbookSink:
    """Writes one command's results workbook to ``out``, maybe several times."""

    def __init__(self, console: Console, out: Path) -> None:
        self._console = console
        self._out = out
        self._file: ResultsFile | None = None

    def write(
        self,
        facts: RunInfo,
        prepared: Prepared,
        outcomes: Sequence[RowOutcome],
        *,
        running: bool = False,
    ) -> None:
        """Write the workbook; the final one (not ``running``) is told with the
        summary line, and where it went if the file was changed meanwhile."""
        from batch_claims.report.workbook import ResultsFile

        if self._file is None:
            self._file = ResultsFile(self._out)
        asked = self._file.path
        target = self._file.write(facts, prepared.table, outcomes)
        if running:
            return
        if target != asked:
            self._console.info(f"{asked} was changed while this run went on; it is kept as it is")
        self._console.result(summary_line(outcomes, target))


def summary_line(outcomes: Sequence[RowOutcome], out: Path) -> str:
    counts = Counter(outcome.status for outcome in outcomes)
    parts = ", ".join(f"{counts[s]} {s.value}" for s in Status if counts[s])
    return f"{len(outcomes)} rows: {parts or 'none'}; results in {out}"
