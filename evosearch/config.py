"""Where evosearch keeps its data, and the settings shared by indexing and search."""

from __future__ import annotations

import os
from pathlib import Path

# Documents are packed to about this many tokens: a paragraph or two, so a day's note with three
# topics is not one vector. Measured best of 64, 96, 128, 160 and 200 across notes mixed with chats
# and two documentation sets (docs/benchmarks.md, "Document segment size").
DOC_SEGMENT_TOKENS = 128
# Chat segments are smaller: a few consecutive messages, so a hit points at the turns that matter.
# 4 messages / 96 tokens measured best of 1:96, 2:96, 4:96, 6:128, 8:192 on LoCoMo (benchmarks/chat_segment_sweep.py),
# and of 4, 8 and 16 messages with LoCoMo sent one sentence per message (--bursts; docs/benchmarks.md, "Document segment size").
CHAT_SEGMENT_TOKENS = 96
CHAT_SEGMENT_MAX_MESSAGES = 4
# A person's chat message longer than this is cut where its sentences end into pieces of at most
# this many tokens, each its own segment (an AI assistant's reply is not): a side remark inside a
# long turn ("By the way, I've been in marketing for years") gets a vector of its own instead of a
# share of the turn's mean (docs/benchmarks.md, "A long turn's pieces").
CHAT_PIECE_TOKENS = 48
# The encoder's hard limit per segment (tokens after the tokenizer, specials included).
MAX_SEGMENT_TOKENS = 256
# A memory snapshot is stored after every SNAPSHOT_EVERY segments of a stream (and after its last two),
# so a grown or edited stream resumes from there instead of re-encoding its past.
SNAPSHOT_EVERY = 8


def home_dir() -> str:
    """The data directory: $EVOSEARCH_HOME, else the platform's user data dir."""
    env = os.environ.get("EVOSEARCH_HOME")
    if env:
        return env
    import platformdirs

    return platformdirs.user_data_dir("evosearch", appauthor=False)


def default_db_uri() -> str:
    """The index location: $EVOSEARCH_DB, else <home>/index (a path or an object-store URI)."""
    return db_uri(None)


def db_uri(db: str | None) -> str:
    """The index location from --db (db), else $EVOSEARCH_DB, else <home>/index, checked before
    anything is created there: EvosearchError for a local path with '?' or '#' (lance reads them
    as a URL's query and fragment, and made a half index elsewhere), and for a relative
    $EVOSEARCH_DB (it silently made a folder in whatever directory a command ran from). A
    relative --db is the user's own choice, typed in that directory: it is made absolute."""
    from .errors import EvosearchError

    hint = "pass --db with a folder path (or an object-store URI such as s3://bucket/evosearch)"
    if db:
        where = f"--db {db}"
    elif os.environ.get("EVOSEARCH_DB"):
        db = os.environ["EVOSEARCH_DB"]
        where = f"EVOSEARCH_DB={db}"
        if is_local_uri(db) and not Path(db.removeprefix("file://")).expanduser().is_absolute():
            raise EvosearchError(
                f"{where} is not an absolute path or a URI", "set it to a full path such as ~/evosearch/index, or unset it"
            )
    else:
        return str(Path(home_dir()).expanduser() / "index")
    if not is_local_uri(db):
        return db
    if any(c in db for c in "?#"):
        raise EvosearchError(f"{where}: an index folder's path cannot contain '?' or '#'", hint)
    if db.startswith("file://"):
        return db
    return str(Path(db).expanduser().absolute())


def is_local_uri(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def make_private_dir(path: Path) -> None:
    """Create path and its missing parents readable by the owner only (0700): an index holds a
    person's notes and chats, and other users on the machine must not list or read them. Folders
    that already exist keep their mode (a shared one may be shared on purpose)."""
    missing = []
    for folder in [path, *path.parents]:
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process
            pass

