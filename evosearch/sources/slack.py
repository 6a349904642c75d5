"""Slack workspace exports: `users.json`, `channels.json`, one folder per channel, one JSON file per day.

- In a folder, each day file (`general/2026-11-17.json`) is read on its own, as one stream
  "#general 2026-11-17"; names come from `users.json` two levels up.
- In the export zip, all days of a channel form one stream "#general", in time order.
Messages are kept in time order with their thread replies in place (a reply's id is its `ts`,
the id Slack links use). Joins, leaves, topic and purpose changes are skipped; bot messages
with text are kept. Mentions `<@U1>` become `@name`, channel links `#name`, links `label (url)`.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ..errors import SourceError
from .base import Stream, Unit
from .dates import from_epoch

FORMAT = "slack"
SKIPPED_SUBTYPES = frozenset(
    {"channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name", "group_join", "group_leave"}
)
_TS = re.compile(r"^\d{9,11}\.\d{1,6}$")
_DAY_FILE = re.compile(r"^(?:.*/)?([^/]+)/(\d{4}-\d{2}-\d{2})\.json$")
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]+))?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]+))?>")
_HINT = 'expected a Slack export (Workspace settings > Import/Export data); see the README section "Sources"'


def is_slack_day(data: object) -> bool:
    if not isinstance(data, list) or not data:
        return False
    head = [m for m in data[:20] if isinstance(m, dict)]
    slack = sum(m.get("type") == "message" and isinstance(m.get("ts"), str) and bool(_TS.match(m["ts"])) for m in head)
    return slack * 2 > len(data[:20])


def _names(users: object) -> dict[str, str]:
    names = {}
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
            for candidate in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")):
                if isinstance(candidate, str) and candidate.strip():
                    names[user["id"]] = candidate.strip()
                    break
    return names


@lru_cache(maxsize=16)
def _users_file(path: str, mtime: float) -> dict[str, str]:
    try:
        return _names(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def _folder_names(day_file: Path) -> dict[str, str]:
    users = day_file.parent.parent / "users.json"
    try:
        return _users_file(str(users), users.stat().st_mtime)
    except OSError:
        return {}


def _clean(text: str, names: dict[str, str]) -> str:
    text = _MENTION.sub(lambda m: "@" + (names.get(m.group(1)) or m.group(2) or m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + m.group(1), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _units(messages: object, names: dict[str, str]) -> list[Unit]:
    units = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or message.get("type") != "message" or message.get("subtype") in SKIPPED_SUBTYPES:
            continue
        ts, text = message.get("ts"), message.get("text")
        if not isinstance(ts, str) or not _TS.match(ts) or not isinstance(text, str):
            continue
        text = _clean(text, names)
        if not text:
            continue
        profile = message.get("user_profile") if isinstance(message.get("user_profile"), dict) else {}
        user = message.get("user") if isinstance(message.get("user"), str) else None
        speaker = names.get(user or "") or profile.get("display_name") or profile.get("real_name") or message.get("username") or user
        units.append(Unit(text=text, time=from_epoch(float(ts)), speaker=speaker or None, message_id=ts))
    units.sort(key=lambda u: float(u.message_id))
    return units


def read_slack_day(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    units = _units(data, _folder_names(path))
    if not units:
        raise SourceError(f"{path}: a Slack day file with no messages", _HINT)
    channel = path.parent.name
    return [Stream(stream_id=f"{path}#{channel}", path=str(path), format=FORMAT, title=f"#{channel} {path.stem}", units=units)]


def read_slack_zip(path: Path, archive: zipfile.ZipFile, warn: Callable[[str], None]) -> list[Stream] | None:
    """One stream per channel, or None when the zip is not a Slack export."""
    members = {PurePosixPath(m.filename).as_posix(): m for m in archive.infolist() if not m.is_dir()}
    roots = [name[: -len("channels.json")] for name in members if name.endswith("channels.json") or name == "channels.json"]
    roots += [name[: -len("users.json")] for name in members if name.endswith("users.json")]
    if not roots:
        return None
    root = min(roots, key=len)
    names = {}
    if root + "users.json" in members:
        try:
            names = _names(json.loads(archive.read(members[root + "users.json"]).decode("utf-8-sig")))
        except (ValueError, zipfile.BadZipFile, OSError, EOFError):
            warn(f"{path}!{root}users.json: unreadable — names are shown as user ids")
    by_channel: dict[str, list[Unit]] = {}
    for name, member in sorted(members.items()):
        match = _DAY_FILE.match(name[len(root) :]) if name.startswith(root) else None
        if match is None or "/" in name[len(root) :].split("/", 1)[1]:
            continue
        try:
            data = json.loads(archive.read(member).decode("utf-8-sig"))
        except (ValueError, zipfile.BadZipFile, OSError, EOFError) as e:
            warn(f"{path}!{name}: unreadable ({type(e).__name__}) — skipped")
            continue
        if not is_slack_day(data) and data != []:
            warn(f"{path}!{name}: not a list of Slack messages — skipped")
            continue
        by_channel.setdefault(match.group(1), []).extend(_units(data, names))
    streams = []
    for channel, units in sorted(by_channel.items()):
        units.sort(key=lambda u: float(u.message_id))
        if units:
            streams.append(Stream(stream_id=f"{path}#{channel}", path=str(path), format=FORMAT, title=f"#{channel}", units=units))
    if not streams:
        raise SourceError(f"{path}: a Slack export with no messages", "the zip holds users.json or channels.json but no channel day files")
    return streams
