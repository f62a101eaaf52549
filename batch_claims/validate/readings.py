"""Values read otherwise than written: an id written through a float column
(``123456789012.0``) read as its digits, a tracking number spaced as on its label read
without the spaces. Each is a ``Reading`` kept with its row, and told once per column
and kind in a notice listing the rows (``notices_of``).
Pure functions: this module opens no files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from batch_claims.read.table import SheetTable
from batch_claims.validate.coerce import is_float_text
from batch_claims.validate.messages import rows_listed


@dataclass(frozen=True)
class Reading:
    """A value read otherwise than written, for a notice: "123456789012.0" as 123456789012
    (``kind`` "float"), "9400 1000 0000" as "940010000000" (``kind`` "grouped": the
    spaces a label prints between groups left out)."""

    column: str
    kind: str
    written: str
    read: str


def reading_of(column: str, written: str, read: object) -> Reading | None:
    if read is None or str(read) == written.strip():
        return None
    kind = "float" if is_float_text(written) else "grouped"
    return Reading(column, kind, written, str(read))


def notices_of(table: SheetTable, rows: Iterable[tuple[int, Sequence[Reading]]]) -> tuple[str, ...]:
    """One notice per column and kind of reading, listing its rows (each row number
    with its readings)."""
    found: dict[tuple[str, str], list[Reading | int]] = {}
    for row, readings in rows:
        for reading in readings:
            found.setdefault((reading.column, reading.kind), []).extend([reading, row])
    notices = []
    for (column, kind), items in found.items():
        numbers = [item for item in items if isinstance(item, int)]
        first = next(item for item in items if isinstance(item, Reading))
        example = f'"{first.written}" → {first.read}'
        header = table.header_of(column)
        if kind == "float":
            notices.append(
                f'"{header}": numbers written as a float column writes them were read as '
                f"their digits ({rows_listed(numbers)}, e.g. {example}); "
                "save that column as text"
            )
        else:
            notices.append(
                f'"{header}": tracking numbers were read without the spaces that group them '
                f"on the label ({rows_listed(numbers)}, e.g. {example})"
            )
    return tuple(notices)
