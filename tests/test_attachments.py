"""Finding and checking documents in the photos folder, with real files in tmp_path."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from batch_claims.columns import DOCUMENT_COLUMNS, Variant
from batch_claims.outcome import Attachment, RowError
from batch_claims.results_layout import SUMMARY_SHEET
from batch_claims.ticket_types import required_columns
from batch_claims.validate.attachments import MAX_FILE_SIZE, resolve_documents, sha256_of
from batch_claims.validate.filetypes import is_allowed_content_type, sniff_content_type
from tests.helpers import results_rows, run

TN = "3SABC123"
ALL_REQUIRED = frozenset(c.name for c in required_columns(Variant.SENDCLOUD_RATES) if c.is_document)
HEADERS = {"damage_photo_1": "Damage photo 1", "sales_invoice": "Invoice"}


def header_of(column: str) -> str:
    return HEADERS.get(column, column)


def png_bytes() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def zip_bytes(entries: dict[str, bytes], *, stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(stored_first, entries[stored_first], zipfile.ZIP_STORED)
        for name, data in entries.items():
            if name != stored_first:
                archive.writestr(name, data)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def resolve(
    photos: Path | None,
    typed: dict[str, str] | None = None,
    required: frozenset[str] = frozenset(),
    tracking_number: str = TN,
) -> tuple[dict[str, Attachment], list[RowError]]:
    found, errors, _ = resolve_documents(
        photos, tracking_number, typed or {}, required, 7, header_of
    )
    return found, errors


def notices_of(
    photos: Path, typed: dict[str, str] | None = None, tracking_number: str = TN
) -> list[str]:
    return resolve_documents(photos, tracking_number, typed or {}, (), 7, header_of)[2]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    return folder


# --- sniffing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (JPEG, "a.jpg", "image/jpeg"),
        (png_bytes(), "a.png", "image/png"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "a.gif", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "a.webp", "image/webp"),
        (
            b"BM" + b"\x3a\x00\x00\x00" + b"\x00" * 4 + b"\x36\x00\x00\x00\x28\x00\x00\x00",
            "a.bmp",
            "image/bmp",
        ),
        (b"II*\x00\x08\x00\x00\x00", "a.tif", "image/tiff"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "a.heic", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "a.heif", "image/heif"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "a.mp4", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00", "a.mov", "video/quicktime"),
        (PDF, "a.pdf", "application/pdf"),
        (PDF, "actually_a_pdf.jpg", "application/pdf"),
        (b"{\\rtf1\\ansi hello}", "a.rtf", "application/rtf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 24, "a.doc", "application/msword"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 24, "a.xls", "application/vnd.ms-excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 24, "setup.msi", None),
        (b"hello, world\n", "a.txt", "text/plain"),
        ("caf\u00e9 \u20ac 10,55\n".encode(), "notes", "text/plain"),
        (b'{"a": 1}', "a.json", "application/json"),
        (b"<?xml version='1.0'?><a/>", "a.xml", "application/xml"),
        (b"a,b\n1,2\n", "a.csv", "text/csv"),
        (b"a: 1\n", "a.yaml", "application/yaml"),
        (EXE, "photo.jpg", None),
        (b"\x00\x01\x02\x03binary", "a.bin", None),
        (b"\xff\xfe\xfd not utf-8 \x80\x81", "a.txt", None),  # BOM, then no UTF-16
        ("Caf\u00e9 \u20ac \u201cok\u201d".encode("cp1252"), "a.txt", "text/plain"),
        ("na\u00efve;\u00e9t\u00e9\n".encode("latin-1"), "a.csv", "text/csv"),
        ("Caf\u00e9 \u20ac\r\n".encode("utf-16"), "a.txt", "text/plain"),
        (b"\xfe\xff" + "Caf\u00e9".encode("utf-16-be"), "a.txt", "text/plain"),
        ("Caf\u00e9".encode("utf-16")[:-1], "head.txt", "text/plain"),  # a cut head
        (b"a\tb\fc\r\n", "a.txt", "text/plain"),
        (b"text with an escape \x1b[0m", "a.txt", None),
        (b"text with a DEL \x7f", "a.txt", None),
        ("UTF-8 caf\u00e9 with \x08 backspace".encode(), "a.txt", None),
        ("UTF-16 with NUL \x00".encode("utf-16"), "a.txt", None),
        (b"", "a.txt", None),
    ],
)
def test_sniff_content_type(data: bytes, name: str, expected: str | None) -> None:
    assert sniff_content_type(data, name) == expected


def test_sniff_office_documents_by_their_zip_contents() -> None:
    docx = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    assert sniff_content_type(docx, "claim.docx") == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    # The name is wrong, the contents say Word.
    assert str(sniff_content_type(docx, "claim.bin")).endswith("wordprocessingml.document")

    buffer = io.BytesIO()
    Workbook().save(buffer)
    assert sniff_content_type(buffer.getvalue(), "x.xlsx") == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )

    odt_type = b"application/vnd.oasis.opendocument.text"
    odt = zip_bytes({"mimetype": odt_type, "content.xml": b"<x/>"}, stored_first="mimetype")
    assert sniff_content_type(odt, "a.odt") == odt_type.decode()

    plain_zip = zip_bytes({"photo.jpg": JPEG})
    assert sniff_content_type(plain_zip, "photos.zip") is None
    assert sniff_content_type(plain_zip, "renamed.docx") is None


@pytest.mark.parametrize(
    ("content_type", "allowed"),
    [
        ("image/jpeg", True),
        ("image/heic", True),
        ("video/mp4", True),
        ("text/plain", True),
        ("text/csv; charset=utf-8", True),
        ("application/pdf", True),
        ("application/rtf", True),
        ("application/msword", True),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", True),
        ("application/vnd.ms-excel", True),
        ("application/vnd.oasis.opendocument.text", True),
        ("application/xml", True),
        ("application/yaml", True),
        ("application/json", True),
        ("application/octet-stream", False),
        ("application/zip", False),
        ("application/x-msdownload", False),
        ("audio/mpeg", False),
        ("image/", False),
        ("application/vnd.apple.pages", False),
    ],
)
def test_is_allowed_content_type(content_type: str, allowed: bool) -> None:
    assert is_allowed_content_type(content_type) is allowed


# --- the folder convention --------------------------------------------------------------


def test_folder_convention_both_forms(photos: Path) -> None:
    in_folder = write(photos / TN / "damage_photo_1.jpg", JPEG)
    flat = write(photos / f"{TN}_sales_invoice.pdf", PDF)

    found, errors = resolve(photos, required=frozenset({"damage_photo_1", "sales_invoice"}))

    assert errors == []
    assert set(found) == {"damage_photo_1", "sales_invoice"}
    photo = found["damage_photo_1"]
    assert photo.path == in_folder.resolve()
    assert photo.filename == "damage_photo_1.jpg"
    assert photo.content_type == "image/jpeg"
    assert photo.size == len(JPEG)
    assert photo.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert photo.how == "folder convention"
    assert found["sales_invoice"].path == flat.resolve()
    assert found["sales_invoice"].content_type == "application/pdf"


def test_folder_convention_ignores_case(photos: Path) -> None:
    write(photos / TN.lower() / "Damage_Photo_1.JPG", JPEG)
    write(photos / f"{TN.lower()}_PACKAGE_PHOTO.Png", png_bytes())
    found, errors = resolve(photos)
    assert errors == []
    assert set(found) == {"damage_photo_1", "package_photo"}


def test_optional_document_without_file_is_fine(photos: Path) -> None:
    assert resolve(photos) == ({}, [])


def test_missing_required_documents_are_all_reported(photos: Path) -> None:
    found, errors = resolve(photos, required=ALL_REQUIRED)
    assert found == {}
    assert {e.column for e in errors} == ALL_REQUIRED
    assert {e.code for e in errors} == {"missing_document"}
    message = next(e.message for e in errors if e.column == "damage_photo_1")
    assert message == (
        f'row 7, "Damage photo 1": no file given and none found as {TN}/damage_photo_1.* '
        f"or {TN}_damage_photo_1.* in {photos.as_posix()}/"
    )
    assert all(e.row == 7 for e in errors)


def test_several_candidates_are_an_error_listing_them(photos: Path) -> None:
    write(photos / TN / "damage_photo_1.jpg", JPEG)
    write(photos / TN / "damage_photo_1.png", png_bytes())
    write(photos / f"{TN}_damage_photo_1.jpeg", JPEG)
    found, errors = resolve(photos)
    assert found == {}
    [error] = errors
    assert error.code == "ambiguous_document"
    assert error.column == "damage_photo_1"
    for name in ("damage_photo_1.jpg", "damage_photo_1.png", f"{TN}_damage_photo_1.jpeg"):
        assert name in error.message


def test_tracking_number_is_never_used_as_a_path(photos: Path, tmp_path: Path) -> None:
    write(tmp_path / "damage_photo_1.jpg", JPEG)
    found, errors = resolve(photos, required=frozenset({"damage_photo_1"}), tracking_number="..")
    assert found == {}
    assert [e.code for e in errors] == ["missing_document"]


# --- typed paths ------------------------------------------------------------------------


def test_typed_path_with_backslashes_and_spaces(photos: Path) -> None:
    target = write(photos / "week 48" / TN / "photo one.jpg", JPEG)
    found, errors = resolve(photos, typed={"damage_photo_1": f"  week 48\\{TN}\\photo one.jpg "})
    assert errors == []
    attachment = found["damage_photo_1"]
    assert attachment.path == target.resolve()
    assert attachment.filename == "photo one.jpg"
    assert attachment.how == "typed path"


def test_typed_path_wins_over_the_convention(photos: Path) -> None:
    write(photos / TN / "damage_photo_1.jpg", JPEG)
    write(photos / "other.pdf", PDF)
    found, errors = resolve(photos, typed={"damage_photo_1": "other.pdf"})
    assert errors == []
    assert found["damage_photo_1"].content_type == "application/pdf"


def test_typed_path_without_extension_uses_the_single_match(photos: Path) -> None:
    write(photos / "invoice_42.pdf", PDF)
    found, errors = resolve(photos, typed={"sales_invoice": "invoice_42"})
    assert errors == []
    assert found["sales_invoice"].filename == "invoice_42.pdf"


def test_typed_path_that_does_not_exist(photos: Path) -> None:
    found, errors = resolve(photos, typed={"sales_invoice": "nope/invoice.pdf"})
    assert found == {}
    [error] = errors
    assert error.code == "file_not_found"
    assert error.column == "sales_invoice"
    assert error.message == (
        f'row 7, "Invoice": "nope/invoice.pdf" does not exist in the photos folder {photos}/'
    )


@pytest.mark.parametrize("typed", ["../secret.pdf", "a/../../secret.pdf", "..\\secret.pdf"])
def test_typed_path_escaping_with_dotdot(photos: Path, tmp_path: Path, typed: str) -> None:
    write(tmp_path / "secret.pdf", PDF)
    found, errors = resolve(photos, typed={"sales_invoice": typed})
    assert found == {}
    [error] = errors
    assert error.code == "outside_photos_folder"
    assert error.message == f'row 7, "Invoice": "{typed}" is outside the photos folder {photos}/'


def test_absolute_typed_path_is_outside(photos: Path) -> None:
    write(photos / "x.pdf", PDF)
    for typed in ("/elsewhere/x.pdf", "C:\\claims\\x.pdf", "C:\\photos"):
        found, errors = resolve(photos, typed={"sales_invoice": typed})
        assert found == {}
        assert [e.code for e in errors] == ["outside_photos_folder"]


def test_full_path_through_a_folder_named_like_the_photos_folder(photos: Path) -> None:
    target = write(photos / TN / "Invoice.PDF", PDF)
    for typed in (
        str(target),
        "C:\\Users\\anna\\Claims\\photos\\3SABC123\\invoice.pdf",
        "/Users/anna/photos/3SABC123/Invoice",
    ):
        found, errors = resolve(photos, typed={"sales_invoice": typed})
        assert errors == [], typed
        assert found["sales_invoice"].path == target.resolve()
        assert found["sales_invoice"].how == "typed path"
    found, errors = resolve(photos, typed={"sales_invoice": "C:\\photos\\nope.pdf"})
    assert [e.code for e in errors] == ["file_not_found"]
    assert errors[0].message.startswith(
        'row 7, "Invoice": "C:\\photos\\nope.pdf" does not exist in the photos folder'
    )


@pytest.mark.parametrize(
    "typed",
    [
        "photos\\3SABC123\\damage 1.JPG",
        "Photos/3SABC123/damage 1",
        "./photos/3SABC123/DAMAGE 1.jpg",
    ],
)
def test_typed_path_starting_with_the_photos_folder_itself(photos: Path, typed: str) -> None:
    target = write(photos / TN / "damage 1.JPG", JPEG)
    found, errors = resolve(photos, typed={"damage_photo_1": typed})
    assert errors == []
    assert found["damage_photo_1"].path == target.resolve()


def test_a_subfolder_named_like_the_photos_folder_is_tried_first(photos: Path) -> None:
    inner = write(photos / "photos" / "a.jpg", JPEG)
    write(photos / "a.jpg", png_bytes())
    found, errors = resolve(photos, typed={"damage_photo_1": "photos/a.jpg"})
    assert errors == []
    assert found["damage_photo_1"].path == inner.resolve()


def test_a_name_without_extension_matching_several_files_lists_them(photos: Path) -> None:
    write(photos / TN / "damage.jpg", JPEG)
    write(photos / TN / "damage.PNG", png_bytes())
    found, errors = resolve(photos, typed={"damage_photo_1": f"{TN}\\damage"})
    assert found == {}
    [error] = errors
    assert error.code == "ambiguous_document"
    assert error.message == (
        f'row 7, "Damage photo 1": "{TN}\\damage" matches several files in the photos folder '
        f"{photos.as_posix()}/: damage.PNG, damage.jpg (type the full file name, with its "
        "extension)"
    )


def test_dotdot_inside_the_folder_is_fine(photos: Path) -> None:
    write(photos / "b" / "x.pdf", PDF)
    (photos / "a").mkdir()
    found, errors = resolve(photos, typed={"sales_invoice": "a/../b/x.pdf"})
    assert errors == []
    assert "sales_invoice" in found


def test_symlink_escaping_the_folder(photos: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.pdf", PDF)
    (photos / f"{TN}_sales_invoice.pdf").symlink_to(secret)
    (photos / "link.pdf").symlink_to(secret)
    (photos / "outside_dir").symlink_to(tmp_path, target_is_directory=True)

    found, errors = resolve(photos)
    assert found == {}
    assert [e.code for e in errors] == ["outside_photos_folder"]

    for typed in ("link.pdf", "outside_dir/secret.pdf"):
        found, errors = resolve(photos, typed={"sales_invoice": typed})
        assert found == {}
        assert [e.code for e in errors] == ["outside_photos_folder"]
        assert "is outside the photos folder" in errors[0].message


def test_symlink_inside_the_folder_is_fine(photos: Path) -> None:
    real = write(photos / "shared" / "invoice.pdf", PDF)
    (photos / f"{TN}_sales_invoice.pdf").symlink_to(real)
    found, errors = resolve(photos)
    assert errors == []
    assert found["sales_invoice"].path == real.resolve()


def test_directory_is_not_a_file(photos: Path) -> None:
    (photos / "folder.jpg").mkdir()
    _, errors = resolve(photos, typed={"damage_photo_1": "folder.jpg"})
    assert [e.code for e in errors] == ["not_a_file"]
    assert errors[0].message == 'row 7, "Damage photo 1": "folder.jpg" is a folder, not a file'


def test_file_over_six_megabytes(photos: Path) -> None:
    big = photos / f"{TN}_damage_photo_1.jpg"
    with big.open("wb") as fp:
        fp.write(JPEG[:4])
        fp.truncate(MAX_FILE_SIZE + 1)  # sparse: instant
    found, errors = resolve(photos)
    assert found == {}
    [error] = errors
    assert error.code == "file_too_large"
    assert error.message == (
        'row 7, "Damage photo 1": 3SABC123_damage_photo_1.jpg is 6.0 MB, over the upload '
        "limit of 6 MB"
    )


def test_file_of_exactly_six_megabytes_is_fine(photos: Path) -> None:
    path = write(photos / f"{TN}_damage_photo_1.jpg", JPEG)
    with path.open("r+b") as fp:
        fp.truncate(MAX_FILE_SIZE)
    found, errors = resolve(photos)
    assert errors == []
    assert found["damage_photo_1"].size == MAX_FILE_SIZE


def test_empty_file(photos: Path) -> None:
    write(photos / f"{TN}_damage_photo_1.jpg", b"")
    _, errors = resolve(photos)
    assert [e.code for e in errors] == ["empty_file"]
    assert errors[0].message == (
        'row 7, "Damage photo 1": 3SABC123_damage_photo_1.jpg is empty (0 bytes)'
    )


def test_wrong_bytes_with_a_good_extension(photos: Path) -> None:
    write(photos / f"{TN}_damage_photo_1.jpg", EXE)
    write(photos / f"{TN}_sales_invoice.pdf", zip_bytes({"a.txt": b"x"}))
    found, errors = resolve(photos)
    assert found == {}
    by_column = {e.column: e for e in errors}
    assert {e.code for e in errors} == {"file_type_not_allowed"}
    not_accepted = "is not a file type the upload API accepts: its bytes look like"
    assert by_column["damage_photo_1"].message == (
        f'row 7, "Damage photo 1": 3SABC123_damage_photo_1.jpg {not_accepted} a Windows '
        "program (.exe/.dll)"
    )
    assert by_column["sales_invoice"].message == (
        f'row 7, "Invoice": 3SABC123_sales_invoice.pdf {not_accepted} a ZIP archive'
    )


def test_pdf_named_jpg_is_uploaded_as_pdf(photos: Path) -> None:
    write(photos / f"{TN}_damage_photo_1.jpg", PDF)
    found, errors = resolve(photos)
    assert errors == []
    assert found["damage_photo_1"].content_type == "application/pdf"


def test_every_document_column_resolves(photos: Path) -> None:
    for column in DOCUMENT_COLUMNS:
        write(photos / TN / f"{column.name}.png", png_bytes())
    found, errors = resolve(photos, required=ALL_REQUIRED)
    assert errors == []
    assert set(found) == {c.name for c in DOCUMENT_COLUMNS}


def test_missing_photos_dir(tmp_path: Path) -> None:
    found, errors = resolve(None, typed={"sales_invoice": "x.pdf"}, required=ALL_REQUIRED)
    assert found == {}
    assert {e.column for e in errors} == ALL_REQUIRED
    assert {e.code for e in errors} == {"no_photos_folder"}
    by_column = {e.column: e.message for e in errors}
    assert by_column.pop("sales_invoice") == (
        'row 7, "Invoice": "x.pdf" is given but there is no photos folder: pass --photos DIR'
    )
    assert by_column.pop("damage_photo_1") == (
        'row 7, "Damage photo 1": no file given and no photos folder to look in: pass '
        "--photos DIR (or type the file's path in the cell)"
    )
    assert by_column == {
        column: f'row 7, "{column}": no file given and no photos folder to look in: pass '
        "--photos DIR (or type the file's path in the cell)"
        for column in by_column
    }
    # Nothing needed, nothing typed: no photos folder is fine.
    assert resolve(None) == ({}, [])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file(photos: Path) -> None:
    path = write(photos / f"{TN}_damage_photo_1.jpg", JPEG)
    path.chmod(0)
    _, errors = resolve(photos)
    assert [e.code for e in errors] == ["unreadable_file"]


def test_sha256_of(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = write(tmp_path / "x.bin", data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


def test_text_in_a_legacy_encoding_is_uploaded_as_text(photos: Path) -> None:
    notepad = "Caf\u00e9 \u201cbeschadigd\u201d, M\u00fcller \u20ac 12,50\r\n"
    write(photos / f"{TN}_customer_confirmation.txt", notepad.encode("cp1252"))
    write(photos / f"{TN}_sales_invoice.txt", notepad.encode("utf-16"))
    found, errors = resolve(photos)
    assert errors == []
    assert found["customer_confirmation"].content_type == "text/plain"
    assert found["sales_invoice"].content_type == "text/plain"


def test_binary_data_named_txt_is_refused_naming_the_control_character(photos: Path) -> None:
    write(photos / f"{TN}_customer_confirmation.txt", b"Caf\xe9 damaged\x01\x02\r\n")
    _, errors = resolve(photos)
    assert [e.code for e in errors] == ["file_type_not_allowed"]
    assert errors[0].message == (
        f'row 7, "customer_confirmation": {TN}_customer_confirmation.txt is not a file type '
        "the upload API accepts: its bytes look like binary data of an unknown type (it "
        "holds the control character 0x01, which text does not)"
    )


def test_other_tracking_numbers_files_do_not_match(photos: Path) -> None:
    write(photos / f"{TN}4_damage_photo_1.jpg", JPEG)
    write(photos / f"{TN}4" / "damage_photo_1.jpg", JPEG)
    write(photos / TN / "damage_photo_10.jpg", JPEG)
    assert resolve(photos) == ({}, [])


def test_a_bare_typed_name_is_found_in_the_parcels_own_folder(photos: Path) -> None:
    write(photos / TN / "broken mug.jpg", JPEG)
    write(photos / "OTHER1" / "receipt.pdf", PDF)
    found, errors = resolve(photos, {"damage_photo_1": "broken mug.jpg"})
    assert errors == []
    assert found["damage_photo_1"].path == (photos / TN / "broken mug.jpg").resolve()
    assert found["damage_photo_1"].how == "typed name, in the parcel's folder"
    found, errors = resolve(photos, {"damage_photo_1": "broken mug"})  # no extension
    assert errors == [] and "damage_photo_1" in found
    # Another parcel's folder is never searched.
    found, errors = resolve(photos, {"sales_invoice": "receipt.pdf"})
    assert [e.code for e in errors] == ["file_not_found"]


# --- names as people's computers store them ---------------------------------------------

# Letters that a Mac stores decomposed (NFD) and a keyboard types composed (NFC).
ACCENTED = "éèêëÉáàâäÄåÅçÇíìîïñÑóòôöÖøúùûüÜÿčšžŠŽőű"
PLAIN = "abcXYZ019 -"
NAME_PART = st.text(st.sampled_from(PLAIN + ACCENTED), max_size=8)
FORMS = st.sampled_from(["NFC", "NFD"])
CASES = st.sampled_from([str, str.upper, str.lower, str.swapcase])


@st.composite
def accented_names(draw: st.DrawFn) -> str:
    """A name with at least one accented letter, not starting or ending in a space."""
    name = draw(NAME_PART) + draw(st.sampled_from(ACCENTED)) + draw(NAME_PART)
    return name.strip() or "x"


def stored(name: str, form: str, case: Callable[[str], str]) -> str:
    return unicodedata.normalize(form, case(name))


@given(
    folder=accented_names(),
    name=accented_names(),
    disk_form=FORMS,
    disk_case=CASES,
    typed_case=CASES,
)
@settings(max_examples=60, deadline=None)
def test_a_typed_path_matches_whatever_the_normalisation_and_case(
    folder: str,
    name: str,
    disk_form: str,
    disk_case: Callable[[str], str],
    typed_case: Callable[[str], str],
) -> None:
    typed_form = "NFD" if disk_form == "NFC" else "NFC"
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        on_disk = write(
            photos
            / stored(folder, disk_form, disk_case)
            / stored(name + ".jpg", disk_form, disk_case),
            JPEG,
        )
        typed = stored(f"{folder}\\{name}.jpg", typed_form, typed_case)
        found, errors = resolve(photos, typed={"damage_photo_1": typed})
        assert errors == []
        assert found["damage_photo_1"].path == on_disk.resolve()
        # Without its extension too, and as a bare name in the parcel's own folder.
        parcel = write(
            photos
            / stored(TN + name, disk_form, disk_case)
            / stored("Schäden.JPG", disk_form, disk_case),
            JPEG,
        )
        cell = stored("schäden", typed_form, typed_case)
        tracking_number = stored(TN + name, typed_form, typed_case)
        found, errors = resolve(photos, {"damage_photo_1": cell}, tracking_number=tracking_number)
        assert errors == []
        assert found["damage_photo_1"].path == parcel.resolve()


@given(tracking=accented_names(), disk_form=FORMS, disk_case=CASES, typed_case=CASES)
@settings(max_examples=40, deadline=None)
def test_the_folder_convention_matches_whatever_the_normalisation_and_case(
    tracking: str,
    disk_form: str,
    disk_case: Callable[[str], str],
    typed_case: Callable[[str], str],
) -> None:
    tracking = tracking.replace(" ", "").replace("-", "") or "x"
    typed_form = "NFD" if disk_form == "NFC" else "NFC"
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        in_folder = write(
            photos / stored(tracking, disk_form, disk_case) / "Exterior_Photo.jpg", JPEG
        )
        flat = write(photos / stored(f"{tracking}_damage_photo_1.PNG", disk_form, disk_case), PDF)
        found, errors = resolve(
            photos,
            required=frozenset({"exterior_photo", "damage_photo_1"}),
            tracking_number=stored(tracking, typed_form, typed_case),
        )
        assert errors == []
        assert found["exterior_photo"].path == in_folder.resolve()
        assert found["damage_photo_1"].path == flat.resolve()


def test_two_files_differing_only_in_normalisation_are_ambiguous(photos: Path) -> None:
    write(photos / TN / unicodedata.normalize("NFC", "Café.jpg"), JPEG)
    write(photos / TN / unicodedata.normalize("NFD", "Café.jpg"), JPEG)
    found, errors = resolve(photos, {"damage_photo_1": f"{TN}/CAFÉ.JPG"})
    assert found == {}
    [error] = errors
    assert error.code == "ambiguous_document"
    assert error.message.endswith("(their names differ only in letter case or accents: rename one)")
    # A name typed exactly as one of them is stored names that one.
    exact = unicodedata.normalize("NFD", f"{TN}/Café.jpg")
    found, errors = resolve(photos, {"damage_photo_1": exact})
    assert errors == []
    assert found["damage_photo_1"].path.name == unicodedata.normalize("NFD", "Café.jpg")


def test_two_folders_differing_only_in_case_are_searched_both(photos: Path) -> None:
    write(photos / "Week 48" / "a.jpg", JPEG)
    write(photos / "WEEK 48" / "b.jpg", JPEG)
    write(photos / "Week 48" / "both.jpg", JPEG)
    write(photos / "WEEK 48" / "Both.jpg", JPEG)
    found, errors = resolve(photos, {"damage_photo_1": "week 48/b.jpg"})
    assert errors == [] and found["damage_photo_1"].path.parent.name == "WEEK 48"
    _, errors = resolve(photos, {"damage_photo_1": "week 48/BOTH.jpg"})
    assert [e.code for e in errors] == ["ambiguous_document"]
    assert "WEEK 48/Both.jpg, Week 48/both.jpg" in errors[0].message


def test_decomposed_names_keep_the_photos_folder_safe(photos: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / unicodedata.normalize("NFD", "Geheim.pdf"), PDF)
    (photos / unicodedata.normalize("NFD", "Kopie-ü.pdf")).symlink_to(secret)
    (photos / unicodedata.normalize("NFD", "Außen")).symlink_to(tmp_path, target_is_directory=True)
    for typed in ("Kopie-ü.pdf", "AUSSEN/geheim.pdf", "../geheim.pdf", "Außen/../../Geheim.pdf"):
        found, errors = resolve(
            photos, typed={"sales_invoice": unicodedata.normalize("NFC", typed)}
        )
        assert found == {}, typed
        assert [e.code for e in errors] == ["outside_photos_folder"], typed


def test_a_folder_typed_in_another_case_names_the_folder(photos: Path) -> None:
    (photos / "Scans").mkdir()
    _, errors = resolve(photos, {"sales_invoice": "SCANS"})
    assert [e.code for e in errors] == ["not_a_file"]
    assert errors[0].message == 'row 7, "Invoice": "SCANS" is a folder, not a file'


# --- the parcel's folder wins over a flat file --------------------------------------------


def test_a_file_in_the_parcels_folder_wins_over_a_flat_one_with_a_notice(photos: Path) -> None:
    in_folder = write(photos / TN / "exterior_photo.jpg", JPEG)
    write(photos / f"{TN}_exterior_photo.jpg", png_bytes())
    write(photos / f"{TN.lower()}_Exterior_Photo.jpeg", png_bytes())
    found, errors = resolve(photos, required=frozenset({"exterior_photo"}))
    assert errors == []
    assert found["exterior_photo"].path == in_folder.resolve()
    assert notices_of(photos) == [
        f'row 7, "exterior_photo": using {TN}/exterior_photo.jpg; {TN}_exterior_photo.jpg, '
        f"{TN.lower()}_Exterior_Photo.jpeg were ignored (a file in the parcel's folder wins)"
    ]
    # One form only: no notice; a typed cell is no convention, so no notice either.
    write(photos / f"{TN}_interior_photo.jpg", JPEG)
    assert notices_of(photos, {"exterior_photo": f"{TN}/exterior_photo.jpg"}) == []


def test_the_folder_wins_even_when_its_file_is_refused(photos: Path) -> None:
    write(photos / TN / "exterior_photo.jpg", EXE)
    write(photos / f"{TN}_exterior_photo.jpg", JPEG)
    _, errors = resolve(photos)
    assert [e.code for e in errors] == ["file_type_not_allowed"]
    assert notices_of(photos) == [
        f'row 7, "exterior_photo": using {TN}/exterior_photo.jpg; {TN}_exterior_photo.jpg '
        "was ignored (a file in the parcel's folder wins)"
    ]


def test_validate_reports_the_ignored_flat_file_and_reads_files_as_stored(
    tmp_path: Path,
) -> None:
    photos = tmp_path / "photos"
    write(photos / "3SABC0000001" / "exterior_photo.jpg", JPEG)
    write(photos / "3SABC0000001_exterior_photo.jpg", png_bytes())
    write(
        photos / "3SABC0000001" / unicodedata.normalize("NFD", "Bestätigung Müller.txt"),
        "Schade “bevestigd” – € 12,50\r\n".encode("cp1252"),
    )
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        [
            "Tracking number",
            "Contract type",
            "Carrier contract",
            "Exterior photo",
            "Customer confirmation",
        ]
    )
    sheet.append(
        [
            "3SABC0000001",
            "own_contract",
            42,
            None,
            unicodedata.normalize("NFC", "3sabc0000001/bestätigung müller.TXT"),
        ]
    )
    book = tmp_path / "claims.xlsx"
    workbook.save(book)
    out = tmp_path / "results.xlsx"

    result = run("validate", book, "--photos", photos, "--out", out)

    notice = (
        'row 2, "Exterior photo": using 3SABC0000001/exterior_photo.jpg; '
        "3SABC0000001_exterior_photo.jpg was ignored (a file in the parcel's folder wins)"
    )
    assert result.exit_code == 0, result.output
    assert notice in result.output
    [row] = results_rows(out)
    assert row["status"] == "valid"
    assert (
        "✓ exterior_photo: 3SABC0000001/exterior_photo.jpg (folder convention)" in row["evidence"]
    )
    assert "✓ customer_confirmation: 3SABC0000001/Bestätigung Müller.txt (typed path)" in (
        unicodedata.normalize("NFC", row["evidence"])
    )
    summary = [
        cell
        for line in openpyxl.load_workbook(out)[SUMMARY_SHEET].iter_rows(values_only=True)
        for cell in line
    ]
    assert notice in summary
