"""Finding, checking and hashing a row's documents in the photos folder.

A document cell holds a path relative to the photos folder; a blank cell means: look for
``<tracking_number>/<column>.*`` or ``<tracking_number>_<column>.*``. Each file must stay
inside the photos folder, exist, be at most 6 MB, and have a content type the upload API
accepts, judged from its bytes (never from its name).

Error codes of the ``RowError`` values made here: ``missing_document``,
``no_photos_folder``, ``outside_photos_folder``, ``file_not_found``, ``not_a_file``,
``ambiguous_document``, ``file_too_large``, ``empty_file``, ``unreadable_file``,
``file_type_not_allowed``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import zipfile
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath

from batch_claims.columns import DOCUMENT_COLUMNS
from batch_claims.outcome import Attachment, RowError

MAX_FILE_SIZE = 6 * 1024 * 1024
CHUNK_SIZE = 1024 * 1024

TYPED_PATH = "typed path"
FOLDER_CONVENTION = "folder convention"

# The upload API's allowed part content types: a trailing "*" is a prefix match.
ALLOWED_CONTENT_TYPES: tuple[str, ...] = (
    "image/*",
    "video/*",
    "text/*",
    "application/pdf",
    "application/rtf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.ms-*",
    "application/vnd.oasis.opendocument.*",
    "application/xml",
    "application/yaml",
    "application/json",
)

_OLE2_BY_EXTENSION = {
    ".doc": "application/msword",
    ".dot": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".xlt": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pps": "application/vnd.ms-powerpoint",
    ".msg": "application/vnd.ms-outlook",
}

_OOXML = "application/vnd.openxmlformats-officedocument."
_OOXML_BY_EXTENSION = {
    ".docx": _OOXML + "wordprocessingml.document",
    ".dotx": _OOXML + "wordprocessingml.template",
    ".docm": "application/vnd.ms-word.document.macroEnabled.12",
    ".xlsx": _OOXML + "spreadsheetml.sheet",
    ".xltx": _OOXML + "spreadsheetml.template",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".pptx": _OOXML + "presentationml.presentation",
    ".ppsx": _OOXML + "presentationml.slideshow",
    ".potx": _OOXML + "presentationml.template",
    ".pptm": "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
}
# When the extension says nothing useful: judge by the part every such package has.
_OOXML_BY_PART = (
    ("word/", ".docx"),
    ("xl/", ".xlsx"),
    ("ppt/", ".pptx"),
)

_HEIF_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
    b"avif": "image/avif",
    b"avis": "image/avif",
}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

# What some common disallowed bytes are, for an error message a person can act on.
_DESCRIPTIONS: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows program (.exe/.dll)"),
    (b"\x7fELF", "a Linux program (ELF)"),
    (b"\xca\xfe\xba\xbe", "a macOS/Java program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 compound file (not a .doc/.xls/.ppt)"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio/video file"),
    (b"fLaC", "a FLAC audio file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"RIFF", "a RIFF file such as WAV audio"),
)


def is_allowed_content_type(content_type: str) -> bool:
    """True when the upload API accepts ``content_type`` for a file part."""
    ct = content_type.split(";", 1)[0].strip().lower()
    for allowed in ALLOWED_CONTENT_TYPES:
        if allowed.endswith("*"):
            prefix = allowed[:-1]
            if ct.startswith(prefix) and len(ct) > len(prefix):
                return True
        elif ct == allowed:
            return True
    return False


def sniff_content_type(head: bytes, filename: str) -> str | None:
    """The content type the bytes show (the name only picks among look-alikes); None if
    unknown. Pass the whole file for ZIP-based formats to be judged reliably."""
    ext = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if not head:
        return None
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "image/webp", b"AVI ": "video/x-msvideo"}.get(head[8:12])
    if _is_bmp(head):
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _iso_media_type(head[8:12], ext)
    if head[4:8] in _QUICKTIME_ATOMS:
        return "video/quicktime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if ext == ".webm" else "video/x-matroska"
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _OLE2_BY_EXTENSION.get(ext)
    if head.startswith(b"PK\x03\x04"):
        return _zip_content_type(head, ext)
    return _text_content_type(head, ext)


def describe_bytes(head: bytes, filename: str) -> str:
    """A short phrase saying what the bytes look like, for error messages."""
    content_type = sniff_content_type(head, filename)
    if content_type is not None:
        return content_type
    for magic, description in _DESCRIPTIONS:
        if head.startswith(magic):
            return description
    if head[4:8] == b"ftyp":
        return "an audio file"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text (save it as UTF-8 or PDF)"
    sample = head[:4096]
    if b"\x00" not in sample and sum(b < 9 or 13 < b < 32 for b in sample) == 0:
        return "text that is not UTF-8 (save it as UTF-8 or PDF)"
    return "binary data of an unknown type"


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
            return self.error(
                "outside_photos_folder",
                f'"{text}" is outside the photos folder {self.shown_dir}: '
                "give a path relative to it",
            )
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
        if path.is_dir():
            return self.error("not_a_file", f'"{text}" is a folder, not a file')
        if not path.exists() and not path.is_symlink():
            near = _near_matches(path)
            if len(near) != 1:
                also = f" (did you mean one of {_names(near)}?)" if near else ""
                return self.error(
                    "file_not_found",
                    f'"{text}" does not exist in the photos folder {self.shown_dir}{also}',
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


def _names(paths: list[Path]) -> str:
    return ", ".join(p.name for p in paths)


def _is_bmp(head: bytes) -> bool:
    if not head.startswith(b"BM") or len(head) < 18:
        return False
    reserved = head[6:10]
    (dib_size,) = struct.unpack("<I", head[14:18])
    return reserved == b"\x00\x00\x00\x00" and dib_size in (12, 16, 40, 52, 56, 64, 108, 124)


def _iso_media_type(brand: bytes, ext: str) -> str | None:
    if brand in _HEIF_BRANDS:
        return _HEIF_BRANDS[brand]
    if brand in _AUDIO_BRANDS:
        return "audio/mp4"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand.startswith(b"3g2"):
        return "video/3gpp2"
    if brand.startswith(b"3gp"):
        return "video/3gpp"
    if brand.startswith(b"crx"):
        return "image/x-canon-cr3"
    return "video/quicktime" if ext == ".mov" else "video/mp4"


def _zip_names(content: bytes) -> tuple[list[str], zipfile.ZipFile | None]:
    """Member names of a ZIP: from its directory, or (truncated) its local headers."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        return archive.namelist(), archive
    except (zipfile.BadZipFile, OSError, ValueError):
        pass
    names: list[str] = []
    for match in re.finditer(re.escape(b"PK\x03\x04"), content):
        start = match.start()
        if start + 30 > len(content):
            break
        (name_len,) = struct.unpack("<H", content[start + 26 : start + 28])
        names.append(content[start + 30 : start + 30 + name_len].decode("utf-8", "replace"))
    return names, None


def _zip_content_type(content: bytes, ext: str) -> str | None:
    names, archive = _zip_names(content)
    if "mimetype" in names:
        odf = _odf_mimetype(content, archive)
        if odf is not None:
            return odf
    if "[Content_Types].xml" not in names:
        return None  # a plain ZIP archive: the API refuses application/zip
    if ext in _OOXML_BY_EXTENSION:
        return _OOXML_BY_EXTENSION[ext]
    for prefix, default_ext in _OOXML_BY_PART:
        if any(name.startswith(prefix) for name in names):
            return _OOXML_BY_EXTENSION[default_ext]
    return None


def _odf_mimetype(content: bytes, archive: zipfile.ZipFile | None) -> str | None:
    """The ``mimetype`` entry of an OpenDocument file, when it is one."""
    value = b""
    if content[30:38] == b"mimetype":  # ODF stores it first and uncompressed
        (extra_len,) = struct.unpack("<H", content[28:30])
        (size,) = struct.unpack("<I", content[18:22])
        start = 38 + extra_len
        value = content[start : start + min(size, 200)]
    elif archive is not None:
        try:
            value = archive.read("mimetype")[:200]
        except (KeyError, zipfile.BadZipFile, OSError, RuntimeError):
            return None
    mimetype = value.decode("ascii", "replace").strip()
    if mimetype.startswith("application/vnd.oasis.opendocument."):
        return mimetype
    return None


def _text_content_type(content: bytes, ext: str) -> str | None:
    """Plain text: UTF-8 without NULs; the extension picks a more precise text type."""
    if b"\x00" in content:
        return None
    body = content.removeprefix(b"\xef\xbb\xbf")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A head cut in the middle of a character is still text.
        if exc.start < len(body) - 3 or exc.reason != "unexpected end of data":
            return None
        text = body[: exc.start].decode("utf-8")
    stripped = text.lstrip()
    if ext == ".json" and stripped[:1] in ("{", "["):
        try:
            json.loads(text)
        except ValueError:
            return "text/plain"
        return "application/json"
    if ext in (".xml", ".svg") and stripped.startswith("<"):
        return "image/svg+xml" if ext == ".svg" else "application/xml"
    if ext in (".yaml", ".yml"):
        return "application/yaml"
    if ext == ".csv":
        return "text/csv"
    if ext in (".htm", ".html") and stripped[:1] == "<":
        return "text/html"
    return "text/plain"
