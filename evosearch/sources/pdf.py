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
    texts: dict[int, str] = {}
    for number, page in enumerate(pages, 1):
        try:
            texts[number] = (page.extract_text() or "").replace("\r", "")
        except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on odd pages; one bad page must not lose the rest
            warn(f"{path}: page {number}: no text layer could be read ({type(e).__name__}) — skipped")
    bookmarks = _bookmarks(reader, path, warn)
    units = []
    for number, text in _without_running_lines(texts, {title for _, titles in bookmarks for title in titles}).items():
        for paragraph in [p for p in _LINE_BREAK_HYPHEN.sub("", text).split("\n\n") if p.strip()]:
            units.append(Unit(" ".join(paragraph.split()), when, line_start=number, line_end=number))
    if not units:
        raise SourceError(f"{path}: PDF without a text layer", _HINT)
    units = _under_bookmarks(units, bookmarks)
    title = ((info.title if info else None) or "").strip() or path.stem
    return [Stream(str(path), str(path), "pdf", title, units, modified)]


# A word hyphenated across a line break ("iden-" / "tifier") is one word again: split, neither half
# is a word BM25 or the tokenizer would match. libtasn1's manual has 23 such breaks, one of them a
# compound that loses its hyphen ("noncommercially"); a lowercase letter on both sides keeps
# "ASN-" / "1" and "-" / "v" (an option) as they are.
_LINE_BREAK_HYPHEN = re.compile(r"(?<=[a-z])-\n(?=[a-z])")

# A running header or footer: a line among the first or last RUNNING_EDGE lines of a page that,
# on at least RUNNING_PAGES pages and RUNNING_SHARE of them, reads the same there with its digits
# aside ("Shared MIME-info Database"), or, as a page's first or last line, is short and carries a
# number that runs with the page's own ("1", "Chapter 4: Function reference 9", "Page 12 of 40":
# the printed number minus the page's index the same on each). A bookmark's title is never one
# (libtasn1's manual prints chapter 1 on page 1, "1 Introduction" under the page number "1").
# pypdf gives a page as one paragraph, so such a line would be glued into the first or last passage
# of every page; a line of the text itself meets either test almost never.
RUNNING_EDGE = 2
RUNNING_PAGES = 3
RUNNING_SHARE = 0.3
RUNNING_WORDS = 10
_DIGITS = re.compile(r"\d+")


def _without_running_lines(texts: dict[int, str], titles: set[str]) -> dict[int, str]:
    """Each page's text (by page number) without the running headers and footers at its edges;
    titles: the bookmarks' (a line that reads as one stays)."""
    lines = {n: text.split("\n") for n, text in texts.items()}
    filled = {n: [i for i, line in enumerate(page) if line.strip()] for n, page in lines.items()}
    named = {_title_key(title) for title in titles}

    def marks(n: int, edge: str, i: int) -> set[tuple]:
        line = lines[n][i]
        words = line.split()
        if _title_key(line) in named:
            return set()
        found: set[tuple] = {(edge, _DIGITS.sub("#", " ".join(words)))}
        numbers = _DIGITS.findall(line)
        if numbers and len(words) <= RUNNING_WORDS and i in (filled[n][0], filled[n][-1]):
            found |= {(edge, int(numbers[0]) - n), (edge, int(numbers[-1]) - n)}
        return found

    def edges(n: int) -> list[tuple[str, list[int]]]:
        return [("top", filled[n][:RUNNING_EDGE]), ("bottom", filled[n][::-1][:RUNNING_EDGE])]  # each from the edge inwards

    pages: dict[tuple, int] = {}
    for n in lines:
        for mark in {m for edge, at in edges(n) for i in at for m in marks(n, edge, i)}:
            pages[mark] = pages.get(mark, 0) + 1
    need = max(RUNNING_PAGES, RUNNING_SHARE * sum(1 for kept in filled.values() if kept))
    out = {}
    for n in lines:
        drop = set()
        for edge, at in edges(n):
            for i in at:  # from the edge inwards, while each line runs
                if max((pages[m] for m in marks(n, edge, i)), default=0) < need:
                    break
                drop.add(i)
        out[n] = "\n".join(line for i, line in enumerate(lines[n]) if i not in drop)
    return out


_SECTION_NUMBER_FIRST = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)")


def _title_key(text: str) -> str:
    """A heading's words without its section number, casefolded: "2.1 ASN.1 syntax" -> "asn.1 syntax"."""
    return " ".join(_SECTION_NUMBER_FIRST.sub("", text.strip()).split()).casefold()


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
