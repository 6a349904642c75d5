"""Reading by place and by time rather than by meaning: the passages around a hit (`show`) and what
was written or said in a time window (`recent`). Plain functions over a IndexReader, shared by the
CLI and the MCP server; each returns the dict that the command's --json prints."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from .errors import QueryError
from .filters import conversation_where, source_where, speaker_where, time_where, where_all
from .search import passage
from .store import IndexReader, sql_str
from .store.schema import RESULT_COLUMNS

MAX_AROUND = 50  # segments either side of a passage that `show` reads at most
MAX_RECENT = 500  # passages `recent` lists at most
RECENT_DEFAULT_DAYS = 7  # `recent` without --since: the last week


def reference_time(now: str | None) -> datetime:
    """The time relative phrases are read against: `now` parsed (a date or a phrase), else the clock."""
    local_now = datetime.now(timezone.utc).astimezone()
    if not now:
        return local_now
    from .timephrases import parse_when

    return parse_when(now, local_now)


def time_range(since: str | None, until: str | None, reference: datetime) -> tuple[datetime | None, datetime | None]:
    """--since/--until as datetimes: `until` includes the whole day or period it names."""
    from .timephrases import parse_when

    since_t = parse_when(since, reference) if since else None
    until_t = parse_when(until, reference, end_of_period=True) if until else None
    if since_t and until_t and since_t >= until_t:
        raise QueryError(f"--since {since_t.isoformat()} is not before --until {until_t.isoformat()}", "swap them, or widen the range")
    return since_t, until_t


def _parse_ref(ref: str) -> tuple[str, int]:
    stream_id, at, position = ref.strip().rpartition("@")
    if not at or not stream_id or not position.isdigit():
        raise QueryError(f"not a passage ref: {ref!r}", "pass the `ref` that `evosearch ask` prints (PATH@N or PATH#CONVERSATION@N)")
    return stream_id, int(position)


def _stream_rows(store: IndexReader, stream_id: str, first: int, last: int) -> list[dict]:
    where = f"stream_id = {sql_str(stream_id)} AND position >= {first} AND position <= {last}"
    return sorted(store.scan(where, RESULT_COLUMNS), key=lambda r: r["position"])


def show(store: IndexReader, ref: str, around: int = 2) -> dict:
    """The passage `ref` names and the `around` segments before and after it in its stream (its
    conversation, or its file), in order. A ref with a relative path is read from the current folder."""
    if not 0 <= around <= MAX_AROUND:
        raise QueryError(f"--around must be between 0 and {MAX_AROUND}, not {around}")
    stream_id, position = _parse_ref(ref)
    store = store.latest()  # every read below from one version
    rows = _stream_rows(store, stream_id, position - around, position + around)
    if not any(r["position"] == position for r in rows):
        path, sep, conversation = stream_id.partition("#")
        absolute = str(Path(path).expanduser().absolute()) + sep + conversation
        if absolute != stream_id:
            stream_id, rows = absolute, _stream_rows(store, absolute, position - around, position + around)
    hit = next((r for r in rows if r["position"] == position), None)
    if hit is None:
        raise QueryError(
            f"no passage {ref} in the index",
            "refs come from `evosearch ask` (the `ref` in --json); if the file changed since, ask again",
        )
    return {
        "ref": hit["id"],
        "path": hit["path"],
        "title": hit["title"],
        "format": hit["format"],
        "stream_id": stream_id,
        "around": around,
        "passages": [{**passage(r), "hit": r["position"] == position} for r in rows],
    }


def recent(
    store: IndexReader,
    *,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    speaker: list[str] | None = None,
    conversation: str | None = None,
    limit: int = 50,
) -> dict:
    """What was written or said between since (default: a week before now) and until, newest
    first, grouped by stream (a file, or a conversation) in the order of each group's newest passage."""
    if not 1 <= limit <= MAX_RECENT:
        raise QueryError(f"--limit must be between 1 and {MAX_RECENT}, not {limit}")
    since = since or now - timedelta(days=RECENT_DEFAULT_DAYS)
    store = store.latest()  # every read below from one version
    where = where_all(
        "time IS NOT NULL",
        time_where(since, until),
        source_where(store, source) if source else None,
        speaker_where(speaker),
        conversation_where(conversation),
    )
    matching = store.scan(where, ["time_end"])
    newest = sorted(matching, key=lambda r: r["time_end"], reverse=True)[:limit]
    rows = store.rows([r["_rowid"] for r in newest])
    groups: dict[str, dict] = {}
    for r in newest:
        row = rows.get(r["_rowid"])
        if row is None:
            continue
        group = groups.setdefault(
            row["stream_id"], {"stream_id": row["stream_id"], "path": row["path"], "title": row["title"], "format": row["format"], "passages": []}
        )
        group["passages"].append(passage(row))
    return {
        "now": now.isoformat(),
        "since": since.isoformat(),
        "until": until.isoformat() if until else None,
        "source": source,
        "speaker": list(speaker or []),
        "conversation": conversation,
        "total": len(matching),
        "shown": sum(len(g["passages"]) for g in groups.values()),
        "groups": list(groups.values()),
    }
