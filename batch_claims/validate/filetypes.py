"""What a file's bytes are, and whether the upload API accepts that content type.

``sniff_content_type`` judges a file by its bytes (the name only picks among
look-alikes such as .doc/.xls inside an OLE2 file, or .docx/.xlsx inside a ZIP);
``describe_bytes`` says in words what refused bytes look like, for an error message.
Text is told from binary data by its characters, not its encoding: UTF-8, UTF-16 with a
byte-order mark, or any 8-bit encoding such as Windows-1252 ("ANSI") or Latin-1, as long
as it holds no control character other than tab, line feed, form feed and carriage
return. Pure functions on bytes: this module opens no files.
"""

from __future__ import annotations

import functools
import io
import json
import re
import struct
import unicodedata
import zipfile
from pathlib import PurePosixPath

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


@functools.lru_cache(maxsize=256)
def is_allowed_content_type(content_type: str) -> bool:
    """True when the upload API accepts ``content_type`` for a file part (answered once
    per content type: a run meets a handful of them, once per file)."""
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
    ext = extension(filename)  # from here on, the name may pick among look-alikes
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


def extension(filename: str) -> str:
    """The file name's extension in lower case (".jpg"), as ``PurePosixPath.suffix`` has
    it, with a backslash taken for a slash; without making a path of a plain name."""
    if "/" in filename or "\\" in filename:
        return PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    dot = filename.rfind(".")
    return filename[dot:].lower() if 0 < dot < len(filename) - 1 else ""


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
    return f"binary data of an unknown type ({_not_text_because(head)})"


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
    """Plain text (see ``_as_text``); the extension picks a more precise text type."""
    text = _as_text(content)
    if text is None:
        return None
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


_UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# Control characters never found in text: all of C0 but tab, LF, FF and CR; and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _decoded(content: bytes) -> str | None:
    """The characters of ``content`` read as UTF-16 when it starts with a byte-order mark,
    else as UTF-8, else byte for byte (any 8-bit encoding: only its controls matter
    here); None for UTF-16 that cannot be read or holds unassigned code points (almost
    any even run of bytes decodes as UTF-16, so binary data after a BOM needs this)."""
    for bom, codec in _UTF16_BOMS:
        if content.startswith(bom):
            text = _decode_head(content[len(bom) :], codec)
            if text is None or any(unicodedata.category(c) == "Cn" for c in set(text)):
                return None
            return text
    body = content.removeprefix(b"\xef\xbb\xbf")
    text = _decode_head(body, "utf-8")
    return text if text is not None else body.decode("latin-1")


def _decode_head(body: bytes, codec: str) -> str | None:
    """``body`` decoded; a head cut in the middle of a character still reads."""
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        if exc.start < len(body) - 3 or exc.reason not in (
            "unexpected end of data",
            "truncated data",
        ):
            return None
        return body[: exc.start].decode(codec)


def _as_text(content: bytes) -> str | None:
    """The text ``content`` holds, or None when it is not text."""
    text = _decoded(content)
    if text is None or _CONTROL.search(text):
        return None
    return text


def _not_text_because(content: bytes) -> str:
    """Why bytes that no type matched are not text, in a few words."""
    text = _decoded(content)
    if text is None:
        return "it starts like UTF-16 text but does not read as text"
    control = _CONTROL.search(text)
    if control is None:  # not reached for bytes sniff_content_type refused
        return "it looks like text"
    return f"it holds the control character 0x{ord(control.group()):02X}, which text does not"
