"""The short way to a document the folder convention found, and the verdict on a file's
bytes that both ways share.

``listed_attachment`` takes a file straight from its folder's listing when the listing
showed a regular file, in the photos folder or in a parcel folder that is no link (its
``RowFile.base``): it is opened without following a link in its own name and read once
(``read_plain``), and nothing is made for it but its Attachment. Anything else is left to
the full check (``attachments._Finder``), which resolves the path and says what is wrong.
``judge`` says whether bytes read may be uploaded: their content type, or the error code
and the words that follow the file's name in the message; ``missing_words`` why a
required document is missing, in the words both ways use (``quick_missing``: the error
of a row with a tracking number and no such file, without a finder made).

``read_ahead`` reads and judges such files before the rows are known, on a core the
sheet's read leaves idle, and ``read_on`` carries that on in a child while the rows are
checked; a row that finds one takes its verdict instead of reading it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from batch_claims import idle
from batch_claims.columns import DOCUMENT_COLUMNS
from batch_claims.forked import joined
from batch_claims.outcome import Attachment, ErrorCode, RowError, attachment
from batch_claims.validate.filetypes import (
    describe_bytes,
    is_allowed_content_type,
    sniff_content_type,
)
from batch_claims.validate.photo_index import (
    PhotoIndex,
    ReadAhead,
    RowFile,
    RowFiles,
    stem_of,
)
from batch_claims.validate.safe_read import MAX_FILE_SIZE, read_plain


def listed_attachment(
    file: RowFile, column: str, how: str, ahead: dict[str, ReadAhead] | None = None
) -> Attachment | tuple[ErrorCode, str] | None:
    """The one file the folder convention found, when its listing showed a regular file
    in a folder known to be inside the photos folder and it is one still (no link in its
    own name: ``read_plain``): its Attachment when its bytes are acceptable, else why not
    (``judge``: judged from the bytes read, not read again). None for anything else:
    the full check (``attachments``) decides and says why. A file in ``ahead`` (the
    index's, ``read_ahead``) is taken from there, read already."""
    entry = file.entry
    if file.base is None or not entry.is_file:
        return None
    judged = ahead.pop(entry.text, None) if ahead else None
    if judged is None:
        judged = _read(entry.text, entry.name)
        if judged is None:
            return None
    if not isinstance(judged.verdict, str):
        return judged.verdict
    return attachment(
        column,
        joined(file.base, entry.name),
        entry.name,
        judged.verdict,
        judged.length,
        judged.digest,
        how,
    )


def _read(path: str, name: str) -> ReadAhead | None:
    """A file its listing showed as regular, read once (``read_plain``) and judged; None
    when it could not be read that way."""
    read = read_plain(path)
    if read is None:
        return None
    content, digest, size = read
    return ReadAhead(judge(content, size, name), len(content), digest)


def read_ahead(index: PhotoIndex, waiting: Callable[[], bool]) -> None:
    """While ``waiting()`` says so (the sheet is being read by another process), on a
    core the read leaves free (``idle.when_idle``): the photos folder's parcel
    folders listed, and the files in them that the folder convention may find for a
    document column (``<folder>/<column>.<ext>``, and the flat ``<name>_<column>.<ext>``)
    read and judged into ``index.ahead``, so that the rows find them read. Which rows
    need them is not known yet, so the work is limited to the time the read leaves
    free; only regular files are read, as ``listed_attachment`` would read them."""
    if index.root is None:
        return
    index.listing(index.root)  # here, at full speed: it can be long, and the rows need it
    if not idle.when_idle(lambda go: _ahead(index, go), waiting):
        index.ahead.clear()  # cut short by a failure: the rows read their files


def read_on(index: PhotoIndex, going: Callable[[], bool]) -> dict[str, ReadAhead]:
    """``read_ahead``'s work carried on for as long as ``going()`` says so (by a forked
    child, while the process checks the rows): the files not read ahead yet, read and
    judged; returns those (for the process to add to its ``index.ahead``)."""
    known = len(index.ahead)
    _ahead(index, going)
    return dict(itertools.islice(index.ahead.items(), known, None))


def _ahead(index: PhotoIndex, going: Callable[[], bool]) -> None:
    """``read_ahead``'s work, for as long as ``going()`` says so (a file read ahead
    already is not read again)."""
    assert index.root is not None
    names = {column.name.casefold() for column in DOCUMENT_COLUMNS}
    flat = tuple("_" + name for name in names)
    for entry in index.listing(index.root).entries:
        if not going():
            return
        if entry.is_dir and not entry.is_link:
            listed = index.listed(entry, going)  # a long one is given up when the wait ends
            if listed is None:
                return
            files = [f for f in listed.entries if f.is_file and stem_of(f.key) in names]
        elif entry.is_file and (stem := stem_of(entry.key)) is not None and stem.endswith(flat):
            files = [entry]
        else:
            continue
        for file in files:
            if file.text in index.ahead:
                continue
            judged = _read(file.text, file.name)
            if judged is not None:
                index.ahead[file.text] = judged
            if not going():
                return


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


def quick_missing(
    row: int,
    column: str,
    tracking_number: str,
    header_of: Callable[[str], str],
    index: PhotoIndex,
    row_files: RowFiles,
) -> RowError | None:
    """The ``missing_document`` error of a required document of which the row's files
    (readable, in a photos folder) hold none, as the full check words it; None without a
    tracking number (the full check says so)."""
    if not tracking_number:
        return None
    message = missing_words(tracking_number, column, index.shown_root, row_files.not_folders)
    prefix = f'row {row}, "{header_of(column)}": '
    return RowError(row, column, ErrorCode.MISSING_DOCUMENT, prefix + message)


def missing_words(tracking_number: str, column: str, shown_dir: str, not_folders: list[str]) -> str:
    """Why a required document the folder convention looked for is missing (the words
    after the cell's prefix): where it was looked for, and each entry of the parcel's
    name that is no folder."""
    why = "".join(f" ({note}, not a folder)" for note in not_folders)
    return (
        f"no file given and none found as {tracking_number}/{column}.* "
        f"or {tracking_number}_{column}.* in {shown_dir}{why}"
    )
