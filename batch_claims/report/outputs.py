"""Where a results workbook goes, and never over a person's work.

Names: ``week48.xlsx`` → ``week48.results.xlsx``; a retry of a results workbook writes
the next number, ``week48.results-2.xlsx``, ``week48.results-3.xlsx``, … (one more than
the highest that exists), so names never grow, the newest has the highest number, and
no earlier workbook is overwritten. A run on a sheet named by a ticket type (``--sheet
Lost``) puts the sheet's name in its results' name, ``week48.Lost.results.xlsx``, so the
runs of one workbook with a sheet per type do not write over each other.

A file already at the output path is replaced only when it is a results workbook exactly
as batch-claims wrote it (``fingerprint``): one a person edited (fixes typed into
``Failed rows``), or any other file, is left alone and the run stops before reading
(exit 2), naming the way on. ``--out`` must name a file in a folder that exists.
"""

from __future__ import annotations

import re
from pathlib import Path

from batch_claims.errors import InputError
from batch_claims.report.fingerprint import NotAsWritten, changed_since_written
from batch_claims.ticket_types import ticket_type_of

_NUMBERED = re.compile(r"^(?P<base>.+?)\.results(?:-(?P<n>\d+))?$", re.IGNORECASE)
# What a sheet's name may keep in a file name: letters, digits, space, - and '.
_UNSAFE = re.compile(r"[^\w '-]+")


def default_results_path(sheet: Path, retry: bool, sheet_name: str | None = None) -> Path:
    """The results workbook's default name for a run on ``sheet`` (on its sheet
    ``sheet_name``, as ``--sheet`` gave it)."""
    if not retry:
        part = _type_sheet_part(sheet_name)
        return sheet.with_name(f"{sheet.stem}{part}.results.xlsx")
    match = _NUMBERED.match(sheet.stem)
    base = match["base"] if match else sheet.stem
    highest = int(match["n"] or 1) if match else 1
    pattern = re.compile(rf"^{re.escape(base)}\.results(?:-(\d+))?\.xlsx$", re.IGNORECASE)
    for sibling in sheet.parent.iterdir():
        found = pattern.match(sibling.name)
        if found:
            highest = max(highest, int(found[1] or 1))
    return sheet.with_name(f"{base}.results-{highest + 1}.xlsx")


def _type_sheet_part(sheet_name: str | None) -> str:
    """``.<sheet name>`` for a sheet named by a ticket type, else nothing."""
    if sheet_name is None or ticket_type_of(sheet_name) is None:
        return ""
    safe = _UNSAFE.sub("_", sheet_name.strip()).strip(" ._")
    return f".{safe}" if safe else ""


def results_path(
    sheet: Path, out: Path | None, retry: bool = False, sheet_name: str | None = None
) -> Path:
    """The checked output path: never the input, an existing folder, and never over a
    file a person may have changed."""
    target = out if out is not None else default_results_path(sheet, retry, sheet_name)
    if target.resolve() == sheet.resolve():
        raise InputError(f"--out {target} is the input sheet; choose another file")
    if target.suffix.lower() != ".xlsx":
        raise InputError(f"--out {target} must end in .xlsx")
    folder = target.parent
    if not folder.is_dir():
        raise InputError(
            f"--out {target}: the folder {folder} does not exist; create it first or "
            "choose another file"
        )
    refuse_changed(target)
    check_writable(folder, f"--out {target}")
    return target


def refuse_changed(target: Path) -> None:
    """``InputError`` when a file at ``target`` is not a results workbook as written."""
    if not target.exists():
        return
    if target.is_dir():
        raise InputError(f"--out {target} is a folder; name a file")
    reason = changed_since_written(target)
    if reason is None:
        return
    if reason is NotAsWritten.CHANGED:
        raise InputError(
            f"{target} {reason}; it is not overwritten, since its 'Failed rows' may hold "
            f"your fixes — to send them, run `batch-claims retry {target}`; or write "
            "this run's results elsewhere with --out FILE"
        )
    raise InputError(
        f"{target} exists and {reason}; it is not overwritten — move it away, or write "
        "the results elsewhere with --out FILE"
    )


def free_path(target: Path) -> Path:
    """``target``, or ``<stem> (2).xlsx``, ``(3)``… when a person changed it meanwhile."""
    if not target.exists() or changed_since_written(target) is None:
        return target
    number = 2
    while True:
        candidate = target.with_name(f"{target.stem} ({number}){target.suffix}")
        if not candidate.exists():
            return candidate
        number += 1


def check_apart(files: dict[str, Path | None]) -> None:
    """The input sheet, the results workbook, the journal and the log file must be four
    different files: any two the same would overwrite one with the other (exit 2)."""
    seen: dict[Path, str] = {}
    for role, path in files.items():
        if path is None:
            continue
        resolved = path.expanduser().resolve()
        if resolved in seen:
            raise InputError(
                f"{seen[resolved]} and {role} are the same file ({path}): give each its own"
            )
        seen[resolved] = role


def check_writable(folder: Path, role: str) -> None:
    """A file can be created in ``folder`` (checked before anything is sent: an output
    that cannot be written is found now, not after the tickets were created)."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".batch-claims-probe-"):
            pass
    except OSError as exc:
        raise InputError(
            f"{role}: cannot write in {folder} ({exc.strerror or exc}); choose another place"
        ) from None
