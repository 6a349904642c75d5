"""Generic chat logs as JSON Lines: one message per line, `{"id", "ts", "speaker", "text", "conversation"?}`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import from_epoch, parse_iso
from .messages import Malformed

FORMAT = "jsonl-chat"
# Past this many, one summary line replaces the per-line warnings of a file.
MAX_LINE_WARNINGS = 5

CHAT_FORMATS_HINT = (
    'each line must be a JSON object with "text" (and "ts", "speaker", "id", "conversation"); see the README section "Chat formats"'
)



def read_jsonl_chat(path: Path, text: str, warn: Callable[[str], None]) -> list[Stream]:
    """One stream per conversation, messages in time order; bad lines are warned about and skipped."""
    by_conversation: dict[str | None, list[Unit]] = {}
    problems: list[tuple[int, str]] = []  # (line number, what is wrong)
    lines_seen = 0
    # Split on "\n" only: JSON strings may hold U+2028 and friends, which splitlines() breaks on.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        lines_seen += 1
        try:
            conversation, unit = _read_message(line, number)
        except Malformed as e:
            problems.append((number, str(e)))
            continue
        if unit is not None:
            by_conversation.setdefault(conversation, []).append(unit)

    if problems and (not by_conversation or len(problems) * 2 > lines_seen):
        number, what = problems[0]
        raise SourceError(f"{path}: {len(problems)} of {lines_seen} lines are not chat messages (line {number}: {what})", CHAT_FORMATS_HINT)
    if not by_conversation:
        raise SourceError(f"{path}: no text found", "every message in the file has empty text")
    for number, what in problems[:MAX_LINE_WARNINGS]:
        warn(f"{path}:{number}: {what} — skipped")
    if len(problems) > MAX_LINE_WARNINGS:
        warn(f"{path}: {len(problems) - MAX_LINE_WARNINGS} more malformed lines skipped")

    return [_stream(path, conversation, units) for conversation, units in by_conversation.items()]


def _read_message(line: str, number: int) -> tuple[str | None, Unit | None]:
    """(conversation, unit); unit is None for a well-formed message with empty text."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise Malformed(f"not valid JSON ({getattr(e, 'msg', type(e).__name__)})") from None
    if not isinstance(record, dict):
        raise Malformed("not a JSON object")
    message = record.get("text")
    if not isinstance(message, str):
        raise Malformed('no "text" string')
    time = _read_ts(record.get("ts"))
    conversation = record.get("conversation")
    conversation = None if conversation is None else str(conversation)
    if not message.strip():
        return conversation, None
    message_id = record.get("id")
    speaker = record.get("speaker")
    unit = Unit(
        text=message.strip(),
        time=time,
        speaker=None if speaker is None else str(speaker),
        message_id=str(number) if message_id is None else str(message_id),
    )
    return conversation, unit


def _read_ts(value: object) -> datetime | None:
    """ISO-8601 (naive is local time) or epoch seconds; None when absent."""
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, (int, float)):
            return from_epoch(value)
        if isinstance(value, str):
            try:
                return from_epoch(float(value))
            except ValueError:
                found = parse_iso(value)
                if found is not None:
                    return found
    except ValueError:
        pass
    raise Malformed(f'unreadable "ts" {_preview(value)}')


def _preview(value: object) -> str:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _stream(path: Path, conversation: str | None, units: list[Unit]) -> Stream:
    # Time order, stable for equal times; a conversation with undated messages keeps file order.
    if all(u.time is not None for u in units):
        units = sorted(units, key=lambda u: u.time)
    stream_id = str(path) if conversation is None else f"{path}#{conversation}"
    return Stream(stream_id=stream_id, path=str(path), format=FORMAT, title=conversation or path.stem, units=units)
