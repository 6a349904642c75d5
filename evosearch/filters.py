"""SQL filters over the segments table, shared by `ask`, `recent` and the MCP tools: one definition
of what --since/--until, --source, --speaker and --conversation select."""

from __future__ import annotations

import fnmatch
from datetime import datetime
from pathlib import Path

from .errors import QueryError
from .store import sql_in, sql_str, sql_time


def time_where(start: datetime | None, end: datetime | None) -> list[str]:
    """Segments that overlap [start, end): a chat segment spans time .. time_end."""
    clauses = []
    if start is not None:
        clauses.append(f"time_end >= {sql_time(start)}")
    if end is not None:
        clauses.append(f"time < {sql_time(end)}")
    return clauses


def source_where(store, pattern: str) -> str:
    """Exact paths of indexed sources matching the glob (against the full path, or the file
    name when the glob has no slash), so the filter runs inside the database."""
    paths = list(store.sources())
    full = str(Path(pattern).expanduser().absolute()) if "/" in pattern else None
    matches = [
        p
        for p in paths
        if fnmatch.fnmatch(p, pattern)
        or (full and fnmatch.fnmatch(p, full))
        or ("/" not in pattern and fnmatch.fnmatch(Path(p).name, pattern))
    ]
    if not matches:
        raise QueryError(f"no indexed source matches --source {pattern!r}", "see `evosearch status --sources` for what is indexed")
    return sql_in("path", matches)


def speaker_where(names: list[str] | None) -> str | None:
    """Segments where any of the names spoke, case-insensitive. A segment stores the names of its
    messages' speakers joined by ", " (store.segment_row), so the match is per name, not substring."""
    names = [n.strip().lower() for n in names or [] if n.strip()]
    if not names:
        return None
    return " OR ".join(f"array_has(string_to_array(lower(speaker), ', '), {sql_str(n)})" for n in names)


def conversation_where(pattern: str | None) -> str | None:
    """Chat segments (those with message ids) whose conversation title matches the glob (* and ?),
    case-insensitive."""
    if not pattern:
        return None
    like = "".join("%" if c == "*" else "_" if c == "?" else "\\" + c if c in "%_\\" else c for c in pattern.lower())
    return f"array_length(message_ids) > 0 AND lower(title) LIKE {sql_str(like)} ESCAPE '\\'"


def where_all(*clauses: str | list[str] | None) -> str | None:
    """The clauses ANDed, each in parentheses; None when there are none."""
    flat: list[str] = []
    for c in clauses:
        if isinstance(c, list):
            flat.extend(c)
        elif c:
            flat.append(c)
    return " AND ".join(f"({c})" for c in flat) or None
