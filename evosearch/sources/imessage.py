"""iMessage: macOS Messages' chat.db (SQLite), one stream per chat, messages in time order.

Tables read: chat (guid, chat_identifier, display_name), chat_message_join, message (guid, text,
attributedBody, date, is_from_me, handle_id, associated_message_type, item_type) and handle (id:
the phone number or address; the database holds no contact names, so a handle is its own name,
and a group chat's display_name is its title). Times count from 2001-01-01 UTC, in nanoseconds
since macOS 10.13 and in seconds before. Newer macOS leaves `text` empty and keeps the words only
in `attributedBody`, an NSAttributedString in Apple's typedstream archive: the NSString's bytes
are read from it. Tapbacks ("Loved “…”", associated_message_type 2000-3999) and group events
(item_type other than 0) are not messages.

The file is opened read-only and immutable (no locks, nothing written, no -wal/-shm created); while
Messages runs, index a copy (cp ~/Library/Messages/chat.db* somewhere) as the README says.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from ..errors import SourceError
from .base import Stream, Unit
from .messages import in_time_order

FORMAT = "imessage"
SQLITE_MAGIC = b"SQLite format 3\x00"
APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
# `date` values above this are nanoseconds (macOS 10.13+): as seconds they would lie past the year 5000.
NANOSECONDS_ABOVE = 10**11
TAPBACK_TYPES = range(2000, 4000)  # 2000-2005 added, 3000-3005 removed
_HINT = "expected macOS Messages' chat.db (a copy of ~/Library/Messages/chat.db); see the README section \"Sources\""
_QUERY = """
SELECT c.ROWID, c.guid, c.chat_identifier, c.display_name,
       m.guid, m.text, m.attributedBody, m.date, m.is_from_me, h.id, m.associated_message_type, m.item_type
FROM chat_message_join cmj
JOIN chat c ON c.ROWID = cmj.chat_id
JOIN message m ON m.ROWID = cmj.message_id
LEFT JOIN handle h ON h.ROWID = m.handle_id
ORDER BY c.ROWID, m.date
"""


def is_chat_db(path: Path, head: bytes) -> bool:
    return head.startswith(SQLITE_MAGIC)


def read_imessage(path: Path, warn: Callable[[str], None]) -> list[Stream]:
    """One stream per chat; undecodable messages are warned about (one line) and skipped."""
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as e:
        raise SourceError(f"{path}: cannot open the database ({_one_line(e)})", _HINT) from None
    connection.text_factory = lambda raw: raw.decode("utf-8", "replace")  # a damaged page must not stop the read
    try:
        rows = connection.execute(_QUERY).fetchall()
    except sqlite3.Error as e:
        raise SourceError(f"{path}: not an iMessage database ({_one_line(e)})", _HINT) from None
    except UnicodeDecodeError:  # column names are decoded by Python whatever the text_factory
        raise SourceError(f"{path}: damaged database (its schema is not UTF-8)", "copy chat.db again from ~/Library/Messages") from None
    finally:
        connection.close()
    chats: dict[int, Stream] = {}
    skipped: list[str] = []
    for chat_id, chat_guid, identifier, display_name, guid, text, body, date, from_me, handle, associated, item_type in rows:
        if (isinstance(associated, int) and associated in TAPBACK_TYPES) or (item_type not in (0, None)):
            continue
        words = text if isinstance(text, str) and text.strip() else decode_attributed_body(body)
        if not words or not words.replace("\ufffc", "").strip():  # U+FFFC: an attachment's placeholder
            if body is not None and not words and not (isinstance(text, str) and text.strip()):
                skipped.append(str(guid))
            continue
        stream = chats.get(chat_id)
        if stream is None:
            title = display_name if isinstance(display_name, str) and display_name.strip() else str(identifier or chat_guid or chat_id)
            stream = chats[chat_id] = Stream(f"{path}#{chat_guid or chat_id}", str(path), FORMAT, title.strip())
        stream.units.append(
            Unit(
                text=words.replace("\ufffc", "").strip(),
                time=apple_time(date),
                speaker="me" if from_me else (str(handle) if handle else None),
                message_id=str(guid) if guid else f"message {len(stream.units) + 1}",
            )
        )
    if skipped:
        warn(f"{path}: {len(skipped)} message{'' if len(skipped) == 1 else 's'} with an undecodable attributedBody skipped (first: {skipped[0]})")
    if not rows:
        raise SourceError(f"{path}: no messages in the database", _HINT)
    for stream in chats.values():
        stream.units = in_time_order(stream.units)
    return list(chats.values())


def apple_time(value: object) -> datetime | None:
    """Messages' `date`: since 2001-01-01 UTC, nanoseconds (macOS 10.13+) or seconds; None when absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    seconds = value / 1e9 if value > NANOSECONDS_ABOVE else value
    try:
        return APPLE_EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def decode_attributed_body(blob: object) -> str | None:
    """The NSString inside a typedstream-archived NSAttributedString, or None when there is none.

    After the class name "NSString" comes its archive header and "+" (a C string follows), then the
    length: one byte, or 0x81 and two little-endian bytes, or 0x82 and four.
    """
    if not isinstance(blob, bytes):
        return None
    start = blob.find(b"NSString")
    if start < 0:
        return None
    plus = blob.find(b"+", start + len(b"NSString"), start + len(b"NSString") + 12)
    if plus < 0 or plus + 1 >= len(blob):
        return None
    at = plus + 1
    marker = blob[at]
    if marker == 0x81:
        size, at = int.from_bytes(blob[at + 1 : at + 3], "little"), at + 3
    elif marker == 0x82:
        size, at = int.from_bytes(blob[at + 1 : at + 5], "little"), at + 5
    else:
        size, at = marker, at + 1
    raw = blob[at : at + size]
    if len(raw) < size:
        return None
    return raw.decode("utf-8", "replace") or None


def _one_line(error: Exception) -> str:
    """SQLite quotes a damaged schema's SQL, newlines and all, in its message; a warning is one line."""
    return " ".join(str(error).split())
