"""What every reader produces: ordered streams of timestamped units.

A unit is the smallest piece a reader knows the place of: a paragraph of a note
(with its line range) or one chat message (with its id). Segmentation later packs
consecutive units into segments that fit the encoder's token budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
