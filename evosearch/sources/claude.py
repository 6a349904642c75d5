"""Claude.ai data exports (`conversations.json`): one stream per conversation, messages in time order.

A conversation has `uuid`, `name`, `created_at` and `chat_messages[]`; a message has `uuid`,
`sender` ("human" or "assistant"), `created_at`, its text in `content[]` blocks of type "text"
(tool calls, tool results and thinking are not chat) or, in older exports, in `text`.
Attachments' `extracted_content` is part of the message, after the file name in brackets;
uploaded `files[]` carry only a name and no text, so they are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import parse_iso
from .messages import Malformed, export_name, in_time_order, name_note, read_messages

FORMAT = "claude"
_HINT = 'expected conversations.json from a Claude data export; see the README section "Sources"'



def is_claude_export(data: object) -> bool:
    """A list of conversations (or one conversation) each carrying a `chat_messages` list."""
    if isinstance(data, dict):
        return isinstance(data.get("chat_messages"), list)
    return isinstance(data, list) and any(isinstance(c, dict) and isinstance(c.get("chat_messages"), list) for c in data)


def read_claude(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    """`data` is the parsed JSON; malformed conversations and messages are warned about and skipped."""
    conversations = [data] if isinstance(data, dict) else data
    if not isinstance(conversations, list):
        raise SourceError(f"{path}: not a Claude export (expected a list of conversations)", _HINT)
    if not conversations:
        raise SourceError(f"{path}: no conversations in the export", _HINT)
    streams: list[Stream] = []
    well_formed = 0
    for position, conversation in enumerate(conversations, start=1):
        where = f"{path}: conversation {position}{name_note(conversation, 'name')}"
        try:
            stream = _read_conversation(path, position, conversation, where, warn)
        except Malformed as e:
            warn(f"{where}: {e} — skipped")
            continue
        well_formed += 1
        if stream.units:  # a conversation with no text (only tool calls, or none yet) has nothing to find
            streams.append(stream)
    if not well_formed:
        raise SourceError(f"{path}: none of its {len(conversations)} conversations could be read", _HINT)
    if not streams:
        raise SourceError(f"{path}: no messages with text in its {len(conversations)} conversations", _HINT)
    return streams


def _read_conversation(path: Path, position: int, conversation: object, where: str, warn: Callable[[str], None]) -> Stream:
    if not isinstance(conversation, dict):
        raise Malformed("not a JSON object")
    messages = conversation.get("chat_messages")
    if not isinstance(messages, list):
        raise Malformed('no "chat_messages" list')
    started = _iso_or_none(conversation.get("created_at"))
    units = read_messages(messages, _message_unit, where, warn)
    key = conversation.get("uuid")
    name = conversation.get("name")
    return Stream(
        stream_id=f"{path}#{key if isinstance(key, str) and key else position}",
        path=str(path),
        format=FORMAT,
        title=name.strip() if isinstance(name, str) and name.strip() else f"{export_name(path)} #{position}",
        units=_dated(in_time_order(units), started),
    )


def _message_unit(message: object, number: int) -> Unit | None:
    """The unit for one message, or None when it holds no text."""
    if not isinstance(message, dict):
        raise Malformed("not a JSON object")
    blocks, text = message.get("content"), message.get("text")
    if not isinstance(blocks, list) and not isinstance(text, str):
        raise Malformed('neither "content" blocks nor "text"')
    parts = _text_blocks(blocks) or ([text.strip()] if isinstance(text, str) and text.strip() else [])
    parts += _attachment_texts(message.get("attachments"))
    if not parts:
        return None
    sender = message.get("sender")
    uuid = message.get("uuid")
    return Unit(
        text="\n\n".join(parts),
        time=_iso_or_none(message.get("created_at")),
        speaker=sender if isinstance(sender, str) and sender else None,
        message_id=uuid if isinstance(uuid, str) and uuid else f"message {number}",
    )


def _text_blocks(blocks: object) -> list[str]:
    if not isinstance(blocks, list):
        return []
    texts = []
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "text":
            text = block.get("text")
            if isinstance(text, str) and text.strip():
                texts.append(text.strip())
    return texts


def _attachment_texts(attachments: object) -> list[str]:
    """Pasted or uploaded documents whose text Claude extracted: searchable under their file name."""
    if not isinstance(attachments, list):
        return []
    texts = []
    for attachment in attachments:
        content = attachment.get("extracted_content") if isinstance(attachment, dict) else None
        if isinstance(content, str) and content.strip():
            name = attachment.get("file_name")
            texts.append(f"[{name if isinstance(name, str) and name else 'attachment'}]\n{content.strip()}")
    return texts


def _dated(units: list[Unit], started: datetime | None) -> list[Unit]:
    """Undated messages take the time of the message before them (the conversation's start for the first)."""
    dated, previous = [], started
    for unit in units:
        previous = unit.time or previous
        dated.append(unit if unit.time or previous is None else replace(unit, time=previous))
    return dated


def _iso_or_none(value: object) -> datetime | None:
    return parse_iso(value) if isinstance(value, str) else None

