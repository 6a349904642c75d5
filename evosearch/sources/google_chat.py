"""Google Chat (Takeout `Google Chat/Groups/<space or DM>/messages.json`): one stream per space or DM.

`{"messages": [{"creator": {"name", "email", "user_type"}, "created_date", "text", "message_id",
"topic_id", "attached_files": [{"original_name", "export_name"}], "reactions", ...}]}`; beside it
`group_info.json` gives the space's `name` or its `members`. Times are Takeout's own strings:
"Tuesday, 3 November 2026 at 14:05:00 UTC", or in US English "Tuesday, November 3, 2026 at
2:05:00 PM UTC" (newer exports put U+202F before PM). Reactions are not messages; a message with
no text but files contributes "[attachment: name]"; a deleted one (no text, no files) nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .messages import Malformed, export_name, in_time_order, read_messages

FORMAT = "google-chat"
SNIFF_MESSAGES = 20
_FORMATS = ("%d %B %Y %H:%M:%S", "%B %d, %Y %I:%M:%S %p", "%d %B %Y %I:%M:%S %p", "%B %d, %Y %H:%M:%S")
_ZONE = re.compile(r"^(?:UTC|GMT)(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$")
_HINT = 'expected messages.json from a Google Takeout "Google Chat" export; see the README section "Sources"'


def is_google_chat_export(data: object) -> bool:
    """A `messages` list whose messages carry `creator` and `created_date`."""
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        return False
    messages = data["messages"]
    return any(isinstance(m, dict) and "created_date" in m and "creator" in m for m in messages[:SNIFF_MESSAGES])


def parse_takeout_time(text: str) -> datetime | None:
    """Takeout's "Tuesday, 3 November 2026 at 14:05:00 UTC" (and its US AM/PM variant); None when unreadable."""
    cleaned = " ".join(text.replace("\u202f", " ").replace(" at ", " ").split())
    if "," in cleaned.split(" ", 1)[0]:
        cleaned = cleaned.split(" ", 1)[1] if " " in cleaned else cleaned  # the weekday
    moment_text, _, zone_text = cleaned.rpartition(" ")
    zone = _zone(zone_text)
    if zone is None:
        return None
    for pattern in _FORMATS:
        try:
            return datetime.strptime(moment_text, pattern).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            continue
    return None


def _zone(text: str) -> timezone | None:
    match = _ZONE.match(text)
    if not match:
        return None
    sign, hours, minutes = match.groups()
    if not sign:
        return UTC
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return timezone(-offset if sign == "-" else offset) if offset < timedelta(hours=24) else None


def read_google_chat(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list):
        raise SourceError(f"{path}: not a Google Chat export (expected a messages list)", _HINT)
    units = read_messages(messages, _message_unit, str(path), warn)
    if not units:
        raise SourceError(f"{path}: no text messages among its {len(messages)} messages", _HINT)
    return [Stream(f"{path}#{path.parent.name}", str(path), FORMAT, _title(path, units), in_time_order(units))]


def _title(path: Path, units: list[Unit]) -> str:
    """The space's name from group_info.json beside it, else its members, else the folder's name."""
    info = None
    if "!" not in str(path):
        try:
            info = json.loads((path.parent / "group_info.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            info = None
    if isinstance(info, dict):
        if isinstance(info.get("name"), str) and info["name"].strip():
            return info["name"].strip()
        members = info.get("members")
        if isinstance(members, list):
            names = [m["name"].strip() for m in members if isinstance(m, dict) and isinstance(m.get("name"), str) and m["name"].strip()]
            if names:
                return ", ".join(names)
    speakers = sorted({u.speaker for u in units if u.speaker})
    return ", ".join(speakers) or path.parent.name or export_name(path)


def _message_unit(message: object, number: int) -> Unit | None:
    if not isinstance(message, dict):
        raise Malformed("not a JSON object")
    text = message.get("text")
    if text is not None and not isinstance(text, str):
        raise Malformed('"text" is not a string')
    text = text.strip() if text else ""
    files = message.get("attached_files")
    names = [f.get("original_name") or f.get("export_name") for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    labels = [f"[attachment: {n.strip()}]" for n in names if isinstance(n, str) and n.strip()]
    text = "\n".join([t for t in [text] if t] + labels)
    if not text:
        return None
    created = message.get("created_date")
    creator = message.get("creator") if isinstance(message.get("creator"), dict) else {}
    speaker = next((creator[k].strip() for k in ("name", "email") if isinstance(creator.get(k), str) and creator[k].strip()), None)
    message_id = message.get("message_id")
    return Unit(
        text=text,
        time=parse_takeout_time(created) if isinstance(created, str) else None,
        speaker=speaker,
        message_id=message_id if isinstance(message_id, str) and message_id else f"message {number}",
    )
