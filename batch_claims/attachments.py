"""Finding, checking and hashing a row's documents in the photos folder.

A document cell holds a path relative to the photos folder; a blank cell means: look for
``<tracking_number>/<column>.*`` or ``<tracking_number>_<column>.*``. Each file must stay
inside the photos folder, exist, be at most 6 MB, and have a content type the upload API
accepts, judged from its bytes (never from its name; see ``filetypes``).

Error codes of the ``RowError`` values made here: ``missing_document``,
``no_photos_folder``, ``outside_photos_folder``, ``file_not_found``, ``not_a_file``,
``ambiguous_document``, ``file_too_large``, ``empty_file``, ``unreadable_file``,
``file_type_not_allowed``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath

from batch_claims.columns import DOCUMENT_COLUMNS
from batch_claims.filetypes import describe_bytes, is_allowed_content_type, sniff_content_type
from batch_claims.outcome import Attachment, RowError

MAX_FILE_SIZE = 6 * 1024 * 1024
CHUNK_SIZE = 1024 * 1024

TYPED_PATH = "typed path"
FOLDER_CONVENTION = "folder convention"
TYPED_IN_PARCEL_FOLDER = "typed name, in the parcel's folder"


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        while chunk := fp.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_documents(
    photos_dir: Path | None,
    tracking_number: str,
    typed: Mapping[str, str],
    required: Collection[str],
    row: int,
    header_of: Callable[[str], str],
) -> tuple[dict[str, Attachment], list[RowError]]:
    """Find and check every document of one row; every problem is reported."""
    attachments: dict[str, Attachment] = {}
    errors: list[RowError] = []
    row_files: list[tuple[str, Path]] | None = None
    for column in DOCUMENT_COLUMNS:
        finder = _Finder(photos_dir, row, column.name, header_of)
        text = (typed.get(column.name) or "").strip()
        found: Attachment | RowError | None
        if text:
            found = finder.typed(text)
            if isinstance(found, RowError) and found.code == "file_not_found":
                # A bare file name may be meant inside the parcel's own folder.
                if row_files is None:
                    row_files = _row_files(photos_dir, tracking_number.strip())
                in_folder = _in_parcel_folder(row_files, tracking_number, text)
                if in_folder is not None:
                    found = finder.check(in_folder, TYPED_IN_PARCEL_FOLDER)
        else:
            if row_files is None:
                row_files = _row_files(photos_dir, tracking_number.strip())
            found = finder.by_convention(
                tracking_number.strip(), row_files, column.name in required
            )
        if isinstance(found, Attachment):
            attachments[column.name] = found
        elif found is not None:
            errors.append(found)
    return attachments, errors


class _Finder:
    """Resolves one document cell of one row; each method returns a result or an error."""

    def __init__(
        self, photos_dir: Path | None, row: int, column: str, header_of: Callable[[str], str]
    ) -> None:
        self.photos_dir = photos_dir
        self.row = row
        self.column = column
        self.prefix = f'row {row}, "{header_of(column)}": '

    def error(self, code: str, message: str) -> RowError:
        return RowError(self.row, self.column, code, self.prefix + message)

    @property
    def shown_dir(self) -> str:
        assert self.photos_dir is not None
        return self.photos_dir.as_posix().rstrip("/") + "/"

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
        path = self.photos_dir.joinpath(*parts)
        if (
            len(parts) > 1
            and parts[0].casefold() == self.photos_dir.name.casefold()
            and not _findable(path)
            and _findable(self.photos_dir.joinpath(*parts[1:]))
        ):
            # "photos\3SABC\damage.jpg": a path that starts with the photos folder itself.
            path = self.photos_dir.joinpath(*parts[1:])
        if path.is_dir():
            return self.error("not_a_file", f'"{text}" is a folder, not a file')
        if not path.exists() and not path.is_symlink():
            near = _near_matches(path)
            if len(near) > 1:
                return self.error(
                    "ambiguous_document",
                    f'"{text}" matches several files in the photos folder {self.shown_dir}: '
                    f"{_names(near)} (type the full file name, with its extension)",
                )
            if not near:
                return self.error(
                    "file_not_found",
                    f'"{text}" does not exist in the photos folder {self.shown_dir}',
                )
            path = near[0]
        return self.check(path, TYPED_PATH)

    def by_convention(
        self, tracking_number: str, row_files: list[tuple[str, Path]], required: bool
    ) -> Attachment | RowError | None:
        if self.photos_dir is None:
            if not required:
                return None
            return self.error(
                "no_photos_folder",
                "no file given and no photos folder to look in: pass --photos DIR "
                "(or type the file's path in the cell)",
            )
        candidates = _convention_candidates(row_files, self.column)
        if len(candidates) > 1:
            shown = ", ".join(c.relative_to(self.photos_dir).as_posix() for c in candidates)
            return self.error(
                "ambiguous_document",
                f"several files match in {self.shown_dir}: {shown}; "
                "keep one, or type the file's path in the cell",
            )
        if candidates:
            return self.check(candidates[0], FOLDER_CONVENTION)
        if not required:
            return None
        if not tracking_number:
            return self.error(
                "missing_document", "no file given and no tracking number to look it up by"
            )
        return self.error(
            "missing_document",
            f"no file given and none found as {tracking_number}/{self.column}.* "
            f"or {tracking_number}_{self.column}.* in {self.shown_dir}",
        )

    def check(self, path: Path, how: str) -> Attachment | RowError:
        assert self.photos_dir is not None
        shown = path.relative_to(self.photos_dir).as_posix()
        try:
            root = self.photos_dir.resolve(strict=True)
            resolved = path.resolve(strict=False)
        except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop (3.11)
            return self.error("unreadable_file", f"{shown} cannot be resolved: {exc}")
        if not resolved.is_relative_to(root):
            return self.error(
                "outside_photos_folder",
                f"{shown} is outside the photos folder {self.shown_dir} (it leads to {resolved})",
            )
        if not resolved.exists():
            return self.error("file_not_found", f"{shown} does not exist (a broken link)")
        if not resolved.is_file():
            return self.error("not_a_file", f"{shown} is not a regular file")
        try:
            size = resolved.stat().st_size
            if size > MAX_FILE_SIZE:
                return self.error(
                    "file_too_large",
                    f"{shown} is {size / 1024 / 1024:.1f} MB, over the upload limit of "
                    f"{MAX_FILE_SIZE // 1024 // 1024} MB",
                )
            if size == 0:
                return self.error("empty_file", f"{shown} is empty (0 bytes)")
            content, digest = _read_and_hash(resolved)
            if len(content) > MAX_FILE_SIZE:  # it grew after the size check
                return self.error("file_too_large", f"{shown} is over the upload limit")
        except OSError as exc:
            return self.error("unreadable_file", f"{shown} cannot be read: {exc.strerror}")
        content_type = sniff_content_type(content, path.name)
        if content_type is None or not is_allowed_content_type(content_type):
            return self.error(
                "file_type_not_allowed",
                f"{shown} is not a file type the upload API accepts: its bytes look like "
                f"{describe_bytes(content, path.name)}",
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


def _read_and_hash(path: Path) -> tuple[bytes, str]:
    """Read a (size-checked) file once in chunks: its bytes and their SHA-256."""
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    total = 0
    with path.open("rb") as fp:
        while total <= MAX_FILE_SIZE and (chunk := fp.read(CHUNK_SIZE)):
            digest.update(chunk)
            chunks.append(chunk)
            total += len(chunk)
    return b"".join(chunks), digest.hexdigest()


def _row_files(photos_dir: Path | None, tracking_number: str) -> list[tuple[str, Path]]:
    """The files that may belong to one tracking number, each with its name after
    ``<tn>/`` or ``<tn>_`` folded to lower case; the folder is listed once per row.

    Names are compared against directory listings, so a tracking number can never be
    used as a path (``..`` or separators in it match nothing).
    """
    if photos_dir is None or not tracking_number or not photos_dir.is_dir():
        return []
    tn = tracking_number.casefold()
    found: list[tuple[str, Path]] = []
    for entry in sorted(photos_dir.iterdir()):
        name = entry.name.casefold()
        if name == tn and entry.is_dir():
            found.extend((sub.name.casefold(), sub) for sub in sorted(entry.iterdir()))
        elif name.startswith(tn + "_"):
            found.append((name[len(tn) + 1 :], entry))
    return found


def _in_parcel_folder(
    row_files: list[tuple[str, Path]], tracking_number: str, text: str
) -> Path | None:
    """The one file in the parcel's own ``<tracking_number>/`` folder that a bare typed
    name means (with or without its extension), or None."""
    name = text.strip().strip('"').strip().casefold()
    if not name or "/" in name or "\\" in name:
        return None
    folder = tracking_number.strip().casefold()
    matches = [
        path
        for key, path in row_files
        if path.parent.name.casefold() == folder
        and path.is_file()
        and (key == name or key.rsplit(".", 1)[0] == name)
    ]
    return matches[0] if len(matches) == 1 else None


def _convention_candidates(row_files: list[tuple[str, Path]], column: str) -> list[Path]:
    """Files named ``<column>.*`` (case-insensitively) among a row's files."""
    stem = column.casefold() + "."
    return [path for key, path in row_files if _has_stem(key, stem) and not path.is_dir()]


def _has_stem(name: str, stem_dot: str) -> bool:
    return name.startswith(stem_dot) and len(name) > len(stem_dot)


def _near_matches(path: Path) -> list[Path]:
    """Files beside a missing ``path`` with its name in another case or extension."""
    parent = path.parent
    if not parent.is_dir():
        return []
    wanted = path.name.casefold()
    stem = PurePosixPath(wanted).stem if "." in wanted.lstrip(".") else wanted
    entries = [e for e in sorted(parent.iterdir()) if not e.is_dir()]
    same = [e for e in entries if e.name.casefold() == wanted]
    if same:
        return same
    return [e for e in entries if _has_stem(e.name.casefold(), stem + ".")]


def _findable(path: Path) -> bool:
    """True when a typed path names a file or folder, as typed or by ``_near_matches``."""
    return path.exists() or path.is_symlink() or bool(_near_matches(path))


def _after_folder_name(cleaned: str, folder: str) -> str | None:
    """The part of a full path after its last folder named ``folder``; None if none."""
    parts = [part for part in cleaned.split("/") if part]
    wanted = folder.casefold()
    for index in range(len(parts) - 2, -1, -1):
        if parts[index].casefold() == wanted:
            return "/".join(parts[index + 1 :])
    return None


def _names(paths: list[Path]) -> str:
    return ", ".join(p.name for p in paths)
