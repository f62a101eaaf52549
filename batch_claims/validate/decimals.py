"""The decimal convention of one table: how its ambiguous amount texts are read.

Amount texts such as ``1,234`` are ambiguous on their own. ``decimal_convention``
settles them per file: when the file's other amount texts all show one decimal mark
(``10,55``, ``1.234,56`` → comma; ``12.50``, ``1,234.56`` → point), the ambiguous ones
are read that way and a notice says so; a file showing both keeps them errors. The
caller may give the convention instead (``--decimal-comma``/``--decimal-point``).
Pure functions: this module opens no files.
"""

from __future__ import annotations

from dataclasses import dataclass

from batch_claims.columns import COLUMNS, Kind
from batch_claims.read.table import SheetTable
from batch_claims.validate.amounts import ParsedAmount, parse_amount, shown_decimal_mark


@dataclass(frozen=True)
class DecimalConvention:
    """How ambiguous amount texts of one table are read.

    ``decimal_comma``: True reads ``1,234`` as 1.234 and ``1.234`` as 1234; False the
    other way round; None leaves them errors. Unambiguous texts (``10,55``,
    ``1,234.56``) read the same whatever it is.
    """

    decimal_comma: bool | None
    inferred: bool  # read from the table's own amounts, not given by the caller
    evidence: tuple[tuple[int, str], ...] = ()  # (row, text) showing each mark seen
    settled: tuple[tuple[int, str], ...] = ()  # ambiguous texts, (row, text)

    @property
    def name(self) -> str:
        """For the run summary: "decimal comma (inferred from the file)" and the like."""
        if self.decimal_comma is None:
            if len(self.evidence) > 1:
                return "not settled: the file shows both a decimal comma and a decimal point"
            return "not needed" if not self.settled else "not settled: nothing in the file shows it"
        mark = "decimal comma" if self.decimal_comma else "decimal point"
        return f"{mark} ({'inferred from the file' if self.inferred else 'given'})"

    @property
    def notice(self) -> str | None:
        """What the user should be told, when the inference changed or blocked a reading."""
        if not self.settled:
            return None
        row, text = self.settled[0]
        if self.decimal_comma is None:
            if len(self.evidence) < 2:
                return None
            (row_a, text_a), (row_b, text_b) = self.evidence[:2]
            return (
                f'amounts in this file show both decimal marks (row {row_a}: "{text_a}", '
                f'row {row_b}: "{text_b}"), so amounts such as "{text}" on row {row} are '
                "not guessed"
            )
        if not self.inferred:
            return None
        number, _ = parse_amount(text, self.decimal_comma)
        shown = f"{number.price:f}" if isinstance(number, ParsedAmount) else text
        mark, other = ("comma", "point") if self.decimal_comma else ("point", "comma")
        count = len(self.settled)
        first_row, first_text = self.evidence[0]
        return (
            f"amounts read with a decimal {mark}, inferred from the file (row {first_row}: "
            f'"{first_text}"); so "{text}" on row {row} is {shown} '
            f"({count} amount{'s' if count > 1 else ''} read this way; "
            f"pass --decimal-{other} if that is wrong)"
        )


def decimal_convention(table: SheetTable, decimal_comma: bool | None = None) -> DecimalConvention:
    """The decimal convention for the table's amount texts: given, or inferred from them.

    Evidence is an amount text that reads the same under both conventions and shows a
    decimal mark (``10,55``, ``1.234,56``, ``12.5``) or a thousands mark used more than
    once (``1.234.567``). Numeric cells show nothing.
    """
    evidence: dict[str, tuple[int, str]] = {}
    settled: list[tuple[int, str]] = []
    seen: dict[str, str | None] = {}  # text -> "," / "." / "?" (ambiguous) / None
    indexes = [
        table.mapping[c.name] for c in COLUMNS if c.kind is Kind.AMOUNT and c.name in table.mapping
    ]
    for source in table.rows:
        for index in indexes:
            value = source.cells[index]
            if not isinstance(value, str):
                continue
            if value not in seen:
                seen[value] = shown_decimal_mark(value)
            mark = seen[value]
            if mark == "?":
                settled.append((source.row, value))
            elif mark is not None and mark not in evidence:
                evidence[mark] = (source.row, value)
    shown = tuple(sorted(evidence.values()))
    if decimal_comma is not None:
        return DecimalConvention(decimal_comma, False, shown, tuple(settled))
    if len(evidence) == 1:
        return DecimalConvention("," in evidence, True, shown, tuple(settled))
    return DecimalConvention(None, False, shown, tuple(settled))
