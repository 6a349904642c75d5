"""DiscordChatExporter JSON exports: one stream per file (one channel, thread or DM), messages in time order.

`{"guild": {"name"}, "channel": {"id", "name", "category"}, "messages": [...]}`; a message has
`id`, `type`, `timestamp` (ISO with offset), `content`, `author` (`nickname` preferred to
`name`), `attachments`, `embeds` and, for replies, `reference`. Only "Default" and "Reply"
messages are chat; joins, pins, calls, renames and thread notices are skipped. A message with no
content is kept when a bot embed or an attachment says something: the embed's title,
description and fields, then "[attachment: file name]", so a shared file can be found by name.
Replies are ordinary messages in time order; what they answer is not copied into them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import parse_iso
from .messages import Malformed, export_name, in_time_order, read_messages

FORMAT = "discord"
# A tuple, not a set: `type` may be any JSON value, and lists cannot be looked up in a set.
KEPT_TYPES = ("Default", "Reply")
# How many messages are looked at to tell the export from other JSON with "channel" and "messages".
SNIFF_MESSAGES = 20
_HINT = 'expected a DiscordChatExporter export in JSON format; see the README section "Sources"'



def is_discord_export(data: object) -> bool:
    """A `channel` object beside a `messages` list whose messages carry `timestamp` or `author`."""
    if not isinstance(data, dict) or not isinstance(data.get("channel"), dict):
        return False
    messages = data.get("messages")
    if not isinstance(messages, list):
        return False
    return not messages or any(isinstance(m, dict) and ("timestamp" in m or "author" in m) for m in messages[:SNIFF_MESSAGES])


def read_discord(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    """`data` is the parsed JSON; malformed messages are warned about and skipped."""
    channel = data.get("channel") if isinstance(data, dict) else None
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(channel, dict) or not isinstance(messages, list):
        raise SourceError(f"{path}: not a DiscordChatExporter export (expected a channel and its messages)", _HINT)
    if not messages:
        raise SourceError(f"{path}: no messages in the channel export", _HINT)
    units = read_messages(messages, _message_unit, path, warn)
    if not units:
        count = f"{len(messages)} message" + ("" if len(messages) == 1 else "s")
        raise SourceError(f"{path}: no text messages among its {count} (only joins, pins, empty or malformed ones)", _HINT)
    guild = data.get("guild") if isinstance(data.get("guild"), dict) else {}
    channel_id = channel.get("id")
    has_id = isinstance(channel_id, (int, str)) and not isinstance(channel_id, bool) and channel_id != ""
    return [
        Stream(
            stream_id=f"{path}#{channel_id if has_id else 'channel'}",
            path=str(path),
            format=FORMAT,
            title=_title(path, channel, guild),
            units=in_time_order(units),
        )
    ]


def _title(path: Path, channel: dict, guild: dict) -> str:
    """The title "#channel (guild)"; DMs say "(Direct Messages)", as the exporter names their guild."""
    name, guild_name = channel.get("name"), guild.get("name")
    title = f"#{name.strip()}" if isinstance(name, str) and name.strip() else export_name(path)
    return f"{title} ({guild_name.strip()})" if isinstance(guild_name, str) and guild_name.strip() else title


def _message_unit(message: object, number: int) -> Unit | None:
    """The unit for one message, or None when it is a system message or says nothing."""
    if not isinstance(message, dict):
        raise Malformed("not a JSON object")
    kind = message.get("type")
    if kind is not None and kind not in KEPT_TYPES:
        return None  # GuildMemberJoin, ChannelPinnedMessage, Call, ThreadCreated, ...
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise Malformed('"content" is not a string')
    text = content.strip() if content else ""
    if not text:
        text = "\n".join(_embed_texts(message.get("embeds")) + _attachment_labels(message.get("attachments")))
    if not text:
        return None  # a sticker, or an empty message
    author = message.get("author") if isinstance(message.get("author"), dict) else {}
    speaker = next((author[k].strip() for k in ("nickname", "name") if isinstance(author.get(k), str) and author[k].strip()), None)
    timestamp = message.get("timestamp")
    message_id = message.get("id")
    return Unit(
        text=text,
        time=parse_iso(timestamp) if isinstance(timestamp, str) else None,
        speaker=speaker,
        message_id=str(message_id) if isinstance(message_id, (int, str)) and message_id != "" else f"message {number}",
    )


def _embed_texts(embeds: object) -> list[str]:
    """What a bot or webhook wrote in embeds: title, description, then "name: value" fields."""
    if not isinstance(embeds, list):
        return []
    texts = []
    for embed in embeds:
        if not isinstance(embed, dict):
            continue
        for key in ("title", "description"):
            if isinstance(embed.get(key), str) and embed[key].strip():
                texts.append(embed[key].strip())
        for field in embed.get("fields") if isinstance(embed.get("fields"), list) else []:
            if isinstance(field, dict) and isinstance(field.get("value"), str) and field["value"].strip():
                name = field.get("name")
                label = f"{name.strip()}: " if isinstance(name, str) and name.strip() else ""
                texts.append(label + field["value"].strip())
    return texts


def _attachment_labels(attachments: object) -> list[str]:
    if not isinstance(attachments, list):
        return []
    names = (a.get("fileName") for a in attachments if isinstance(a, dict))
    return [f"[attachment: {name.strip()}]" for name in names if isinstance(name, str) and name.strip()]

