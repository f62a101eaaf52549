"""An amount column's cells as ``Money``: each price with the one currency everything
that names one agrees on.

A price is read (``amounts.parse_amount``, with the table's decimal convention) and
checked on its own (``check_amount``); its currency may be said by the amount cell (its
text or its number format), the amount header ("Sales price (EUR)"), the column's own
currency column and the shared one. All that say one must agree: two that differ are
``currency_mismatch``, none at all is ``missing_currency``. A currency cell that cannot
be read is reported on that cell (``bad_currency``), not again on the amount. Rows
whose amount cell and currency cells are alike are worked out once.
Pure functions: this module opens no files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from batch_claims.columns import SHARED_CURRENCY, Column
from batch_claims.outcome import Money
from batch_claims.read.headers import header_currency
from batch_claims.read.table import SheetTable
from batch_claims.validate.amounts import ParsedAmount, check_amount, parse_amount
from batch_claims.validate.bounds import CENT
from batch_claims.validate.coerce import parse_all
from batch_claims.validate.messages import Message, Problem


@dataclass(frozen=True)
class StatedCurrency:
    """A currency column beside the amounts: its cells as written and as read."""

    header: str
    cells: Sequence[object]  # None when blank
    read: Sequence[str | None]  # None when blank or unreadable


@dataclass
class AmountColumn:
    """The amounts of one column, one entry per row of the table (in order)."""

    prices: list[Decimal | None] = field(default_factory=list)
    money: list[Money | None] = field(default_factory=list)  # None: no price or currency
    problems: dict[int, Problem] = field(default_factory=dict)  # by position in the table


def amount_column(
    table: SheetTable,
    column: Column,
    cells: Sequence[object],
    stated: Mapping[str, StatedCurrency],
    decimal_comma: bool | None,
) -> AmountColumn:
    """The prices of ``column`` (its ``cells``, None when blank) and each as Money when
    its currency is known; ``stated`` holds the currency columns the sheet has, by name."""
    name = column.name
    header = table.header_of(name)
    implied = header_currency(header) if name in table.mapping else None
    said = [stated[c] for c in (column.currency_column, SHARED_CURRENCY) if c and c in stated]
    if all(cell is None for cell in cells):  # a blank column, or one the sheet lacks
        return AmountColumn([None] * len(cells), [None] * len(cells))
    parsed_cells = parse_all(lambda value: parse_amount(value, decimal_comma), cells)
    # What the currency columns say on each row: (the cell is not blank, its currency).
    per_column = [
        list(zip([cell is not None for cell in c.cells], c.read, strict=True)) for c in said
    ]
    contexts: list[tuple[tuple[bool, str | None], ...]] = (
        list(zip(*per_column, strict=True)) if said else [()] * len(cells)
    )
    # A cell's answer depends on its parse (one object per distinct cell: ``parse_all``)
    # and on its row's context: rows alike are worked out once.
    known: dict[tuple[int, tuple[tuple[bool, str | None], ...]], _Answer] = {}
    answers: list[_Answer] = []
    for parsed, context in zip(parsed_cells, contexts, strict=True):
        if parsed is None:
            answers.append(_NOTHING)
            continue
        key = (id(parsed), context)
        answer = known.get(key)
        if answer is None:
            answer = known[key] = _answer(parsed, context, implied, header, said)
        answers.append(answer)
    return AmountColumn(
        prices=[answer[0] for answer in answers],
        money=[answer[1] for answer in answers],
        problems={i: answer[2] for i, answer in enumerate(answers) if answer[2] is not None},
    )


# One amount cell's price, Money and problem (each None when there is none).
_Answer = tuple[Decimal | None, Money | None, Problem | None]
_NOTHING: _Answer = (None, None, None)  # a blank cell


def _answer(
    parsed: tuple[object, Problem | None],
    context: tuple[tuple[bool, str | None], ...],
    implied: str | None,
    header: str,
    said: Sequence[StatedCurrency],
) -> _Answer:
    """The answer for one parsed amount cell, given what each currency column in
    ``said`` holds on its row (``context``: its cell is not blank, its currency)."""
    amount, problem = parsed
    if problem is None and isinstance(amount, ParsedAmount):
        problem = check_amount(amount.price)
    if problem is not None or not isinstance(amount, ParsedAmount):
        return None, None, problem or Message.NOT_AN_AMOUNT.problem()
    price = amount.price
    exponent = price.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        price = price.quantize(CENT)  # 12.5000 is 12.50 (check_amount saw no cents more)
    others: list[tuple[str, str]] = []  # (currency, what says it), beside the cell's
    if implied is not None:
        others.append((implied, f'the header "{header}" says'))
    if any(given and read is None for given, read in context):
        return price, None, None  # the currency cell itself is reported as bad_currency
    for currency_column, (_, read) in zip(said, context, strict=True):
        if read is not None:
            others.append((read, f'"{currency_column.header}" says'))
    currency, problem = _agreed(amount, others)
    if problem is not None:
        return price, None, problem
    return price, Money(price, currency) if currency is not None else None, None


def _agreed(
    amount: ParsedAmount, others: list[tuple[str, str]]
) -> tuple[str | None, Problem | None]:
    """The one currency the cell and ``others`` say, or why there is none."""
    if amount.currency is not None:
        conflict = next((other for other in others if other[0] != amount.currency), None)
        if conflict is None:
            return amount.currency, None
        if amount.from_format:
            return None, Message.CURRENCY_SOURCES_DISAGREE.problem(
                source="its number format shows",
                currency=amount.currency,
                other_source=conflict[1],
                other=conflict[0],
            )
        return None, Message.CURRENCY_MISMATCH.problem(
            currency=amount.currency, other_source=conflict[1], other=conflict[0]
        )
    if not others:
        return None, Message.MISSING_CURRENCY.problem()
    first = others[0]
    conflict = next((other for other in others[1:] if other[0] != first[0]), None)
    if conflict is None:
        return first[0], None
    return None, Message.CURRENCY_SOURCES_DISAGREE.problem(
        source=first[1], currency=first[0], other_source=conflict[1], other=conflict[0]
    )
