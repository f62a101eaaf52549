"""Regenerate sample_data/: a realistic weekly sheet and its photos folder.

Not part of the package or the tests; the generated files are committed. Needs Pillow
(`pip install pillow`) for the JPEG photos. Run from the project root:
    python sample_data/make_sample_data.py
"""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path

import openpyxl
from openpyxl.styles import Font
from PIL import Image, ImageDraw

from batch_claims.columns import DOCUMENT_COLUMNS

HERE = Path(__file__).parent
PHOTOS = HERE / "photos"
RATES_DOCS = tuple(column.name for column in DOCUMENT_COLUMNS)
PDF_DOCS = {"customer_confirmation", "sales_invoice", "purchase_invoice"}


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
    image = Image.new("RGB", (160, 120), ((seed * 53) % 256, (seed * 97) % 256, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 140, 100), outline=(255, 255, 255), width=3)
    draw.text((26, 50), label[:20], fill=(255, 255, 255))
    image.save(path, "JPEG", quality=70)


def docs_for(tracking: str, names: tuple[str, ...], seed: int, nested: bool) -> None:
    """Files by the folder convention: <tn>/<column>.* or <tn>_<column>.*."""
    folder = PHOTOS / tracking if nested else PHOTOS
    folder.mkdir(parents=True, exist_ok=True)
    for offset, name in enumerate(names):
        stem = name if nested else f"{tracking}_{name}"
        if name in PDF_DOCS:
            (folder / f"{stem}.pdf").write_bytes(pdf(f"{name} for parcel {tracking}"))
        elif name == "package_photo":
            (folder / f"{stem}.png").write_bytes(png(40, 30, (seed * 31 % 256, 90, offset * 20)))
        else:
            jpeg(folder / f"{stem}.jpg", f"{tracking} {name}", seed * 10 + offset)


HEADERS = (
    "Tracking number",
    "Contract type",
    "Carrier contract ID",
    "Portal claim",
    "Sales value",
    "Currency",
    "Purchase value",
    "Contents description",
    "Parcel exterior description",
    "Additional remarks",
    "Purchase invoice",
    "Damage photo 1",
    "Handled by",
)

ROWS: tuple[tuple[object, ...], ...] = (
    (
        "3SSCL0000000101",
        "sendcloud_rates",
        None,
        "no",
        49.95,
        "EUR",
        21.5,
        "2 ceramic mugs, 1 teapot",
        "White box with blue Acme tape",
        "Teapot spout broken",
        None,
        None,
        "Anna",
    ),
    (
        "3SSCL0000000102",
        "sendcloud_rates",
        None,
        None,
        "10,55",
        "EUR",
        "4,20",
        "1 phone case",
        "Padded envelope, torn corner",
        "Case cracked on arrival",
        "invoices/purchase-invoice-week-47.pdf",
        None,
        "Anna",
    ),
    (
        "3SSCL0000000103",
        "Sendcloud rates",
        None,
        None,
        "€ 1.234,56",
        None,
        "€ 890,00",
        "1 espresso machine",
        "Double-walled box, crushed on one side",
        "-- customer sent photos the same day",
        "invoices/purchase-invoice-week-47.pdf",
        None,
        "Bram",
    ),
    (
        "JJD000390007812345",
        "own_contract",
        4711,
        "no",
        120,
        "GBP",
        None,
        "3 wine glasses",
        None,
        "Two glasses shattered",
        None,
        None,
        "Bram",
    ),
    (
        "00340434161094015",
        "Own contract",
        None,
        None,
        None,
        None,
        None,
        "Garden lamp",
        None,
        None,
        None,
        None,
        "Chloé",
    ),
    (
        1234567890123,
        "own_contract",
        5120,
        "yes",
        "75.00",
        "EUR",
        None,
        "Bike helmet",
        None,
        "Helmet shell cracked",
        None,
        None,
        "Chloé",
    ),
    (
        "NOTFOUND-9981",
        "own_contract",
        None,
        None,
        None,
        None,
        None,
        "Unknown parcel",
        None,
        None,
        None,
        None,
        "Anna",
    ),
    (
        "DELIVERED-4410",
        "own_contract",
        None,
        None,
        "19.99",
        "USD",
        None,
        "Phone charger",
        None,
        "Customer says box was wet",
        None,
        None,
        "Bram",
    ),
    (
        "3SOWN0000000999",
        "own_contract",
        999,
        None,
        None,
        None,
        None,
        "Desk chair",
        None,
        None,
        None,
        None,
        "Bram",
    ),
    (
        "3SSCL0000000110",
        "sendcloud_rates",
        None,
        None,
        "ten",
        "EUR",
        None,
        None,
        "Brown box",
        '=HYPERLINK("http://example.com")',
        None,
        None,
        "Anna",
    ),
    (
        "3SSCL0000000111",
        "sendcloud_rates",
        None,
        None,
        "25.00",
        "JPY",
        None,
        "Notebook set",
        "Brown box",
        "Corners bent",
        None,
        None,
        "Anna",
    ),
    (
        "3SSCL0000000112",
        "sendcloud_rates",
        None,
        None,
        "15.00",
        "EUR",
        None,
        "Scarf",
        "Soft pouch",
        "Torn seam",
        None,
        None,
        "Chloé",
    ),
    (
        "3SSCL0000000101",
        "sendcloud_rates",
        None,
        None,
        "49.95",
        "EUR",
        None,
        "2 ceramic mugs, 1 teapot (again)",
        "White box",
        "Entered twice",
        None,
        None,
        "Chloé",
    ),
    (
        "3SSCL0000000114",
        "sendcloud_rates",
        None,
        None,
        "12.50 £",
        None,
        "6.10 £",
        "Candle set",
        "Shrink-wrapped tray",
        "Two candles snapped",
        None,
        None,
        "Bram",
    ),
)


def main() -> None:
    shutil.rmtree(PHOTOS, ignore_errors=True)
    PHOTOS.mkdir()
    (PHOTOS / "invoices").mkdir()
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

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Week 47"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in ROWS:
        sheet.append(list(values))
    for row in sheet.iter_rows(min_row=2, max_col=1):
        if isinstance(row[0].value, str):
            row[0].number_format = "@"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(("=", "-")):
                cell.data_type = "s"
    for letter, width in zip(
        "ABCDEFGHIJKLM", (22, 16, 12, 8, 12, 8, 12, 30, 30, 30, 34, 14, 10), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    workbook.save(HERE / "damage_claims_week47.xlsx")


if __name__ == "__main__":
    main()
