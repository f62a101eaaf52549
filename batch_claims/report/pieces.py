"""Rows of a results workbook written in pieces shared with a forked child.

The pieces are dealt out as the documents' are (``forked.shared``): each process takes
the next piece nobody took as it finishes one, so the one the machine lets run faster
writes more, and neither waits long for the other at the end (two fixed halves ended
up to 0.9 s apart at 50,000 rows, on a machine shared with other work). Each piece
is numbered from where the pieces before it end (the caller says how many rows each
writes to each sheet), written into files of the process that took it, and taken into
the book in order: its rows' XML as a span of that file (``Sheet.take``; the package
reads the spans in order, nothing is copied), its fingerprint fed to the book's in turn
(or held, for a held sheet), its comments made again on the sheet. So the book is the
same as had one process written every piece in order, which is what happens when the
child cannot do its pieces: a piece it took and did not send back is written here.

Every style the rows may take is made ahead (``sheets._styles_ahead``), so both
processes number them alike; should the child make one this process numbers otherwise,
its pieces from there on are written again here. A count that was off would number rows
wrong: then every piece is written again here, one after the other.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from typing import BinaryIO

from batch_claims import forked
from batch_claims.report.book import Book, Sheet, Told
from batch_claims.report.rowxml import StyleKey


def in_pieces(
    book: Book, count: int, write: Callable[[int], None], rows: Sequence[Mapping[Sheet, int]]
) -> bool:
    """Write ``count`` pieces of rows (``write(k)`` writes piece ``k``), shared with a
    forked child: each process takes the next piece as it finishes one, so the one
    the machine lets run faster writes more. ``rows[k]`` says how many rows piece
    ``k`` writes to each sheet it writes to. The book ends as had the pieces been
    written here one after the other, which is what happens when they cannot be
    shared (no fork, the child failed) or a count was off; a piece the child wrote
    with a style this process numbers otherwise (one not made ahead) is written
    again here. Returns whether the child wrote pieces, all of them taken."""
    sheets = list(dict.fromkeys(sheet for counts in rows for sheet in counts))
    starts: list[list[int]] = []
    at = [sheet.rows for sheet in sheets]
    for counts in rows:
        starts.append(list(at))
        at = [done + counts.get(sheet, 0) for done, sheet in zip(at, sheets, strict=True)]
    for sheet in book.sheets:  # nothing left in a buffer for the child to write again
        sheet.flush()
        for file in (sheet.data, sheet.held):
            if file is not None:
                file.flush()
    for sheet in sheets:
        sheet.roll()
    parent = os.getpid()
    mine, theirs = PieceFiles(sheets), PieceFiles(sheets)
    recorded: list[list[tuple[StyleKey, int]]] = []  # the child's styles made

    def piece(k: int) -> Piece:
        here = os.getpid() == parent
        if not here and not recorded:
            recorded.append(book.rows.record_styles())
        before = len(recorded[0]) if recorded else 0
        told = (mine if here else theirs).write(write, k, starts[k])
        return here, told, recorded[0][before:] if recorded and not here else []

    try:
        answers = forked.shared(count, piece)
        shared = any(not here for here, _, _ in answers)
        again = False  # from the first of the child's pieces whose styles differ on
        for k, (here, _, made) in enumerate(answers):
            if not here and not again:
                again = any(book.rows.style(key) != f' s="{index}"' for key, index in made)
            if not here and again:
                answers[k] = piece(k)
        if any(
            told[0] != start + rows[k].get(sheet, 0)
            for k, (_, piece_told, _) in enumerate(answers)
            for sheet, start, told in zip(sheets, starts[k], piece_told, strict=True)
        ):
            for k in range(count):  # a count was off: the rows would be numbered wrong
                write(k)
            return False
        for here, piece_told, _ in answers:
            files = mine if here else theirs
            for sheet, data, kept, told in zip(
                sheets, files.data, files.kept, piece_told, strict=True
            ):
                sheet.take(data, kept, told)
        return shared and not again
    finally:
        for files in (mine, theirs):
            book.keep_open(files.data + files.kept)


# A piece written: whether by this process, what it wrote to each sheet, the styles the
# child made for it.
Piece = tuple[bool, list[Told], list[tuple[StyleKey, int]]]


class PieceFiles:
    """Where one process writes the pieces it takes (``in_pieces``): for each sheet,
    a file of rows' XML and one of their fingerprint."""

    def __init__(self, sheets: Sequence[Sheet]) -> None:
        self.sheets = sheets
        self.data: list[BinaryIO] = [tempfile.TemporaryFile() for _ in sheets]
        self.kept: list[BinaryIO] = [tempfile.TemporaryFile() for _ in sheets]

    def write(self, write: Callable[[int], None], k: int, starts: Sequence[int]) -> list[Told]:
        """Piece ``k``, written by ``write(k)`` from rows ``starts`` of the sheets on into
        these files (``Sheet.piece``); the sheets are left as they were found."""
        with ExitStack() as stack:
            told = [
                stack.enter_context(sheet.piece(start, data, kept))
                for sheet, start, data, kept in zip(
                    self.sheets, starts, self.data, self.kept, strict=True
                )
            ]
            write(k)
        return [sheet_told for (sheet_told,) in told]
