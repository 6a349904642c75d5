"""PDF documents: the text layer, page by page (read with pypdf: pure Python, no system libraries).

For PDFs a unit's line_start/line_end hold page numbers (1-based), which is what a person
can follow back; `ask` shows them as p3-4. A PDF's bookmarks (its outline) are its headings: each
starts a section on its page, at the paragraph that holds its title.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit, section_name
from .dates import dated_or_modified, to_utc

PDF_MAGIC = b"%PDF-"
_HINT = "if it is a scan, run OCR first (e.g. ocrmypdf); or add it to .evosearchignore"


@contextmanager
def _pypdf_logs_to(warn: Callable[[str], None], path: Path):
    """pypdf reports what it repairs ("EOF marker not found") through logging; with no handler
    configured, Python printed those as bare lines on stderr. They become our warnings instead."""

    class ToWarn(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warn(f"{path}: {record.getMessage()} (pypdf read it anyway)")

    logger = logging.getLogger("pypdf")
    handler, propagate = ToWarn(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def read_pdf(path: Path, data: bytes, mtime: float, warn: Callable[[str], None]) -> list[Stream]:
    with _pypdf_logs_to(warn, path):
        return _read_pdf(path, data, mtime, warn)


def _read_pdf(path: Path, data: bytes, mtime: float, warn: Callable[[str], None]) -> list[Stream]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceError(f"{path}: encrypted PDF", "decrypt it first (qpdf --decrypt), or add it to .evosearchignore")
        pages = list(reader.pages)
        info = reader.metadata
    except SourceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise SourceError(
            f"{path}: unreadable PDF ({type(e).__name__}: {str(e)[:80]})", "the file may be truncated; export it again"
        ) from None
    created = None
    try:
        created = info.creation_date if info else None
    except (ValueError, TypeError):  # a malformed date string in the metadata
        created = None
    when, modified = dated_or_modified(to_utc(created) if created else None, mtime)
    units = []
    for number, page in enumerate(pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on odd pages; one bad page must not lose the rest
            warn(f"{path}: page {number}: no text layer could be read ({type(e).__name__}) — skipped")
            continue
        for paragraph in [p for p in text.replace("\r", "").split("\n\n") if p.strip()] or []:
            units.append(Unit(" ".join(paragraph.split()), when, line_start=number, line_end=number))
    if not units:
        raise SourceError(f"{path}: PDF without a text layer", _HINT)
    units = _under_bookmarks(units, _bookmarks(reader, path, warn))
    title = ((info.title if info else None) or "").strip() or path.stem
    return [Stream(str(path), str(path), "pdf", title, units, modified)]


def _bookmarks(reader, path: Path, warn: Callable[[str], None]) -> list[tuple[int, list[str]]]:
    """The outline as (1-based page, titles from the outermost down), in page order; [] without one."""
    found: list[tuple[int, list[str]]] = []

    def walk(items, parents: list[str]) -> None:
        last = None
        for item in items:
            if isinstance(item, list):  # the children of the bookmark before it
                walk(item, parents + [last] if last is not None else parents)
                continue
            page = reader.get_destination_page_number(item)
            title = str(item.title or "")
            if page is not None and page >= 0 and title.strip():
                found.append((page + 1, parents + [title]))
                last = title

    try:
        walk(reader.outline, [])
    except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on damaged outlines; the text is read without them
        warn(f"{path}: bookmarks unreadable ({type(e).__name__}) — its passages are not named by section")
        return []
    return sorted(found, key=lambda entry: entry[0])  # stable: bookmarks on one page keep their order


def _under_bookmarks(units: list[Unit], bookmarks: list[tuple[int, list[str]]]) -> list[Unit]:
    """The units, each named by the bookmark it lies under. A bookmark starts on its page where its
    title (with a section number before it) first appears after the bookmark before it, cutting the
    paragraph there (a page's text often comes as one); where the title is not found, at the page's
    first paragraph. A section starts there."""
    units = list(units)
    starts: dict[int, list[list[str]]] = {}  # unit index -> the bookmarks starting at it, in order
    at, skip = 0, 0  # where the last bookmark started; the search goes on past its first character
    for page, titles in bookmarks:
        first = at
        while first < len(units) and units[first].line_start < page:
            first += 1
        if first == len(units):
            break
        at = _start_on_page(units, first, " ".join(titles[-1].split()).casefold(), skip if first == at else 0)
        starts.setdefault(at, []).append(titles)
        skip = 1
    out, section = [], None
    for n, unit in enumerate(units):
        here = starts.get(n)
        if here:
            # A chapter and its first section starting at one paragraph: the section names it. The
            # last bookmark starting inside it names the paragraphs after it.
            name = here[0]
            for titles in here[1:]:
                if titles[: len(name)] == name:
                    name = titles
            out.append(replace(unit, section=section_name(name), opens_section=True))
            section = section_name(here[-1])
        else:
            out.append(replace(unit, section=section))
    return out


def _start_on_page(units: list[Unit], first: int, wanted: str, skip: int) -> int:
    """Where a bookmark titled `wanted` (casefolded) starts: the paragraph of units[first]'s page that holds
    it, from character `skip` of units[first] on, cut there (units changes); else first."""
    for i in range(first, len(units)):
        if units[i].line_start != units[first].line_start:
            break
        k = units[i].text.casefold().find(wanted, skip if i == first else 0)
        if k < 0:
            continue
        if not wanted[:1].isdigit():  # a title numbered in the outline has its number
            k = _with_number(units[i].text, k)
        if not units[i].text[:k].strip():
            return i
        head, tail = units[i].text[:k].strip(), units[i].text[k:].strip()
        units[i : i + 1] = [replace(units[i], text=head), replace(units[i], text=tail)]
        return i + 1
    return first


_SECTION_NUMBER = re.compile(r"(?:^|\s)(\d+(?:\.\d+)*\.?\s+)$")  # "2.1 " printed before a section's title


def _with_number(text: str, k: int) -> int:
    """k, or where the section number just before it starts."""
    match = _SECTION_NUMBER.search(text[:k])
    return match.start(1) if match else k
