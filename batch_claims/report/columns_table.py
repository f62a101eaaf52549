"""The README's columns table, generated from ``columns.COLUMNS`` and
``ticket_types.TYPES`` (``tests/test_docs.py`` keeps the README equal to it): which ticket
types use each column and which need it filled, per contract type."""

from __future__ import annotations

from batch_claims.columns import COLUMNS, Column, Variant
from batch_claims.ticket_types import TYPES, TicketType, types_needing, types_using


def _types_phrase(types: list[TicketType]) -> str:
    return "all types" if len(types) == len(TYPES) else ", ".join(t.value for t in types)


def markdown_table() -> str:
    """The README's columns table, generated from ``COLUMNS`` and ``TYPES`` (a test keeps
    them equal): which types use each column and which need it filled, per contract."""

    def used_by(column: Column) -> str:
        return _types_phrase(types_using(column.name))

    def required(column: Column) -> str:
        needing = types_needing(column.name)
        own, rates = needing[Variant.OWN_CONTRACT], needing[Variant.SENDCLOUD_RATES]
        if own and own == rates:
            return f"both: {_types_phrase(own)}"
        parts = [f"{v.value}: {_types_phrase(types)}" for v, types in needing.items() if types]
        return "; ".join(parts) or "—"

    lines = [
        "| column | used by | required for | kind | meaning | also matches |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for column in COLUMNS:
        aliases = ", ".join(column.aliases) or "—"
        lines.append(
            f"| `{column.name}` | {used_by(column)} | {required(column)} | {column.kind.value} "
            f"| {column.help} | {aliases} |"
        )
    return "\n".join(lines)
