"""Strict grammars for the two large parts of a workbook, tried before expat: the
pieces they share (``cut_out``: is the part around the cut sound; ``TEXT``, ``text``),
and the shared strings (``shared_strings``; a sheet's cells are ``sheetdata``'s).

A strict grammar reads a part only when all of it is understood; otherwise expat reads
the whole part, so what a part gives never depends on which way it was read.
"Understood" means:

- the part declares no encoding but UTF-8, holds no U+FFFE or U+FFFF, and the piece the
  grammar reads is valid UTF-8;
- the rest of the part (its prolog, the element around the piece, what follows) is
  parsed by expat as a document of its own, with document types refused
  (``archive.xml_parser``), and the element around the piece stands where it was cut;
- every byte of the piece is matched by the grammar. Text holds no markup, no character
  XML refuses, no carriage return (XML reads it as a line feed) and only the five
  predefined entities (no character references); attribute values hold no entity.

So no DTD or entity ever reaches a grammar, and the grammars never backtrack
(possessive repeats): no input makes them slow.

Shared strings: each item one plain text (``<si><t>…</t></si>``, ``xml:space`` allowed);
rich text runs or phonetic guides anywhere, and expat reads them all.
"""

from __future__ import annotations

import codecs
import re

from batch_claims.read.archive import local, xml_parser

_CHAR = rb"[^<>&\x00-\x08\x0b\x0c\x0d\x0e-\x1f]"
TEXT = _CHAR + rb"*+(?:&(?:amp|lt|gt|quot|apos);" + _CHAR + rb"*+)*+"  # an element's text
VALUE = rb'"[^"<>&\x00-\x1f]*+"'  # an attribute's value, used as written
EMPTY = rb" ?/>"  # the end of an empty element
_SLICE = 1024 * 1024  # bytes decoded at a time to check the text is UTF-8
_NOT_XML = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")  # U+FFFE, U+FFFF in UTF-8
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\b[^>]*?\?>")
_ENCODING = re.compile(rb"""\bencoding\s*=\s*["']([^"']*)["']""")
_ENTITIES = ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'"))

_ITEM = rb"<si(?:" + EMPTY + rb'|>(?:<t(?: xml:space="preserve")?(?:' + EMPTY + rb"|>"
_ITEMS = re.compile(rb"(?:" + _ITEM + TEXT + rb"</t>))?</si>))*+")
_ITEM_TEXT = re.compile(_ITEM + rb"(" + TEXT + rb")</t>))?</si>)")
_SST = b"<sst"


def cut_out(xml: bytes, name: str, start: int, inside: int, end: int, alone: bool) -> bool:
    """Whether ``xml[inside:end]`` may be read by a strict grammar: the part is UTF-8
    (declared, and the piece valid), and without the piece it is sound XML whose element
    ``name`` opens at ``start`` and closes at ``inside`` (and is its only element when
    ``alone``)."""
    if not _utf8_declared(xml) or any(bad in xml for bad in _NOT_XML):
        return False
    opened: list[tuple[str, int]] = []
    closed: list[tuple[str, int]] = []
    parser = xml_parser()

    def begin(tag: str, attrs: object) -> None:
        opened.append((local(tag), parser.CurrentByteIndex))

    def finish(tag: str) -> None:
        closed.append((local(tag), parser.CurrentByteIndex))

    parser.StartElementHandler = begin
    parser.EndElementHandler = finish
    try:
        parser.Parse(xml[:inside] + xml[end:], True)
    except Exception:  # expat's error, a refused DTD: expat reads it and says so
        return False
    if alone:
        around = opened == [(name, start)] and closed == [(name, inside)]
    else:
        around = [at for tag, at in opened if tag == name] == [start] and [
            at for tag, at in closed if tag == name
        ] == [inside]
    return around and _utf8(xml, inside, end)


def _utf8_declared(xml: bytes) -> bool:
    declaration = _DECLARATION.match(xml)
    if declaration is None:
        return b"<?xml" not in xml[:8]
    encoding = _ENCODING.search(declaration[0])
    return encoding is None or encoding[1].lower() in (b"utf-8", b"utf8")


def _utf8(xml: bytes, start: int, end: int) -> bool:
    """Whether ``xml[start:end]`` is UTF-8 (decoded a slice at a time, and dropped)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(xml)
    try:
        for offset in range(start, end, _SLICE):
            decoder.decode(view[offset : min(offset + _SLICE, end)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def text(raw: bytes) -> str:
    """An element's text as XML reads it: UTF-8, the predefined entities replaced."""
    if b"&" in raw:
        for entity, char in _ENTITIES:
            raw = raw.replace(entity, char)
        raw = raw.replace(b"&amp;", b"&")
    return raw.decode("utf-8")


def shared_strings(xml: bytes) -> list[str] | None:
    """The shared strings when every item is one plain text; None: expat reads them."""
    start = xml.find(_SST)
    opening = xml.find(b">", start)
    end = xml.rfind(b"</sst>")
    if start < 0 or opening < 0 or end <= opening or xml[opening - 1 : opening] == b"/":
        return None
    inside = opening + 1
    if not cut_out(xml, "sst", start, inside, end, alone=True):
        return None
    if _ITEMS.fullmatch(xml, inside, end) is None:
        return None
    return [text(raw) if raw else "" for raw in _ITEM_TEXT.findall(xml, inside, end)]
