"""Word documents (.docx): paragraphs and headings in reading order, tables as text rows.

Read with python-docx: maintained, it walks the body in document order (paragraphs and tables
interleaved, iter_inner_content) and reads the core properties; docx2python flattens everything to
text and loses which block is a heading. A unit's line_start/line_end hold the block's number in
the body (1-based), the place a person can find again. Time: the document's modified (else created)
core property, else the file's mtime.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit, under_headings
from .dates import dated_or_modified, to_utc

FORMAT = "docx"
DOCUMENT_MEMBER = "word/document.xml"
_HINT = "open and save it again in Word or LibreOffice, or add it to .evosearchignore"


def is_docx(archive: zipfile.ZipFile) -> bool:
    return DOCUMENT_MEMBER in archive.namelist()


def read_docx(path: Path, data: bytes, mtime: float, warn: Callable[[str], None]) -> list[Stream]:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception as e:  # noqa: BLE001 - python-docx raises KeyError, lxml errors, ValueError... on damaged files
        raise SourceError(f"{path}: unreadable Word document ({type(e).__name__})", _HINT) from None
    units: list[Unit] = []
    levels: list[int | None] = []
    when, modified = dated_or_modified(_core_time(document), mtime)
    for number, block in enumerate(blocks, start=1):
        try:
            level = None
            if isinstance(block, Table):
                text = "\n".join(_row_text(row) for row in block.rows)
            else:
                text = block.text
                level = _heading_level(block)
        except Exception as e:  # noqa: BLE001 - one damaged table must not lose the rest
            warn(f"{path}: block {number} unreadable ({type(e).__name__}) — skipped")
            continue
        text = "\n".join(line.strip() for line in text.split("\n") if line.strip())
        if text:
            units.append(Unit(text, when, line_start=number, line_end=number, opens_section=level is not None))
            levels.append(level)
    units = under_headings(units, [None if level is None else (level, True) for level in levels])
    title = _title(document) or next((u.text.split("\n")[0] for u in units), path.stem)
    return [Stream(str(path), str(path), FORMAT, title, units, modified)]


def _heading_level(paragraph) -> int | None:
    """The level of Word's built-in heading styles ("Title" 0, "Heading 1".."Heading 9"), or of a style
    based on one (a few steps up: a damaged file's styles may name each other in a loop); None for
    any other paragraph."""
    try:
        style = paragraph.style
        for _ in range(8):
            if style is None:
                return None
            if style.name == "Title":
                return 0
            if style.name and style.name.startswith("Heading"):
                number = style.name.removeprefix("Heading").strip()
                return int(number) if number.isdigit() else 1
            style = style.base_style
    except Exception:  # noqa: BLE001 - a damaged style table loses the heading mark, not the text
        pass
    return None


def _row_text(row) -> str:
    cells, previous = [], None
    for cell in row.cells:
        if cell._tc is previous:  # a merged cell repeats across the columns it spans
            continue
        previous = cell._tc
        cells.append(" ".join(cell.text.split()))
    return " | ".join(c for c in cells if c)


def _core_time(document) -> datetime | None:
    try:
        props = document.core_properties
        moment = props.modified or props.created
    except Exception:  # noqa: BLE001 - a malformed core.xml date is not worth the document
        return None
    if not isinstance(moment, datetime):
        return None
    return to_utc(moment if moment.tzinfo else moment.replace(tzinfo=UTC))  # core.xml's W3CDTF dates are UTC


def _title(document) -> str:
    try:
        title = document.core_properties.title
    except Exception:  # noqa: BLE001
        return ""
    return " ".join(title.split()) if isinstance(title, str) else ""
