"""The results workbook's rows as the writer puts them in the file: the cells of any
values (``RowXml.cells``, with its kept cells and its all-at-once check of a row's
texts) give, byte for byte, the XML and the fingerprint forms that the writer before
them gave (kept below as the reference: each value cleaned by ``excel_value``, then
written cell by cell), for any values, styles and order of rows."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_claims.redact import register
from batch_claims.report.fingerprint import Fingerprint, canonical
from batch_claims.report.rowxml import DATE_FORMATS, TEXT_FORMAT, RowXml, StyleKey, _serial
from batch_claims.report.values import CellValue, excel_value, finite

SECRET = "rowxml-test-secret-7Qv2"
register(SECRET)


class Kind(StrEnum):
    RED = "red & <blue>"


# --- the writer before: every value cleaned, then written cell by cell ----------------

_ESCAPE_LIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Reference:
    def __init__(self, style: Callable[[StyleKey], int]) -> None:
        self._index = style
        self._styles: dict[StyleKey, str] = {}
        self._wrap = self.style((False, True, False, None))

    def style(self, key: StyleKey) -> str:
        if key not in self._styles:
            plain = key == (False, False, False, None)
            self._styles[key] = "" if plain else f' s="{self._index(key)}"'
        return self._styles[key]

    def row(
        self,
        number: int,
        raw: Sequence[object],
        bold: bool,
        text_column: int | None,
        highlighted: Collection[int],
    ) -> tuple[str, list[str]]:
        values = [excel_value(value) for value in raw]
        cells, kept = [], []
        for column, value in enumerate(values):
            ref = f"{_letters(column)}{number}"
            fill = column in highlighted
            styled = bold or fill or column == text_column
            if not styled and type(value) in (int, float) and -1e15 < value < 1e15:  # type: ignore[operator]
                digits = f"{value:.16G}" if value else "0"
                cells.append(f'<c r="{ref}"><v>{digits}</v></c>')
                kept.append("n:" + repr(float(digits) + 0.0))
                continue
            as_text = TEXT_FORMAT if column == text_column else None
            cell, form = self._cell(ref, value, bold, fill, as_text)
            cells.append(cell)
            kept.append(form)
        xml = "".join(cells)
        return (f'<row r="{number}">{xml}</row>' if xml else ""), kept

    def _cell(
        self, ref: str, value: CellValue, bold: bool, fill: bool, text: str | None
    ) -> tuple[str, str]:
        if isinstance(value, str) and value:
            value = _writable(value)
            style = self.style((bold, "\n" in value, fill, text))
            return f'<c r="{ref}"{style} t="inlineStr">{_inline(value)}</c>', "s:" + value
        if value is None or value == "":
            style = self.style((bold, False, fill, text))
            return (f'<c r="{ref}"{style}/>' if style else ""), ""
        if isinstance(value, bool):
            style = self.style((bold, False, fill, text))
            return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>', canonical(value)
        if isinstance(value, date | time | timedelta):
            kind = next(k for k in (datetime, date, time, timedelta) if isinstance(value, k))
            style = self.style((bold, False, fill, DATE_FORMATS[kind]))
            return f'<c r="{ref}"{style}><v>{_serial(value):.16G}</v></c>', canonical(value)
        number = finite(value)
        if number is None:
            return self._cell(ref, str(value), bold, fill, text)
        style = self.style((bold, False, fill, text))
        digits = f"{number:.16G}"
        return f'<c r="{ref}"{style}><v>{digits}</v></c>', canonical(float(digits))


def _letters(column: int) -> str:
    index, name = column + 1, ""
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _writable(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNWRITABLE.sub("", text)


def _inline(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _ESCAPE_LIKE.sub(r"_x005F\1", text)
    if text[0].isspace() or text[-1].isspace():
        return f'<is><t xml:space="preserve">{text}</t></is>'
    return f"<is><t>{text}</t></is>"


# --- values of every kind -------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    [
        "own_contract",
        "a & b <c>",
        " padded ",
        "line\nbreak",
        "cr\r\nlf\rend",
        "tab\there",
        "_x0041_ escaped",
        "\x00\x1f\ufffe",
        f"key {SECRET} inside",
        "\u200b zero width",
        "x" * 20_000,
        "é" * 17_000,
    ]
)
values: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    texts,
    texts,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e15, -1e15, 999_999_999_999_999.9, 2.5, 10**400]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(min_value=datetime(1899, 12, 31), max_value=datetime(9999, 1, 1)),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])),
    st.dates(min_value=date(1899, 12, 31)),
    st.times(),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=999)),
    st.sampled_from([Kind.RED, datetime(2023, 3, 16), datetime(1900, 1, 1, 12), object()]),
)
rows = st.lists(
    st.tuples(
        st.lists(values, max_size=8),
        st.booleans(),
        st.none() | st.integers(0, 7),
        st.sets(st.integers(0, 9), max_size=3),
    ),
    min_size=1,
    max_size=6,
)


def _counter() -> Callable[[StyleKey], int]:
    made: dict[StyleKey, int] = {}
    return lambda key: made.setdefault(key, len(made) + 10)


def _made(styles: dict[StyleKey, str]) -> dict[StyleKey, str]:
    """The styles given an index (and which: the order they were made in)."""
    return {key: attribute for key, attribute in styles.items() if attribute}


def _reference_row(
    writer: Reference, number: int, raw: Sequence[object], options: tuple[bool, Any, Any]
) -> tuple[str, list[str]] | type[Exception]:
    try:
        return writer.row(number, raw, *options)
    except Exception as exc:
        return type(exc)


@settings(max_examples=300, deadline=None)
@given(rows=rows)
def test_rows_are_written_as_the_reference_wrote_them(rows: list[Any]) -> None:
    """Each row (a few over the same writer, so values are seen again) has the XML and
    fingerprint forms the reference gives, styles made in the same order; a value that
    cannot be cleaned fails the row in both."""
    writer, reference = RowXml(_counter()), Reference(_counter())
    for number, (raw, bold, text_column, highlighted) in enumerate(rows, start=2):
        expected = _reference_row(reference, number, raw, (bold, text_column, highlighted))
        try:
            cells = writer.cells(raw)
        except Exception as exc:
            assert expected is type(exc)
            continue
        xml, kept = writer.row(
            number, cells, bold=bold, text_column=text_column, highlighted=highlighted
        )
        assert not isinstance(expected, type), expected
        assert (xml, list(kept)) == expected
        assert _made(writer._styles) == _made(reference._styles)


def test_a_value_seen_again_is_written_as_the_first_time() -> None:
    """The kept cells change nothing: the same values over many rows (more of them than
    are kept, so the kept ones are forgotten on the way), styled or not, with a secret
    or a line break among them, give the reference's rows."""
    writer, reference = RowXml(_counter()), Reference(_counter())
    odd = ["a & b", f"key {SECRET}", "two\r\nlines", datetime(2023, 1, 1), 7.25, None, ""]
    for number in range(2, 30_002):
        raw = [f"text {number % 9_000}", f"text {number * 7 % 25_000}", odd[number % 7], "x"]
        text_column = 1 if number % 3 == 0 else None
        xml, kept = writer.row(number, writer.cells(raw), text_column=text_column)
        assert (xml, list(kept)) == reference.row(number, raw, False, text_column, ())
    assert _made(writer._styles) == _made(reference._styles)


def test_the_fingerprint_of_kept_cells_is_that_of_the_values() -> None:
    values: list[object] = ["a", None, 2.5, "", None]
    direct, kept = Fingerprint(), Fingerprint()
    direct.row(values)
    writer = RowXml(_counter())
    kept.kept_row(writer.row(2, writer.cells(values))[1])
    assert direct.hexdigest() == kept.hexdigest()
