"""The rows below the header, assembled (``assemble``): converted, aligned with the
header, and without what is not a claim.

Each clean-up is told once in the notices: fully empty rows are dropped silently; rows
labelled as totals or notes ("Subtotal", "Totaal: 12", "Notes: …", see
``totals_label``) wherever they stand, rows after the last row with a tracking number
that hold only amounts, currencies or one note, the template's example row and header
lines repeated below the header are dropped with a notice; values under a blank header
cell and values right of the last header are named in one.

Past ``SHARED_ROWS`` rows read by the fast path, the later half of them is converted by
a forked child while this process converts the earlier half (``forked.beside``); the
clean-ups then see all the rows, so the table is the same either way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from batch_claims import forked
from batch_claims.columns import (
    BY_NAME,
    EXAMPLE_TRACKING_NUMBER,
    TRACKING_NUMBER,
    Kind,
    normalise_header,
)
from batch_claims.errors import InputError
from batch_claims.read import table
from batch_claims.read.cells import safely
from batch_claims.read.headers import unknown_columns
from batch_claims.read.merged import column_letter
from batch_claims.read.table import HeaderRow, SentRows, SourceRow, received_rows, sent_rows

LISTED_ROWS = 10  # row numbers listed in one notice before "and N more"
_UNSEEN = object()  # a text not yet converted in its column


# From this many rows below the header (about 2 MB of sheet), the later half of them is
# converted by a forked child meanwhile (``later``).
SHARED_ROWS = 8_000
LATER = 0.5

Rows = Iterator[tuple[int, tuple[Any, ...]]]
# ``SheetRows.later``: the later share of the rows not read yet, taken off the rows, as a
# job that reads them; given that share and the least count of rows worth sharing.
Later = Callable[[float, int], Callable[[], Rows] | None]


def assemble(
    path: Path,
    where: str,
    header: HeaderRow,
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    convert: Callable[[Any, bool], object],
    lookup: Mapping[str, str],
    later: Later | None = None,
) -> tuple[tuple[SourceRow, ...], list[str], tuple[int, ...]]:
    """The data rows below the header, converted; the notices about them; the rows
    with content that were left out. With ``later`` (``SheetRows.later``), the later
    rows of a big sheet are converted by a forked child meanwhile (``forked``): the
    same rows, the same notices."""
    width = len(header.headers)
    tracking_index = header.mapping[TRACKING_NUMBER]
    convert = safely(convert)  # one odd cell costs its row, never the sheet

    def converted(part: Rows) -> tuple[list[SourceRow], list[int]]:
        return _converted(path, where, part, width, tracking_index, convert)

    job = later(LATER, SHARED_ROWS) if later is not None else None
    if job is None:
        data, beyond = converted(rows)
    else:
        shared = job  # the later rows' job, read in the child (or here, if it fails)
        (data, beyond), done = forked.beside(
            lambda: _sent(*converted(shared())), lambda: converted(rows)
        )
        more, more_beyond = converted(job()) if done is None else _received(*done.value)
        data += more
        beyond = (beyond + more_beyond)[:3]
        if len(data) > table.MAX_ROWS:
            raise _too_many_rows(path, where)
    notices = []
    unknown = unknown_columns(header.headers, header.mapping, lookup)
    if unknown:
        notices.append(unknown)
    data, totals = _without_totals_rows(data, tracking_index)
    data, trailing = _without_trailing_rows(data, tracking_index, header.mapping)
    data, examples = _without_example_rows(data, tracking_index)
    data, repeats = _without_header_repeats(data, tracking_index, lookup)
    unnamed = _unnamed_columns_notice(header.headers, data)
    if unnamed:
        notices.append(unnamed)
    if beyond:
        listed = ", ".join(str(number) for number in beyond)
        notices.append(
            f"values right of the last header were ignored (row {listed}); "
            "give those columns a header to keep them"
        )
    if totals:
        notices.append(_totals_notice(totals))
    if trailing:
        notices.append(
            f"{_rows_phrase(trailing)} no tracking number and "
            + (
                "was ignored (a totals or notes row?)"
                if len(trailing) == 1
                else "were ignored (totals or notes rows?)"
            )
        )
    if examples:
        notices.append(
            f"{_rows_phrase(examples, 'is', 'are')} the template's example row and "
            + ("was skipped" if len(examples) == 1 else "were skipped")
        )
    if repeats:
        notices.append(
            f"{_rows_phrase(repeats, 'repeats', 'repeat')} the header (its tracking-number "
            "cell names the column) and " + ("was skipped" if len(repeats) == 1 else "were skipped")
        )
    skipped = [row for row, _ in totals] + trailing + examples + repeats
    return tuple(data), notices, tuple(sorted(skipped))


def _converted(
    path: Path,
    where: str,
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    width: int,
    tracking_index: int,
    convert: Callable[[Any, bool], object],
) -> tuple[list[SourceRow], list[int]]:
    """The rows converted and aligned with the header, fully empty ones left out; and
    the first three with values right of the last header."""
    flags = [index == tracking_index for index in range(width)]
    # A text is converted once per column (``convert`` is pure): a column repeats its
    # few values (contract types, currencies) down the sheet.
    texts: list[dict[str, object]] = [{} for _ in range(width)]
    padding = (None,) * width
    data: list[SourceRow] = []
    beyond: list[int] = []
    for number, cells in rows:
        converted: list[object] = []
        for cell, flag, known in zip(cells, flags, texts, strict=False):
            if cell is None:
                value = None
            elif type(cell) is str:
                value = known.get(cell, _UNSEEN)
                if value is _UNSEEN:
                    value = known[cell] = convert(cell, flag)
            else:
                value = convert(cell, flag)
            converted.append(value)
        values = tuple(converted)
        if len(values) < width:
            values = (values + padding)[:width]
        if len(cells) > width and len(beyond) < 3:
            if any(convert(cell, False) is not None for cell in cells[width:] if cell is not None):
                beyond.append(number)
        if all(value is None for value in values):
            continue
        if len(data) >= table.MAX_ROWS:  # looked up here: a test lowers it
            raise _too_many_rows(path, where)
        data.append(SourceRow(number, values))
    return data, beyond


def _too_many_rows(path: Path, where: str) -> InputError:
    return InputError(
        f"{path.name}: {where} has more than {table.MAX_ROWS:,} data rows; "
        "split it into smaller sheets"
    )


def _sent(data: list[SourceRow], beyond: list[int]) -> tuple[SentRows, list[int]]:
    return sent_rows(data), beyond


def _received(data: SentRows, beyond: list[int]) -> tuple[list[SourceRow], list[int]]:
    return received_rows(data), beyond


# Labels of totals and notes rows, folded (lower case, no accents); a space stands for
# any run of spaces, hyphens or dots ("Sub-total", "Sous total", "N.B.").
TOTALS_WORDS = (
    # English
    "total", "totals", "sub total", "sub totals", "grand total", "sum", "sum total",
    # Dutch
    "totaal", "totalen", "sub totaal", "sub totalen", "eind totaal", "som", "totaal bedrag",
    # German
    "summe", "summen", "gesamt", "gesamtsumme", "gesamtbetrag", "zwischensumme",
    "endsumme", "insgesamt", "teilsumme",
    # French
    "sous total", "sous totaux", "total general", "totaux", "somme", "montant total",
    # Spanish and Italian
    "suma", "suma total", "totales", "sub totales", "totale", "totali",
    "sub totale",
)  # fmt: skip
NOTES_WORDS = (
    "note", "notes", "nb", "n b", "remark", "remarks", "comment", "comments",
    "opmerking", "opmerkingen", "notitie", "notities", "let op",
    "anmerkung", "anmerkungen", "hinweis", "bemerkung", "bemerkungen", "achtung",
    "remarque", "remarques", "commentaire", "commentaires", "nota", "notas",
    "observacion", "observaciones", "comentario", "comentarios",
)  # fmt: skip
_TOTALS_LABEL = re.compile(
    r"(?:"
    + "|".join(
        r"[\s.\-]*".join(map(re.escape, word.split()))
        for word in sorted({*TOTALS_WORDS, *NOTES_WORDS}, key=len, reverse=True)
    )
    + r")\.?"
    # then nothing, a number, a currency or punctuation, never a letter or a digit that
    # continues the word (a tracking number has no space or ":" after its letters)
    + r"(?=\s*$|\s*[:=(\[;,*!?€£$–—]|\s+[-+]?\d|\s+-\s|\s+(?:eur|gbp|usd)\b)"
    + r"|n\.\s*b\.(?=\s|$)"  # "N.B." with its dots: anything may follow
)


def totals_label(text: str) -> bool:
    """Whether a cell's text is a totals or notes label: it starts with one of
    ``TOTALS_WORDS`` or ``NOTES_WORDS`` (any case and accents), followed by nothing, a
    number, a currency, or punctuation such as ":" or "(" ("Total", "Totaal: 12",
    "Total (4 parcels)", "Summe 35,00", "NB: …"). A word or letters right after it
    ("Total loss", "TOTAL12") make it no label, so a tracking number never is one."""
    return _TOTALS_LABEL.match(_fold(text)) is not None


def _fold(text: str) -> str:
    if text.isascii():  # no accents to take off: NFKD leaves ASCII as it is
        return text.casefold().strip()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


def _label_of(row: SourceRow, tracking_index: int) -> str | None:
    """The text that names what a row is: its tracking-number cell, or when that is
    blank its first non-blank cell."""
    value = row.cells[tracking_index]
    if value is None:
        value = next((cell for cell in row.cells if cell is not None), None)
    return value if isinstance(value, str) else None


def _without_totals_rows(
    data: list[SourceRow], tracking_index: int
) -> tuple[list[SourceRow], list[tuple[int, str]]]:
    """Rows labelled as totals or notes ("Subtotal", "Totaal: 12", "Notes: …"), wherever
    they stand; with their labels."""
    kept: list[SourceRow] = []
    totals: list[tuple[int, str]] = []
    for row in data:
        label = _label_of(row, tracking_index)
        if label is not None and totals_label(label):
            totals.append((row.row, label))
        else:
            kept.append(row)
    return kept, totals


def _totals_notice(totals: Sequence[tuple[int, str]]) -> str:
    labels = list(dict.fromkeys(label for _, label in totals))
    shown = ", ".join(f'"{_shortened(label)}"' for label in labels[:3])
    if len(labels) > 3:
        shown += ", …"
    one = len(totals) == 1
    return (
        f"{_rows_phrase([row for row, _ in totals], 'is', 'are')} "
        + ("a totals or notes row" if one else "totals or notes rows")
        + f" ({shown}) and "
        + ("was ignored" if one else "were ignored")
    )


def _shortened(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _without_trailing_rows(
    data: list[SourceRow], tracking_index: int, mapping: Mapping[str, int]
) -> tuple[list[SourceRow], list[int]]:
    """Rows after the last one with a tracking number are totals or notes, not claims.

    A tracking cell without a single digit ("Total", "Totaal", "Notes: …") does not
    count as a tracking number here: real ones always carry digits. A sheet where no
    row has a tracking number keeps its rows (each is then reported as missing one):
    there is no "last row" to go by. A trailing row that says what only a claim says
    (``_says_claim``) stays a row, reported for its tracking number, never lost.
    """

    def has_tracking_number(row: SourceRow) -> bool:
        value = row.cells[tracking_index]
        if isinstance(value, str):
            return any(ch.isdigit() for ch in value)
        return value is not None

    last = next((i for i in range(len(data) - 1, -1, -1) if has_tracking_number(data[i])), None)
    if last is None or last == len(data) - 1:
        return data, []
    claim_indexes = [
        index for name, index in mapping.items() if BY_NAME[name].kind not in _TOTALS_KINDS
    ]
    kept, trailing = data[: last + 1], []
    for row in data[last + 1 :]:
        if _says_claim(row, claim_indexes):
            kept.append(row)
        else:
            trailing.append(row.row)
    return kept, trailing


# What a totals row holds besides its label: amounts and their currency.
_TOTALS_KINDS = frozenset({Kind.AMOUNT, Kind.CURRENCY})


def _says_claim(row: SourceRow, claim_indexes: Sequence[int]) -> bool:
    """Whether a row without a tracking number is a claim that lacks one rather than a
    totals or notes row: more than one filled cell, one of them in a column other than
    an amount or a currency (a contract type, a description, a file, a placeholder
    typed for the tracking number: "TBD")."""
    filled = sum(1 for value in row.cells if value is not None)
    return filled > 1 and any(
        index < len(row.cells) and row.cells[index] is not None for index in claim_indexes
    )


def _without_example_rows(
    data: list[SourceRow], tracking_index: int
) -> tuple[list[SourceRow], list[int]]:
    example = EXAMPLE_TRACKING_NUMBER.casefold()

    def is_example(row: SourceRow) -> bool:
        value = row.cells[tracking_index]
        return isinstance(value, str) and value.casefold() == example

    examples = [row.row for row in data if is_example(row)]
    if not examples:
        return data, []
    return [row for row in data if not is_example(row)], examples


def _without_header_repeats(
    data: list[SourceRow], tracking_index: int, lookup: Mapping[str, str]
) -> tuple[list[SourceRow], list[int]]:
    """Header lines below the header: the header repeated where two sheets were pasted
    together, or a line of translated column names. Their tracking-number cell names
    that column ("Tracking number", "Trackingnummer"), which no tracking number does,
    and another cell names a column too (a lone cell may be a typo, and is reported)."""

    def names(value: object) -> str | None:
        return lookup.get(normalise_header(value)) if isinstance(value, str) else None

    def is_header(row: SourceRow) -> bool:
        if names(row.cells[tracking_index]) != TRACKING_NUMBER:
            return False
        return any(names(value) for i, value in enumerate(row.cells) if i != tracking_index)

    repeats = [row.row for row in data if is_header(row)]
    if not repeats:
        return data, []
    return [row for row in data if not is_header(row)], repeats


def _unnamed_columns_notice(headers: Sequence[str], data: Sequence[SourceRow]) -> str | None:
    """The notice for values under a blank header cell between named ones (a column
    whose header was forgotten, pandas' index): they are never read, so say so."""
    parts = []
    for index, text in enumerate(headers):
        if text:
            continue
        filled = [row for row in data if row.cells[index] is not None]
        if not filled:
            continue
        example = filled[0].cells[index]
        shown = f'"{_shortened(example)}"' if isinstance(example, str) else str(example)
        rows = _rows_phrase([row.row for row in filled], "", "").strip()
        parts.append(f"column {column_letter(index + 1)} ({rows}, e.g. {shown})")
    if not parts:
        return None
    return (
        f"values under no header were not read: {'; '.join(parts)} — give the column a "
        "header (a column name, or one mapped in the config's [columns]) to have them "
        "checked and sent"
    )


def _rows_phrase(numbers: Sequence[int], one: str = "has", many: str = "have") -> str:
    """row 7 has / rows 7 and 9 have / rows 1, 2, ... and 12 more have"""
    if len(numbers) == 1:
        return f"row {numbers[0]} {one}"
    shown = [str(n) for n in numbers[:LISTED_ROWS]]
    if len(numbers) > LISTED_ROWS:
        listed = f"{', '.join(shown)} and {len(numbers) - LISTED_ROWS} more"
    else:
        listed = f"{', '.join(shown[:-1])} and {shown[-1]}"
    return f"rows {listed} {many}"
