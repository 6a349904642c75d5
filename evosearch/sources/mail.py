"""Email: .mbox files (Gmail Takeout, Thunderbird), folders of .eml files, Maildirs and single .eml files;
one stream per thread, messages in time order.

Threads are joined through Message-ID, In-Reply-To and References; a reply that carries none of
them ("Re: subject" from a client that drops the headers) joins the thread of its subject. A
message is one unit: the sender's display name is the speaker, its Message-ID the locator, its
Date the time. Quoted replies ("> ..." and the "On ... wrote:" line before them, Outlook's
"-----Original Message-----") and signatures (after "-- ") are trimmed, so a thread is not indexed
once per reply. multipart/alternative is read once (plain text preferred, HTML converted when it
is the only body); attachments contribute "[attachment: name]", never their bytes, and an attachment
that is a document evosearch reads (PDF, Word, OpenDocument text, EPUB, HTML, markdown or plain
text) adds its text right after its message, through the same readers as a file of that kind: one
unit per block, the sender as speaker, "<Message-ID> attachment <name>" as the locator. Thunderbird
keeps deleted messages in the mbox until the folder is compacted (X-Mozilla-Status flag 0x0008);
they are skipped. A forwarded message attached whole (message/rfc822) is read like an attached
document: its sender, date, subject and trimmed body right after the message carrying it, its own
attachments by name.

A folder of .eml files, or a Maildir's cur/ and new/, is one mailbox, threaded across its files as an
mbox is across its messages (walk.mailbox_members lists them); a message without a Message-ID is
located by its file's name. An mbox is read line by line, one message in memory at a time (benchmarks/mbox_memory.py).
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

from ..errors import SourceError
from .base import Stream, Unit
from .dates import to_utc
from .document_bytes import read_binary_document, read_text_document
from .encoding import decode_text
from .html import html_to_text
from .messages import in_time_order

FORMAT = "email"
MBOX_SUFFIXES = frozenset({".mbox", ".mbx"})
EML_SUFFIXES = frozenset({".eml"})
# Enough of a file's start to see its header block: mail from Gmail or a corporate server can carry
# many kilobytes of Received, DKIM and ARC headers before From: and Date:.
SNIFF_BYTES = 64 * 2**10
# A message larger than this is skipped with a warning: its size is attachments, never prose.
MAX_MESSAGE_BYTES = 64 * 2**20
# An attachment over this size is indexed by name only, and so is one past this much read from its
# message: a message's time to read stays bounded whatever it carries (benchmarks/mbox_memory.py).
MAX_ATTACHMENT_BYTES = 20 * 2**20
MAX_ATTACHMENT_BYTES_PER_MESSAGE = 40 * 2**20
# Attachments read for their text, by MIME type or, for application/octet-stream and the like, by name.
BINARY_DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
        "application/epub+zip",
    }
)
BINARY_DOCUMENT_SUFFIXES = frozenset({".pdf", ".docx", ".odt", ".epub"})
TEXT_DOCUMENT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown", "text/html", "text/x-rst", "text/x-org"})
TEXT_DOCUMENT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".rst", ".org", ".html", ".htm"})
# A forwarded message attached whole: read for its text, like a document.
FORWARDED_TYPE = "message/rfc822"
# X-Mozilla-Status bit Thunderbird sets on a message deleted but not yet compacted away.
MOZILLA_DELETED = 0x0008
_HINT = 'expected an mbox (Gmail Takeout, Thunderbird) or .eml file; see the README section "Sources"'

# "From - Tue Nov 03 14:05:00 2026" (Thunderbird), "From 1829@xxx Tue Nov 03 14:05:00 +0000 2026" (Gmail)
_SEPARATOR = re.compile(rb"^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?", re.MULTILINE)
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_WROTE = re.compile(r"^(on\b.*|le\b.*|am\b.*|el\b.*)(wrote|écrit|schrieb|escribió)\s*:\s*$", re.IGNORECASE)
_WROTE_START = re.compile(r"^(on|le|am|el)\b", re.IGNORECASE)
_WROTE_END = re.compile(r"\b(wrote|écrit|schrieb|escribió)\s*:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(original message|forwarded message)\s*-{2,}\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*from:\s.+", re.IGNORECASE)
_ID = re.compile(r"<([^<>\s]+)>")


class _ParsedHeaders(HeaderRegistry):
    """The standard header classes, each (name, value) parsed once: the email package parses a
    header again on every read (Content-Type some eight times a message, through get_body and
    iter_attachments), and most values repeat across a mailbox. Header objects are read, never
    changed, so one may serve every message (benchmarks/mail_parse.py). The least recently used
    values go first, so a mailbox's unique Message-IDs never push out its common Content-Types."""

    LIMIT = 4096  # values kept

    def __init__(self):
        super().__init__()
        self._parsed = functools.lru_cache(maxsize=self.LIMIT)(super().__call__)

    def __call__(self, name: str, value: str):
        return self._parsed(name, value)


_PARSER = BytesParser(policy=policy.default.clone(header_factory=_ParsedHeaders()))


def looks_like_mbox(path: Path, head: bytes) -> bool:
    """An mbox starts with a "From " separator line followed by headers. Without an mbox suffix
    (Thunderbird names its mailboxes Inbox, Sent, ...) they must be a message's own: a block of
    header lines holding From: and one of Date:, Message-ID:, Subject:, so a note that happens to
    start with "From " stays a note."""
    if not _SEPARATOR.match(head):
        return False
    rest = head.split(b"\n", 1)[1] if b"\n" in head else b""
    if path.suffix.lower() in MBOX_SUFFIXES:
        return True
    names = _header_names(rest)
    return names is not None and _has_mail_headers(names)


def looks_like_eml(path: Path, head: bytes) -> bool:
    """A message (looks_like_message) named .eml, or carrying Received: or MIME-Version:."""
    names = _message_header_names(head)
    return _has_mail_headers(names) and (path.suffix.lower() in EML_SUFFIXES or b"received" in names or b"mime-version" in names)


def looks_like_message(head: bytes) -> bool:
    """Headers first, among them From: and one of Date:, Message-ID:, Subject: (a file of a mail folder)."""
    return _has_mail_headers(_message_header_names(head))


def _message_header_names(head: bytes) -> set[bytes]:
    block = head.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    if not _HEADER_LINE.match(block):
        return set()
    return {m.group(0).rstrip(b": \t").lower() for m in _HEADER_LINE.finditer(block)}


def is_thunderbird_index(head: bytes) -> bool:
    """Thunderbird's .msf files beside its mailboxes are Mork databases (an index), not mail."""
    return head.lstrip().startswith(b"// <!-- <mdb:mork")


def _header_names(text: bytes) -> set[bytes] | None:
    """The names in the header block that starts `text`, or None when a line in it is not a header."""
    names = set()
    block, *after = text.replace(b"\r\n", b"\n").split(b"\n\n", 1)
    lines = block.split(b"\n")
    for line in lines if after else lines[:-1]:  # a block the sniff cut off may end mid-line
        match = _HEADER_LINE.match(line)
        if match:
            names.add(match.group(0).rstrip(b": \t").lower())
        elif not (line[:1] in (b" ", b"\t") and names) and line.strip():
            return None  # not a header and not a folded header's continuation
    return names


def _has_mail_headers(names: set[bytes]) -> bool:
    return b"from" in names and bool(names & {b"date", b"message-id", b"subject"})


def read_mbox(path: Path, file: BinaryIO, warn: Callable[[str], None]) -> list[Stream]:
    """Threads of an mbox read from `file` message by message; bad messages are warned about and skipped."""
    streams, seen = _threads(path, _mbox_messages(path, file, warn), warn)
    if not seen:
        raise SourceError(f"{path}: no messages found", _HINT)
    return streams


def read_eml(path: Path, data: bytes, warn: Callable[[str], None]) -> list[Stream]:
    """One .eml file named on its own: its message as a thread of one."""
    streams, _ = _threads(path, iter([("message 1", data)]), warn)
    return streams


def read_mail_folder(folder: Path, files: list[Path], read: Callable[[Path], bytes], warn: Callable[[str], None]) -> list[Stream]:
    """The messages in `files` (a folder's .eml files, a Maildir's messages) as one mailbox, threaded
    across files; `read` gives a file's bytes or raises SourceError or OSError. Files that cannot be
    read or are not mail are left out, with one warning line for all of them."""
    not_mail: list[str] = []

    def messages() -> Iterator[tuple[str, bytes]]:
        for file in files:
            label = _relative_name(file, folder)
            try:
                data = read(file)
            except SourceError as e:
                not_mail.append(f"{label}: {e.message.removeprefix(f'{file}: ')}")
                continue
            except OSError as e:
                not_mail.append(f"{label}: {e.strerror or e}")
                continue
            if _SEPARATOR.match(data):  # some tools save a message with its mbox "From " line
                data = data.split(b"\n", 1)[1] if b"\n" in data else b""
            if len(data) > MAX_MESSAGE_BYTES:
                not_mail.append(f"{label}: over {MAX_MESSAGE_BYTES // 2**20} MiB (attachments)")
            elif not looks_like_message(data[:SNIFF_BYTES]):
                not_mail.append(f"{label}: not a mail message")
            else:
                yield label, data

    streams, seen = _threads(folder, messages(), warn)
    n = len(not_mail)
    summary = f"{n} file{'' if n == 1 else 's'} not read as mail ({not_mail[0]})" if n else ""
    if not seen:
        raise SourceError(f"{folder}: no mail messages found" + (f"; {summary}" if n else ""), _HINT)
    if n:
        warn(f"{folder}: {summary}")
    return streams


def _relative_name(file: Path, folder: Path) -> str:
    try:
        return file.relative_to(folder).as_posix()
    except ValueError:
        return file.name


def _mbox_messages(path: Path, file: BinaryIO, warn: Callable[[str], None]) -> Iterator[tuple[str, bytes]]:
    """(number, raw bytes) per message; a "From " line after a blank line starts the next one (mboxrd/mboxo)."""
    lines: list[bytes] = []
    size, number, too_big, previous_blank = 0, 0, False, True
    for line in file:
        if previous_blank and _SEPARATOR.match(line):
            if number:
                yield from _finish(path, number, lines, too_big, warn)
            number += 1
            lines, size, too_big = [], 0, False
        elif number:
            if line.startswith(b">From ") or line.startswith(b">>From "):
                line = line[1:]  # mboxrd escapes body lines starting "From "
            size += len(line)
            if size > MAX_MESSAGE_BYTES:
                too_big = True
                lines = []
            elif not too_big:
                lines.append(line)
        previous_blank = not line.strip()
    if number:
        yield from _finish(path, number, lines, too_big, warn)


def _finish(path: Path, number: int, lines: list[bytes], too_big: bool, warn: Callable[[str], None]) -> Iterator[tuple[str, bytes]]:
    if too_big:
        warn(f"{path}: message {number} is over {MAX_MESSAGE_BYTES // 2**20} MiB (attachments) — skipped")
    else:
        yield f"message {number}", b"".join(lines)


class _Thread:
    """A thread being gathered; once merged into another (`merged_into`), that one holds its messages."""

    def __init__(self, key: str, title: str):
        self.key, self.title, self.units = key, title, []
        self.merged_into: _Thread | None = None
        self.first: tuple[float, str] | None = None  # (time, subject) of its earliest dated message: its title

    def add(self, unit: Unit, subject: str) -> None:
        self.units.append(unit)
        if unit.time is not None and subject.strip() and (self.first is None or unit.time.timestamp() < self.first[0]):
            self.first = (unit.time.timestamp(), subject.strip())

    def current(self) -> _Thread:
        """The thread this one is now part of (a union-find root), the path to it shortened on the way."""
        root = self
        while root.merged_into is not None:
            root = root.merged_into
        thread = self
        while thread.merged_into is not None and thread.merged_into is not root:
            thread.merged_into, thread = root, thread.merged_into
        return root


def _threads(path: Path, raws: Iterator[tuple[str, bytes]], warn: Callable[[str], None]) -> tuple[list[Stream], int]:
    """(the threads of the messages in `raws`, how many messages there were). Each raw message comes
    with the label that locates it when it has no Message-ID ("message 3" in an mbox, a folder's file name)."""
    threads: dict[str, _Thread] = {}  # every Message-ID and reference seen -> its thread (or one merged into it)
    by_subject = _Subjects()
    created: list[_Thread] = []
    said: set[tuple[str | None, str]] = set()
    problems: list[str] = []
    attachment_problems: list[str] = []
    seen = 0
    for label, raw in raws:
        seen += 1
        try:
            message = _PARSER.parsebytes(raw)
            unit, refs, subject = _message_unit(message, label)
        except Exception as e:  # noqa: BLE001 - the email package raises many kinds on broken headers; one message must not lose the rest
            problems.append(f"{label}: {type(e).__name__}: {e}"[:200])
            continue
        if unit is None or (unit.message_id, unit.text) in said:
            continue  # says nothing, or the same message saved twice ("Plans.eml", "Plans (1).eml")
        said.add((unit.message_id, unit.text))
        thread = _join(threads, by_subject, created, unit, refs, subject)
        thread.add(unit, subject)
        where = label if unit.message_id == label else f"message <{unit.message_id}>"
        thread.units += _attachment_units(message, unit, where, attachment_problems.append)
    if problems:
        warn(f"{path}: {len(problems)} malformed message{'' if len(problems) == 1 else 's'} skipped ({problems[0]})")
    if attachment_problems:
        n = len(attachment_problems)
        warn(f"{path}: {n} attachment{'' if n == 1 else 's'} indexed by name only or in part ({attachment_problems[0]})")
    for orphan, normal in by_subject.orphans:  # a reply read before the message it answers (files in name order)
        original = by_subject.threads[normal].current()
        if original is not orphan.current():
            _merge(original, orphan.current())
    streams = [
        Stream(stream_id=f"{path}#{t.key}", path=str(path), format=FORMAT, title=t.first[1] if t.first else t.title, units=in_time_order(t.units))
        for t in created
        if t.merged_into is None and t.units
    ]
    return streams, seen


class _Subjects:
    """The subject fallback for replies without In-Reply-To or References: normalised subject -> the
    thread of the first message that is not a reply ("Photos"), else of the first reply ("RE: Photos");
    and the replies that started a thread of their own, joined at the end to the message they answer
    if it came later (a folder's files are read in name order, not time order)."""

    def __init__(self):
        self.threads: dict[str, _Thread] = {}
        self.originals: set[str] = set()
        self.orphans: list[tuple[_Thread, str]] = []

    def note(self, normal: str, is_reply: bool, thread: _Thread) -> None:
        if not is_reply and normal not in self.originals:
            self.originals.add(normal)
            self.threads[normal] = thread
        else:
            self.threads.setdefault(normal, thread)


def _join(threads: dict[str, _Thread], by_subject: _Subjects, created: list[_Thread], unit: Unit, refs: list[str], subject: str) -> _Thread:
    """The thread the message belongs to: through its references, else its reply subject, else a new one."""
    own = unit.message_id
    thread = next((threads[r].current() for r in refs if r in threads), None)
    if thread is None and own in threads:
        thread = threads[own].current()  # a reply seen first named this message as its parent
    normal = _REPLY_PREFIX.sub("", subject).strip().lower()
    is_reply = normal != subject.strip().lower()
    subject_reply = not refs and normal and is_reply
    if thread is None and subject_reply and normal in by_subject.threads:
        thread = by_subject.threads[normal].current()
    if thread is None:
        thread = _Thread(refs[0] if refs else own, subject.strip() or unit.speaker or "(no subject)")
        created.append(thread)
        if subject_reply:
            by_subject.orphans.append((thread, normal))
    for key in [own, *refs]:
        other = threads[key].current() if key in threads else None
        if other is not None and other is not thread:
            thread = _merge(thread, other)  # two threads met through a later reference: one thread
        threads.setdefault(key, thread)
    if normal:
        by_subject.note(normal, is_reply, thread)
    return thread


def _merge(kept: _Thread, other: _Thread) -> _Thread:
    """One thread of two, under kept's key and title; the smaller one's messages move, so that a
    mailbox whose threads keep meeting stays linear (benchmarks/mail_folder.py)."""
    big, small = (kept, other) if len(kept.units) >= len(other.units) else (other, kept)
    big.units.extend(small.units)
    small.units = []
    big.key, big.title = kept.key, kept.title
    big.first = min((f for f in (big.first, small.first) if f is not None), default=None)
    small.merged_into = big
    return big


def _message_unit(message: EmailMessage, label: str) -> tuple[Unit | None, list[str], str]:
    """(the unit or None when it says nothing, the ids it refers to (oldest first), its subject);
    `label` is its id when it has no Message-ID."""
    own = _ids(message.get("Message-ID", ""))
    refs = _ids(message.get("References", ""))
    for parent in _ids(message.get("In-Reply-To", "")):
        if parent not in refs:
            refs.append(parent)
    subject = str(message.get("Subject", "") or "")
    if _deleted_in_thunderbird(message):
        return None, refs, subject
    text = _trim(_body(message))
    attachments = [f"[attachment: {name}]" for name in _attachment_names(message)]
    text = "\n".join([t for t in [text] if t] + attachments)
    if not text.strip():
        return None, refs, subject
    return (
        Unit(text=text, time=_date(message), speaker=_speaker(message), message_id=own[0] if own else label),
        [r for r in refs if r not in own],
        subject,
    )


def _ids(value: object) -> list[str]:
    return _ID.findall(str(value or ""))


def _date(message: EmailMessage) -> datetime | None:
    value = message.get("Date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return to_utc(moment) if moment.tzinfo else to_utc(moment.replace(tzinfo=None))


def _speaker(message: EmailMessage) -> str | None:
    addresses = getaddresses([str(message.get("From", "") or "")])
    for name, address in addresses:
        if name.strip() or address.strip():
            return name.strip() or address.strip()
    return None


def _body(message: EmailMessage) -> str:
    """The plain text body, or the HTML one as text; multipart/alternative counts once."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if part.get_content_subtype() == "html" else content


def _named_attachments(message: EmailMessage) -> Iterator[tuple[str, EmailMessage]]:
    for part in message.iter_attachments() if message.is_multipart() else []:
        name = part.get_filename()
        if (not name or not name.strip()) and part.get_content_type() == FORWARDED_TYPE:
            # Outlook attaches a forwarded message without a file name; Gmail and Thunderbird name it "<subject>.eml"
            name = f"{_forwarded_subject(part) or 'forwarded message'}.eml"
        if name and name.strip():
            yield " ".join(name.split()), part


def _attachment_names(message: EmailMessage) -> list[str]:
    return [name for name, _ in _named_attachments(message)]


def _attachment_units(message: EmailMessage, unit: Unit, message_where: str, problem: Callable[[str], None]) -> list[Unit]:
    """The text of the message's attachments that are documents or forwarded messages, each block a
    unit placed right after the message (its time; its sender, or a forwarded message's); what cannot
    be read is reported through `problem` and left out. `message_where` names the message in problems."""
    units: list[Unit] = []
    budget = MAX_ATTACHMENT_BYTES_PER_MESSAGE
    for name, part in _named_attachments(message):
        where = f"{name!r} in {message_where}"
        locator = f"{unit.message_id} attachment {name}"
        try:
            if part.get_content_type() == FORWARDED_TYPE:
                forwarded = _forwarded_message(part)
                if forwarded is None:
                    continue
                size = _forwarded_size(forwarded)
            else:
                forwarded, kind = None, _document_kind(name, part.get_content_type())
                data = part.get_payload(decode=True) if kind else None
                if not isinstance(data, bytes) or not data.strip():
                    continue  # an image, a spreadsheet, an archive (its name is in the message's text), or empty
                size = len(data)
            if size > min(MAX_ATTACHMENT_BYTES, budget):
                limit = MAX_ATTACHMENT_BYTES if size > MAX_ATTACHMENT_BYTES else MAX_ATTACHMENT_BYTES_PER_MESSAGE
                problem(f"{where}: over the {limit // 2**20} MiB read per {'attachment' if limit == MAX_ATTACHMENT_BYTES else 'message'}")
                continue
            budget -= size
            if forwarded is not None:
                text = _forwarded_text(forwarded)
                if text:
                    units.append(Unit(text=text, time=unit.time, speaker=_speaker(forwarded) or unit.speaker, message_id=locator))
                continue
            texts = _attachment_texts(name, kind, part, data, unit, problem, where)
        except SourceError as e:
            problem(f"{where}: {e.message.split(': ', 1)[-1]}")
            continue
        except Exception as e:  # noqa: BLE001 - a damaged attachment must not lose its message or the mailbox
            problem(f"{where}: {type(e).__name__}")
            continue
        units += [Unit(text=t, time=unit.time, speaker=unit.speaker, message_id=locator) for t in texts]
    return units


def _forwarded_message(part: EmailMessage) -> EmailMessage | None:
    """The message inside a message/rfc822 part; one sent base64-encoded (against RFC 2046, but
    some clients do) is decoded first."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if inner is None:
        return None
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64" and not inner.keys():
        body = inner.get_payload()
        if isinstance(body, str):
            inner = _PARSER.parsebytes(base64.b64decode(body))
    return inner


def _forwarded_subject(part: EmailMessage) -> str:
    try:
        inner = _forwarded_message(part)
        return " ".join(str(inner.get("Subject", "") or "").split()) if inner is not None else ""
    except Exception:  # noqa: BLE001 - a damaged forwarded message is still named, by the fallback
        return ""


def _forwarded_size(inner: EmailMessage) -> int:
    """The encoded size of a forwarded message's parts: what reading it may cost, held to the attachment limits."""
    return sum(len(p.get_payload()) for p in inner.walk() if not p.is_multipart() and isinstance(p.get_payload(), str | bytes))


def _forwarded_text(inner: EmailMessage) -> str:
    """A forwarded message as one text: its sender, date and subject, its body trimmed as a message's
    is, its own attachments by name (a forwarded message inside it too: one level is read)."""
    head = [
        f"{label}: {' '.join(str(value).split())}"
        for label, value in (("From", inner.get("From", "")), ("Date", inner.get("Date", "")), ("Subject", inner.get("Subject", "")))
        if value and str(value).strip()
    ]
    body = _trim(_body(inner))
    attachments = [f"[attachment: {name}]" for name in _attachment_names(inner)]
    if not body and not attachments:
        return ""
    return "\n".join(head + [t for t in [body] if t] + attachments)


def _document_kind(name: str, content_type: str) -> str | None:
    """"binary" (PDF, Word, OpenDocument, EPUB), "text" (HTML, markdown, plain text) or None (not read for text)."""
    suffix = Path(name).suffix.lower()
    if content_type in BINARY_DOCUMENT_TYPES or suffix in BINARY_DOCUMENT_SUFFIXES:
        return "binary"
    if content_type in TEXT_DOCUMENT_TYPES or suffix in TEXT_DOCUMENT_SUFFIXES:
        return "text"
    return None


def _attachment_texts(
    name: str, kind: str, part: EmailMessage, data: bytes, unit: Unit, problem: Callable[[str], None], where: str
) -> list[str]:
    # The readers name their source in messages; the attachment's name stands in for a path
    # (its suffix picks markdown, org or reST), and their warnings become this attachment's problems.
    path = Path(name.replace("/", "_").replace("\\", "_"))
    mtime = unit.time.timestamp() if unit.time else 0.0
    notes: list[str] = []
    if kind == "binary":
        streams = read_binary_document(path, data, mtime, notes.append)
        if streams is None:
            raise SourceError(f"{path}: not a PDF, Word, OpenDocument or EPUB file inside", "")
    else:
        charset = part.get_content_charset()
        try:
            text = data.decode(charset) if charset else decode_text(str(path), data, notes.append)
        except (LookupError, UnicodeDecodeError):
            text = decode_text(str(path), data, notes.append)  # a wrong or unknown charset label
        streams = read_text_document(path, text, mtime)
    if notes:
        problem(f"{where}: {notes[0].split(': ', 1)[-1]}")
    return [u.text for s in streams for u in s.units if u.text.strip()]


def _deleted_in_thunderbird(message: EmailMessage) -> bool:
    try:
        return bool(int(str(message.get("X-Mozilla-Status", "0")).strip() or "0", 16) & MOZILLA_DELETED)
    except ValueError:
        return False


def _trim(text: str) -> str:
    """The message's own words: quoted replies and the signature cut off."""
    kept: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ") or _ORIGINAL.match(line):
            break
        if _OUTLOOK_FROM.match(line) and kept and not kept[-1].strip() and any(_is_header(x) for x in lines[i + 1 : i + 4]):
            break  # Outlook's quoted header block: From:/Sent:/To:/Subject:
        if line.lstrip().startswith(">"):
            continue
        if _WROTE.match(line.strip()) and any(x.lstrip().startswith(">") for x in lines[i + 1 : i + 3]):
            continue
        if _WROTE_END.search(line) and any(x.lstrip().startswith(">") for x in lines[i + 1 : i + 3]):
            if kept and _WROTE_START.match(kept[-1].strip()):
                kept.pop()  # Gmail wraps a long "On <date>, <name> <address>" line before "wrote:"
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _is_header(line: str) -> bool:
    return bool(re.match(r"^\s*(sent|date|to|subject|cc):\s", line, re.IGNORECASE))
