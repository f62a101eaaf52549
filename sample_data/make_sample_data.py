"""Regenerate sample_data/: two realistic weekly sheets and their photos folder.

- ``damage_claims_week47.xlsx``: damage claims only (the README's first command).
- ``claims_week48_all_types.xlsx``: every ticket type in one sheet with a claim type
  column (words in several languages): rows the sandbox accepts, rows it refuses (its
  ``INTRANSIT``, ``NOTDELIVERED``, ``NOTRETURNED``, ``ONTIME``, ``NOTFOUND`` and
  ``DELIVERED`` tracking numbers, carrier contract 999) and rows that are invalid
  before anything is sent (a type the contract cannot use, a column the type does not
  use, a missing document, an unknown type). Its documents are in ``photos/<tracking
  number>/``, PNGs and PDFs written by hand.

Both share ``photos/``. Not part of the package or the tests; the generated files are
committed. Run from the project root:
    python sample_data/make_sample_data.py            # both (Pillow for week 47's JPEGs)
    python sample_data/make_sample_data.py all-types  # week 48 only, no Pillow needed
"""

from __future__ import annotations

import shutil
import sys
import zlib
from pathlib import Path

import openpyxl
from openpyxl.styles import Font
from week47_rows import HEADERS, ROWS
from week48_rows import ALL_TYPES_HEADERS, ALL_TYPES_ROWS, DOCUMENTS

from batch_claims.columns import DOCUMENT_COLUMNS, Variant
from batch_claims.ticket_types import TYPES, TicketType

HERE = Path(__file__).parent
PHOTOS = HERE / "photos"
RATES_DOCS = TYPES[TicketType.DAMAGE].documents(Variant.SENDCLOUD_RATES)
PDF_DOCS = {"customer_confirmation", "sales_invoice", "purchase_invoice", "carrier_claim_form"}
assert set(RATES_DOCS) <= {column.name for column in DOCUMENT_COLUMNS}


def pdf(text: str) -> bytes:
    """A small valid one-page PDF showing ``text``."""
    stream = f"BT /F1 14 Tf 50 780 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain PNG written by hand (no Pillow needed)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg(path: Path, label: str, seed: int) -> None:
    from PIL import Image, ImageDraw  # only week 47's photos are JPEGs

    image = Image.new("RGB", (160, 120), ((seed * 53) % 256, (seed * 97) % 256, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 140, 100), outline=(255, 255, 255), width=3)
    draw.text((26, 50), label[:20], fill=(255, 255, 255))
    image.save(path, "JPEG", quality=70)


def docs_for(
    tracking: str, names: tuple[str, ...], seed: int, nested: bool, photos_as_png: bool = False
) -> None:
    """Files by the folder convention: <tn>/<column>.* or <tn>_<column>.*."""
    folder = PHOTOS / tracking if nested else PHOTOS
    folder.mkdir(parents=True, exist_ok=True)
    for offset, name in enumerate(names):
        stem = name if nested else f"{tracking}_{name}"
        if name in PDF_DOCS:
            (folder / f"{stem}.pdf").write_bytes(pdf(f"{name} for parcel {tracking}"))
        elif name == "package_photo" or photos_as_png:
            (folder / f"{stem}.png").write_bytes(png(40, 30, (seed * 31 % 256, 90, offset * 20)))
        else:
            jpeg(folder / f"{stem}.jpg", f"{tracking} {name}", seed * 10 + offset)


def week47() -> None:
    """``damage_claims_week47.xlsx`` and its photos (needs Pillow)."""
    (PHOTOS / "invoices").mkdir(parents=True, exist_ok=True)
    (PHOTOS / "invoices" / "purchase-invoice-week-47.pdf").write_bytes(
        pdf("Purchase invoice week 47: supplier Acme BV")
    )
    rates_with_own_invoice = tuple(d for d in RATES_DOCS if d != "purchase_invoice")
    docs_for("3SSCL0000000101", RATES_DOCS, 1, nested=True)
    docs_for("3SSCL0000000102", rates_with_own_invoice, 2, nested=True)
    docs_for("3SSCL0000000103", rates_with_own_invoice, 3, nested=False)
    docs_for("JJD000390007812345", ("damage_photo_1", "sales_invoice"), 4, nested=True)
    docs_for("00340434161094015", ("damage_photo_1",), 5, nested=False)
    docs_for("1234567890123", ("damage_photo_1", "exterior_photo"), 6, nested=True)
    docs_for("DELIVERED-4410", ("damage_photo_1",), 7, nested=True)
    docs_for("3SSCL0000000110", RATES_DOCS, 8, nested=True)
    docs_for("3SSCL0000000111", RATES_DOCS, 9, nested=True)
    # 3SSCL0000000112 has no photos at all: invalid for Sendcloud rates.
    docs_for("3SSCL0000000114", RATES_DOCS, 11, nested=False)
    widths = (22, 16, 12, 8, 12, 8, 12, 30, 30, 30, 34, 14, 10)
    write_sheet(HERE / "damage_claims_week47.xlsx", "Week 47", HEADERS, ROWS, widths)


def write_sheet(
    path: Path,
    title: str,
    headers: tuple[str, ...],
    rows: tuple[tuple[object, ...], ...],
    widths: tuple[int, ...],
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append(list(values))
    for row in sheet.iter_rows(min_row=2, max_col=1):
        if isinstance(row[0].value, str):
            row[0].number_format = "@"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(("=", "-")):
                cell.data_type = "s"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    workbook.save(path)


def all_types() -> None:
    """``claims_week48_all_types.xlsx`` and its documents (no Pillow needed)."""
    for seed, (tracking, names) in enumerate(DOCUMENTS.items(), start=40):
        shutil.rmtree(PHOTOS / tracking, ignore_errors=True)
        docs_for(tracking, names, seed, nested=True, photos_as_png=True)
    widths = tuple(max(12, min(34, len(header) + 6)) for header in ALL_TYPES_HEADERS)
    path = HERE / "claims_week48_all_types.xlsx"
    write_sheet(path, "Week 48", ALL_TYPES_HEADERS, ALL_TYPES_ROWS, widths)


def main() -> None:
    if sys.argv[1:] == ["all-types"]:
        all_types()
        return
    shutil.rmtree(PHOTOS, ignore_errors=True)
    PHOTOS.mkdir()
    week47()
    all_types()


if __name__ == "__main__":
    main()
