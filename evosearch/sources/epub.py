"""E-books (.epub): chapters in reading order (the spine), read with ebooklib (maintained, EPUB 2 and 3).

The navigation page is left out. Each block of a chapter (paragraph, heading, list item) is a unit whose line_start/line_end hold the
chapter's number in the spine, the place a reader can turn to. Title "title — author" from the
package's Dublin Core metadata; time from its dc:date, else the file's mtime.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import SourceError
from .archive import package_mimetype
from .base import Stream, Unit, under_headings
from .dates import dated_or_modified, parse_iso
from .html import html_blocks

FORMAT = "epub"
EPUB_MIMETYPE = b"application/epub+zip"
_HINT = "the file may be damaged or DRM-protected; export it again without DRM, or add it to .evosearchignore"


def is_epub(archive: zipfile.ZipFile) -> bool:
    return package_mimetype(archive) == EPUB_MIMETYPE


def read_epub(path: Path, data: bytes, mtime: float, warn: Callable[[str], None]) -> list[Stream]:
    from ebooklib import ITEM_DOCUMENT, epub

    try:
        with warnings.catch_warnings():  # ebooklib announces future defaults on every read
            warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
    except Exception as e:  # noqa: BLE001 - ebooklib raises EpubException, KeyError, lxml errors... on damaged books
        raise SourceError(f"{path}: unreadable e-book ({type(e).__name__})", _HINT) from None
    when, modified = dated_or_modified(_metadata_time(book), mtime)
    units: list[Unit] = []
    chapter = 0
    for entry in book.spine:
        idref = entry[0] if isinstance(entry, tuple) else entry
        item = book.get_item_with_id(idref) if isinstance(idref, str) else None
        if item is None or item.get_type() != ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue  # the EPUB 3 navigation page repeats the table of contents
        chapter += 1
        try:
            blocks = html_blocks(item.get_content().decode("utf-8", "replace"))
        except Exception as e:  # noqa: BLE001 - one damaged chapter must not lose the book
            warn(f"{path}: chapter {chapter} unreadable ({type(e).__name__}) — skipped")
            continue
        # A chapter opens a section as a heading does: no segment spans two chapters.
        chapter_units = [
            Unit(block, when, line_start=chapter, line_end=chapter, opens_section=bool(level) or n == 0) for n, (block, level, _) in enumerate(blocks)
        ]
        units += under_headings(chapter_units, [(level, named) if level else None for _, level, named in blocks])
    title = _first(book, "title") or path.stem
    author = _first(book, "creator")
    return [Stream(str(path), str(path), FORMAT, f"{title} — {author}" if author else title, units, modified)]


def _first(book, name: str) -> str:
    try:
        values = book.get_metadata("DC", name)
    except Exception:  # noqa: BLE001
        return ""
    for value in values or []:
        text = value[0] if isinstance(value, tuple) else value
        if isinstance(text, str) and text.strip():
            return " ".join(text.split())
    return ""


def _metadata_time(book) -> datetime | None:
    text = _first(book, "date")
    return parse_iso(text) if text else None
