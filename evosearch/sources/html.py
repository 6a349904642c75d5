"""HTML pages: the visible text, one unit per block (paragraph, heading, list item, cell row)."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from .base import Stream, Unit, under_headings
from .dates import dated_or_modified, parse_iso

_BLOCKS = {
    "p",
    "div",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "tr",
    "section",
    "article",
    "blockquote",
    "pre",
    "header",
    "footer",
    "main",
    "aside",
    "dt",
    "dd",
    "table",
    "ul",
    "ol",
    "hr",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# What generated documentation puts in a link to the heading itself (Node.js "#", Sphinx "¶"): not its words.
_PERMALINK_MARKS = {"#", "¶", "§", "🔗"}
_INVISIBLE = {"script", "style", "noscript", "template", "svg", "head"}
_DATE_META = {"date", "article:published_time", "dcterms.created", "dc.date", "pubdate", "og:published_time"}
_HTML_START = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", re.IGNORECASE | re.DOTALL)


def looks_like_html(path: Path, text: str) -> bool:
    return path.suffix.lower() in (".html", ".htm", ".xhtml") or bool(_HTML_START.match(text[:2048]))


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        # (first line, last line, text, the level of the heading that opens a section at it (0: none),
        # whether it is that heading's text): the block after an empty heading opens its section unnamed
        self.blocks: list[tuple[int, int, str, int, bool]] = []
        self._parts: list[str] = []
        self._heading = 0
        self._in_heading = 0
        self._in_self_link = False  # inside a heading's <a href="#..."> (its permalink)
        self._in_pre = 0
        self._start_line = 1
        self._hidden = 0
        self._in_title = False
        self.title = ""
        self.date: datetime | None = None

    def _flush(self):
        text = " ".join("".join(self._parts).split())
        if text:
            # named only as the first block since the heading opened, so an unclosed <h2> names no paragraph
            self.blocks.append((self._start_line, self.getpos()[0], text, self._heading, bool(self._heading) and self._in_heading > 0))
            self._heading = 0
        self._parts = []
        self._start_line = self.getpos()[0]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self._in_title = True
        if tag == "meta" and self.date is None:
            key = (attrs.get("name") or attrs.get("property") or "").lower()
            if key in _DATE_META and attrs.get("content"):
                self.date = parse_iso(attrs["content"])
        if tag == "time" and self.date is None and attrs.get("datetime"):
            self.date = parse_iso(attrs["datetime"])
        if tag == "a":
            self._in_self_link = self._in_heading > 0 and (attrs.get("href") or "").startswith("#")
        self._in_pre += tag == "pre"
        if tag in _INVISIBLE:
            self._hidden += 1
        elif tag in _BLOCKS or self._in_code_block(tag):
            self._flush()
            self._heading = self._heading or (int(tag[1]) if tag in _HEADINGS else 0)
            self._in_heading += tag in _HEADINGS

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "a":
            self._in_self_link = False
        if tag in _INVISIBLE:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS or self._in_code_block(tag):
            self._flush()
            if tag in _HEADINGS:
                self._in_heading = max(0, self._in_heading - 1)
        self._in_pre = max(0, self._in_pre - (tag == "pre"))

    def _in_code_block(self, tag: str) -> bool:
        # Inline <code> is part of its sentence; inside <pre> each <code> is a block of its own
        # (Node.js' pages put an example's ESM and CommonJS versions in one <pre> as </code><code>).
        return tag == "code" and self._in_pre > 0

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._hidden and not (self._in_self_link and data.strip() in _PERMALINK_MARKS):
            if not self._parts:
                self._start_line = self.getpos()[0]
            self._parts.append(data)


def read_html(path: Path, text: str, mtime: float) -> list[Stream]:
    """One stream in reading order; time from a date meta tag or <time datetime>, else the file's mtime."""
    parser = _Visible()
    parser.feed(text)
    parser.close()
    parser._flush()
    when, modified = dated_or_modified(parser.date, mtime)
    title = " ".join(parser.title.split()) or next((b[2] for b in parser.blocks), path.stem)
    units = [Unit(t, when, line_start=a, line_end=max(a, b), opens_section=bool(h)) for a, b, t, h, _ in parser.blocks]
    units = under_headings(units, [(h, named) if h else None for *_, h, named in parser.blocks])
    return [Stream(str(path), str(path), "html", title, units, modified)]


def html_blocks(text: str) -> list[tuple[str, int, bool]]:
    """The visible text of an HTML fragment, one item per block: (text, the level of the heading that
    opens a section at it (0: none), whether it is that heading's text)."""
    parser = _Visible()
    parser.feed(text)
    parser.close()
    parser._flush()
    return [(block, level, named) for _, _, block, level, named in parser.blocks]


def html_to_text(text: str) -> str:
    """The visible text of an HTML fragment, one line per block (for HTML-only email bodies)."""
    return "\n".join(block for block, *_ in html_blocks(text))
