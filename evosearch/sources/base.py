"""What every reader produces: ordered streams of timestamped units.

A unit is the smallest piece a reader knows the place of: a paragraph of a note
(with its line range) or one chat message (with its id). Segmentation later packs
consecutive units into segments that fit the encoder's token budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

# Where a sentence ends: the whitespace after its closing mark. Where readers and segmentation
# cut text that is too long for one piece.
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Unit:
    text: str
    time: datetime | None  # timezone-aware (UTC) when known
    speaker: str | None = None  # chat only
    message_id: str | None = None  # chat only: the id a person can look up
    line_start: int | None = None  # documents only: 1-based, inclusive (PDFs: page numbers)
    line_end: int | None = None
    opens_section: bool = False  # documents only: it starts with a heading, so a segment starts here
    # Documents only: the headings of the section it lies in, shown with a result: "Setup › Linux"
    # (section_name). None before the first heading.
    section: str | None = None


SECTION_CHARS = 120  # a longer heading (a whole paragraph styled as one) is cut to this many characters
SECTION_JOIN = " › "  # between the headings of a section's path
# A section is named by its heading and the ones above it, at most this many: the innermost say most.
SECTION_DEPTH = 3


def heading_text(text: str) -> str:
    """A heading as a section's name: on one line, at most SECTION_CHARS characters."""
    text = " ".join(text.split())
    return text if len(text) <= SECTION_CHARS else text[: SECTION_CHARS - 1].rstrip() + "…"


def section_name(titles: list[str]) -> str | None:
    """A section's name from its headings' titles, outermost first (empty ones left out)."""
    names = [name for title in titles if (name := heading_text(title))]
    return SECTION_JOIN.join(names[-SECTION_DEPTH:]) or None


def under_headings(units: list[Unit], headings: list[tuple[int, bool] | None]) -> list[Unit]:
    """The units, each named by the headings it lies under (section_name). headings[i] is (level, named)
    where units[i] opens a section at that heading level (smaller is outer): it closes the open headings
    at that level and deeper, and with named its text is the new heading's; None where it opens none."""
    out, open_headings = [], []  # open_headings: (level, title), outermost first
    for unit, heading in zip(units, headings):
        if heading is not None:
            level, named = heading
            open_headings = [h for h in open_headings if h[0] < level] + ([(level, unit.text)] if named else [])
        out.append(replace(unit, section=section_name([title for _, title in open_headings])))
    return out


@dataclass
class Stream:
    """One file (reading order) or one conversation (time order)."""

    stream_id: str  # stable: "<path>" for a document, "<path>#<conversation id>" for a chat
    path: str  # absolute path of the source file
    format: str  # "text", "markdown", "jsonl-chat", "chatgpt", ...
    title: str
    units: list[Unit] = field(default_factory=list)
    # The file's modification time where units took it for want of a date of their own. It changes
    # with every save, so it is no part of a segment's identity (segment.Segment.timed_by_file).
    modified: datetime | None = None

    @property
    def is_chat(self) -> bool:
        return any(u.message_id is not None for u in self.units)
