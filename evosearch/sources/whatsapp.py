"""WhatsApp chat exports (`_chat.txt`, `WhatsApp Chat with X.txt`): one stream per file.

Two header styles, told apart per line:
    iOS       [15/01/2024, 10:30:45] Ana: text      [1/15/24, 10:30:45 AM] Ana: text
    Android   15.01.24, 10:30 - Ana: text            1/15/24, 10:30 PM - Ana: text
Lines without a header continue the message before them. A header without "Name: " is a
system line (encryption notice, "X added Y") and is skipped, as are media placeholders and
deleted messages. The date order is decided once per file: a first field above 12 means
day first, a second field above 12 means month first; when every date is ambiguous, a 12-hour
clock (AM/PM: the US locale) means month first, otherwise day first. Times carry no zone
and are read as local time. A message's id is "line N" (its header's line in the file).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import to_utc

FORMAT = "whatsapp"
SNIFF_LINES = 30
MAX_LINE_WARNINGS = 5

_DATE_TIME = r"(\d{1,4})[./-](\d{1,2})[./-](\d{1,4}),?\s+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*([AaPp]\.?\s?[Mm]\.?)?"
_IOS = re.compile(rf"^\[{_DATE_TIME}\]\s*(.*)$")
_ANDROID = re.compile(rf"^{_DATE_TIME}\s+[-–]\s+(.*)$")
_INVISIBLE = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202c\ufeff"), None) | {0x202F: " ", 0xA0: " "}
_PLACEHOLDERS = re.compile(
    r"^(?:<Media omitted>|<attached: [^>]*>|(?:image|video|audio|sticker|GIF|document|Contact card) omitted"
    r"|This message was deleted\.?|You deleted this message\.?|null|Messages and calls are end-to-end encrypted\..*)$",
    re.IGNORECASE,
)
_EDITED = re.compile(r"\s*<This message was edited>$")
_HINT = "expected a WhatsApp export (_chat.txt or 'WhatsApp Chat with ….txt'); see the README section \"Sources\""


def _header(line: str):
    return _IOS.match(line) or _ANDROID.match(line)


def looks_like_whatsapp(path: Path, text: str) -> bool:
    """The first non-empty line is a message header, and headers are common in the first lines."""
    lines = [line.translate(_INVISIBLE).strip() for line in text[:20_000].split("\n")]
    lines = [line for line in lines if line][:SNIFF_LINES]
    if not lines or not _header(lines[0]):
        return False
    headers = sum(bool(_header(line)) for line in lines)
    return headers >= max(1, len(lines) // 3)


def _date_order(fields: list[tuple[str, str, bool]]) -> str:
    """'ymd', 'dmy' or 'mdy' for the whole file, from (first, second, twelve_hour) of every header."""
    if any(len(a) == 4 for a, _, _ in fields):
        return "ymd"
    if any(int(a) > 12 for a, _, _ in fields):
        return "dmy"
    if any(int(b) > 12 for _, b, _ in fields):
        return "mdy"
    return "mdy" if any(twelve for _, _, twelve in fields) else "dmy"


def _moment(match: re.Match, order: str) -> datetime:
    a, b, c, hour, minute, second, meridiem = match.groups()[:7]
    if order == "ymd":
        year, month, day = int(a), int(b), int(c)
    elif order == "dmy":
        day, month, year = int(a), int(b), int(c)
    else:
        month, day, year = int(a), int(b), int(c)
    year += 2000 if year < 100 else 0
    hour = int(hour)
    if meridiem:
        pm = meridiem.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    return to_utc(datetime(year, month, day, hour, int(minute), int(second or 0)))


def read_whatsapp(path: Path, text: str, warn: Callable[[str], None]) -> list[Stream]:
    lines = [line.translate(_INVISIBLE).rstrip("\r") for line in text.split("\n")]
    headers = {n: m for n, line in enumerate(lines, start=1) if (m := _header(line.strip()))}
    if not headers:
        raise SourceError(f"{path}: no WhatsApp message lines found", _HINT)
    order = _date_order([(m.group(1), m.group(2), bool(m.group(7))) for m in headers.values()])
    messages: list[list] = []  # [line number, time, speaker, [text lines]]
    problems: list[str] = []
    current = None
    for number, line in enumerate(lines, start=1):
        match = headers.get(number)
        if match is None:
            if current is not None:
                current[3].append(line)
            continue
        current = None
        try:
            moment = _moment(match, order)
        except (ValueError, OverflowError) as e:
            problems.append(f"line {number}: impossible date or time ({e})")
            continue
        rest = match.group(8)
        speaker, sep, body = rest.partition(": ")
        if not sep or not speaker.strip():
            continue  # a system line
        current = [number, moment, speaker.strip(), [body]]
        messages.append(current)
    units = []
    for number, moment, speaker, body_lines in messages:
        body = _EDITED.sub("", "\n".join(body_lines).strip())
        if not body or _PLACEHOLDERS.match(body):
            continue
        units.append(Unit(text=body, time=moment, speaker=speaker, message_id=f"line {number}"))
    for problem in problems[:MAX_LINE_WARNINGS]:
        warn(f"{path}: {problem} — skipped")
    if len(problems) > MAX_LINE_WARNINGS:
        warn(f"{path}: {len(problems) - MAX_LINE_WARNINGS} more lines with impossible dates skipped")
    if not units:
        raise SourceError(f"{path}: a WhatsApp export with no text messages", "only media, system lines or deleted messages were found")
    return [Stream(stream_id=f"{path}#chat", path=str(path), format=FORMAT, title=_title(path), units=units)]


def _title(path: Path) -> str:
    """The other party's name from 'WhatsApp Chat with Ana.txt' (or the zip holding _chat.txt)."""
    outer, _, member = str(path).partition("!")
    name = Path(member or outer).stem
    if name == "_chat":
        name = Path(outer).stem if member else Path(outer).parent.name
    for prefix in ("WhatsApp Chat with ", "WhatsApp Chat - "):
        name = name.removeprefix(prefix)
    return name or "WhatsApp chat"
