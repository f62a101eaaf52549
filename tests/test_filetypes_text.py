"""Text or binary: text in any encoding people's computers save is text, bytes holding
control characters are not (properties over generated text and bytes)."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from batch_claims.validate.filetypes import describe_bytes, sniff_content_type

# A fixed opening keeps generated text from starting like an image or a video.
OPENING = "Dear Sendcloud,\r\n"
WHITESPACE = st.sampled_from("\t\n\r\f ")
CONTROL_BYTES = bytes([*range(0, 9), 0x0B, *range(0x0E, 0x20), 0x7F])


def text_in(codec: str | None) -> st.SearchStrategy[str]:
    """Printable text (letters, marks, symbols, ...) with tabs and line breaks."""
    printable = st.characters(codec=codec, exclude_categories=("Cc", "Cs", "Cn"))
    return st.text(st.one_of(printable, WHITESPACE), min_size=1, max_size=300)


@given(text_in("cp1252"))
def test_windows_ansi_text_is_text(text: str) -> None:
    assume("%PDF-" not in text)
    data = (OPENING + text).encode("cp1252")
    assert sniff_content_type(data, "bevestiging.txt") == "text/plain"


@given(text_in("latin-1"))
def test_latin_1_text_is_text(text: str) -> None:
    assume("%PDF-" not in text)
    data = (OPENING + text).encode("latin-1")
    assert sniff_content_type(data, "bevestiging.txt") == "text/plain"


@given(text_in(None), st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"]))
def test_utf16_text_with_a_bom_is_text(text: str, codec: str) -> None:
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(codec, b"")
    data = bom + (OPENING + text).encode(codec)
    assert sniff_content_type(data, "bevestiging.txt") == "text/plain"


@given(st.binary(max_size=300), st.binary(max_size=300), st.sampled_from(CONTROL_BYTES))
def test_bytes_holding_a_control_byte_are_not_text(
    before: bytes, after: bytes, control: int
) -> None:
    data = before + bytes([control]) + after
    assume(not data.startswith((b"\xff\xfe", b"\xfe\xff")))  # UTF-16: see below
    assert sniff_content_type(data, "bevestiging.txt") != "text/plain"


@given(text_in(None), text_in(None), st.sampled_from(CONTROL_BYTES))
def test_utf16_text_holding_a_control_character_is_not_text(
    before: str, after: str, control: int
) -> None:
    data = (OPENING + before + chr(control) + after).encode("utf-16")
    assert sniff_content_type(data, "bevestiging.txt") is None
    assert re.fullmatch(
        r"binary data of an unknown type \(it holds the control character 0x[0-9A-F]{2}, "
        r"which text does not\)",
        describe_bytes(data, "bevestiging.txt"),
    )
