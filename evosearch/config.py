"""Where evosearch keeps its data, and the settings shared by indexing and search."""

from __future__ import annotations

import os
from pathlib import Path

# Segments are packed to about this many tokens: big enough to hold a thought,
# small enough that the answer is not diluted, and well inside MiniLM's 512 positions.
DOC_SEGMENT_TOKENS = 200
# Chat segments are smaller: a few consecutive messages, so a hit points at the turns that matter.
# 4 messages / 96 tokens measured best of 1:96, 2:96, 4:96, 6:128, 8:192 on LoCoMo (benchmarks/chat_segment_sweep.py).
CHAT_SEGMENT_TOKENS = 96
CHAT_SEGMENT_MAX_MESSAGES = 4
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
    """The index location: $EVOSEARCH_DB, else <home>/index.lance (a path or an object-store URI)."""
    return os.environ.get("EVOSEARCH_DB") or str(Path(home_dir()) / "index")


def is_local_uri(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")
