"""DiscordChatExporter JSON exports: one stream per channel file.

`{"guild": {...}, "channel": {"id", "name", ...}, "messages": [...]}`; a message has `id`,
`type` ("Default", "Reply"; joins, pins and calls are skipped), `timestamp` (ISO with offset),
`content`, `author` (`nickname` preferred to `name`) and `attachments`. A message with no text
but attachments is kept as "[attachment: file name]", so a shared file can be found by name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import parse_iso

FORMAT = "discord"
KEPT_TYPES = frozenset({"Default", "Reply", None})
_HINT = 'expected a DiscordChatExporter JSON export; see the README section "Sources"'


def is_discord_export(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("channel"), dict) and isinstance(data.get("messages"), list)


def read_discord(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    if not is_discord_export(data):
        raise SourceError(f"{path}: not a DiscordChatExporter export", _HINT)
    channel, guild = data["channel"], data.get("guild") if isinstance(data.get("guild"), dict) else {}
    units, skipped = [], 0
    for message in data["messages"]:
        unit = _unit(message)
        if unit is None:
            skipped += not isinstance(message, dict)
            continue
        units.append(unit)
    if skipped:
        warn(f"{path}: {skipped} messages that are not JSON objects — skipped")
    if not units:
        raise SourceError(f"{path}: a Discord export with no text messages", _HINT)
    name = channel.get("name") if isinstance(channel.get("name"), str) else "channel"
    title = f"#{name}" + (f" ({guild['name']})" if isinstance(guild.get("name"), str) else "")
    return [Stream(stream_id=f"{path}#{channel.get('id', name)}", path=str(path), format=FORMAT, title=title, units=units)]


def _unit(message: object) -> Unit | None:
    if not isinstance(message, dict) or message.get("type") not in KEPT_TYPES:
        return None
    text = message.get("content").strip() if isinstance(message.get("content"), str) else ""
    if not text:
        names = [a.get("fileName") for a in message.get("attachments") or [] if isinstance(a, dict) and isinstance(a.get("fileName"), str)]
        text = " ".join(f"[attachment: {n}]" for n in names)
    if not text:
        return None
    author = message.get("author") if isinstance(message.get("author"), dict) else {}
    speaker = next((author[k] for k in ("nickname", "name") if isinstance(author.get(k), str) and author[k]), None)
    time = parse_iso(message["timestamp"]) if isinstance(message.get("timestamp"), str) else None
    return Unit(text=text, time=time, speaker=speaker, message_id=str(message.get("id", "")))
