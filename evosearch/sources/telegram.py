"""Telegram Desktop exports (`result.json`, JSON format): one stream per chat.

The file holds one chat (`{"name", "id", "messages": [...]}`) or the whole account
(`{"chats": {"list": [...]}, "left_chats": {"list": [...]}}`). A message's `text` is a string
or a list of strings and entity objects (`{"type", "text"}`); service messages (joins, calls,
pins) and media without a caption are skipped. `date_unixtime` gives the time; without it,
`date` is local time. A message's id is its Telegram id; replies stay in time order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import from_epoch, to_utc

FORMAT = "telegram"
_HINT = 'expected result.json from Telegram Desktop (Export chat history, format JSON); see the README section "Sources"'


def _chat_like(data: object) -> bool:
    messages = data.get("messages") if isinstance(data, dict) else None
    return isinstance(messages, list) and (
        not messages or any(isinstance(m, dict) and ("date" in m or "date_unixtime" in m) for m in messages[:20])
    )


def is_telegram_export(data: object) -> bool:
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("chats"), dict) and isinstance(data["chats"].get("list"), list):
        return True
    return _chat_like(data) and ("type" in data or "name" in data) and "guild" not in data and "channel" not in data


def read_telegram(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    chats = []
    if isinstance(data, dict) and isinstance(data.get("chats"), dict):
        for key in ("chats", "left_chats"):
            section = data.get(key)
            if isinstance(section, dict) and isinstance(section.get("list"), list):
                chats += section["list"]
    elif isinstance(data, dict):
        chats = [data]
    streams = []
    for position, chat in enumerate(chats, start=1):
        if not _chat_like(chat):
            warn(f"{path}: chat {position}: no messages list — skipped")
            continue
        units = [u for m in chat["messages"] if (u := _unit(m)) is not None]
        if units:
            key = chat.get("id", position)
            name = chat.get("name") if isinstance(chat.get("name"), str) and chat.get("name") else f"chat {key}"
            streams.append(Stream(stream_id=f"{path}#{key}", path=str(path), format=FORMAT, title=name, units=units))
    if not streams:
        raise SourceError(f"{path}: a Telegram export with no text messages", _HINT)
    return streams


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            p if isinstance(p, str) else p.get("text", "") if isinstance(p, dict) and isinstance(p.get("text"), str) else "" for p in value
        )
    return ""


def _unit(message: object) -> Unit | None:
    if not isinstance(message, dict) or message.get("type", "message") != "message":
        return None
    text = _text(message.get("text")).strip()
    if not text:
        return None
    time = None
    try:
        if message.get("date_unixtime") is not None:
            time = from_epoch(float(message["date_unixtime"]))
        elif isinstance(message.get("date"), str):
            time = to_utc(datetime.fromisoformat(message["date"]))
    except (ValueError, TypeError, OverflowError):
        time = None
    speaker = message.get("from") if isinstance(message.get("from"), str) else None
    return Unit(text=text, time=time, speaker=speaker, message_id=str(message.get("id", "")))
