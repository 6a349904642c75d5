"""Telegram Desktop exports (`result.json`, format JSON): one stream per chat, messages in time order.

The file holds one chat (`{"name", "type", "id", "messages": [...]}`) or the whole account
(`{"chats": {"list": [...]}, "left_chats": {"list": [...]}, ...}`). A message's `text` is a
string or a list of strings and entity objects (`{"type", "text"}`), which are joined; a link
with other words on it keeps its address in parentheses. Service messages (joins, calls, pins)
and media without a caption are skipped. `date_unixtime` (epoch seconds) gives the time;
without it, `date` is read as local time. Replies are ordinary messages in time order; what
they answer is not copied into them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import from_epoch, parse_iso
from .messages import Malformed, export_name, in_time_order, name_note, read_messages

FORMAT = "telegram"
# How many messages of a single-chat file are looked at to tell it from other JSON with "messages".
SNIFF_MESSAGES = 20
# Chat types whose export has no "name".
UNNAMED_CHAT_TITLES = {"saved_messages": "Saved Messages"}
_HINT = 'expected result.json from Telegram Desktop (Export chat history, format JSON); see the README section "Sources"'



def is_telegram_export(data: object) -> bool:
    """A whole-account export (`chats.list`) or one chat: `messages` dated with `date`/`date_unixtime`."""
    if not isinstance(data, dict) or "guild" in data or "channel" in data:  # DiscordChatExporter
        return False
    chats = data.get("chats")
    if isinstance(chats, dict) and isinstance(chats.get("list"), list):
        return True
    messages = data.get("messages")
    if not isinstance(messages, list) or not ("type" in data or "name" in data):
        return False
    return not messages or any(isinstance(m, dict) and ("date_unixtime" in m or "date" in m) for m in messages[:SNIFF_MESSAGES])


def read_telegram(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    """`data` is the parsed JSON; malformed chats and messages are warned about and skipped."""
    chats = _chats(path, data)
    streams: list[Stream] = []
    well_formed = 0
    for position, chat in enumerate(chats, start=1):
        where = f"{path}: chat {position}{name_note(chat, 'name')}"
        try:
            stream = _read_chat(path, position, chat, where, warn)
        except Malformed as e:
            warn(f"{where}: {e} — skipped")
            continue
        well_formed += 1
        if stream.units:
            streams.append(stream)
    if not well_formed:
        raise SourceError(f"{path}: none of its {_count(len(chats), 'chat')} could be read", _HINT)
    if not streams:
        raise SourceError(f"{path}: no text messages in its {_count(len(chats), 'chat')} (only service messages or media)", _HINT)
    return streams


def _chats(path: Path, data: object) -> list:
    """The chats of a whole-account export (left chats too), or the one chat of a chat export."""
    if not isinstance(data, dict):
        raise SourceError(f"{path}: not a Telegram export (expected a JSON object)", _HINT)
    if "chats" not in data:
        return [data]
    chats: list = []
    for section in ("chats", "left_chats"):
        listed = data.get(section).get("list") if isinstance(data.get(section), dict) else None
        if isinstance(listed, list):
            chats += listed
    if not chats:
        raise SourceError(f"{path}: no chats in the Telegram export", f"export again with Chats ticked; {_HINT}")
    return chats


def _read_chat(path: Path, position: int, chat: object, where: str, warn: Callable[[str], None]) -> Stream:
    if not isinstance(chat, dict):
        raise Malformed("not a JSON object")
    messages = chat.get("messages")
    if not isinstance(messages, list):
        raise Malformed('no "messages" list')
    units = read_messages(messages, _message_unit, where, warn)
    chat_id = chat.get("id")
    has_id = isinstance(chat_id, (int, str)) and not isinstance(chat_id, bool) and chat_id != ""
    return Stream(
        stream_id=f"{path}#{chat_id if has_id else position}",
        path=str(path),
        format=FORMAT,
        title=_title(path, position, chat, chat_id if has_id else None),
        units=in_time_order(units),
    )


def _title(path: Path, position: int, chat: dict, chat_id: object) -> str:
    name = chat.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    kind = chat.get("type")
    if isinstance(kind, str) and kind in UNNAMED_CHAT_TITLES:
        return UNNAMED_CHAT_TITLES[kind]
    return f"chat {chat_id}" if chat_id is not None else f"{export_name(path)} #{position}"


def _message_unit(message: object, number: int) -> Unit | None:
    """The unit for one message, or None when it is a service message or has no text."""
    if not isinstance(message, dict):
        raise Malformed("not a JSON object")
    if message.get("type", "message") != "message":
        return None  # "service": joins, pins, calls, title changes
    text = _joined_text(message.get("text"))
    if text is None:
        text = _joined_text(message.get("text_entities"))
    if text is None:
        raise Malformed('no "text"')
    text = text.strip()
    if not text:
        return None  # a photo, sticker, voice note or poll without a caption
    message_id = message.get("id")
    return Unit(
        text=text,
        time=_message_time(message),
        speaker=_speaker(message),
        message_id=str(message_id) if isinstance(message_id, (int, str)) and message_id != "" else f"message {number}",
    )


def _joined_text(value: object) -> str | None:
    """A string, or a list of strings and entities (bold, links, mentions) joined; None for anything else."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return None
    pieces = []
    for piece in value:
        if isinstance(piece, dict):
            text, href = piece.get("text"), piece.get("href")
            if not isinstance(text, str):
                continue
            if isinstance(href, str) and href and href != text:
                text = f"{text} ({href})"  # a "text_link": the words and where they point
            piece = text
        if isinstance(piece, str):
            pieces.append(piece)
    return "".join(pieces)


def _message_time(message: dict) -> datetime | None:
    epoch = message.get("date_unixtime")
    if isinstance(epoch, (str, int, float)) and not isinstance(epoch, bool):
        try:
            return from_epoch(float(epoch))
        except (ValueError, OverflowError):
            pass
    date = message.get("date")
    return parse_iso(date) if isinstance(date, str) else None  # naive: local time


def _speaker(message: dict) -> str | None:
    """The sender's name; a deleted account has none, so its id ("user123") stands in."""
    for key in ("from", "from_id"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

