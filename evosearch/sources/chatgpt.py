"""ChatGPT data exports (`conversations.json`): one stream per conversation, its active branch only.

A conversation is a tree (every edit or regeneration starts a branch); what the person last
saw is the path from the root to `current_node`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import from_epoch
from .messages import Malformed, name_note

FORMAT = "chatgpt"
# Tool output (search results, code runs) is not something the person wrote or read as chat.
# System messages are kept only when they carry text and are not hidden (custom instructions are).
HIDDEN_ROLES = frozenset({"tool"})



def is_chatgpt_export(data: object) -> bool:
    """A list of conversations (or one conversation) each carrying a `mapping` tree."""
    if isinstance(data, dict):
        return isinstance(data.get("mapping"), dict)
    return isinstance(data, list) and any(isinstance(c, dict) and "mapping" in c for c in data)


def read_chatgpt(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    """`data` is the parsed JSON; malformed conversations are warned about and skipped."""
    conversations = [data] if isinstance(data, dict) else data
    if not isinstance(conversations, list):
        raise SourceError(f"{path}: not a ChatGPT export (expected a list of conversations)", _HINT)
    streams: list[Stream] = []
    well_formed = 0
    for position, conversation in enumerate(conversations, start=1):
        try:
            stream = _read_conversation(path, position, conversation)
        except Malformed as e:
            warn(f"{path}: conversation {position}{name_note(conversation, 'title')}: {e} — skipped")
            continue
        well_formed += 1
        if stream.units:  # a conversation with no visible message has nothing to find
            streams.append(stream)
    if not well_formed:
        raise SourceError(f"{path}: none of its {len(conversations)} conversations could be read", _HINT)
    return streams


_HINT = 'expected conversations.json from a ChatGPT data export; see the README section "Chat formats"'


def _read_conversation(path: Path, position: int, conversation: object) -> Stream:
    if not isinstance(conversation, dict):
        raise Malformed("not a JSON object")
    mapping = conversation.get("mapping")
    if not isinstance(mapping, dict):
        raise Malformed('no "mapping" of messages')
    started = _epoch_or_none(conversation.get("create_time"))
    units = []
    for node in _active_branch(mapping, conversation.get("current_node")):
        unit = _message_unit(node.get("message"), node.get("id"), started)
        if unit is not None:
            units.append(unit)
    key = conversation.get("conversation_id") or conversation.get("id") or position
    title = conversation.get("title")
    return Stream(
        stream_id=f"{path}#{key}",
        path=str(path),
        format=FORMAT,
        title=title if isinstance(title, str) and title else f"{path.stem} #{position}",
        units=units,
    )


def _active_branch(mapping: dict, current: object) -> list[dict]:
    """Nodes from the root to `current_node`; without one, the newest child at every step."""
    if current is None:
        return _newest_branch(mapping)
    if not isinstance(current, str) or current not in mapping:
        raise Malformed(f"current_node {current!r} is not in the mapping")
    branch: list[dict] = []
    seen: set[str] = set()
    node_id: object = current
    while node_id is not None:
        if not isinstance(node_id, str) or node_id in seen:
            raise Malformed("its parent links loop or are broken")
        node = mapping.get(node_id)
        if node is None:
            break  # parent pruned from the export: the branch starts here
        if not isinstance(node, dict):
            raise Malformed(f"node {node_id!r} is not a JSON object")
        seen.add(node_id)
        branch.append(node)
        node_id = node.get("parent")
    branch.reverse()
    return branch


def _newest_branch(mapping: dict) -> list[dict]:
    roots = [n for n in mapping.values() if isinstance(n, dict) and n.get("parent") not in mapping]
    if not roots:
        raise Malformed("no root message and no current_node")
    branch = [roots[0]]
    seen = {id(roots[0])}
    while True:
        children = branch[-1].get("children")
        newest = children[-1] if isinstance(children, list) and children else None
        child = mapping.get(newest) if isinstance(newest, str) else None
        if not isinstance(child, dict) or id(child) in seen:
            return branch
        seen.add(id(child))
        branch.append(child)


def _message_unit(message: object, node_id: object, conversation_time: datetime | None) -> Unit | None:
    """The unit for one message, or None when it is empty or not meant to be seen."""
    if not isinstance(message, dict):
        return None
    author = message.get("author") if isinstance(message.get("author"), dict) else {}
    role = author.get("role") if isinstance(author.get("role"), str) else None
    metadata = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
    if role in HIDDEN_ROLES or metadata.get("is_visually_hidden_from_conversation"):
        return None
    if message.get("recipient") not in (None, "all"):
        return None  # the assistant calling a tool: not shown as chat
    text = _visible_text(message.get("content"))
    if not text:
        return None
    time = _epoch_or_none(message.get("create_time")) or conversation_time
    message_id = message.get("id") or node_id
    return Unit(text=text, time=time, speaker=role, message_id="" if message_id is None else str(message_id))


def _visible_text(content: object) -> str:
    if not isinstance(content, dict):
        return ""
    parts = content.get("parts")
    if not isinstance(parts, list):
        text = content.get("text")
        return text.strip() if isinstance(text, str) else ""
    texts = []
    for part in parts:
        if isinstance(part, dict):
            part = part.get("text")  # images, audio and file pointers carry no text
        if isinstance(part, str) and part.strip():
            texts.append(part.strip())
    return "\n\n".join(texts)


def _epoch_or_none(value: object) -> datetime | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return from_epoch(value)
    except ValueError:
        return None
