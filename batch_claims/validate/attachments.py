"""Resolving one row's documents: which file each document column names, checked.

A document cell holds a path relative to the photos folder (looked up as ``typed_paths``
says; a bare name not found there is tried in the parcel's own folder); a blank cell means:
look for ``<tracking_number>/<column>.*``, else ``<tracking_number>_<column>.*`` (a file
in the parcel's folder wins over a flat one, with a notice naming the one ignored). Every
name is matched whatever its letter case and Unicode normalisation, through the run's
``PhotoIndex``. Each file found must stay inside the photos folder (through links), be a
regular file, be at most 6 MB, not be empty, and have a content type the upload API
accepts, judged from its bytes (``filetypes``), read once without blocking
(``safe_read``). Every problem is a ``RowError`` naming the row and the column, never an
exception (the photos folder itself is checked once, by ``PhotoIndex``).

The common case goes the short way (``plain_files``): a file the convention found that its
folder's listing showed as a regular file, in the photos folder or in a parcel folder
that is no link, is opened without following a link in its name and judged from that one
read; nothing else is made for it but its Attachment. Anything else — a link, a folder,
a pipe, a file gone, several candidates, a typed path — takes the full check
(``_Finder``), which resolves the path and says what is wrong in the same words.

Error codes of the ``RowError`` values made here: ``missing_document``,
``no_photos_folder``, ``outside_photos_folder``, ``file_not_found``, ``not_a_file``,
``ambiguous_document``, ``file_too_large``, ``empty_file``, ``unreadable_file``,
``file_type_not_allowed``, ``invalid_file_name``, ``unreadable_folder``.

The photos-folder index, the size cap, the safe read and the file hash are importable
from here too (its __all__), where the rest of the package has always found them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath

from batch_claims.columns import DOCUMENT_COLUMNS
from batch_claims.outcome import Attachment, ErrorCode, RowError
from batch_claims.validate.photo_index import PhotoIndex, RowFiles, name_key
from batch_claims.validate.plain_files import (
    judge,
    listed_attachment,
    missing_words,
    quick_missing,
)
from batch_claims.validate.safe_read import (
    MAX_FILE_SIZE,
    is_folder,
    read_document,
    read_regular,
    reason,
    sha256_of,
    what_is,
)
from batch_claims.validate.typed_paths import after_folder_name, lookup, short, typed_problem

__all__ = [
    "MAX_FILE_SIZE",
    "PhotoIndex",
    "read_regular",
    "resolve_documents",
    "sha256_of",
]

# How a file was found (``Attachment.how``, shown in the evidence checklist).
TYPED_PATH = "typed path"
FOLDER_CONVENTION = "folder convention"
TYPED_IN_PARCEL_FOLDER = "typed name, in the parcel's folder"


def resolve_documents(
    photos_dir: Path | None,
    tracking_number: str,
    typed: Mapping[str, str],
    required: Collection[str],
    row: int,
    header_of: Callable[[str], str],
    index: PhotoIndex | None = None,
    slots: Collection[str] | None = None,
) -> tuple[dict[str, Attachment], list[RowError], list[str]]:
    """Find and check every document of one row; every problem is reported. Returns the
    attachments, the errors and the notices (choices made that the user should know of,
    which do not make the row invalid). ``slots`` are the document columns the row's
    ticket type has (None: all of them); no other document is looked for.

    Pass the run's ``index`` (of ``photos_dir``) so that folders are listed once per run,
    not once per row; without it one is made here, and a ``photos_dir`` that is not a
    folder that can be listed is an ``InputError`` (``PhotoIndex``), not a row's error."""
    if index is None or (index.root is not photos_dir and index.root != photos_dir):
        index = PhotoIndex(photos_dir)
    attachments: dict[str, Attachment] = {}
    errors: list[RowError] = []
    notices: list[str] = []
    tn = tracking_number.strip()
    row_files: RowFiles | None = None
    for name in _DOCUMENT_NAMES if slots is None else _in_column_order(slots):
        text = typed.get(name)
        found: Attachment | RowError | None
        if text and (text := text.strip()):
            finder = _Finder(photos_dir, row, name, header_of, index)
            found = finder.typed(text)
            if isinstance(found, RowError) and found.code == ErrorCode.FILE_NOT_FOUND:
                # A bare file name may be meant inside the parcel's own folder.
                if row_files is None:
                    row_files = index.row_files(tn)
                found = finder.in_parcel_folder(text, row_files.folders) or found
        else:
            if row_files is None:
                row_files = index.row_files(tn)
            if photos_dir is not None and not row_files.unreadable:
                # The common cases, without a path made: nothing there and none needed,
                # or one file there, as its listing showed it, that reads as acceptable.
                matching = row_files.by_stem.get(name.casefold())
                if matching is None:
                    if name not in required:
                        continue
                    missing = quick_missing(row, name, tn, header_of, index, row_files)
                    if missing is not None:
                        errors.append(missing)
                        continue
                elif len(matching) == 1:
                    quick = listed_attachment(matching[0], name, FOLDER_CONVENTION, index.ahead)
                    if isinstance(quick, Attachment):
                        attachments[name] = quick
                        continue
                    if quick is not None:  # read, and refused: said from the same bytes
                        code, why = quick
                        finder = _Finder(photos_dir, row, name, header_of, index)
                        errors.append(finder.error(code, f"{finder.shown(matching[0].path)} {why}"))
                        continue
            finder = _Finder(photos_dir, row, name, header_of, index)
            found = finder.by_convention(tn, row_files, name in required)
        notices.extend(finder.notices)
        if isinstance(found, Attachment):
            attachments[name] = found
        elif found is not None:
            errors.append(found)
    return attachments, errors, notices


_DOCUMENT_NAMES = tuple(column.name for column in DOCUMENT_COLUMNS)


def _in_column_order(slots: Collection[str]) -> tuple[str, ...]:
    """The document columns among ``slots``, in column order (worked out once for the
    tuple of slots a ticket type and variant have, not once a row)."""
    if isinstance(slots, tuple):
        return _ordered(slots)
    return tuple(name for name in _DOCUMENT_NAMES if name in slots)


@functools.lru_cache(maxsize=64)
def _ordered(slots: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in _DOCUMENT_NAMES if name in slots)


class _Finder:
    """Resolves one document cell of one row; each method returns a result or an error,
    and ``notices`` collects what the user should know of the choice made."""

    __slots__ = ("photos_dir", "index", "row", "column", "header_of", "notices")

    def __init__(
        self,
        photos_dir: Path | None,
        row: int,
        column: str,
        header_of: Callable[[str], str],
        index: PhotoIndex,
    ) -> None:
        self.photos_dir = photos_dir
        self.index = index
        self.row = row
        self.column = column
        self.header_of = header_of
        self.notices: list[str] = []

    @property
    def prefix(self) -> str:
        """What each message of this cell starts with (made only for a message)."""
        return f'row {self.row}, "{self.header_of(self.column)}": '

    def error(self, code: ErrorCode, message: str) -> RowError:
        return RowError(self.row, self.column, code, self.prefix + message)

    @property
    def shown_dir(self) -> str:
        """The photos folder as messages show it (the index's, worked out once)."""
        return self.index.shown_root

    def shown(self, path: Path) -> str:
        assert self.photos_dir is not None
        return path.relative_to(self.photos_dir).as_posix()

    def typed(self, text: str) -> Attachment | RowError:
        cleaned = text.strip().strip('"').strip().replace("\\", "/")
        if self.photos_dir is None:
            return self.error(
                ErrorCode.NO_PHOTOS_FOLDER,
                f'"{text}" is given but there is no photos folder: pass --photos DIR',
            )
        if cleaned.startswith("/") or re.match(r"^[A-Za-z]:", cleaned):
            # A full path typed on the user's own computer ("C:\Claims\photos\3SABC\a.jpg")
            # names the file by its place under a folder of the photos folder's name.
            tail = after_folder_name(cleaned, self.photos_dir.name)
            if tail is None:
                return self.error(
                    ErrorCode.OUTSIDE_PHOTOS_FOLDER,
                    f'"{text}" is outside the photos folder {self.shown_dir}: '
                    "give a path relative to it",
                )
            cleaned = tail
        parts: list[str] = []
        for part in PurePosixPath(cleaned).parts:
            if part == "..":
                if not parts:
                    return self.error(
                        ErrorCode.OUTSIDE_PHOTOS_FOLDER,
                        f'"{text}" is outside the photos folder {self.shown_dir}',
                    )
                parts.pop()
            elif part != ".":
                parts.append(part)
        if not parts:
            return self.error(ErrorCode.NOT_A_FILE, f'"{text}" is not a file name')
        matches = lookup(self.index, [self.photos_dir], parts)
        if not matches and len(parts) > 1 and name_key(parts[0]) == name_key(self.photos_dir.name):
            # "photos\3SABC\damage.jpg": a path that starts with the photos folder itself.
            matches = lookup(self.index, [self.photos_dir], parts[1:])
        if not matches:
            problem = typed_problem(self.index, self.photos_dir, parts)
            if problem is not None:
                code, why = problem
                return self.error(code, f'"{short(text)}" cannot be used: {why}')
            return self.error(
                ErrorCode.FILE_NOT_FOUND,
                f'"{text}" does not exist in the photos folder {self.shown_dir}',
            )
        return self.one_of(text, matches, TYPED_PATH)

    def in_parcel_folder(self, text: str, folders: list[Path]) -> Attachment | RowError | None:
        """A bare typed file name looked up in the parcel's own ``<tracking_number>/``
        folder; None when it is not there."""
        name = text.strip().strip('"').strip()
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            return None
        matches = lookup(self.index, folders, [name])
        return self.one_of(text, matches, TYPED_IN_PARCEL_FOLDER) if matches else None

    def one_of(self, text: str, matches: list[Path], how: str) -> Attachment | RowError:
        """The one file a typed name matched, checked; several are ambiguous."""
        if len(matches) > 1:
            if len({name_key(path.name) for path in matches}) == 1:
                advice = "their names differ only in letter case or accents: rename one"
            else:
                advice = "type the full file name, with its extension"
            return self.error(
                ErrorCode.AMBIGUOUS_DOCUMENT,
                f'"{text}" matches several files in the photos folder {self.shown_dir}: '
                f"{self.names(matches)} ({advice})",
            )
        path = matches[0]
        if is_folder(path):
            return self.error(ErrorCode.NOT_A_FILE, f'"{text}" is a folder, not a file')
        return self.check(path, how)

    def names(self, paths: list[Path]) -> str:
        """File names when they share a folder, else their paths in the photos folder."""
        if len({path.parent for path in paths}) == 1:
            return ", ".join(path.name for path in paths)
        return ", ".join(self.shown(path) for path in paths)

    def by_convention(
        self, tracking_number: str, row_files: RowFiles, required: bool
    ) -> Attachment | RowError | None:
        if self.photos_dir is None:
            if not required:
                return None
            return self.error(
                ErrorCode.NO_PHOTOS_FOLDER,
                "no file given and no photos folder to look in: pass --photos DIR "
                "(or type the file's path in the cell)",
            )
        in_folder, flat = _convention_candidates(row_files, self.column)
        if row_files.unreadable and not in_folder and (required or flat):
            # A file there would win over a flat one, or is the one the row needs.
            return self.error(
                ErrorCode.UNREADABLE_FOLDER,
                f"its file cannot be looked up as {tracking_number}/{self.column}.*: "
                + "; ".join(row_files.unreadable),
            )
        candidates, ignored = (in_folder, flat) if in_folder else (flat, [])
        also = ""
        if ignored:
            verb = "was" if len(ignored) == 1 else "were"
            also = (
                f"{', '.join(self.shown(path) for path in ignored)} {verb} ignored "
                "(a file in the parcel's folder wins)"
            )
        if len(candidates) > 1:
            shown = ", ".join(self.shown(c) for c in candidates)
            return self.error(
                ErrorCode.AMBIGUOUS_DOCUMENT,
                f"several files match in {self.shown_dir}: {shown}; "
                "keep one, or type the file's path in the cell" + (f"; {also}" if also else ""),
            )
        if candidates:
            if also:
                self.notices.append(f"{self.prefix}using {self.shown(candidates[0])}; {also}")
            return self.check(candidates[0], FOLDER_CONVENTION)
        if not required:
            return None
        if not tracking_number:
            return self.error(
                ErrorCode.MISSING_DOCUMENT, "no file given and no tracking number to look it up by"
            )
        return self.error(
            ErrorCode.MISSING_DOCUMENT,
            missing_words(tracking_number, self.column, self.shown_dir, row_files.not_folders),
        )

    def check(self, path: Path, how: str) -> Attachment | RowError:
        assert self.photos_dir is not None
        try:
            resolved = self.index.plain_file(path)
        except (OSError, RuntimeError):
            resolved = None  # the photos folder itself: told by the full check below
        if resolved is None:  # a link on the way, or not a regular file
            found = self.resolve(path)
            if isinstance(found, RowError):
                return found
            resolved = found
        try:
            read = read_document(resolved)
        except OSError as exc:
            return self.error(
                ErrorCode.UNREADABLE_FILE, f"{self.shown(path)} cannot be read: {reason(exc)}"
            )
        if isinstance(read, str):  # it changed since: now a pipe, a device, a folder
            return self.error(
                ErrorCode.NOT_A_FILE, f"{self.shown(path)} is {read}, not a regular file"
            )
        return self.judged(path, resolved, read, how)

    def judged(
        self, path: Path, resolved: Path, read: tuple[bytes, str, int], how: str
    ) -> Attachment | RowError:
        """The Attachment of a file read, when the upload API takes it; else why not."""
        content, digest, size = read
        verdict = judge(content, size, path.name)
        if not isinstance(verdict, str):
            code, why = verdict
            return self.error(code, f"{self.shown(path)} {why}")
        return Attachment(
            column=self.column,
            path=resolved,
            filename=path.name,
            content_type=verdict,
            size=len(content),
            sha256=digest,
            how=how,
        )

    def resolve(self, path: Path) -> Path | RowError:
        """``path`` resolved when it is a regular file inside the photos folder (through
        links); else why not."""
        shown = self.shown(path)
        try:
            root = self.index.resolved_root()
            resolved = path.resolve(strict=False)
        except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop (3.11)
            return self.error(
                ErrorCode.UNREADABLE_FILE, f"{shown} cannot be resolved: {reason(exc)}"
            )
        if not resolved.is_relative_to(root):
            return self.error(
                ErrorCode.OUTSIDE_PHOTOS_FOLDER,
                f"{shown} is outside the photos folder {self.shown_dir} (it leads to {resolved})",
            )
        kind = what_is(path)  # the name as found: a broken link is named so
        if kind == "a broken link":
            return self.error(ErrorCode.FILE_NOT_FOUND, f"{shown} does not exist (a broken link)")
        if kind != "a file":
            return self.error(ErrorCode.NOT_A_FILE, f"{shown} is {kind}, not a regular file")
        return resolved


def _convention_candidates(row_files: RowFiles, column: str) -> tuple[list[Path], list[Path]]:
    """Files named ``<column>.*`` among a row's files: those in the parcel's folder, and
    the flat ``<tn>_<column>.*`` ones."""
    matching = row_files.by_stem.get(column.casefold(), [])
    return [f.path for f in matching if f.in_folder], [f.path for f in matching if not f.in_folder]
