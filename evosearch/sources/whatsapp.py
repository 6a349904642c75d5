"""WhatsApp chat exports (`_chat.txt`, `WhatsApp Chat with X.txt`, or inside the export zip): one stream per file.

Two header styles, told apart per line:
    iOS       [15/01/2024, 10:30:45] Ana: text      [1/15/24, 10:30 AM] Ana: text
    Android   15.01.24, 10:30 - Ana: text            1/15/24, 10:30 PM - Ana: text
Lines without a header continue the message before them. A header without "Name: " is a
system line ("X added Y", the encryption notice) and is skipped; so is an iOS header whose
text starts with the invisible U+200E mark, which iOS puts before system notices and media.
Media placeholders (`<Media omitted>`, `image omitted`, `<attached: …>`) are removed from a
message, and a message left empty, or deleted, is dropped.

Date order is decided once per file, since the export uses the phone's locale throughout:
a first field above 12 means day first, a second field above 12 means month first (when a
garbled file has both, the more frequent wins). When every date is ambiguous (no field above
12), the file is read day first, except with "/" separators and an AM/PM clock, which is the
US locale's format (M/D/YY, h:mm AM), read month first. A four-digit first field is a year
(Y-M-D). Times carry no zone and are read as local time.

A message's id is "line N": the 1-based line of its header in the file, which a person can
open the export at.
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
# How much of a file the format check looks at: it runs on every text file.
SNIFF_LINES = 20
SNIFF_CHARS = 16_000
# Past this many, one summary line replaces the per-line warnings of a file.
MAX_LINE_WARNINGS = 5

# Possessive quantifiers (++, *+, ?+) keep matching linear on long runs of spaces.
_DATE = r"(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})[./-](?P<c>\d{1,4})"
_TIME = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?+(?:\s*+(?P<meridiem>[AaPp]\.?\s?[Mm]\.?))?+"
_IOS = re.compile(rf"\u200e*+\[{_DATE},?\s++{_TIME}\]\s*+(?P<rest>.*)")
_ANDROID = re.compile(rf"\u200e*+{_DATE},?\s++{_TIME}\s++[-–]\s++(?P<rest>.*)")
# WhatsApp writes U+202F (narrow no-break space) before AM/PM and sprinkles direction marks;
# U+200E is kept until the text after "Name: " is looked at, because it marks system notices.
_SPACES = {0x202F: " ", 0xA0: " ", 0x2007: " "}
_INVISIBLE = dict.fromkeys(map(ord, "\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"), None)
_LRM = "\u200e"
_NOT_A_MESSAGE = re.compile(
    r"<Media omitted>|(?:.*\b)?(?:image|video|audio|sticker|GIF|document|photo|Contact card) omitted"
    r"|This message was deleted\.?|You deleted this message\.?|null|Waiting for this message.*"
    r"|Messages and calls are end-to-end encrypted\..*|Missed (?:voice|video|group voice|group video) call.*",
    re.IGNORECASE,
)
# Media that may sit beside a caption: the attachment goes, the caption stays.
_ATTACHMENT = re.compile(r"<attached: [^>\n]*>|^[^\n]*\.\w{1,5} \(file attached\)$", re.IGNORECASE | re.MULTILINE)
_EDITED = re.compile(r"\s*<This message was edited>", re.IGNORECASE)
_QUOTES = ('"', "\u201c", "\u201d")
_HINT = "expected a WhatsApp export (_chat.txt or 'WhatsApp Chat with ….txt'); see the README section \"Sources\""


def _header(line: str) -> re.Match | None:
    return _IOS.match(line) or _ANDROID.match(line)


def _clean(line: str) -> str:
    return line.translate(_SPACES).translate(_INVISIBLE).strip()


def looks_like_whatsapp(path: Path, text: str) -> bool:
    """The first line is a message header, and the headers among the first lines share one style.

    Outside a file named like an export, it takes two headers, one of them with "Name: ", so a
    note that starts with one dated line stays a note.
    """
    lines = []
    for line in text[:SNIFF_CHARS].split("\n"):
        line = _clean(line)
        if line:
            lines.append(line)
            if len(lines) == SNIFF_LINES:
                break
    if not lines or not _header(lines[0]):
        return False
    headers = [m for line in lines if (m := _header(line))]
    ios = sum(m.re is _IOS for m in headers)
    if max(ios, len(headers) - ios) * 5 < len(headers) * 4:  # most of them, one style
        return False
    name = Path(str(path).rpartition("!")[2]).name  # a zip member: "<zip>!<member>"
    if name == "_chat.txt" or name.startswith("WhatsApp Chat"):
        return True
    return len(headers) >= 2 and any(": " in m["rest"] for m in headers)


def _date_order(headers: list[re.Match]) -> str:
    """'dmy' or 'mdy' for the whole file (Y-M-D lines are told by their four-digit year)."""
    day_first = month_first = 0
    us_style = False
    for m in headers:
        if len(m["a"]) >= 3:
            continue
        day_first += int(m["a"]) > 12
        month_first += int(m["b"]) > 12
        us_style = us_style or (m["meridiem"] is not None and m["sep"] == "/")
    if day_first or month_first:
        return "dmy" if day_first >= month_first else "mdy"
    return "mdy" if us_style else "dmy"


def _moment(m: re.Match, order: str) -> datetime:
    """The header's time as UTC; ValueError for an impossible date or time."""
    a, b, c = int(m["a"]), int(m["b"]), int(m["c"])
    if len(m["a"]) >= 3:
        year, month, day = a, b, c
    elif order == "dmy":
        day, month, year = a, b, c
    else:
        month, day, year = a, b, c
    if year < 100:
        year += 2000
    hour = int(m["hour"])
    if m["meridiem"]:
        if hour > 12:
            raise ValueError(f"hour {hour} with {m['meridiem']}")
        hour = hour % 12 + (12 if m["meridiem"][0] in "Pp" else 0)
    try:
        return to_utc(datetime(year, month, day, hour, int(m["minute"]), int(m["second"] or 0)))
    except (OverflowError, OSError) as e:
        raise ValueError(str(e)) from None


def _message_text(body: str) -> str:
    """The message without media placeholders and edit marks; empty when nothing is left."""
    body = _EDITED.sub("", body.replace(_LRM, ""))
    body = _ATTACHMENT.sub("", body).strip()
    return "" if _NOT_A_MESSAGE.fullmatch(body) else body


def read_whatsapp(path: Path, text: str, warn: Callable[[str], None]) -> list[Stream]:
    """One stream of the export's text messages in file order; lines with impossible dates are warned about and skipped."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    headers: dict[int, re.Match] = {}
    for number, line in enumerate(lines, start=1):
        if match := _header(_clean(line)):
            headers[number] = match
    if not headers:
        raise SourceError(f"{path}: no WhatsApp message lines found", _HINT)
    order = _date_order(list(headers.values()))

    messages: list[tuple[int, datetime, str, list[str]]] = []  # (header line, time, speaker, text lines)
    problems: list[str] = []
    body_lines: list[str] | None = None  # where continuation lines go; None after a skipped header
    for number, line in enumerate(lines, start=1):
        match = headers.get(number)
        if match is None:
            if body_lines is not None:
                body_lines.append(line.translate(_SPACES).translate(_INVISIBLE))
            continue
        body_lines = None
        try:
            moment = _moment(match, order)
        except ValueError as e:
            problems.append(f"line {number}: impossible date or time ({e})")
            continue
        speaker, sep, body = match["rest"].partition(": ")
        speaker = speaker.replace(_LRM, "").strip()
        if not sep or not speaker or any(q in speaker for q in _QUOTES):
            continue  # a system line: "Ana added Ben", 'Ana changed the subject to "Trip: day 2"'
        if body.lstrip().startswith(_LRM) and not _ATTACHMENT.search(body):
            continue  # iOS: "Group: \u200eAna added Ben", "\u200eMissed voice call"
        body_lines = [body]
        messages.append((number, moment, speaker, body_lines))

    units = []
    for number, moment, speaker, texts in messages:
        message = _message_text("\n".join(texts))
        if message:
            units.append(Unit(text=message, time=moment, speaker=speaker, message_id=f"line {number}"))
    for problem in problems[:MAX_LINE_WARNINGS]:
        warn(f"{path}: {problem} — skipped")
    if len(problems) > MAX_LINE_WARNINGS:
        warn(f"{path}: {len(problems) - MAX_LINE_WARNINGS} more lines with impossible dates skipped")
    if not units:
        raise SourceError(f"{path}: a WhatsApp export with no text messages", "only media, system lines or deleted messages were found")
    return [Stream(stream_id=f"{path}#chat", path=str(path), format=FORMAT, title=_title(path), units=units)]


def _title(path: Path) -> str:
    """The other party's name from 'WhatsApp Chat with Ana.txt', or the zip or folder holding _chat.txt."""
    outer, _, member = str(path).partition("!")
    name = Path(member or outer).stem
    if name == "_chat":
        name = Path(outer).stem if member else Path(outer).parent.name
    for prefix in ("WhatsApp Chat with ", "WhatsApp Chat - "):
        name = name.removeprefix(prefix)
    return name.strip() or "WhatsApp chat"
