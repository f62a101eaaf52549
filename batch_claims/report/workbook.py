"""The results workbook: ``Summary``, ``Results`` and ``Failed rows``, written atomically,
and never over a person's edits.

``write_results`` writes the three sheets (``summary``, ``sheets``) through one ``Book``
(``book``: rows streamed to disk as SpreadsheetML, XlsxWriter for the rest) into a
temporary file beside the target, renamed over it once complete (``atomic``). Its cost
is linear in the rows and its memory flat. ``ResultsFile`` is where one run writes it,
maybe several times.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from batch_claims.errors import InputError
from batch_claims.heap import collector_paused
from batch_claims.outcome import RowOutcome
from batch_claims.read.table import SheetTable
from batch_claims.report.atomic import atomic
from batch_claims.report.book import Book
from batch_claims.report.sheets import in_input_order, write_row_sheets
from batch_claims.report.summary import write_summary
from batch_claims.results_layout import FAILED_SHEET, RESULTS_SHEET, SUMMARY_SHEET
from batch_claims.send.interfaces import RunInfo


def write_results(
    path: Path, info: RunInfo, table: SheetTable, outcomes: Sequence[RowOutcome]
) -> None:
    """Write the results workbook for ``outcomes`` of ``table`` atomically to ``path``."""
    if path.exists() and table.source.exists() and path.resolve() == table.source.resolve():
        raise InputError(f"refusing to overwrite the input {table.source} with results")
    with collector_paused():
        ordered = in_input_order(table, outcomes)

        def write(tmp: Path) -> None:
            book = Book()
            try:
                write_summary(book.sheet(SUMMARY_SHEET), info, [o for o, _ in ordered])
                results = book.sheet(RESULTS_SHEET)
                write_row_sheets(results, book.sheet(FAILED_SHEET, held=True), table, ordered)
            except BaseException:
                book.discard()
                raise
            book.close(tmp)

        atomic(path, write)


class ResultsFile:
    """Where one run writes its results workbook, maybe several times (a long run
    refreshes it): never over a person's edits.

    A file this run wrote and nobody touched since (same size, time and inode) is
    replaced at once; any other is checked by its fingerprint (``outputs.free_path``),
    and one a person changed is kept, the results going to ``<stem> (2).xlsx``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: tuple[int, int, int] | None = None

    def target(self) -> Path:
        """The path to write to now."""
        if self._written is not None and _stat_key(self.path) == self._written:
            return self.path
        from batch_claims.report.outputs import free_path

        self.path = free_path(self.path)
        return self.path

    def write(self, info: RunInfo, table: SheetTable, outcomes: Sequence[RowOutcome]) -> Path:
        """Write the workbook (atomically) to ``target()``; returns where it went."""
        target = self.target()
        write_results(target, info, table, outcomes)
        self._written = _stat_key(target)
        return target


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size, found.st_ino)
