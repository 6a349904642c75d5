"""Export archives (.zip): ChatGPT, Claude, WhatsApp and Slack hand out zips; read the chat files inside.

Only members that a chat reader recognises are indexed (a ChatGPT zip's chat.html duplicates
its conversations.json; images and metadata files are not messages). Streams keep the zip as
their source path and carry the member name in their stream id: "<zip>!<member>#<conversation>".
A Slack export zip is read whole instead, one stream per channel across its day files: "<zip>#<channel>".
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..errors import SourceError
from .base import Stream
from .encoding import decode_text
from .slack import read_slack_zip

ZIP_MAGIC = b"PK\x03\x04"
CHAT_MEMBER_SUFFIXES = (".json", ".jsonl", ".ndjson", ".txt", ".csv")


def package_mimetype(archive: zipfile.ZipFile) -> bytes | None:
    """The `mimetype` member that OpenDocument and EPUB packages start with, or None."""
    try:
        return archive.read("mimetype").strip()
    except (KeyError, OSError, zipfile.BadZipFile, ValueError, NotImplementedError):
        return None


def read_zip(
    path: Path,
    data: bytes,
    max_member_bytes: int,
    read_chat: Callable[[Path, str], list[Stream] | None],
    warn: Callable[[str], None],
) -> list[Stream]:
    """read_chat(member_path, text) returns the member's streams, or None when it is not a chat."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise SourceError(f"{path}: unreadable zip ({e})", "the download may be incomplete; export it again") from None
    slack = read_slack_zip(path, archive, warn)
    if slack is not None:
        return slack
    streams: list[Stream] = []
    for member in members:
        if not member.filename.lower().endswith(CHAT_MEMBER_SUFFIXES):
            continue
        where = f"{path}!{member.filename}"
        if member.file_size > max_member_bytes:
            warn(f"{where}: too big inside the zip ({member.file_size} bytes) — skipped")
            continue
        try:
            raw = archive.read(member)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:  # CRC errors, truncation
            warn(f"{where}: unreadable ({type(e).__name__}) — skipped")
            continue
        try:
            text = decode_text(where, raw, warn, utf8_only=member.filename.lower().endswith((".json", ".jsonl", ".ndjson")))
            found = read_chat(Path(where), text)
        except SourceError as e:
            warn(f"{e.message} — skipped")
            continue
        for stream in found or []:
            stream.path = str(path)
            streams.append(stream)
    if not streams:
        raise SourceError(
            f"{path}: no chat export found inside the zip",
            "evosearch reads ChatGPT, Claude, WhatsApp and Slack export zips; add other zips to .evosearchignore",
        )
    return streams
