"""Chat logs as CSV or TSV: a header row naming the columns, one message per row.

Recognised column names (any case): time `ts`/`time`/`timestamp`/`date`/`datetime`/`created_at`;
speaker `speaker`/`author`/`from`/`sender`/`name`/`user`; text `text`/`message`/`content`/`body`;
optional `id`/`message_id` and `conversation`/`channel`/`thread`. A file needs a text column and
a time or speaker column. Times are ISO-8601 or epoch seconds; naive times are local. Each
conversation is one stream in time order; a message's id is its `id`, else "row N".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import from_epoch, parse_iso

FORMAT = "csv-chat"
MAX_ROW_WARNINGS = 5
COLUMNS = {
    "time": ("ts", "time", "timestamp", "date", "datetime", "created_at"),
    "speaker": ("speaker", "author", "from", "sender", "name", "user"),
    "text": ("text", "message", "content", "body"),
    "id": ("id", "message_id"),
    "conversation": ("conversation", "channel", "thread"),
}
_HINT = 'a CSV chat needs a header row with a "text" column and a "ts" or "speaker" column; see the README section "Sources"'


def _columns(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    found = {}
    for role, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                found[role] = names.index(alias)
                break
    return found


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    return max(",\t;", key=first.count)


def looks_like_csv_chat(path: Path, text: str) -> bool:
    if path.suffix.lower() not in (".csv", ".tsv") and "!" not in str(path):
        return False
    try:
        header = next(csv.reader(io.StringIO(text.split("\n", 1)[0]), delimiter=_dialect(text)))
    except (csv.Error, StopIteration):
        return False
    found = _columns(header)
    return "text" in found and ("time" in found or "speaker" in found)


def _time(value: str):
    value = value.strip()
    if not value:
        return None
    try:
        return from_epoch(float(value))
    except ValueError:
        return parse_iso(value)


def read_csv_chat(path: Path, text: str, warn: Callable[[str], None]) -> list[Stream]:
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=_dialect(text)))
    except csv.Error as e:
        raise SourceError(f"{path}: malformed CSV ({e})", _HINT) from None
    if not rows:
        raise SourceError(f"{path}: empty CSV", _HINT)
    found = _columns(rows[0])
    if "text" not in found:
        raise SourceError(f"{path}: no text column in the header {rows[0][:8]}", _HINT)
    by_conversation: dict[str, list[tuple[int, Unit]]] = {}
    problems = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(found.values()):
            problems.append(f"row {number}: {len(row)} columns, the header has {len(rows[0])}")
            continue
        body = row[found["text"]].strip()
        if not body:
            continue
        moment = _time(row[found["time"]]) if "time" in found else None
        if "time" in found and moment is None and row[found["time"]].strip():
            problems.append(f"row {number}: unreadable time {row[found['time']][:40]!r}")
        speaker = (row[found["speaker"]].strip() or None) if "speaker" in found else None
        message_id = row[found["id"]].strip() if "id" in found and row[found["id"]].strip() else f"row {number}"
        conversation = row[found["conversation"]].strip() if "conversation" in found else ""
        unit = Unit(text=body, time=moment, speaker=speaker, message_id=message_id)
        by_conversation.setdefault(conversation or "chat", []).append((number, unit))
    for problem in problems[:MAX_ROW_WARNINGS]:
        warn(f"{path}: {problem} — skipped")
    if len(problems) > MAX_ROW_WARNINGS:
        warn(f"{path}: {len(problems) - MAX_ROW_WARNINGS} more bad rows skipped")
    if not by_conversation:
        raise SourceError(f"{path}: no messages in the CSV", _HINT)
    streams = []
    for conversation, numbered in by_conversation.items():
        if all(u.time is not None for _, u in numbered):  # time order; without times, file order
            numbered.sort(key=lambda nu: (nu[1].time, nu[0]))
        streams.append(
            Stream(stream_id=f"{path}#{conversation}", path=str(path), format=FORMAT, title=conversation, units=[u for _, u in numbered])
        )
    return streams
