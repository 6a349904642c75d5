"""Notes and documents (markdown, org, reStructuredText, plain text): one unit per paragraph.

Each paragraph is dated by, most specific first: the dated heading whose section holds it,
the file's own date (front matter `date:`/`created:`, else a date in the file name), else
the file's modification time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .base import SENTENCE_END, Stream, Unit, section_name
from .dates import dated_or_modified, find_date

# Paragraphs longer than this become several units, so a hit points at the part that matched.
MAX_UNIT_CHARS = 1500

FORMAT_BY_SUFFIX = {".md": "markdown", ".markdown": "markdown", ".org": "org", ".rst": "rst"}

# CommonMark: the #s are followed by a space or the end of the line ("##" alone is an empty heading).
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$")
_ORG_HEADING = re.compile(r"^(\*+)\s+(.*?)\s*$")
_ORG_KEYWORD = re.compile(r"^#\+(\w+):\s*(.*?)\s*$")
_FRONT_MATTER_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_RST_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
# Inline markup a heading's name is shown without: markdown's code ticks, strong emphasis (**) and links
# (`[text](url)`, their text kept), org's links (`[[url][text]]`, `[[url]]`).
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_ORG_LINK = re.compile(r"\[\[([^\]]*)\](?:\[([^\]]*)\])?\]")
# YYYY-MM-DD, YYYYMMDD, YYYY_MM_DD, with no digits right before or after.
_FILE_NAME_DATE = re.compile(r"(?<!\d)(\d{4})([-_.]?)(\d{2})\2(\d{2})(?!\d)")


@dataclass
class _Heading:
    level: int
    title: str


def document_format(path: Path) -> str:
    return FORMAT_BY_SUFFIX.get(path.suffix.lower(), "text")


def read_document(path: Path, text: str, mtime: float) -> list[Stream]:
    """One stream (the file, in reading order); `path` is used as given, callers pass it absolute (walk.absolute_path)."""
    fmt = document_format(path)
    # "\n" only, as editors number lines; a trailing "\r" is stripped with other whitespace.
    lines = text.split("\n")
    meta, body_start = _read_metadata(lines, fmt)
    file_time = _metadata_date(meta) or date_in_file_name(path.name)
    headings, adornments = _find_headings(lines, body_start, fmt)
    when, modified = dated_or_modified(file_time, mtime)
    units = _paragraph_units(lines, body_start, headings, adornments, fmt, when)
    title = meta.get("title") or _first_top_heading(headings) or path.stem
    return [Stream(stream_id=str(path), path=str(path), format=fmt, title=title, units=units, modified=modified)]


def date_in_file_name(name: str) -> datetime | None:
    """`2026-11-17.md`, `2026-11-17 standup.md`, `20261117.md` → that day (local midnight, as UTC)."""
    match = _FILE_NAME_DATE.search(name)
    if not match:
        return None
    year, _, month, day = match.groups()
    return find_date(f"{year}-{month}-{day}")


# ---- metadata ----------------------------------------------------------------------------


def _read_metadata(lines: list[str], fmt: str) -> tuple[dict[str, str], int]:
    """Front matter (or org `#+key:` lines) at the top: its keys, and the index of the first body line."""
    front = _front_matter(lines)
    if front is not None:
        return front
    meta: dict[str, str] = {}
    index = 0
    if fmt == "org":
        while index < len(lines) and (m := _ORG_KEYWORD.match(lines[index])):
            meta.setdefault(m.group(1).lower(), m.group(2))
            index += 1
    return meta, index


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int] | None:
    if not lines or lines[0].strip() != "---":
        return None
    meta: dict[str, str] = {}
    for index in range(1, len(lines)):
        line = lines[index]
        if line.strip() in ("---", "..."):
            # An empty block is a horizontal rule or an reST overline, not front matter.
            return (meta, index + 1) if meta else None
        if not line.strip() or line[0] in " \t#-":
            continue  # nested values, lists and comments: nothing we read
        match = _FRONT_MATTER_KEY.match(line)
        if not match:
            return None  # prose, so the `---` was something else
        meta.setdefault(match.group(1).lower(), match.group(2).strip("'\""))
    return None


def _metadata_date(meta: dict[str, str]) -> datetime | None:
    for key in ("date", "created"):
        if meta.get(key):
            found = find_date(meta[key])
            if found is not None:
                return found
    return None


def _first_top_heading(headings: dict[int, _Heading]) -> str | None:
    for index in sorted(headings):
        if headings[index].level == 1 and headings[index].title:
            return headings[index].title
    return None


# ---- headings ----------------------------------------------------------------------------


def _find_headings(lines: list[str], start: int, fmt: str) -> tuple[dict[int, _Heading], set[int]]:
    """Headings by line index, and the reST adornment lines to leave out of the text."""
    headings: dict[int, _Heading] = {}
    adornments: set[int] = set()
    if fmt == "markdown":
        fence: str | None = None
        for index in range(start, len(lines)):
            fence_match = _FENCE.match(lines[index])
            if fence_match:
                marker = fence_match.group(1)
                fence = None if fence == marker else (fence or marker)
                continue
            if fence is None and (m := _MARKDOWN_HEADING.match(lines[index])):
                headings[index] = _Heading(len(m.group(1)), m.group(2) or "")
    elif fmt == "org":
        for index in range(start, len(lines)):
            if m := _ORG_HEADING.match(lines[index]):
                headings[index] = _Heading(len(m.group(1)), m.group(2))
    elif fmt == "rst":
        _find_rst_headings(lines, start, headings, adornments)
    return headings, adornments


def _find_rst_headings(lines: list[str], start: int, headings: dict[int, _Heading], adornments: set[int]) -> None:
    # reST has no fixed levels: each adornment style gets the next level the first time it is seen.
    levels: dict[tuple[str, bool], int] = {}
    for index in range(start, len(lines) - 1):
        title = lines[index].strip()
        under = _RST_ADORNMENT.match(lines[index + 1])
        if not title or _RST_ADORNMENT.match(lines[index]) or not under or len(lines[index + 1].rstrip()) < len(title):
            continue
        overlined = index > start and lines[index - 1].strip() == lines[index + 1].strip()
        style = (under.group(1), overlined)
        level = levels.setdefault(style, len(levels) + 1)
        headings[index] = _Heading(level, title)
        adornments.add(index + 1)
        if overlined:
            adornments.add(index - 1)


# ---- paragraphs --------------------------------------------------------------------------


def _paragraph_units(
    lines: list[str],
    start: int,
    headings: dict[int, _Heading],
    adornments: set[int],
    fmt: str,
    undated_time: datetime,
) -> list[Unit]:
    units: list[Unit] = []
    sections: list[tuple[int, datetime | None, str]] = []  # open headings, outermost first: (level, date, title)
    waiting_headings: list[tuple[int, str]] = []  # (line number, text) until their paragraph comes
    opened = False  # a heading came since the last unit, so the next one opens a section
    paragraph: list[tuple[int, str]] = []
    fence: str | None = None

    def section_time() -> datetime:
        for _, date, _ in reversed(sections):
            if date is not None:
                return date
        return undated_time

    def section_path() -> str | None:
        return section_name([_plain(title, fmt) for _, _, title in sections])

    def end_paragraph() -> None:
        nonlocal waiting_headings, paragraph, opened
        if paragraph:
            units.extend(_units_for_block(waiting_headings + paragraph, section_time(), opened, section_path()))
            waiting_headings, paragraph, opened = [], [], False

    for index in range(start, len(lines)):
        number, line = index + 1, lines[index].rstrip()
        if index in adornments:
            continue
        if index in headings:
            end_paragraph()
            heading = headings[index]
            while sections and sections[-1][0] >= heading.level:
                sections.pop()
            sections.append((heading.level, find_date(heading.title), heading.title))
            opened = True
            if heading.title:  # an empty heading ("##") only marks where a section starts
                waiting_headings.append((number, line.strip()))
            continue
        if fmt == "markdown" and (fence_match := _FENCE.match(line)):
            marker = fence_match.group(1)
            fence = None if fence == marker else (fence or marker)
        elif not line.strip() and fence is None:
            end_paragraph()
            continue
        paragraph.append((number, line))
    end_paragraph()
    if waiting_headings:  # headings at the very end, with no text under them
        units.extend(_units_for_block(waiting_headings, section_time(), True, section_path()))
    return units


def _plain(title: str, fmt: str) -> str:
    """A heading's title as it reads, without its inline markup."""
    if fmt == "markdown":
        return _MARKDOWN_LINK.sub(r"\1", title).replace("`", "").replace("**", "")
    if fmt == "org":
        return _ORG_LINK.sub(lambda m: m.group(2) or m.group(1), title)
    return title


def _units_for_block(block: list[tuple[int, str]], time: datetime, headed: bool, section: str | None) -> list[Unit]:
    """The block's pieces as units; the first opens a section when the block starts with its heading."""
    pieces = _split_long_block(block)
    return [
        Unit(text=_join(piece), time=time, line_start=piece[0][0], line_end=piece[-1][0], opens_section=headed and n == 0, section=section)
        for n, piece in enumerate(pieces)
    ]


def _join(pieces: list[tuple[int, str]]) -> str:
    """Fragments of one line are joined by a space, separate lines by a newline."""
    out = pieces[0][1]
    for (previous, _), (number, text) in zip(pieces, pieces[1:]):
        out += (" " if number == previous else "\n") + text
    return out


def _split_long_block(block: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Pack lines (and, for an over-long line, its sentences) into pieces of at most MAX_UNIT_CHARS."""
    if sum(len(text) + 1 for _, text in block) <= MAX_UNIT_CHARS + 1:
        return [block]
    fragments = [(number, part) for number, text in block for part in _split_long_line(text)]
    pieces: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    size = 0
    for fragment in fragments:
        if current and size + 1 + len(fragment[1]) > MAX_UNIT_CHARS:
            pieces.append(current)
            current, size = [], 0
        size += (1 if current else 0) + len(fragment[1])
        current.append(fragment)
    if current:
        pieces.append(current)
    return pieces


def _split_long_line(text: str) -> list[str]:
    if len(text) <= MAX_UNIT_CHARS:
        return [text]
    parts: list[str] = []
    for sentence in SENTENCE_END.split(text):
        while len(sentence) > MAX_UNIT_CHARS:
            # No sentence end in reach: cut at the last space, or hard at the limit.
            cut = sentence.rfind(" ", 0, MAX_UNIT_CHARS + 1)
            cut = cut if cut > 0 else MAX_UNIT_CHARS
            parts.append(sentence[:cut].rstrip())
            sentence = sentence[cut:].lstrip()
        if sentence:
            parts.append(sentence)
    return parts
