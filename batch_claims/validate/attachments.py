"""Finding, checking and hashing a row's documents in the photos folder.

A document cell holds a path relative to the photos folder; a blank cell means: look for
``<tracking_number>/<column>.*``, else ``<tracking_number>_<column>.*`` (a file in the
parcel's folder wins over a flat one, with a notice naming the one ignored). Every name is
matched whatever its letter case and Unicode normalisation (a Mac stores names decomposed,
a keyboard types them composed), folder by folder; a name as typed wins over look-alikes.
Each file must stay inside the photos folder, exist, be at most 6 MB, and have a content
type the upload API accepts, judged from its bytes (never from its name; see ``filetypes``).

A run lists each folder once (``PhotoIndex``): the photos folder's names are indexed by
``name_key``, by every ``<tn>_`` prefix and by every stem before a dot, so finding a row's
files costs the same in a folder of ten files as in one of 100,000.

No name costs the run: a name the system refuses (too long, a NUL in it), an entry that
cannot be examined (a broken link, a link loop) or a folder that cannot be listed is
skipped by the index and, when a row needs it, named in that row's error. A document is
opened without blocking and read only when the open file is a regular file, so a named
pipe, a socket or a device in the photos folder is refused, never waited on.

Error codes of the ``RowError`` values made here: ``missing_document``,
``no_photos_folder``, ``outside_photos_folder``, ``file_not_found``, ``not_a_file``,
``ambiguous_document``, ``file_too_large``, ``empty_file``, ``unreadable_file``,
``file_type_not_allowed``, ``invalid_file_name``, ``unreadable_folder``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from batch_claims.columns import DOCUMENT_COLUMNS
from batch_claims.outcome import Attachment, RowError
from batch_claims.validate.filetypes import (
    describe_bytes,
    is_allowed_content_type,
    sniff_content_type,
)

MAX_FILE_SIZE = 6 * 1024 * 1024
CHUNK_SIZE = 1024 * 1024

TYPED_PATH = "typed path"
FOLDER_CONVENTION = "folder convention"
TYPED_IN_PARCEL_FOLDER = "typed name, in the parcel's folder"
NAME_MAX = 255  # bytes in one file name, on every common file system
# Open a document without waiting on a named pipe and without taking a terminal.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def read_regular(path: Path, limit: int = MAX_FILE_SIZE) -> bytes:
    """A document's bytes, read only if it is a regular file (opened without blocking, so
    a named pipe put in its place can never hang the run); ``OSError`` otherwise."""
    fd = os.open(path, _OPEN_FLAGS)
    with open(fd, "rb", closefd=True) as fp:
        status = os.fstat(fp.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, f"it is now {_mode_words(status.st_mode)}")
        return fp.read(limit + 1)


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        while chunk := fp.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def name_key(name: str) -> str:
    """A file name as names are compared: caseless and in one Unicode normalisation, so
    ``Café.JPG`` typed (composed, NFC) matches ``café.jpg`` stored by a Mac (NFD)."""
    if name.isascii():
        return name.casefold()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def resolve_documents(
    photos_dir: Path | None,
    tracking_number: str,
    typed: Mapping[str, str],
    required: Collection[str],
    row: int,
    header_of: Callable[[str], str],
    index: PhotoIndex | None = None,
) -> tuple[dict[str, Attachment], list[RowError], list[str]]:
    """Find and check every document of one row; every problem is reported. Returns the
    attachments, the errors and the notices (choices made that the user should know of,
    which do not make the row invalid).

    Pass the run's ``index`` (of ``photos_dir``) so that folders are listed once per run,
    not once per row."""
    if index is None or index.root != photos_dir:
        index = PhotoIndex(photos_dir)
    attachments: dict[str, Attachment] = {}
    errors: list[RowError] = []
    notices: list[str] = []
    row_files: _RowFiles | None = None
    for column in DOCUMENT_COLUMNS:
        finder = _Finder(photos_dir, row, column.name, header_of, index)
        text = (typed.get(column.name) or "").strip()
        found: Attachment | RowError | None
        if text:
            found = finder.typed(text)
            if isinstance(found, RowError) and found.code == "file_not_found":
                # A bare file name may be meant inside the parcel's own folder.
                if row_files is None:
                    row_files = index.row_files(tracking_number.strip())
                found = finder.in_parcel_folder(text, row_files.folders) or found
        else:
            if row_files is None:
                row_files = index.row_files(tracking_number.strip())
            found = finder.by_convention(
                tracking_number.strip(), row_files, column.name in required
            )
        notices.extend(finder.notices)
        if isinstance(found, Attachment):
            attachments[column.name] = found
        elif found is not None:
            errors.append(found)
    return attachments, errors, notices


@dataclass(frozen=True)
class _RowFile:
    """A file that may belong to a parcel: its name after ``<tn>/`` or ``<tn>_`` as
    ``name_key`` gives it, and whether it lies in the parcel's own folder."""

    key: str
    path: Path
    in_folder: bool
    is_dir: bool = False


@dataclass(frozen=True)
class _Entry:
    """One name in a folder: its path, its ``name_key`` and whether it is a folder."""

    path: Path
    key: str
    is_dir: bool
    is_link: bool = False


class _Listing:
    """One folder's entries, sorted by name, indexed by ``name_key``; the indexes by
    ``<prefix>_`` and by ``<stem>.`` are built on first use."""

    def __init__(self, entries: list[_Entry], error: str | None = None) -> None:
        self.entries = entries
        self.error = error  # why the folder could not be listed, if it could not
        self.by_key: dict[str, list[_Entry]] = {}
        for entry in entries:
            self.by_key.setdefault(entry.key, []).append(entry)
        self._by_prefix: dict[str, list[_Entry]] | None = None
        self._by_stem: dict[str, list[_Entry]] | None = None

    def with_prefix(self, prefix: str) -> list[_Entry]:
        """Entries whose key starts with ``prefix + "_"``, in listing order."""
        if self._by_prefix is None:
            self._by_prefix = _cut_at(self.entries, "_", keep_empty_rest=True)
        return self._by_prefix.get(prefix, [])

    def with_stem(self, stem: str) -> list[_Entry]:
        """Entries whose key is ``stem + "." + something``, in listing order."""
        if self._by_stem is None:
            self._by_stem = _cut_at(self.entries, ".", keep_empty_rest=False)
        return self._by_stem.get(stem, [])


def _cut_at(entries: list[_Entry], mark: str, keep_empty_rest: bool) -> dict[str, list[_Entry]]:
    """Each entry under the part of its key before each ``mark`` in it."""
    index: dict[str, list[_Entry]] = {}
    for entry in entries:
        key = entry.key
        at = key.find(mark)
        while at != -1:
            if keep_empty_rest or at < len(key) - 1:
                index.setdefault(key[:at], []).append(entry)
            at = key.find(mark, at + 1)
    return index


class PhotoIndex:
    """The photos folder as one run sees it: every folder listed at most once, its names
    indexed, so that each row's look-ups cost the same however many files there are."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._listings: dict[Path, _Listing] = {}
        self._resolved_root: Path | None = None
        # Parcel folders listed straight under the photos folder that are no links
        # (a file in one resolves to the resolved photos folder / folder / name), and
        # their resolved paths once known.
        self._plain_folders: set[Path] = set()
        self._resolved_folders: dict[Path, Path] = {}

    def listing(self, folder: Path) -> _Listing:
        """The folder's entries (listed on first use); none when it is not a readable
        folder."""
        found = self._listings.get(folder)
        if found is None:
            found = self._listings[folder] = _Listing(*_scan(folder))
        return found

    def resolved_root(self) -> Path:
        """The photos folder with its links resolved (``OSError`` when it is gone)."""
        assert self.root is not None
        if self._resolved_root is None:
            self._resolved_root = self.root.resolve(strict=True)
        return self._resolved_root

    def plain_file(self, path: Path) -> Path | None:
        """``path`` resolved, without a system call per folder on the way, when it is a
        regular file (no link) listed in the photos folder or in a parcel folder that is
        no link; None when that is not known (then ``Path.resolve`` decides)."""
        parent = path.parent
        base = self._resolved_folders.get(parent)
        if base is None:
            if parent == self.root:
                base = self.resolved_root()
            elif parent in self._plain_folders:
                base = self.resolved_root() / parent.name
            else:
                return None
            self._resolved_folders[parent] = base
        try:
            status = os.lstat(path)
        except (OSError, ValueError):
            return None
        return base / path.name if stat.S_ISREG(status.st_mode) else None

    def row_files(self, tracking_number: str) -> _RowFiles:
        """The parcel's folder(s) and the files that may belong to one tracking number,
        names compared by ``name_key``.

        Names are compared against directory listings, so a tracking number can never
        be used as a path (``..`` or separators in it match nothing).
        """
        if self.root is None or not tracking_number:
            return _RowFiles()
        root = self.listing(self.root)
        found = _RowFiles()
        if root.error is not None:
            found.unreadable.append(f"the photos folder cannot be read ({root.error})")
        tn = name_key(tracking_number)
        for entry in root.by_key.get(tn, []):
            if not entry.is_dir:
                found.not_folders.append(f"{entry.path.name} is {what_is(entry.path)}")
                continue
            found.folders.append(entry.path)
            if not entry.is_link:
                self._plain_folders.add(entry.path)
            listing = self.listing(entry.path)
            if listing.error is not None:
                found.unreadable.append(
                    f"the parcel's folder {entry.path.name}/ cannot be read ({listing.error})"
                )
            found.files.extend(
                _RowFile(sub.key, sub.path, in_folder=True, is_dir=sub.is_dir)
                for sub in listing.entries
            )
        found.files.extend(
            _RowFile(entry.key[len(tn) + 1 :], entry.path, in_folder=False, is_dir=entry.is_dir)
            for entry in root.with_prefix(tn)
        )
        return found


@dataclass
class _RowFiles:
    folders: list[Path] = field(default_factory=list)  # the parcel's <tn>/ folder(s)
    files: list[_RowFile] = field(default_factory=list)
    # Why a folder the row's files may lie in could not be listed.
    unreadable: list[str] = field(default_factory=list)
    # Entries named <tn> that are not folders ("3SABC is a broken link").
    not_folders: list[str] = field(default_factory=list)
    _by_stem: dict[str, list[_RowFile]] | None = field(default=None, repr=False, compare=False)

    def by_stem(self) -> dict[str, list[_RowFile]]:
        """The files (no folders) by the part of their name before its first dot, when
        something follows the dot: ``damage_photo_1.jpg`` under ``damage_photo_1``.
        Built once per row (a document column's name holds no dot)."""
        if self._by_stem is None:
            self._by_stem = {}
            for found in self.files:
                stem, dot, rest = found.key.partition(".")
                if dot and rest and not found.is_dir:
                    self._by_stem.setdefault(stem, []).append(found)
        return self._by_stem


class _Finder:
    """Resolves one document cell of one row; each method returns a result or an error,
    and ``notices`` collects what the user should know of the choice made."""

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

    def error(self, code: str, message: str) -> RowError:
        return RowError(self.row, self.column, code, self.prefix + message)

    @property
    def shown_dir(self) -> str:
        assert self.photos_dir is not None
        return self.photos_dir.as_posix().rstrip("/") + "/"

    def shown(self, path: Path) -> str:
        assert self.photos_dir is not None
        return path.relative_to(self.photos_dir).as_posix()

    def typed(self, text: str) -> Attachment | RowError:
        cleaned = text.strip().strip('"').strip().replace("\\", "/")
        if self.photos_dir is None:
            return self.error(
                "no_photos_folder",
                f'"{text}" is given but there is no photos folder: pass --photos DIR',
            )
        if cleaned.startswith("/") or re.match(r"^[A-Za-z]:", cleaned):
            # A full path typed on the user's own computer ("C:\Claims\photos\3SABC\a.jpg")
            # names the file by its place under a folder of the photos folder's name.
            tail = _after_folder_name(cleaned, self.photos_dir.name)
            if tail is None:
                return self.error(
                    "outside_photos_folder",
                    f'"{text}" is outside the photos folder {self.shown_dir}: '
                    "give a path relative to it",
                )
            cleaned = tail
        parts: list[str] = []
        for part in PurePosixPath(cleaned).parts:
            if part == "..":
                if not parts:
                    return self.error(
                        "outside_photos_folder",
                        f'"{text}" is outside the photos folder {self.shown_dir}',
                    )
                parts.pop()
            elif part != ".":
                parts.append(part)
        if not parts:
            return self.error("not_a_file", f'"{text}" is not a file name')
        matches = _lookup(self.index, [self.photos_dir], parts)
        if not matches and len(parts) > 1 and name_key(parts[0]) == name_key(self.photos_dir.name):
            # "photos\3SABC\damage.jpg": a path that starts with the photos folder itself.
            matches = _lookup(self.index, [self.photos_dir], parts[1:])
        if not matches:
            problem = _typed_problem(self.index, self.photos_dir, parts)
            if problem is not None:
                code, why = problem
                return self.error(code, f'"{_short(text)}" cannot be used: {why}')
            return self.error(
                "file_not_found",
                f'"{text}" does not exist in the photos folder {self.shown_dir}',
            )
        return self.one_of(text, matches, TYPED_PATH)

    def in_parcel_folder(self, text: str, folders: list[Path]) -> Attachment | RowError | None:
        """A bare typed file name looked up in the parcel's own ``<tracking_number>/``
        folder; None when it is not there."""
        name = text.strip().strip('"').strip()
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            return None
        matches = _lookup(self.index, folders, [name])
        return self.one_of(text, matches, TYPED_IN_PARCEL_FOLDER) if matches else None

    def one_of(self, text: str, matches: list[Path], how: str) -> Attachment | RowError:
        """The one file a typed name matched, checked; several are ambiguous."""
        if len(matches) > 1:
            if len({name_key(path.name) for path in matches}) == 1:
                advice = "their names differ only in letter case or accents: rename one"
            else:
                advice = "type the full file name, with its extension"
            return self.error(
                "ambiguous_document",
                f'"{text}" matches several files in the photos folder {self.shown_dir}: '
                f"{self.names(matches)} ({advice})",
            )
        path = matches[0]
        if _is_folder(path):
            return self.error("not_a_file", f'"{text}" is a folder, not a file')
        return self.check(path, how)

    def names(self, paths: list[Path]) -> str:
        """File names when they share a folder, else their paths in the photos folder."""
        if len({path.parent for path in paths}) == 1:
            return ", ".join(path.name for path in paths)
        return ", ".join(self.shown(path) for path in paths)

    def by_convention(
        self, tracking_number: str, row_files: _RowFiles, required: bool
    ) -> Attachment | RowError | None:
        if self.photos_dir is None:
            if not required:
                return None
            return self.error(
                "no_photos_folder",
                "no file given and no photos folder to look in: pass --photos DIR "
                "(or type the file's path in the cell)",
            )
        in_folder, flat = _convention_candidates(row_files, self.column)
        if row_files.unreadable and not in_folder and (required or flat):
            # A file there would win over a flat one, or is the one the row needs.
            return self.error(
                "unreadable_folder",
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
                "ambiguous_document",
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
                "missing_document", "no file given and no tracking number to look it up by"
            )
        why = "".join(f" ({note}, not a folder)" for note in row_files.not_folders)
        return self.error(
            "missing_document",
            f"no file given and none found as {tracking_number}/{self.column}.* "
            f"or {tracking_number}_{self.column}.* in {self.shown_dir}{why}",
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
            read = _read_regular(resolved)
        except OSError as exc:
            return self.error(
                "unreadable_file", f"{self.shown(path)} cannot be read: {_reason(exc)}"
            )
        if isinstance(read, str):  # it changed since: now a pipe, a device, a folder
            return self.error("not_a_file", f"{self.shown(path)} is {read}, not a regular file")
        content, digest, size = read
        if size > MAX_FILE_SIZE:
            return self.error(
                "file_too_large",
                f"{self.shown(path)} is {size / 1024 / 1024:.1f} MB, over the upload limit of "
                f"{MAX_FILE_SIZE // 1024 // 1024} MB",
            )
        if size == 0:
            return self.error("empty_file", f"{self.shown(path)} is empty (0 bytes)")
        if len(content) > MAX_FILE_SIZE:  # it grew after the size check
            return self.error("file_too_large", f"{self.shown(path)} is over the upload limit")
        content_type = sniff_content_type(content, path.name)
        if content_type is None or not is_allowed_content_type(content_type):
            return self.error(
                "file_type_not_allowed",
                f"{self.shown(path)} is not a file type the upload API accepts: its bytes "
                f"look like {describe_bytes(content, path.name)}",
            )
        return Attachment(
            column=self.column,
            path=resolved,
            filename=path.name,
            content_type=content_type,
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
            return self.error("unreadable_file", f"{shown} cannot be resolved: {_reason(exc)}")
        if not resolved.is_relative_to(root):
            return self.error(
                "outside_photos_folder",
                f"{shown} is outside the photos folder {self.shown_dir} (it leads to {resolved})",
            )
        kind = what_is(path)  # the name as found: a broken link is named so
        if kind == "a broken link":
            return self.error("file_not_found", f"{shown} does not exist (a broken link)")
        if kind != "a file":
            return self.error("not_a_file", f"{shown} is {kind}, not a regular file")
        return resolved


def _read_regular(path: Path) -> tuple[bytes, str, int] | str:
    """A regular file's bytes (at most a little over ``MAX_FILE_SIZE``), their SHA-256 and
    the file's size; or, when what is opened is not a regular file, what it is. The file
    is opened without blocking, so a named pipe put in its place is never waited on."""
    fd = os.open(path, _OPEN_FLAGS)
    with open(fd, "rb", closefd=True) as fp:
        status = os.fstat(fp.fileno())
        if not stat.S_ISREG(status.st_mode):
            return _mode_words(status.st_mode)
        if status.st_size > MAX_FILE_SIZE or status.st_size == 0:
            return b"", "", status.st_size
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        total = 0
        while total <= MAX_FILE_SIZE and (chunk := fp.read(CHUNK_SIZE)):
            digest.update(chunk)
            chunks.append(chunk)
            total += len(chunk)
    return b"".join(chunks), digest.hexdigest(), status.st_size


def what_is(path: Path) -> str:
    """What ``path`` is, in words for a message: "a file", "a folder", "a broken link",
    "a link loop", "a named pipe (FIFO)", "a socket", "a device"; or why it cannot be
    examined."""
    try:
        status = os.stat(path)
    except ValueError:
        return "not a possible name (it holds a NUL character)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a link loop"
        if exc.errno == errno.ENOENT and _lexists(path):
            return "a broken link"
        return f"unreadable ({_reason(exc)})"
    return _mode_words(status.st_mode)


def _mode_words(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _reason(exc: BaseException) -> str:
    """An operating-system error in a few words: its text without the path."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, RuntimeError):  # Path.resolve on a symlink loop (3.11)
        return "a link loop"
    return str(exc) or type(exc).__name__


def _short(text: str, limit: int = 80) -> str:
    """Text cut to ``limit`` characters for a message, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} characters)"


def _is_folder(path: Path) -> bool:
    """True when ``path`` is a folder (through links); False for anything else, a name
    the system refuses included."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _name_problem(part: str, alone: bool) -> str | None:
    """Why ``part`` can never be a file's name; None when it can be. ``alone``: it is the
    whole path typed, so the message need not repeat it."""
    named = "it" if alone else f'the name "{_short(part, 40)}" in it'
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


def _typed_problem(index: PhotoIndex, photos: Path, parts: list[str]) -> tuple[str, str] | None:
    """Why a typed path that matched nothing cannot be used, when the reason is not
    simply that it does not exist: a name no file can have, a name on the way that is
    not a folder (a file, a broken link, a link loop, a pipe), or a folder that cannot be
    listed. None when it simply does not exist."""
    for part in parts:
        problem = _name_problem(part, alone=len(parts) == 1)
        if problem is not None:
            return "invalid_file_name", problem
    current = [photos]
    for position, part in enumerate(parts):
        unlisted = [f for f in current if index.listing(f).error is not None]
        last = position == len(parts) - 1
        found = [path for folder in current for path in _entries_named(index, folder, part, last)]
        if not found and unlisted:
            why = index.listing(unlisted[0]).error
            return (
                "unreadable_folder",
                f"{_shown_folder(photos, unlisted[0])} cannot be read ({why})",
            )
        if last:
            return None
        folders = [path for path in found if _is_folder(path)]
        if not folders:
            if not found:
                return None
            shown = found[0].relative_to(photos).as_posix()
            return "unreadable_folder", f"{shown} is {what_is(found[0])}, not a folder"
        current = folders
    return None


def _shown_folder(photos: Path, folder: Path) -> str:
    if folder == photos:
        return "the photos folder"
    return f"the folder {folder.relative_to(photos).as_posix()}/"


def _convention_candidates(row_files: _RowFiles, column: str) -> tuple[list[Path], list[Path]]:
    """Files named ``<column>.*`` among a row's files: those in the parcel's folder, and
    the flat ``<tn>_<column>.*`` ones."""
    matching = row_files.by_stem().get(column.casefold(), [])
    return [f.path for f in matching if f.in_folder], [f.path for f in matching if not f.in_folder]


def _lookup(index: PhotoIndex, starts: Iterable[Path], parts: list[str]) -> list[Path]:
    """Every path that ``parts`` names below one of ``starts``, folder by folder: a name as
    typed wins, else every entry with the same ``name_key``; the last name may also leave
    out (or mistype) its extension."""
    current = list(starts)
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        found = [path for folder in current for path in _entries_named(index, folder, part, last)]
        current = found if last else [path for path in found if _is_folder(path)]
    return current


def _entries_named(index: PhotoIndex, folder: Path, part: str, last: bool) -> list[Path]:
    exact = folder / part
    if _lexists(exact):
        return [exact]
    listing = index.listing(folder)
    wanted = name_key(part)
    same = [entry.path for entry in listing.by_key.get(wanted, [])]
    if same or not last:
        return same
    stem = PurePosixPath(wanted).stem if "." in wanted.lstrip(".") else wanted
    return [entry.path for entry in listing.with_stem(stem) if not entry.is_dir]


def _scan(folder: Path) -> tuple[list[_Entry], str | None]:
    """A folder's entries, sorted by name, and why it could not be listed (None when it
    could). The one place a folder is listed; an entry that cannot be examined is kept
    as a non-folder, for the row that names it to say what it is."""
    try:
        with os.scandir(folder) as found:
            entries = [(item.name, _is_dir(item), _is_link(item)) for item in found]
    except ValueError:
        return [], "its name holds a NUL character"
    except OSError as exc:
        return [], _reason(exc)
    entries.sort()
    return [
        _Entry(folder / name, name_key(name), is_dir, is_link) for name, is_dir, is_link in entries
    ], None


def _is_dir(item: os.DirEntry[str]) -> bool:
    try:
        return item.is_dir()
    except OSError:
        return False


def _is_link(item: os.DirEntry[str]) -> bool:
    try:
        return item.is_symlink()
    except OSError:
        return True  # not known: the full check follows it


def _lexists(path: Path) -> bool:
    """True when ``path`` names something (a broken link too); False for any name the
    system refuses (too long, a NUL in it)."""
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def _after_folder_name(cleaned: str, folder: str) -> str | None:
    """The part of a full path after its last folder named ``folder``; None if none."""
    parts = [part for part in cleaned.split("/") if part]
    wanted = name_key(folder)
    for index in range(len(parts) - 2, -1, -1):
        if name_key(parts[index]) == wanted:
            return "/".join(parts[index + 1 :])
    return None
