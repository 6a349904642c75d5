"""Slack workspace exports: `users.json`, `channels.json`, one folder per channel, one JSON file per day.

- In a folder, each day file (`general/2026-11-17.json`) is read on its own, as one stream
  "#general 2026-11-17"; names come from `users.json` and `channels.json` two levels up.
- In the export zip, all days of a channel form one stream "#general", in time order.

Threads stay in their channel's stream, in time order: a reply sits where it was posted, with
no prefix, and its message id is its own `ts` (the id a Slack link uses), so a thread never
hides a conversation that went on beside it. Joins, leaves, topic and purpose changes are
skipped; bot messages with text are kept. Markup is made readable: `<@U1>` becomes `@name`,
`<#C1|general>` `#general`, `<https://x|label>` `label (https://x)`, and `&amp; &lt; &gt;` are unescaped.
A shared file adds "[file: title]", so a message holding only a file can be found by its name.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import from_epoch

FORMAT = "slack"
# Channel housekeeping, not something anyone said.
SKIPPED_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_join",
        "group_leave",
        "group_topic",
        "group_purpose",
        "group_name",
        "tombstone",  # "This message was deleted."
    }
)
# A bigger day file is not a Slack day; read_zip's member limit, for the members read here.
MAX_DAY_FILE_BYTES = 256 * 2**20
# How many messages decide whether a JSON list is a Slack day.
SNIFF_MESSAGES = 20

_TS = re.compile(r"\d{9,11}\.\d{1,6}")  # epoch seconds "1700000000.000100"
_DAY_NAME = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
_USER_REF = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL_REF = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL_REF = re.compile(r"<!([a-z]+)[^|>]*(?:\|([^>]*))?>")  # <!here>, <!subteam^S1|@team>, <!date^…|fallback>
_LINK = re.compile(r"<((?:https?|ftp|mailto|tel):[^|>]+)(?:\|([^>]*))?>")
_HINT = 'expected a Slack export (Workspace settings > Import/Export data); see the README section "Sources"'


def is_slack_day(data: object) -> bool:
    """A list most of whose first messages have `"type": "message"` and an epoch `ts` string."""
    if not isinstance(data, list) or not data:
        return False
    head = data[:SNIFF_MESSAGES]
    slack = sum(isinstance(m, dict) and m.get("type") == "message" and _is_ts(m.get("ts")) for m in head)
    return slack * 2 > len(head)


def read_slack_day(path: Path, data: object, warn: Callable[[str], None]) -> list[Stream]:
    """One day file of a folder export: one stream "#channel YYYY-MM-DD"."""
    if not isinstance(data, list):
        raise SourceError(f"{path}: not a Slack day file (expected a list of messages)", _HINT)
    units = _units(data, _folder_names(path))
    if not units:
        raise SourceError(f"{path}: no Slack messages to index (only joins, leaves or empty messages)", _HINT)
    channel = path.parent.name
    return [Stream(stream_id=f"{path}#{channel}", path=str(path), format=FORMAT, title=f"#{channel} {path.stem}", units=units)]


def read_slack_zip(path: Path, archive: zipfile.ZipFile, warn: Callable[[str], None]) -> list[Stream] | None:
    """One stream per channel, all its days in time order; None when the zip is not a Slack export.

    A zip is a Slack export when it holds `channels.json`, a Slack-shaped `users.json`, or a
    `users.json` beside `<channel>/YYYY-MM-DD.json` files (Claude exports hold a `users.json` too).
    """
    members = {m.filename: m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")}
    root = _export_root(members)
    if root is None:
        return None
    days = sorted(name for name in members if _channel_of_day(name, root) is not None)
    names: dict[str, str] = {}
    slack_users = False
    for metadata in ("users.json", "channels.json"):
        member = members.get(root + metadata)
        if member is None or member.file_size > MAX_DAY_FILE_BYTES:
            continue
        try:
            data = json.loads(_read_member(archive, member))
        except (ValueError, RecursionError, zipfile.BadZipFile, OSError, EOFError) as e:
            if days or metadata == "channels.json":
                warn(f"{path}!{member.filename}: unreadable ({type(e).__name__}) — names are shown as ids")
            continue
        found = _names(metadata, data)
        slack_users |= metadata == "users.json" and _is_slack_users(data)
        names |= found
    if root + "channels.json" not in members and not slack_users and not days:
        return None
    by_channel: dict[str, list[Unit]] = {}
    for name in days:
        where = f"{path}!{name}"
        if members[name].file_size > MAX_DAY_FILE_BYTES:
            warn(f"{where}: too big inside the zip ({members[name].file_size} bytes) — skipped")
            continue
        try:
            data = json.loads(_read_member(archive, members[name]))
        except (ValueError, RecursionError, zipfile.BadZipFile, OSError, EOFError) as e:  # truncation, CRC, encoding
            warn(f"{where}: unreadable ({type(e).__name__}) — skipped")
            continue
        if data != [] and not is_slack_day(data):
            warn(f"{where}: not a list of Slack messages — skipped")
            continue
        by_channel.setdefault(_channel_of_day(name, root), []).extend(_units(data, names))
    streams = []
    for channel, units in sorted(by_channel.items()):
        units.sort(key=lambda u: float(u.message_id))  # days read in name order; replies may land on later days
        if units:
            streams.append(Stream(stream_id=f"{path}#{channel}", path=str(path), format=FORMAT, title=f"#{channel}", units=units))
    if not streams:
        raise SourceError(
            f"{path}: a Slack export with no messages",
            "the zip holds the workspace files but no readable <channel>/YYYY-MM-DD.json day files; export it again with messages",
        )
    return streams


# ---- names ---------------------------------------------------------------------------------------


def _names(file_name: str, data: object) -> dict[str, str]:
    """Maps "@U1" to a display name (users.json) and "#C1" to a channel name (channels.json)."""
    names: dict[str, str] = {}
    for entry in data if isinstance(data, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        if file_name == "users.json":
            profile = entry.get("profile") if isinstance(entry.get("profile"), dict) else {}
            candidates = (profile.get("display_name"), profile.get("real_name"), entry.get("real_name"), entry.get("name"))
            key = "@" + entry["id"]
        else:
            candidates = (entry.get("name"),)
            key = "#" + entry["id"]
        name = next((c.strip() for c in candidates if isinstance(c, str) and c.strip()), None)
        if name:
            names[key] = name
    return names


def _is_slack_users(data: object) -> bool:
    return isinstance(data, list) and any(
        isinstance(u, dict) and isinstance(u.get("id"), str) and (isinstance(u.get("profile"), dict) or isinstance(u.get("name"), str))
        for u in data
    )


def folder_metadata(day_file: Path) -> list[Path]:
    """The export's users.json and channels.json two levels above a day file, those that exist:
    where its speakers' and channels' names come from."""
    if not _DAY_NAME.fullmatch(day_file.name):
        return []
    return [m for m in (day_file.parent.parent / name for name in ("users.json", "channels.json")) if m.is_file()]


def _folder_names(day_file: Path) -> dict[str, str]:
    """Names from the export folder two levels up; read once per file version."""
    names: dict[str, str] = {}
    for metadata in folder_metadata(day_file):
        try:
            stat = metadata.stat()
        except OSError:
            continue
        names |= _names_file(str(metadata), metadata.name, stat.st_mtime_ns, stat.st_size)
    return names


@lru_cache(maxsize=16)
def _names_file(path: str, file_name: str, mtime_ns: int, size: int) -> dict[str, str]:
    # mtime and size are part of the cache key: an export unpacked again is read again.
    try:
        return _names(file_name, json.loads(Path(path).read_text(encoding="utf-8-sig")))
    except (OSError, ValueError, RecursionError):
        return {}


# ---- messages ------------------------------------------------------------------------------------


def _units(messages: list, names: dict[str, str]) -> list[Unit]:
    units = []
    for message in messages:
        if not isinstance(message, dict) or message.get("type") != "message" or not _is_ts(message.get("ts")):
            continue
        subtype = message.get("subtype")
        if isinstance(subtype, str) and subtype in SKIPPED_SUBTYPES:
            continue
        raw = message.get("text")
        parts = [_readable(raw, names)] if isinstance(raw, str) else []
        parts += [f"[file: {title}]" for title in _file_titles(message.get("files"))]
        text = "\n".join(p for p in parts if p)
        if not text:
            continue
        ts = message["ts"]
        units.append(Unit(text=text, time=from_epoch(float(ts)), speaker=_speaker(message, names), message_id=ts))
    units.sort(key=lambda u: float(u.message_id))  # exports are in order; a hand-merged file may not be
    return units


def _is_ts(value: object) -> bool:
    return isinstance(value, str) and _TS.fullmatch(value) is not None


def _speaker(message: dict, names: dict[str, str]) -> str | None:
    user = message.get("user") if isinstance(message.get("user"), str) else None
    profile = message.get("user_profile") if isinstance(message.get("user_profile"), dict) else {}
    bot = message.get("bot_profile") if isinstance(message.get("bot_profile"), dict) else {}
    candidates = (
        names.get(f"@{user}"),
        profile.get("display_name"),
        profile.get("real_name"),
        message.get("username"),  # bot messages
        bot.get("name"),
        user,
    )
    return next((c.strip() for c in candidates if isinstance(c, str) and c.strip()), None)


def _readable(text: str, names: dict[str, str]) -> str:
    text = _USER_REF.sub(lambda m: "@" + (names.get(f"@{m.group(1)}") or m.group(2) or m.group(1)), text)
    text = _CHANNEL_REF.sub(lambda m: "#" + (m.group(2) or names.get(f"#{m.group(1)}") or m.group(1)), text)
    text = _SPECIAL_REF.sub(lambda m: m.group(2) or "@" + m.group(1), text)
    text = _LINK.sub(_link, text)
    # &amp; last, so an escaped "&amp;lt;" stays the text "&lt;"
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _link(match: re.Match) -> str:
    url, label = match.group(1), match.group(2)
    if not label or label in (url, url.removeprefix("mailto:"), url.removeprefix("tel:")):
        return label or url
    return f"{label} ({url})"


def _file_titles(files: object) -> list[str]:
    titles = []
    for file in files if isinstance(files, list) else []:
        if isinstance(file, dict):
            title = next((t.strip() for t in (file.get("title"), file.get("name")) if isinstance(t, str) and t.strip()), None)
            if title:
                titles.append(title)
    return titles


# ---- zips ----------------------------------------------------------------------------------------


def _export_root(members: dict[str, zipfile.ZipInfo]) -> str | None:
    """The folder prefix ("" or "Acme export/") holding channels.json or users.json; the outermost wins."""
    roots = [
        name[: -len(metadata)]
        for name in members
        for metadata in ("channels.json", "users.json")
        if name == metadata or name.endswith("/" + metadata)
    ]
    return min(roots, key=lambda r: (r.count("/"), r)) if roots else None


def _channel_of_day(name: str, root: str) -> str | None:
    """The channel of "<root>general/2026-11-17.json" ("general"); None for any other member."""
    if not name.startswith(root):
        return None
    parts = name[len(root) :].split("/")
    if len(parts) != 2 or not parts[0] or not _DAY_NAME.fullmatch(parts[1]):
        return None
    return parts[0]


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str:
    return archive.read(member).decode("utf-8-sig")
