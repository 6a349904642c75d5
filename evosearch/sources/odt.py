"""OpenDocument text (.odt, LibreOffice/OpenOffice): headings, paragraphs, lists and tables in order.

Read with the standard library: the text lives in content.xml's office:text (text:h, text:p,
text:list, table:table), which is plain XML; no maintained package reads ODT in fewer lines or
better. Units number the body's blocks (line_start/line_end), as for Word. Time: meta.xml's
dc:date (last saved), else meta:creation-date, else the file's mtime; title: dc:title, else the
first block.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

from ..errors import SourceError
from .archive import package_mimetype
from .base import Stream, Unit, under_headings
from .dates import dated_or_modified, parse_iso

FORMAT = "odt"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
}
_TEXT, _TABLE = "{%s}" % _NS["text"], "{%s}" % _NS["table"]
_HINT = "open and save it again in LibreOffice, or add it to .evosearchignore"


def is_odt(archive: zipfile.ZipFile) -> bool:
    return package_mimetype(archive) == ODT_MIMETYPE


def read_odt(path: Path, data: bytes, mtime: float, warn: Callable[[str], None]) -> list[Stream]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            content = ElementTree.fromstring(archive.read("content.xml"))
            try:
                meta = ElementTree.fromstring(archive.read("meta.xml"))
            except (KeyError, ElementTree.ParseError):
                meta = None
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as e:
        raise SourceError(f"{path}: unreadable OpenDocument text ({type(e).__name__})", _HINT) from None
    body = content.find("office:body/office:text", _NS)
    if body is None:
        raise SourceError(f"{path}: no office:text body in content.xml", _HINT)
    when, modified = dated_or_modified(_meta_time(meta), mtime)
    units, levels = [], []
    for number, block in enumerate(list(body), start=1):
        text = _block_text(block)
        if text:
            units.append(Unit(text, when, line_start=number, line_end=number, opens_section=block.tag == _TEXT + "h"))
            levels.append(_outline_level(block) if block.tag == _TEXT + "h" else None)
    units = under_headings(units, [None if level is None else (level, True) for level in levels])
    title = _meta_text(meta, "dc:title") or next((u.text.split("\n")[0] for u in units), path.stem)
    return [Stream(str(path), str(path), FORMAT, title, units, modified)]


def _outline_level(heading: ElementTree.Element) -> int:
    """A text:h's text:outline-level (1 where it is missing or not a number)."""
    level = heading.get(_TEXT + "outline-level", "1")
    return int(level) if level.isdigit() else 1


def _block_text(block: ElementTree.Element) -> str:
    if block.tag == _TABLE + "table":
        rows = []
        for row in block.iter(_TABLE + "table-row"):
            cells = [" ".join(_inline(c).split()) for c in row if c.tag == _TABLE + "table-cell"]
            rows.append(" | ".join(c for c in cells if c))
        return "\n".join(r for r in rows if r)
    if block.tag == _TEXT + "list":
        items = [" ".join(_inline(p).split()) for p in block.iter() if p.tag in (_TEXT + "p", _TEXT + "h")]
        return "\n".join(i for i in items if i)
    if block.tag in (_TEXT + "p", _TEXT + "h"):
        return " ".join(_inline(block).split())
    return ""  # sequence declarations, tracked changes, forms: not the document's text


def _inline(element: ElementTree.Element) -> str:
    """Text of an element with ODF's space, tab and line-break elements spelled out."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == _TEXT + "s":
            parts.append(" " * int(child.get(_TEXT + "c", "1") or 1) if (child.get(_TEXT + "c", "1") or "1").isdigit() else " ")
        elif child.tag in (_TEXT + "tab", _TEXT + "line-break"):
            parts.append(" ")
        elif child.tag not in (_TEXT + "note",):  # footnotes would interrupt the sentence they sit in
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _meta_text(meta: ElementTree.Element | None, name: str) -> str:
    if meta is None:
        return ""
    found = meta.find(f"office:meta/{name}", _NS)
    return " ".join(found.text.split()) if found is not None and found.text else ""


def _meta_time(meta: ElementTree.Element | None) -> datetime | None:
    for name in ("dc:date", "meta:creation-date"):
        text = _meta_text(meta, name)
        moment = parse_iso(text) if text else None
        if moment is not None:
            return moment
    return None
