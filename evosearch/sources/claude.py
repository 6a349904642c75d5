"""Claude.ai data exports (`conversations.json`): one stream per conversation.

A conversation has `uuid`, `name`, `created_at` and `chat_messages[]`; a message has `uuid`,
`sender` ("human" or "assistant"), `created_at`, and its text in `content[]` blocks of type
"text" (tool calls and results are skipped) or, in older exports, in `text`. Attachments'
`extracted_content` is part of the message, after the file name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import parse_iso

FORMAT = "claude"
_HINT = 'expected conversations.json from a Claude data export; see the README section "Sources"'


class _Malformed(ValueError):
    pass


def is_claude_export(data: object) -> bool:
    items = [data] if isinstance(data, dict) else data
    return isinstance(items, list) and any(isinstance(c, dict) and isinstance(c.get("chat_messages"), list) for c in items)


def read_claude(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    conversations = [data] if isinstance(data, dict) else data
    if not isinstance(conversations, list):
        raise SourceError(f"{path}: not a Claude export (expected a list of conversations)", _HINT)
    streams, well_formed = [], 0
    for position, conversation in enumerate(conversations, start=1):
        try:
            stream = _conversation(path, position, conversation)
        except _Malformed as e:
            warn(f"{path}: conversation {position}: {e} — skipped")
            continue
        well_formed += 1
        if stream.units:
            streams.append(stream)
    if not well_formed:
        raise SourceError(f"{path}: none of its {len(conversations)} conversations could be read", _HINT)
    return streams


def _conversation(path: Path, position: int, conversation: object) -> Stream:
    if not isinstance(conversation, dict) or not isinstance(conversation.get("chat_messages"), list):
        raise _Malformed('no "chat_messages" list')
    started = parse_iso(conversation["created_at"]) if isinstance(conversation.get("created_at"), str) else None
    units = []
    for n, message in enumerate(conversation["chat_messages"], start=1):
        if not isinstance(message, dict):
            continue
        text = _text(message)
        if not text:
            continue
        created = message.get("created_at")
        time = (parse_iso(created) if isinstance(created, str) else None) or started
        sender = message.get("sender") if isinstance(message.get("sender"), str) else None
        message_id = message.get("uuid") if isinstance(message.get("uuid"), str) else f"message {n}"
        units.append((time, n, Unit(text=text, time=time, speaker=sender, message_id=message_id)))
    if all(t is not None for t, _, _ in units):
        units.sort(key=lambda x: (x[0], x[1]))
    key = conversation.get("uuid") if isinstance(conversation.get("uuid"), str) else position
    name = conversation.get("name")
    return Stream(
        stream_id=f"{path}#{key}",
        path=str(path),
        format=FORMAT,
        title=name if isinstance(name, str) and name.strip() else f"{Path(str(path).split('!')[0]).stem} #{position}",
        units=[u for _, _, u in units],
    )


def _text(message: dict) -> str:
    parts = []
    blocks = message.get("content")
    if isinstance(blocks, list):
        parts = [b["text"].strip() for b in blocks if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)]
    if not any(parts) and isinstance(message.get("text"), str):
        parts = [message["text"].strip()]
    for attachment in message.get("attachments") or []:
        if (
            isinstance(attachment, dict)
            and isinstance(attachment.get("extracted_content"), str)
            and attachment["extracted_content"].strip()
        ):
            name = attachment.get("file_name") if isinstance(attachment.get("file_name"), str) else "attachment"
            parts.append(f"[{name}]\n{attachment['extracted_content'].strip()}")
    return "\n\n".join(p for p in parts if p)
