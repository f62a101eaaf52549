"""The photos folder as one run sees it: each folder listed once, its names indexed.

``PhotoIndex`` lists a folder the first time a row needs it (the one place a folder is
listed) and indexes its names by ``name_key`` (caseless, one Unicode normalisation), by
every ``<prefix>_`` and by every stem before a dot, so finding a row's files costs the
same in a folder of ten files as in one of 100,000. ``row_files`` gives the files that may
belong to one tracking number: those in its ``<tn>/`` folder and the flat ``<tn>_*``
ones; tracking numbers are compared against listings, never used as paths.

The photos folder itself is checked when the index is made (``check_photos_folder``,
which a caller may also use before the sheet is read): a path given that is not a folder
that can be listed (missing, a file, a broken link, unreadable) is an ``InputError``, one
message for the run instead of one per row. An entry that cannot be examined (a broken
link, a link loop) or a parcel folder that cannot be listed is kept for the row that
needs it to name.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from batch_claims.errors import InputError
from batch_claims.forked import joined
from batch_claims.outcome import ErrorCode
from batch_claims.validate.safe_read import lexists, mode_words, reason, what_is


def name_key(name: str) -> str:
    """A file name as names are compared: caseless and in one Unicode normalisation, so
    ``Café.JPG`` typed (composed, NFC) matches ``café.jpg`` stored by a Mac (NFD)."""
    if name.isascii():
        return name.casefold()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


class _Entry(NamedTuple):
    """One name in a folder: its path as text, its name, its ``name_key``, whether it is
    a folder, a link, and a regular file with no link, as the listing told (no system
    call of its own where the system tells the kind in the listing, as most do). Plain
    values only, so the index's many entries weigh little; the ``Path`` is made on
    demand."""

    text: str
    name: str
    key: str
    is_dir: bool
    is_link: bool = False
    is_file: bool = False

    @property
    def path(self) -> Path:
        return Path(self.text)


class Listing:
    """One folder's entries, sorted by name; the indexes by ``name_key``, by
    ``<prefix>_`` and by ``<stem>.`` are built on first use."""

    def __init__(self, entries: list[_Entry], error: str | None = None) -> None:
        self.entries = entries
        self.error = error  # why the folder could not be listed, if it could not
        self._by_key: dict[str, list[_Entry]] | None = None
        self._by_prefix: dict[str, list[_Entry]] | None = None
        self._by_stem: dict[str, list[_Entry]] | None = None

    @property
    def by_key(self) -> dict[str, list[_Entry]]:
        """The entries by ``name_key`` (names that differ only in case share a key)."""
        if self._by_key is None:
            self._by_key = {}
            for entry in self.entries:
                self._by_key.setdefault(entry.key, []).append(entry)
        return self._by_key

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


class RowFile(NamedTuple):
    """A file that may belong to a parcel: its name after ``<tn>/`` or ``<tn>_`` as
    ``name_key`` gives it, its entry, whether it lies in the parcel's own folder, and
    its folder resolved when that folder is known to be inside the photos folder with
    no link on the way (None: ``Path.resolve`` decides)."""

    key: str
    entry: _Entry
    in_folder: bool
    base: Path | None

    @property
    def path(self) -> Path:
        return self.entry.path


@dataclass
class RowFiles:
    """What the photos folder holds for one tracking number."""

    folders: list[Path] = field(default_factory=list)  # the parcel's <tn>/ folder(s)
    # The files (no folders) by the part of their name (after <tn>/ or <tn>_, as
    # ``name_key`` gives it) before its first dot, when something follows the dot:
    # ``damage_photo_1.jpg`` under ``damage_photo_1`` (a document column's name holds no
    # dot); those in the parcel's folder(s) first, each folder in listing order.
    by_stem: dict[str, list[RowFile]] = field(default_factory=dict)
    # Why a folder the row's files may lie in could not be listed.
    unreadable: list[str] = field(default_factory=list)
    # Entries named <tn> that are not folders ("3SABC is a broken link").
    not_folders: list[str] = field(default_factory=list)

    def add(self, key: str, entry: _Entry, in_folder: bool, base: Path | None) -> None:
        """One more file that may belong to the row, filed by its stem if it has one."""
        stem = stem_of(key)
        if stem is not None:
            self.by_stem.setdefault(stem, []).append(RowFile(key, entry, in_folder, base))


def stem_of(key: str) -> str | None:
    """The part of a name's key before its first dot, when something follows the dot:
    how ``RowFiles`` files a file (``damage_photo_1.jpg`` under ``damage_photo_1``)."""
    stem, dot, rest = key.partition(".")
    return stem if dot and rest else None


class ReadAhead(NamedTuple):
    """A file read and judged ahead of the row that finds it (``plain_files.read_ahead``):
    its content type when the upload API takes it (else the error code and why), how
    many bytes were read and their SHA-256."""

    verdict: str | tuple[ErrorCode, str]
    length: int
    digest: str


class PhotoIndex:
    """The photos folder as one run sees it: every folder listed at most once, its names
    indexed, so that each row's look-ups cost the same however many files there are.

    ``root`` None means the run has no photos folder. A ``root`` given must be a folder
    that can be listed, else ``InputError`` (``check_photos_folder``)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._listings: dict[str, Listing] = {}  # by the folder's path as text
        self._resolved_root: Path | None = None
        # Parcel folders listed straight under the photos folder that are no links
        # (a file in one resolves to the resolved photos folder / folder / name), and
        # their resolved paths once known.
        self._plain_folders: set[str] = set()  # as text, as their listing had them
        self._resolved_folders: dict[Path, Path] = {}
        # Files read ahead while the sheet was read, by their path as text; each is
        # taken out when a row finds it, the rest let go once the rows are done.
        self.ahead: dict[str, ReadAhead] = {}
        # The photos folder as a row's messages show it: "photos/".
        self.shown_root = "" if root is None else root.as_posix().rstrip("/") + "/"
        if root is not None:
            check_photos_folder(root)

    def listing(self, folder: Path) -> Listing:
        """The folder's entries (listed on first use); none when it is not a readable
        folder."""
        return self._listing(str(folder))

    def listed(self, entry: _Entry, going: Callable[[], bool] | None = None) -> Listing | None:
        """``listing`` of a folder an entry of a listing names; None when ``going()``
        said no before the listing was done (then none is kept)."""
        try:
            return self._listing(entry.text, going)
        except _CutShort:
            return None

    def _listing(self, text: str, going: Callable[[], bool] | None = None) -> Listing:
        """``listing`` of the folder whose path is ``text`` (``str`` of its Path);
        ``_CutShort`` when ``going()`` said no on the way (``_scan``)."""
        found = self._listings.get(text)
        if found is None:
            found = self._listings[text] = Listing(*_scan(text, going))
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
            elif str(parent) in self._plain_folders:
                base = self.resolved_root() / parent.name
            else:
                return None
            self._resolved_folders[parent] = base
        try:
            status = os.lstat(path)
        except (OSError, ValueError):
            return None
        return base / path.name if stat.S_ISREG(status.st_mode) else None

    def row_files(self, tracking_number: str) -> RowFiles:
        """The parcel's folder(s) and the files that may belong to one tracking number,
        names compared by ``name_key``.

        Names are compared against directory listings, so a tracking number can never
        be used as a path (``..`` or separators in it match nothing).
        """
        if self.root is None or not tracking_number:
            return RowFiles()
        root_path = self.root
        root = self._listing(str(root_path))
        found = RowFiles()
        if root.error is not None:  # it was a folder when the index was made
            found.unreadable.append(f"the photos folder cannot be read ({root.error})")
        tn = name_key(tracking_number)
        for entry in root.by_key.get(tn, ()):
            if not entry.is_dir:
                found.not_folders.append(f"{entry.name} is {what_is(entry.path)}")
                continue
            found.folders.append(joined(root_path, entry.name))
            base = None
            if not entry.is_link:
                self._plain_folders.add(entry.text)
                root_base = self._resolved_or_none()
                base = None if root_base is None else joined(root_base, entry.name)
            listing = self._listing(entry.text)
            if listing.error is not None:
                found.unreadable.append(
                    f"the parcel's folder {entry.name}/ cannot be read ({listing.error})"
                )
            for sub in listing.entries:
                if not sub.is_dir:
                    found.add(sub.key, sub, True, base)
        flat = root.with_prefix(tn)
        if flat:
            base = self._resolved_or_none()
            cut = len(tn) + 1
            for entry in flat:
                if not entry.is_dir:
                    found.add(entry.key[cut:], entry, False, base)
        return found

    def _resolved_or_none(self) -> Path | None:
        """``resolved_root``, or None when it cannot be resolved (then each file's full
        check says why)."""
        try:
            return self.resolved_root()
        except (OSError, RuntimeError):
            return None


def check_photos_folder(root: Path) -> None:
    """``InputError`` unless ``root`` is a folder that can be listed (opened here, not
    read: the index lists it when a row needs it). ``PhotoIndex`` checks this when it is
    made; a caller may check earlier, before the sheet is read."""
    try:
        with os.scandir(root):
            return
    except ValueError:
        error = "its name holds a NUL character"
    except OSError as exc:
        error = reason(exc)
    raise InputError(_photos_problem(root, error))


def _photos_problem(root: Path, error: str) -> str:
    """Why the photos folder ``root`` could not be listed (``error``), for the user: a
    photos folder given (by ``--photos`` or the config file) that is missing, a file or
    unreadable is a wrong set-up, told once, not a problem of every row with a document."""
    try:
        status = os.stat(root)
    except ValueError:
        problem = "is not a possible name (it holds a NUL character)"
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR) and not lexists(root):
            problem = "does not exist"
        else:  # a broken link, a link loop, a folder on the way that cannot be searched
            problem = f"is {what_is(root)}"
    else:
        if stat.S_ISDIR(status.st_mode):
            problem = f"cannot be read ({error})"
        else:
            problem = f"is {mode_words(status.st_mode)}, not a folder"
    return (
        f"the photos folder {root} {problem}: give --photos (or photos in the config file's "
        "[defaults]) the folder that holds the photos and documents"
    )


class _CutShort(Exception):
    """A listing given up because ``going()`` said no (``_scan``)."""


# A listing asks ``going()`` once per this many entries (``_scan``).
_LOOK_EVERY = 256


def _scan(folder: str, going: Callable[[], bool] | None = None) -> tuple[list[_Entry], str | None]:
    """A folder's entries, sorted by name, and why it could not be listed (None when it
    could). The one place a folder is listed; an entry that cannot be examined is kept
    as a non-folder, for the row that names it to say what it is. With ``going``, a
    listing it says no to, now and then on the way, is given up (``_CutShort``)."""
    # Each entry's path as text as ``str(Path(folder) / name)`` has it ("x", not "./x").
    prefix = "" if folder == os.curdir else folder
    if prefix and not prefix.endswith(os.sep):
        prefix += os.sep
    entries: list[_Entry] = []
    try:
        with os.scandir(folder) as found:
            for item in found:
                name = item.name
                try:  # told by the listing itself on most systems: no system call
                    is_dir = item.is_dir()
                    is_link = item.is_symlink()
                    is_file = item.is_file(follow_symlinks=False)
                except OSError:
                    is_dir, is_link, is_file = _is_dir(item), _is_link(item), _is_file(item)
                key = name.casefold() if name.isascii() else name_key(name)
                entries.append(_Entry(prefix + name, name, key, is_dir, is_link, is_file))
                if going is not None and len(entries) % _LOOK_EVERY == 0 and not going():
                    raise _CutShort
    except ValueError:
        return [], "its name holds a NUL character"
    except OSError as exc:
        return [], reason(exc)
    entries.sort()  # by name: they share the folder's prefix, and no two names are equal
    return entries, None


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


def _is_file(item: os.DirEntry[str]) -> bool:
    """A regular file, no link (what the listing says; the open checks again)."""
    try:
        return item.is_file(follow_symlinks=False)
    except OSError:
        return False
