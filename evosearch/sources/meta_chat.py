"""Facebook Messenger and Instagram "Download your information" JSON: one stream per thread.

A thread folder (`messages/inbox/<name>_<id>/`) holds `message_1.json`, `message_2.json`, ...:
`{"participants": [{"name"}], "messages": [{"sender_name", "timestamp_ms", "content", ...}],
"title", "thread_path"}`, newest first. Reading message_1.json merges its siblings in time order
(the walk skips the others). The export writes UTF-8 bytes as "\\u00c3\\u00a9" escapes, so every
string is re-read as UTF-8 when it survives that. Unsent messages and reactions are not messages;
Instagram's "Liked a message" / "Reacted ... to your message" notices are skipped for the same
reason. Photos, videos, files and audio contribute "[photo]" etc. when there is no text; a shared
link its URL. Instagram is told from Messenger by its export's folder (your_instagram_activity)
or its reaction notices; otherwise the thread is Messenger's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import from_epoch
from .messages import Malformed, export_name, in_time_order, read_messages

MESSENGER, INSTAGRAM = "messenger", "instagram"
THREAD_FILE = re.compile(r"message_(\d+)\.json")
# How many messages are looked at to tell the export from other JSON with "participants" and "messages".
SNIFF_MESSAGES = 20
_MEDIA = (("photos", "[photo]"), ("videos", "[video]"), ("audio_files", "[audio]"), ("files", "[file]"), ("gifs", "[gif]"))
_INSTAGRAM_NOTICE = re.compile(r"^(liked a message|reacted .{1,16} to your message)$", re.IGNORECASE)
_HINT = 'expected message_N.json from a Facebook or Instagram "Download your information" export in JSON; see the README section "Sources"'


def is_meta_export(data: object) -> bool:
    """`participants` and `messages` lists whose messages carry `sender_name` and `timestamp_ms`."""
    if not isinstance(data, dict) or not isinstance(data.get("participants"), list) or not isinstance(data.get("messages"), list):
        return False
    messages = data["messages"]
    return not messages or any(isinstance(m, dict) and "timestamp_ms" in m for m in messages[:SNIFF_MESSAGES])


def fix_mojibake(text: str) -> str:
    """The export's Latin-1-escaped UTF-8 back to text; text that is not such stays as it is."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def read_meta_thread(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    """`data` is message_N.json parsed; with message_1.json its siblings message_2.json... are merged in."""
    if not is_meta_export(data):
        raise SourceError(f"{path}: not a Messenger or Instagram thread (expected participants and messages)", _HINT)
    parts = [(path, data)] + _siblings(path, warn)
    units: list[Unit] = []
    instagram = "your_instagram_activity" in str(path)
    for part_path, part in parts:
        messages = part.get("messages")
        if not isinstance(messages, list):
            warn(f"{part_path}: no messages list — skipped")
            continue
        instagram = instagram or any(_is_instagram_notice(m) for m in messages[:200])
        units += read_messages(messages, _message_unit, str(part_path), warn)
    if not units:
        raise SourceError(f"{path}: no text messages in the thread (only reactions, unsent or media-less ones)", _HINT)
    title = data.get("title")
    title = fix_mojibake(title).strip() if isinstance(title, str) and title.strip() else _participants(data) or export_name(path.parent)
    thread = data.get("thread_path")
    key = thread if isinstance(thread, str) and thread else path.parent.name
    units = [u for u in units if not (instagram and _INSTAGRAM_NOTICE.match(u.text))]
    return [Stream(f"{path}#{key}", str(path), INSTAGRAM if instagram else MESSENGER, title, in_time_order(units))]


def thread_parts(path: Path) -> list[Path]:
    """message_2.json... beside message_1.json, in order (not inside zips, where each member stands alone):
    what reading message_1.json reads too, so a change in any of them is a change of the thread."""
    if path.name != "message_1.json" or "!" in str(path):
        return []
    try:
        numbered = [(int(m.group(1)), p) for p in path.parent.iterdir() if (m := THREAD_FILE.fullmatch(p.name)) and m.group(1) != "1"]
    except OSError:
        return []
    return [p for _, p in sorted(numbered)]


def _siblings(path: Path, warn: Callable[[str], None]) -> list[tuple[Path, dict]]:
    found = []
    for sibling in thread_parts(path):
        try:
            found.append((sibling, json.loads(sibling.read_text(encoding="utf-8"))))
        except (OSError, ValueError, RecursionError) as e:
            warn(f"{sibling}: unreadable ({type(e).__name__}) — its messages are missing from the thread; export it again")
    return [(p, d) for p, d in found if isinstance(d, dict)]


def _participants(data: dict) -> str:
    people = data.get("participants")
    names = [fix_mojibake(p["name"]).strip() for p in people if isinstance(p, dict) and isinstance(p.get("name"), str)]
    return ", ".join(n for n in names if n)


def _is_instagram_notice(message: object) -> bool:
    return isinstance(message, dict) and isinstance(message.get("content"), str) and bool(_INSTAGRAM_NOTICE.match(message["content"]))


def _message_unit(message: object, number: int) -> Unit | None:
    if not isinstance(message, dict):
        raise Malformed("not a JSON object")
    if message.get("is_unsent") is True:
        return None
    stamp = message.get("timestamp_ms")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
        raise Malformed('no "timestamp_ms" number')
    try:
        when = from_epoch(stamp / 1000)
    except (ValueError, OverflowError) as e:
        raise Malformed(f'"timestamp_ms" out of range ({e})') from None
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise Malformed('"content" is not a string')
    text = fix_mojibake(content).strip() if content else ""
    share = message.get("share")
    if isinstance(share, dict) and isinstance(share.get("link"), str) and share["link"] not in text:
        text = f"{text}\n{share['link']}".strip()
    if not text:
        text = " ".join(label for key, label in _MEDIA if isinstance(message.get(key), list) and message[key])
    if not text:
        return None  # a sticker, a call, or nothing
    sender = message.get("sender_name")
    return Unit(
        text=text,
        time=when,
        speaker=fix_mojibake(sender).strip() or None if isinstance(sender, str) else None,
        message_id=str(int(stamp)),  # the export has no ids: its millisecond time is what finds it again
    )
