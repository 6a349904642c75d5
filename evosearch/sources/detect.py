"""The one entry point for reading a source: check the bytes, tell the format by content, read it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import SourceError
from .archive import ZIP_MAGIC, read_zip
from .base import Stream
from .chatgpt import is_chatgpt_export, read_chatgpt
from .claude import is_claude_export, read_claude
from .csv_chat import looks_like_csv_chat, read_csv_chat
from .discord import is_discord_export, read_discord
from .document_bytes import read_binary_document
from .encoding import decode_text
from .google_chat import is_google_chat_export, read_google_chat
from .html import looks_like_html, read_html
from .imessage import is_chat_db, read_imessage
from .jsonl_chat import read_jsonl_chat
from .mail import SNIFF_BYTES, is_thunderbird_index, looks_like_eml, looks_like_mbox, read_eml, read_mail_folder, read_mbox
from .meta_chat import is_meta_export, read_meta_thread, thread_parts
from .slack import folder_metadata, is_slack_day, read_slack_day
from .telegram import is_telegram_export, read_telegram
from .text import read_document
from .walk import absolute_path, mailbox_members, open_source_file
from .whatsapp import looks_like_whatsapp, read_whatsapp

MAX_FILE_BYTES = 256 * 2**20
# How many lines decide whether a file is JSON Lines chat.
JSONL_SNIFF_LINES = 50

JSON_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})
# JSON is UTF-8 by definition (RFC 8259): a bad byte in these is damage, not another encoding.
UTF8_ONLY_SUFFIXES = JSON_LINES_SUFFIXES | {".json"}

# What _parse_json reports for text that does not even start like JSON.
_NOT_JSON = ValueError("not JSON")
_IGNORE_HINT = "add it to .evosearchignore to silence this"
_CHAT_FORMATS = (
    "supported chat exports: ChatGPT and Claude conversations.json, Telegram result.json, DiscordChatExporter JSON, "
    "Messenger and Instagram message_N.json, Google Chat messages.json, "
    'Slack day files, and JSON Lines with one {"ts", "speaker", "text"} message per line; see the README sections "Sources" and "Chat formats"'
)


# Chat exports that are one JSON document, tried in order on the parsed data:
# (looks_like(data) -> bool, read(path, data, warn) -> list[Stream]). Add a format with one line.
JSON_FORMATS: list[tuple[Callable[[object], bool], Callable]] = [
    (is_chatgpt_export, read_chatgpt),
    (is_claude_export, read_claude),
    (is_discord_export, read_discord),
    (is_telegram_export, read_telegram),
    (is_slack_day, read_slack_day),
    (is_meta_export, read_meta_thread),
    (is_google_chat_export, read_google_chat),
]
# Text formats that are not JSON, tried before falling back to notes:
# (looks_like(path, text) -> bool, read(path, text, warn) -> list[Stream]).
TEXT_FORMATS: list[tuple[Callable[[Path, str], bool], Callable]] = [
    (looks_like_whatsapp, read_whatsapp),
    (looks_like_csv_chat, read_csv_chat),
]


def read_source(path: Path, warn: Callable[[str], None], members: list[Path] | None = None) -> list[Stream]:
    """Streams of one file, whatever its format, or of a mail folder (its .eml files or a Maildir's
    messages: `members` as the walk listed them, else walk.mailbox_members); SourceError (message
    starting with the path) when it cannot be read."""
    path = absolute_path(path)
    if path.is_dir():
        streams = _read_mail_folder(path, mailbox_members(path, warn) if members is None else members, warn)
    else:
        streams = _read_unloaded(path, warn)
        if streams is None:
            streams = _read_loaded(path, warn)
    streams = [s for s in streams if s.units]
    if not streams:
        raise SourceError(f"{path}: no text found", "the file holds no paragraphs or messages to index")
    return streams


def companion_files(path: Path) -> list[Path]:
    """Other files read_source(path) reads along with it (a Messenger thread's message_2.json...,
    a Google Chat space's group_info.json, a Slack day file's users.json and channels.json, where
    names come from), so that a change in one of them alone is seen as a change of `path`. For a
    mail folder: its message files."""
    path = absolute_path(path)
    if path.is_dir():
        return mailbox_members(path)
    group_info = path.parent / "group_info.json"
    return [
        *thread_parts(path),
        *([group_info] if path.name == "messages.json" and group_info.is_file() else []),
        *folder_metadata(path),  # a Slack day file's names
    ]


def _read_mail_folder(folder: Path, members: list[Path], warn: Callable[[str], None]) -> list[Stream]:
    if not members:
        raise SourceError(f"{folder}: a folder without .eml files or Maildir messages", "index the folder to read the files in it")
    return read_mail_folder(folder, members, lambda file: _read_bytes(file)[0], warn)


def _read_unloaded(path: Path, warn: Callable[[str], None]) -> list[Stream] | None:
    """Mailboxes and databases are never loaded whole, so they have no size limit; None for other files."""
    try:
        with open_source_file(path) as f:
            head = f.read(SNIFF_BYTES)
            if is_chat_db(path, head):
                return read_imessage(path, warn)  # SQLite opens the file itself, read-only
            if is_thunderbird_index(head):
                raise SourceError(
                    f"{path}: a Thunderbird index (.msf), not mail", f"index the mailbox beside it ({path.with_suffix('').name}) or the folder holding both"
                )
            if not looks_like_mbox(path, head):
                return None
            f.seek(0)
            return read_mbox(path, f, warn)
    except FileNotFoundError:
        return None  # _read_bytes says so, as for any file
    except OSError as e:
        raise SourceError(f"{path}: cannot read ({e.strerror or e})", "check the file's permissions") from None


def _read_loaded(path: Path, warn: Callable[[str], None]) -> list[Stream]:
    data, mtime = _read_bytes(path)
    document = read_binary_document(path, data, mtime, warn)  # binary by nature: recognised before the text checks
    if document is not None:
        return document
    if data.startswith(ZIP_MAGIC):
        return read_zip(path, data, MAX_FILE_BYTES, lambda member, text: _read_chat(member, text, warn), warn)
    if looks_like_eml(path, data[:SNIFF_BYTES]):  # before decoding: a message carries its own charsets
        return read_eml(path, data, warn)
    return _read_by_content(path, _decode(path, data, warn), mtime, warn)


def _read_bytes(path: Path) -> tuple[bytes, float]:
    """The file's bytes and modification time; too big, unreadable and empty files are SourceErrors."""
    try:
        with open_source_file(path) as f:
            stat = os.fstat(f.fileno())
            if stat.st_size > MAX_FILE_BYTES:
                raise SourceError(
                    f"{path}: too big ({_mib(stat.st_size)}, the limit is {_mib(MAX_FILE_BYTES)})",
                    f"split it into smaller files, or {_IGNORE_HINT}",
                )
            data = f.read()
    except FileNotFoundError:
        raise SourceError(
            f"{path}: gone before it could be read (deleted or moved during the run)", "nothing to fix; a later run sees where it went"
        ) from None
    except OSError as e:
        raise SourceError(f"{path}: cannot read ({e.strerror or e})", "check the file's permissions") from None
    if not data.strip():
        raise SourceError(f"{path}: empty file", "nothing to index; add text or remove it")
    return data, stat.st_mtime


def _decode(path: Path, data: bytes, warn: Callable[[str], None]) -> str:
    """The bytes as text (see encoding.py); binary and blank files are SourceErrors."""
    text = decode_text(str(path), data, warn, utf8_only=path.suffix.lower() in UTF8_ONLY_SUFFIXES)
    if not text.strip():
        raise SourceError(f"{path}: empty file", "nothing to index; add text or remove it")
    return text


def _read_by_content(path: Path, text: str, mtime: float, warn: Callable[[str], None]) -> list[Stream]:
    """By content first, so a .txt holding JSON Lines is chat; the suffix only breaks ties."""
    if looks_like_html(path, text):
        return read_html(path, text, mtime)
    data, error = _parse_json(path, text)
    streams = _read_chat(path, text, warn, (data, error))
    if streams is not None:
        return streams
    if path.suffix.lower() != ".json":
        return read_document(path, text, mtime)
    if isinstance(error, json.JSONDecodeError):
        raise SourceError(
            f"{path}: invalid JSON at line {error.lineno}, column {error.colno} ({error.msg})",
            f"the file may be truncated or hand-edited; export it again, or {_IGNORE_HINT}",
        )
    if error is not None:
        raise SourceError(f"{path}: invalid JSON ({type(error).__name__})", f"export it again, or {_IGNORE_HINT}")
    raise SourceError(f"{path}: JSON but not a known chat export", _CHAT_FORMATS)


def _parse_json(path: Path, text: str) -> tuple[object, Exception | None]:
    """(data, None) when the text is JSON; (None, the error) when it is not or does not look like it."""
    if path.suffix.lower() != ".json" and text.lstrip()[:1] not in ("[", "{"):
        return None, _NOT_JSON
    try:
        return json.loads(text), None
    except (ValueError, RecursionError) as e:
        return None, e


def _read_chat(
    path: Path, text: str, warn: Callable[[str], None], parsed: tuple[object, Exception | None] | None = None
) -> list[Stream] | None:
    """A chat export by content, or None (the one detection cascade; inside archives nothing else is indexed)."""
    data, error = parsed if parsed is not None else _parse_json(path, text)
    if error is None:
        for looks_like, read in JSON_FORMATS:
            if looks_like(data):
                return read(path, data, warn)
    else:  # not JSON: a text chat format (iOS WhatsApp lines start with "[")
        for looks_like, read in TEXT_FORMATS:
            if looks_like(path, text):
                return read(path, text, warn)
    if path.suffix.lower() in JSON_LINES_SUFFIXES or (error is not None and _looks_like_jsonl_chat(text)):
        return read_jsonl_chat(path, text, warn)  # it says what is wrong with the lines
    return None


def _looks_like_jsonl_chat(text: str) -> bool:
    """Most of the first non-empty lines are JSON objects with a "text" field."""
    lines = []
    for line in text.split("\n"):
        if line.strip():
            lines.append(line)
            if len(lines) == JSONL_SNIFF_LINES:
                break
    messages = 0
    for line in lines:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        messages += isinstance(record, dict) and "text" in record
    return messages * 2 > len(lines)


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size} bytes"


def format_names() -> tuple[list[str], list[str]]:
    """What read_source reads, for help texts: (the file suffixes a folder walk takes in, the chat
    exports of the registries above, each named by its reader's module)."""
    from .walk import SOURCE_SUFFIXES

    readers = [read for _, read in JSON_FORMATS + TEXT_FORMATS] + [read_jsonl_chat]
    return sorted(SOURCE_SUFFIXES), [read.__module__.rsplit(".", 1)[-1].replace("_", " ") for read in readers]
