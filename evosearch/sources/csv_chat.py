"""Chat logs as CSV or TSV: a header row naming the columns, one message per row.

Recognised column names (any case): time `ts`/`time`/`timestamp`/`date`/`datetime`/`created_at`;
speaker `speaker`/`author`/`from`/`sender`/`name`/`user`; text `text`/`message`/`content`/`body`;
optional `id`/`message_id` and `conversation`/`channel`/`thread`. A file needs a text column and
a time or speaker column. The delimiter is the one of comma, tab and semicolon that the header
row holds most often. Times are ISO-8601 or epoch seconds (or milliseconds); naive times are
local. Each conversation is one stream in time order; a message's id is its `id`, else "row N",
the 1-based record number with the header as row 1, as a spreadsheet shows it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import from_epoch, parse_iso

FORMAT = "csv-chat"
# Past this many, one summary line replaces the per-row warnings of a file.
MAX_ROW_WARNINGS = 5
# The format check runs on every text file: it reads at most this much.
SNIFF_CHARS = 16_000
CSV_SUFFIXES = (".csv", ".tsv")
DELIMITERS = ",\t;"
COLUMNS = {
    "time": ("ts", "time", "timestamp", "date", "datetime", "created_at"),
    "speaker": ("speaker", "author", "from", "sender", "name", "user"),
    "text": ("text", "message", "content", "body"),
    "id": ("id", "message_id"),
    "conversation": ("conversation", "channel", "thread"),
}
_UTC_SUFFIXES = (" UTC", " GMT")
_HINT = 'a CSV chat needs a header row with a "text" column and a "ts" or "speaker" column; see the README section "Sources"'


class _BadRow(ValueError):
    """A row that is not a message; its text says what is wrong."""


def _columns(header: list[str]) -> dict[str, int]:
    """role -> column index, for the roles the header names."""
    names = [h.strip().lstrip("\ufeff").strip().lower() for h in header]
    found = {}
    for role, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                found[role] = names.index(alias)
                break
    return found


def _delimiter(first_line: str) -> str:
    # Counting beats csv.Sniffer on a single header line, which it often misreads.
    return max(DELIMITERS, key=first_line.count)


def _is_chat_header(found: dict[str, int]) -> bool:
    return "text" in found and ("time" in found or "speaker" in found)


def looks_like_csv_chat(path: Path, text: str) -> bool:
    """The header row names a text column and a time or speaker column.

    A file not named .csv/.tsv must also have a second row with as many fields, so a note
    that opens with "Text, time and speakers" stays a note.
    """
    sample = text[:SNIFF_CHARS]
    first = sample.split("\n", 1)[0]
    delimiter = _delimiter(first)
    if delimiter not in first:
        return False
    try:
        rows = csv.reader(io.StringIO(sample), delimiter=delimiter)
        header = next(rows, [])
        if not _is_chat_header(_columns(header)):
            return False
        if Path(path).suffix.lower() in CSV_SUFFIXES:
            return True
        second = next((row for row in rows if any(cell.strip() for cell in row)), [])
    except csv.Error:
        return False
    return len(second) == len(header)


def _time(value: str) -> datetime | None:
    """ISO-8601 or epoch seconds as UTC; None when empty; _BadRow when unreadable."""
    value = value.strip()
    if not value:
        return None
    try:
        return from_epoch(float(value))
    except ValueError:
        pass
    for suffix in _UTC_SUFFIXES:  # "2026-06-01 09:00:00 UTC", as databases write it
        if value.upper().endswith(suffix):
            value = value[: -len(suffix)] + "+00:00"
    found = parse_iso(value)
    if found is None:
        raise _BadRow(f"unreadable time {value[:40]!r}")
    return found


def _row_unit(row: list[str], found: dict[str, int], number: int) -> tuple[str, Unit | None]:
    """(conversation, unit); unit is None for a row with empty text."""
    if len(row) <= max(found.values()):
        raise _BadRow(f"{len(row)} fields, too few for the header's columns")
    cell = {role: row[index].strip() for role, index in found.items()}
    moment = _time(cell["time"]) if "time" in cell else None
    conversation = cell.get("conversation") or "chat"
    if not cell["text"]:
        return conversation, None
    unit = Unit(text=cell["text"], time=moment, speaker=cell.get("speaker") or None, message_id=cell.get("id") or f"row {number}")
    return conversation, unit


def read_csv_chat(path: Path, text: str, warn: Callable[[str], None]) -> list[Stream]:
    """One stream per conversation, in time order; bad rows are warned about and skipped."""
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text.split("\n", 1)[0]))
    problems: list[str] = []
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise SourceError(f"{path}: malformed CSV header ({e})", _HINT) from None
    if not header or not any(cell.strip() for cell in header):
        raise SourceError(f"{path}: no header row, the CSV is empty", _HINT)
    found = _columns(header)
    if not _is_chat_header(found):
        raise SourceError(f"{path}: no text and time or speaker columns in the header {_preview(header)}", _HINT)

    by_conversation: dict[str, list[Unit]] = {}
    number = 1
    while True:
        try:
            row = next(reader, None)
        except csv.Error as e:  # an overlong field (an unclosed quote): what came before is kept
            problems.append(f"row {number + 1}: malformed CSV ({e}); the rest of the file")
            break
        if row is None:
            break
        number += 1
        if not any(cell.strip() for cell in row):
            continue
        try:
            conversation, unit = _row_unit(row, found, number)
        except _BadRow as e:
            problems.append(f"row {number}: {e}")
            continue
        if unit is not None:
            by_conversation.setdefault(conversation, []).append(unit)

    if not by_conversation:
        first = f" ({problems[0]})" if problems else ""
        raise SourceError(f"{path}: no messages in the CSV{first}", _HINT)
    for problem in problems[:MAX_ROW_WARNINGS]:
        warn(f"{path}: {problem} — skipped")
    if len(problems) > MAX_ROW_WARNINGS:
        warn(f"{path}: {len(problems) - MAX_ROW_WARNINGS} more bad rows skipped")
    return [_stream(path, conversation, units, "conversation" in found) for conversation, units in by_conversation.items()]


def _stream(path: Path, conversation: str, units: list[Unit], named: bool) -> Stream:
    # Time order, stable for equal times; a conversation with undated messages keeps file order.
    if all(u.time is not None for u in units):
        units = sorted(units, key=lambda u: u.time)
    title = conversation if named and conversation != "chat" else Path(str(path).partition("!")[2] or path).stem
    return Stream(stream_id=f"{path}#{conversation}", path=str(path), format=FORMAT, title=title, units=units)


def _preview(header: list[str]) -> str:
    shown = ", ".join(header[:8])
    return repr(shown if len(shown) <= 60 else shown[:57] + "...")
