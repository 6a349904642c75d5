"""Which files under the given paths are sources: a deterministic walk honouring ignore files."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pathspec

from ..errors import SourceError
from .mail import EML_SUFFIXES, SNIFF_BYTES, looks_like_mbox

# In folders only these are read, and mailboxes without a suffix found by their content (_may_be_mailbox);
# anything else (images, binaries, Thunderbird's .msf indexes) is passed over quietly. A folder's .eml
# files, and a Maildir's messages, are not sources of their own: the folder is (mailbox_members).
SOURCE_SUFFIXES = frozenset(
    {".md", ".markdown", ".txt", ".rst", ".org", ".jsonl", ".json", ".ndjson", ".html", ".htm", ".pdf", ".zip", ".csv", ".tsv", ".mbox", ".mbx", ".eml", ".docx", ".epub", ".odt"}
)
# Sources known by their whole name: macOS Messages' database (other .db files are not read).
SOURCE_NAMES = frozenset({"chat.db"})
# Thunderbird's index of the mailbox of the same name: a Mork database, never read.
THUNDERBIRD_INDEX_SUFFIX = ".msf"
SKIPPED_DIR_NAMES = frozenset({".git", "node_modules", "__pycache__"})
# Beside channels.json, a Slack export's top-level JSON files describe the workspace; messages live in channel folders.
SLACK_METADATA_FILES = frozenset(
    {"users.json", "channels.json", "groups.json", "dms.json", "mpims.json", "integration_logs.json", "canvases.json", "huddles.json"}
)
# A Maildir keeps one message per file, named without a suffix, in cur/ and new/; tmp/ holds deliveries
# still being written, never read.
MAILDIR_FOLDERS = ("cur", "new", "tmp")
MAILDIR_MESSAGE_FOLDERS = ("cur", "new")
# Maildir++ (Dovecot, Courier) keeps a mailbox's folders as hidden Maildirs inside it (.Sent,
# .Archive.2024): those are read; these, deleted mail and spam, are not.
MAILDIR_PLUS_SKIPPED = frozenset({".trash", ".junk", ".spam"})
# Read in this order, so a pattern in .evosearchignore overrides one in .gitignore beside it.
IGNORE_FILE_NAMES = (".gitignore", ".evosearchignore")

# (folder holding the ignore file, its patterns), outermost first
_IgnoreRules = list[tuple[Path, pathspec.GitIgnoreSpec]]


def iter_source_files(paths: list[Path], warn: Callable[[str], None]) -> Iterator[Path]:
    """The paths of iter_sources, without the mailbox folders' members."""
    return (path for path, _ in iter_sources(paths, warn))


def iter_sources(paths: list[Path], warn: Callable[[str], None]) -> Iterator[tuple[Path, list[Path] | None]]:
    """(absolute path, members) of each source to read, each once, folders in sorted order; members is
    None for a file, and for a mail folder the message files read as its one mailbox (mailbox_members).

    A file named in `paths` is always yielded, on its own (an .eml too); in folders, hidden entries,
    ignored entries and files without a source suffix are skipped, and symlinked folders are not
    entered. A folder holding .eml files, or a Maildir (cur/, new/, tmp/), is yielded as one source
    whose members are its messages, so that a thread saved as five files is read as one thread. A
    link to a file is yielded under its own path, not its target's: it is what the folder holds, so
    when the link goes, its rows go with the folder's other removed files. It is skipped when the
    file it points to is yielded too (one file, found twice). Anything else with a source name (a
    broken link, a link loop, a FIFO, a socket, a device) gets one warning, and is never opened. A
    file without a source suffix is taken when its first bytes are an mbox's (Thunderbird's mailboxes).
    """
    found: list[tuple[Path, bool, list[Path] | None]] = []  # (path, is a link, members)
    for given in paths:
        try:
            root = absolute_path(Path(given))
            if root.is_dir():
                found.extend(_walk(root, [], warn))
            elif root.is_file():
                found.append((root, root.is_symlink(), None))
            elif os.path.lexists(root):
                warn(f"{root}: not a regular file ({_kind_of_special(root)}) — skipped")
            else:
                warn(f"{root}: does not exist — check the path and permissions")
        except OSError as e:
            warn(f"{given}: cannot be read ({e.strerror or e}) — check the path and permissions")
    files = {path for path, is_link, _ in found if not is_link}
    seen: set[Path] = set()
    for path, is_link, members in found:
        try:
            key = path.resolve() if is_link else path
        except (OSError, RuntimeError):  # the link became a loop since the walk saw it: the read will say so
            key = path
        if key in seen or (is_link and key in files):
            continue
        seen.add(key)
        yield path, members


def mailbox_members(folder: Path, warn: Callable[[str], None] = lambda _: None) -> list[Path]:
    """The message files of a mail folder, sorted: its .eml files, the files in a Maildir's cur/ and
    new/, or every file when the folder is a Maildir's cur/ or new/ itself; [] for any other folder.
    Ignore files in the folder are honoured (the walk also honours those above it)."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return []
    return _mailbox_members(folder, entries, _ignore_rules_in(folder, entries, warn), warn)


def _is_maildir(entries: list[os.DirEntry]) -> bool:
    folders = {e.name for e in entries if _is_folder(e)}
    return all(name in folders for name in MAILDIR_FOLDERS)


def _is_maildir_plus_folder(entry: os.DirEntry) -> bool:
    """A hidden folder inside a Maildir that is one of its Maildir++ folders, and not deleted mail or spam."""
    return entry.name.lower() not in MAILDIR_PLUS_SKIPPED and _is_folder(entry)


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_maildir_message_folder(folder: Path) -> bool:
    """cur/ or new/ of a Maildir, walked on its own (named as the folder to index)."""
    parent = folder.parent
    return folder.name in MAILDIR_MESSAGE_FOLDERS and all((parent / name).is_dir() for name in MAILDIR_FOLDERS)


def _mailbox_members(folder: Path, entries: list[os.DirEntry], rules: _IgnoreRules, warn: Callable[[str], None]) -> list[Path]:
    every_file = _is_maildir_message_folder(folder)
    members = [
        path
        for entry in entries
        if every_file or os.path.splitext(entry.name)[1].lower() in EML_SUFFIXES
        for path in _message_file(folder, entry, rules, warn)
    ]
    if _is_maildir(entries):
        for name in MAILDIR_MESSAGE_FOLDERS:
            sub = folder / name
            if _is_ignored(sub, True, rules):
                continue
            messages = _listing(sub, warn)
            if messages is None:
                continue
            sub_rules = rules + _ignore_rules_in(sub, messages, warn)
            members += [path for entry in messages for path in _message_file(sub, entry, sub_rules, warn)]
    return members


def _message_file(folder: Path, entry: os.DirEntry, rules: _IgnoreRules, warn: Callable[[str], None]) -> list[Path]:
    """[the entry's path] when it is a message file of a mail folder to read; a special file is warned about."""
    path = folder / entry.name
    if entry.name.startswith(".") or _is_folder(entry) or _is_ignored(path, False, rules):
        return []
    try:
        if entry.is_file():
            return [path]
    except OSError:
        pass
    if not _is_folder_link(entry):
        warn(f"{path}: not a regular file ({_kind_of_special(path)}) — skipped")
    return []


def absolute_path(path: Path) -> Path:
    """path made absolute, its folders resolved (links, `..`), and itself too if it is a folder;
    a link to a file stays the link (see iter_source_files). What paths are stored under."""
    path = Path(os.path.abspath(path.expanduser()))
    try:
        if path.is_dir() or path.parent == path:
            return path.resolve()
        return path.parent.resolve() / path.name
    except (OSError, RuntimeError):  # a link loop on the way (RuntimeError before Python 3.13): leave it as written
        return path


def open_source_file(path: Path) -> BinaryIO:
    """path opened for reading; SourceError when it is not a regular file. Opened without
    blocking and checked after opening: a FIFO put where a file was would otherwise wait for a writer."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise SourceError(f"{path}: not a regular file (a symlink loop)", "remove or repair the link") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise SourceError(f"{path}: not a regular file ({_kind_of_mode(mode)})", "evosearch reads files; it skipped this one")
    return os.fdopen(fd, "rb")


def _kind_of_special(path: Path) -> str:
    """What a path that is neither a file nor a folder is, in words, from lstat/stat only."""
    try:
        return _kind_of_mode(path.stat().st_mode)
    except FileNotFoundError:
        return "a broken link"
    except OSError as e:
        return "a symlink loop" if e.errno == errno.ELOOP else f"unreadable: {e.strerror or e}"


def _kind_of_mode(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file or folder"


def is_source_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in SOURCE_SUFFIXES or name in SOURCE_NAMES


def _is_folder_link(entry: os.DirEntry) -> bool:
    try:
        return entry.is_symlink() and entry.is_dir()
    except OSError:
        return False


def _listing(folder: Path, warn: Callable[[str], None]) -> list[os.DirEntry] | None:
    """The folder's entries in name order; None, with one warning line, when it cannot be read."""
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=lambda e: e.name)
    except OSError as e:
        warn(f"{folder}: cannot be read ({e.strerror or e}) — check the path and permissions")
        return None


def _walk(folder: Path, rules: _IgnoreRules, warn: Callable[[str], None]) -> Iterator[tuple[Path, bool, list[Path] | None]]:
    entries = _listing(folder, warn)
    if entries is None:
        return
    rules = rules + _ignore_rules_in(folder, entries, warn)
    names = {e.name for e in entries}
    slack_export = any(e.name == "channels.json" for e in entries)
    meta_thread = any(e.name == "message_1.json" for e in entries)
    google_chat = any(e.name == "messages.json" for e in entries) or "Google Chat" in folder.parts
    maildir = _is_maildir(entries)
    message_folder = _is_maildir_message_folder(folder)
    members = _mailbox_members(folder, entries, rules, warn)
    if members:
        yield folder, False, members
    for entry in entries:
        if entry.name in SKIPPED_DIR_NAMES or (entry.name.startswith(".") and not (maildir and _is_maildir_plus_folder(entry))):
            continue
        if message_folder or os.path.splitext(entry.name)[1].lower() in EML_SUFFIXES or (maildir and entry.name in MAILDIR_FOLDERS):
            continue  # a message of the folder's mailbox, yielded above
        if slack_export and entry.name in SLACK_METADATA_FILES:
            continue  # names and channel lists, read by the day files' reader; no messages
        if meta_thread and entry.name.startswith("message_") and entry.name != "message_1.json" and entry.name.endswith(".json"):
            continue  # a Messenger/Instagram thread's later parts, merged in when message_1.json is read
        if google_chat and entry.name in ("group_info.json", "user_info.json"):
            continue  # a Google Chat space's name and members, read with its messages.json
        path = folder / entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file()  # a symlinked file counts; a symlinked folder does not
        except OSError:  # a link loop: warned below, like a FIFO
            is_dir = is_file = False
        if not (is_dir or is_source_name(entry.name)):
            if is_file and _may_be_mailbox(entry.name, names) and not _is_ignored(path, False, rules) and _is_mailbox(path):
                yield path, entry.is_symlink(), None
            continue  # anything else without a source name is passed over quietly, as documented
        if _is_ignored(path, is_dir, rules):
            continue
        if is_dir:
            yield from _walk(path, rules, warn)
        elif is_file:
            yield path, entry.is_symlink(), None
        elif not _is_folder_link(entry):  # links to folders are passed over quietly, as documented
            warn(f"{path}: not a regular file ({_kind_of_special(path)}) — skipped")


def _may_be_mailbox(name: str, names: set[str]) -> bool:
    """Thunderbird keeps each folder as an mbox named like the folder (Inbox, Sent, Archives.sbd/2024),
    with no suffix or a dot of the folder's own, and its .msf index beside it."""
    return not os.path.splitext(name)[1] or f"{name}{THUNDERBIRD_INDEX_SUFFIX}" in names


def _is_mailbox(path: Path) -> bool:
    """The file starts like an mbox with real mail headers (mail.looks_like_mbox); unreadable files are passed over."""
    try:
        with open_source_file(path) as f:
            head = f.read(SNIFF_BYTES)
    except (OSError, SourceError):
        return False
    return looks_like_mbox(path, head)


def _ignore_rules_in(folder: Path, entries: list[os.DirEntry], warn: Callable[[str], None]) -> _IgnoreRules:
    names = {e.name for e in entries}
    rules: _IgnoreRules = []
    for name in IGNORE_FILE_NAMES:
        if name not in names:
            continue
        try:
            lines = (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as e:
            warn(f"{folder / name}: cannot be read ({e.strerror or e}) — its patterns are not applied")
            continue
        rules.append((folder, pathspec.GitIgnoreSpec.from_lines(lines)))
    return rules


def _is_ignored(path: Path, is_dir: bool, rules: _IgnoreRules) -> bool:
    # As in git: the ignore file nearest the path decides, and within a file the last match wins.
    for base, spec in reversed(rules):
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        verdict = spec.check_file(relative).include
        if verdict is not None:
            return verdict
    return False
