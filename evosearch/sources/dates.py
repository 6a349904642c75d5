"""Turning the dates and times found in sources into timezone-aware UTC datetimes."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import lru_cache

# Epoch values above this are milliseconds: as seconds they would lie past the year 5000.
EPOCH_MILLISECONDS_ABOVE = 1e11

_ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?!\d)")
# dateparser reads words like "today" as the current moment; a plausible year in the text
# is what tells a dated heading from an ordinary one.
_YEAR = re.compile(r"(?<!\d)(?:1[89]|2\d)\d{2}(?!\d)")
# "Mon 17 Nov 2026 — planning": the date is often followed by a subtitle.
_SUBTITLE_SEPARATORS = (" — ", " – ", " - ", ": ", " | ")


def to_utc(moment: datetime) -> datetime:
    """Aware times are converted; naive ones are read as local time first."""
    return moment.astimezone(UTC)


def dated_or_modified(dated: datetime | None, mtime: float) -> tuple[datetime, datetime | None]:
    """A document's time (its own date, else the file's modification time) and, where it is the
    modification time, that time again: what sources.Stream.modified holds, None for a dated document."""
    if dated is not None:
        return dated, None
    modified = from_epoch(mtime)
    return modified, modified


def from_epoch(seconds: float) -> datetime:
    """Epoch seconds (or milliseconds, told apart by size) as UTC; ValueError when out of range."""
    try:
        if isinstance(seconds, bool) or not math.isfinite(seconds):
            raise ValueError(f"not a time: {seconds!r}")
        if abs(seconds) > EPOCH_MILLISECONDS_ABOVE:
            seconds = seconds / 1000
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError) as e:
        raise ValueError(f"time out of range: {seconds!r}") from e


def parse_iso(text: str) -> datetime | None:
    """An ISO-8601 date or date-time as UTC, or None."""
    try:
        return to_utc(datetime.fromisoformat(text.strip()))
    except (ValueError, OverflowError, OSError):
        return None


def find_date(text: str) -> datetime | None:
    """The full calendar date written in a short text (a heading, a front matter value), or None.

    An ISO date anywhere in the text wins; otherwise dateparser reads the text (or the part
    before a subtitle), but only when it holds a year, so "Today" or "Weekly review" stay undated.
    """
    text = text.strip().strip("<>[]").strip()
    iso = _ISO_DATE.search(text)
    if iso:
        found = parse_iso(iso.group(0))
        if found is not None:
            return found
    if not _YEAR.search(text):
        return None
    candidates = [text] + [text.split(sep, 1)[0] for sep in _SUBTITLE_SEPARATORS if sep in text]
    for candidate in candidates:
        found = _dateparser_read(candidate)
        if found is not None:
            return found
    return None


def _dateparser_read(text: str) -> datetime | None:
    try:
        found = _date_parser().get_date_data(text).date_obj
        return to_utc(found) if found is not None else None
    except (ValueError, OverflowError, TypeError):
        return None


@lru_cache(maxsize=1)
def _date_parser():
    # Imported lazily: dateparser costs a noticeable moment to load. English only, because
    # detecting the language of every heading loads all locales (seconds) and misreads words.
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=["en"],
        settings={"REQUIRE_PARTS": ["day", "month", "year"], "PREFER_DAY_OF_MONTH": "first"},
    )
