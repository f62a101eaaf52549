"""The evidence a row brings: the document slots its ticket type and contract type have
and need (``document_slots``), the checklist cell that says which file matched each and
how, and what is missing; and the warning when one file is the photo of two parcels."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePath
from typing import NamedTuple

from batch_claims.columns import DOCUMENT_COLUMNS, Variant
from batch_claims.outcome import Attachment, Claim, Item, RowError
from batch_claims.ticket_types import TYPES, TicketType, required_columns


class DocumentSlots(NamedTuple):
    """The document columns a row of one ticket type and variant has, in column order,
    and those of them it needs."""

    slots: tuple[str, ...]
    required: frozenset[str]


@functools.cache
def document_slots(variant: Variant, ticket_type: TicketType) -> DocumentSlots:
    """The document slots of a ticket type and variant (worked out once per pair: every
    row of a sheet asks)."""
    return DocumentSlots(
        TYPES[ticket_type].documents(variant),
        frozenset(c.name for c in required_columns(variant, ticket_type) if c.is_document),
    )


def evidence_checklist(
    variant: Variant,
    attachments: Mapping[str, Attachment],
    problems: Iterable[RowError],
    photos: Path | None,
    resolved_photos: Path | None = None,
    ticket_type: TicketType = TicketType.DAMAGE,
) -> str:
    """One readable cell: the document slots the ticket type and variant require, which
    file matched each and how, and what is missing — so whoever collects photos sees
    what to add."""
    troubled = frozenset(problem.column for problem in problems)
    whole, lines = _plan(variant, ticket_type, frozenset(attachments), troubled)
    if whole is not None:  # no file attached: the same cell for every such row
        return whole
    base = resolved_photos or (photos.resolve() if photos is not None else None)
    inside = _inside(base)
    shown = []
    for name, line in lines:
        if line is None:  # a file found: its line names it
            attachment = attachments[name]
            line = f"✓ {name}: {inside(attachment.path)} ({attachment.how})"
        shown.append(line)
    return "\n".join(shown)


@functools.lru_cache(maxsize=1024)
def _plan(
    variant: Variant,
    ticket_type: TicketType,
    attached: frozenset[str],
    troubled: frozenset[str | None],
) -> tuple[str | None, tuple[tuple[str, str | None], ...]]:
    """The checklist of a ticket type and variant with these documents attached and these
    in trouble, worked out once for all rows alike: with none attached, the whole cell;
    else its lines, None for each document attached (its line names its file)."""
    required = document_slots(variant, ticket_type).required
    found = len(required.intersection(attached))
    kind = _kind(variant, ticket_type)
    if required:
        head = f"{kind} needs {len(required)} documents: {found} found"
        if found < len(required):
            head += f", {len(required) - found} to add or fix"
    else:
        head = f"{kind} needs no documents; {len(attached)} attached"
    lines: list[tuple[str, str | None]] = [("", head)]
    for name in _DOCUMENT_NAMES:
        if name in attached:
            lines.append((name, None))
        elif name in troubled:
            state = "missing" if name in required else "not usable"
            lines.append((name, f"✗ {name}: {state} (see error_detail)"))
        elif name in required:
            lines.append((name, f"✗ {name}: missing"))
    if not attached:
        return "\n".join(line for _, line in lines if line is not None), ()
    return None, tuple(lines)


_DOCUMENT_NAMES = tuple(column.name for column in DOCUMENT_COLUMNS)


@functools.cache
def _kind(variant: Variant, ticket_type: TicketType) -> str:
    """What the checklist's first line calls the row: its variant, and its type but for
    damage."""
    return variant.value if ticket_type is TicketType.DAMAGE else f"{variant.value} {ticket_type}"


@functools.lru_cache(maxsize=8)  # one photos folder a run: made once, not once a row
def _inside(base: Path | None) -> Callable[[Path], str]:
    """How a file is shown in the checklist: its path in the photos folder ``base``
    (forward slashes), else its whole path. Compared as text: once per file, the
    costly part of the checklist when it went through ``Path.relative_to``."""
    if base is None:
        return lambda path: path.as_posix()
    prefix = str(base).rstrip(os.sep) + os.sep
    cut = len(prefix)
    posix = os.sep == "/"

    def shown(path: Path) -> str:
        text = str(path)
        if not text.startswith(prefix) or len(text) == cut:
            return (
                path.relative_to(base).as_posix()
                if path.is_relative_to(base)
                else (path.as_posix())
            )
        return text[cut:] if posix else PurePath(text[cut:]).as_posix()

    return shown


def shared_evidence_warnings(items: Iterable[Item]) -> tuple[str, ...]:
    """The same photo bytes as damage evidence for two parcels is usually the wrong file."""
    seen: dict[str, Claim] = {}  # by digest: the first claim with the photo
    warnings = []
    for item in items:
        if not isinstance(item, Claim):
            continue
        for name, attachment in item.attachments.items():
            if not attachment.content_type.startswith(("image/", "video/")):
                continue
            first = seen.setdefault(attachment.sha256, item)
            if first is not item and first.tracking_number != item.tracking_number:
                warnings.append(
                    f"row {item.row}: {name} ({attachment.filename}) is the very same file as "
                    f"a photo of row {first.row} ({first.tracking_number}) — check it is the "
                    "right photo"
                )
    return tuple(warnings)
