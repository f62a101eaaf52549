"""The short way to a document the folder convention found, and the verdict on a file's
bytes that both ways share.

``listed_attachment`` takes a file straight from its folder's listing when the listing
showed a regular file, in the photos folder or in a parcel folder that is no link (its
``RowFile.base``): it is opened without following a link in its own name and read once
(``read_plain``), and nothing is made for it but its Attachment. Anything else is left to
the full check (``attachments._Finder``), which resolves the path and says what is wrong.
``judge`` says whether bytes read may be uploaded: their content type, or the error code
and the words that follow the file's name in the message.
"""

from __future__ import annotations

from batch_claims.outcome import Attachment, ErrorCode
from batch_claims.validate.filetypes import (
    describe_bytes,
    is_allowed_content_type,
    sniff_content_type,
)
from batch_claims.validate.photo_index import RowFile
from batch_claims.validate.safe_read import MAX_FILE_SIZE, read_plain


def listed_attachment(
    file: RowFile, column: str, how: str
) -> Attachment | tuple[ErrorCode, str] | None:
    """The one file the folder convention found, when its listing showed a regular file
    in a folder known to be inside the photos folder and it is one still (no link in its
    own name: ``read_plain``): its Attachment when its bytes are acceptable, else why not
    (``judge``: judged from the bytes read, not read again). None for anything else:
    the full check (``attachments``) decides and says why."""
    entry = file.entry
    if file.base is None or not entry.is_file:
        return None
    read = read_plain(entry.text)
    if read is None:
        return None
    content, digest, size = read
    verdict = judge(content, size, entry.name)
    if not isinstance(verdict, str):
        return verdict
    return Attachment(
        column=column,
        path=file.base / entry.name,
        filename=entry.name,
        content_type=verdict,
        size=len(content),
        sha256=digest,
        how=how,
    )


def judge(content: bytes, size: int, filename: str) -> str | tuple[ErrorCode, str]:
    """The content type of a file read (``read_document``'s bytes and size) when the
    upload API takes it; else the error code and why, in words that follow the file's
    name in the message."""
    if size > MAX_FILE_SIZE:
        return (
            ErrorCode.FILE_TOO_LARGE,
            f"is {size / 1024 / 1024:.1f} MB, over the upload limit of "
            f"{MAX_FILE_SIZE // 1024 // 1024} MB",
        )
    if size == 0:
        return ErrorCode.EMPTY_FILE, "is empty (0 bytes)"
    if len(content) > MAX_FILE_SIZE:  # it grew after the size check
        return ErrorCode.FILE_TOO_LARGE, "is over the upload limit"
    content_type = sniff_content_type(content, filename)
    if content_type is None or not is_allowed_content_type(content_type):
        return (
            ErrorCode.FILE_TYPE_NOT_ALLOWED,
            "is not a file type the upload API accepts: its bytes "
            f"look like {describe_bytes(content, filename)}",
        )
    return content_type
