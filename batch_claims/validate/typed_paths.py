"""Finding the file a path typed in a document cell names, and why it cannot be used.

A typed path is looked up folder by folder through the run's ``PhotoIndex``: a name as
typed wins, else every entry with the same ``name_key`` (letter case and Unicode
normalisation aside); the last name may also leave out or mistype its extension. When
nothing matched, ``typed_problem`` tells a name no file can have (a NUL, too long, a lone
surrogate), a name on the way that is not a folder, or a folder that cannot be listed from
a file that simply does not exist. Full paths typed on the user's own computer are cut
after the folder named like the photos folder (``after_folder_name``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from batch_claims.outcome import ErrorCode
from batch_claims.validate.photo_index import PhotoIndex, name_key
from batch_claims.validate.safe_read import is_folder, lexists, what_is

NAME_MAX = 255  # bytes in one file name, on every common file system


def lookup(index: PhotoIndex, starts: Iterable[Path], parts: list[str]) -> list[Path]:
    """Every path that ``parts`` names below one of ``starts``, folder by folder: a name as
    typed wins, else every entry with the same ``name_key``; the last name may also leave
    out (or mistype) its extension."""
    current = list(starts)
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        found = [path for folder in current for path in _entries_named(index, folder, part, last)]
        current = found if last else [path for path in found if is_folder(path)]
    return current


def _entries_named(index: PhotoIndex, folder: Path, part: str, last: bool) -> list[Path]:
    exact = folder / part
    if lexists(exact):
        return [exact]
    listing = index.listing(folder)
    wanted = name_key(part)
    same = [entry.path for entry in listing.by_key.get(wanted, [])]
    if same or not last:
        return same
    stem = PurePosixPath(wanted).stem if "." in wanted.lstrip(".") else wanted
    return [entry.path for entry in listing.with_stem(stem) if not entry.is_dir]


def typed_problem(
    index: PhotoIndex, photos: Path, parts: list[str]
) -> tuple[ErrorCode, str] | None:
    """Why a typed path that matched nothing cannot be used, as an error code and words,
    when the reason is not simply that it does not exist: a name no file can have, a
    name on the way that is not a folder (a file, a broken link, a link loop, a pipe), or
    a folder that cannot be listed. None when it simply does not exist."""
    for part in parts:
        problem = _name_problem(part, alone=len(parts) == 1)
        if problem is not None:
            return ErrorCode.INVALID_FILE_NAME, problem
    current = [photos]
    for position, part in enumerate(parts):
        unlisted = [f for f in current if index.listing(f).error is not None]
        last = position == len(parts) - 1
        found = [path for folder in current for path in _entries_named(index, folder, part, last)]
        if not found and unlisted:
            why = index.listing(unlisted[0]).error
            return (
                ErrorCode.UNREADABLE_FOLDER,
                f"{_shown_folder(photos, unlisted[0])} cannot be read ({why})",
            )
        if last:
            return None
        folders = [path for path in found if is_folder(path)]
        if not folders:
            if not found:
                return None
            shown = found[0].relative_to(photos).as_posix()
            return ErrorCode.UNREADABLE_FOLDER, f"{shown} is {what_is(found[0])}, not a folder"
        current = folders
    return None


def _name_problem(part: str, alone: bool) -> str | None:
    """Why ``part`` can never be a file's name; None when it can be. ``alone``: it is the
    whole path typed, so the message need not repeat it."""
    named = "it" if alone else f'the name "{short(part, 40)}" in it'
    if "\x00" in part:
        return f"{named} holds a NUL character, which no file name can"
    try:
        size = len(os.fsencode(part))
    except UnicodeError:
        return f"{named} holds a character no file name can (a lone surrogate)"
    if size > NAME_MAX:
        return (
            f"{named} is {size} bytes long, longer than the file system allows for a name "
            f"({NAME_MAX})"
        )
    return None


def _shown_folder(photos: Path, folder: Path) -> str:
    if folder == photos:
        return "the photos folder"
    return f"the folder {folder.relative_to(photos).as_posix()}/"


def short(text: str, limit: int = 80) -> str:
    """Text cut to ``limit`` characters for a message, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} characters)"


def after_folder_name(cleaned: str, folder: str) -> str | None:
    """The part of a full path after its last folder named ``folder``; None if none."""
    parts = [part for part in cleaned.split("/") if part]
    wanted = name_key(folder)
    for index in range(len(parts) - 2, -1, -1):
        if name_key(parts[index]) == wanted:
            return "/".join(parts[index + 1 :])
    return None
