"""What an index holds: its tables, their columns, the rows' shared shapes and the errors that name it.

Three tables, written in an order that keeps the index consistent if a run is killed:
- segments: one row per encoded segment (vector, text, place, time) — the truth of what is stored;
- snapshots: the memory queue after segment `position` of a stream, to resume without re-encoding;
- sources: one row per indexed file, written last, after all its segments; its hash says
  "this file is fully indexed at this content".
A kill between those writes leaves extra or missing rows that the next run detects by
comparing segment hashes position by position (see indexer.py), never a broken table.
A fourth, meta, holds key/value settings (model id, width, schema version, indexed folders).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..errors import StoreError

SCHEMA_VERSION = 1
SEGMENTS, SOURCES, SNAPSHOTS, META = "segments", "sources", "snapshots", "meta"
TABLES = (SEGMENTS, SNAPSHOTS, SOURCES, META)
HASH_WIDTH = 40  # a segment's content_hash: sha1, hex
# The content_hash of a row about to be replaced, and the hash of a source row whose file is being
# re-encoded: it matches no content, so a run killed before the replacement ends re-checks them.
STALE_HASH = ""
# LanceDB and lance keep what they read of every table version in a metadata cache (1 GiB by
# default), which a long run or a long-lived reader fills with versions it never reads again:
# capped (benchmarks/writer_memory.py, docs/benchmarks.md).
METADATA_CACHE_BYTES = 64 << 20

SECTION = "section"  # a document segment's heading (segment.Segment.section): added to an index from before it
# What a search returns of each segment row.
RESULT_COLUMNS = [
    "id",
    "stream_id",
    "path",
    "position",
    "title",
    "format",
    "text",
    "time",
    "time_end",
    "speaker",
    "message_ids",
    "line_start",
    "line_end",
    SECTION,
]
STATS_COLUMNS = ("time", "time_end", "stream_id")
SOURCE_COLUMNS = ["path", "size", "mtime", "hash", "format", "stream_ids", "segment_count"]


@dataclass
class SourceRecord:
    path: str
    size: int
    mtime: float
    hash: str
    format: str
    stream_ids: list[str]
    segment_count: int


def source_records(rows: list[dict]) -> dict[str, SourceRecord]:
    """path -> SourceRecord, from rows of the sources table."""
    return {r["path"]: SourceRecord(*(r[c] for c in SOURCE_COLUMNS[:5]), list(r["stream_ids"] or []), r["segment_count"]) for r in rows}


TEXT = "text"  # the segments column full text searches
CONTEXT = "context"  # the segments column of an index whose encoder keeps a lexical memory


def table_schemas(dim: int, context: bool = False) -> dict:
    """table name -> Arrow schema, for vectors of width dim; with context, each segment row also holds
    the text of the chat turns before it (EncoderConfig.context_turns), full-text indexed beside `text`."""
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    segments = pa.schema(
        [
            ("id", pa.string()),  # "<stream_id>@<position>"
            ("stream_id", pa.string()),
            ("path", pa.string()),
            ("position", pa.int32()),
            ("title", pa.string()),
            ("format", pa.string()),
            ("text", pa.string()),
            ("vector", pa.list_(pa.float32(), dim)),
            ("time", ts),
            ("time_end", ts),
            ("speaker", pa.string()),
            ("message_ids", pa.list_(pa.string())),
            ("line_start", pa.int32()),
            ("line_end", pa.int32()),
            ("content_hash", pa.string()),
            (SECTION, pa.string()),
            *([(CONTEXT, pa.string())] if context else []),
        ]
    )
    snapshots = pa.schema(
        [
            ("stream_id", pa.string()),
            ("position", pa.int32()),
            ("memory", pa.binary()),  # float32 (Q, D), row-major: exact, so a resumed stream equals a fresh one
        ]
    )
    sources = pa.schema(
        [
            ("path", pa.string()),
            ("size", pa.int64()),
            ("mtime", pa.float64()),
            ("hash", pa.string()),
            ("format", pa.string()),
            ("stream_ids", pa.list_(pa.string())),
            ("segment_count", pa.int32()),
            ("model_id", pa.string()),
            ("schema_version", pa.int32()),
            ("indexed_at", ts),
        ]
    )
    meta = pa.schema([("key", pa.string()), ("value", pa.string())])
    return {SEGMENTS: segments, SNAPSHOTS: snapshots, SOURCES: sources, META: meta}


SPEAKERS_JOIN = ", "  # a segment's speakers in its row's `speaker` column


def stored_speakers(value: str | None) -> list[str]:
    """A row's `speaker` column back as the segment's speakers (segment_row joins them)."""
    return value.split(SPEAKERS_JOIN) if value else []


def segment_row(stream, seg, position: int, vector, context: str | None = None) -> dict:
    """A segments row: segment seg (segment.Segment) at position of stream (sources.Stream), encoded as
    vector; context, the text before it, for an index that holds it (table_schemas)."""
    row = {
        "id": f"{stream.stream_id}@{position}",
        "stream_id": stream.stream_id,
        "path": stream.path,
        "position": position,
        "title": stream.title,
        "format": stream.format,
        "text": seg.text,
        "vector": vector,
        "time": seg.time,
        "time_end": seg.time_end,
        "speaker": SPEAKERS_JOIN.join(seg.speakers) or None,
        "message_ids": list(seg.message_ids),
        "line_start": seg.line_start,
        "line_end": seg.line_end,
        "content_hash": seg.content_hash,
        SECTION: seg.section,
    }
    if context is not None:
        row[CONTEXT] = context
    return row


def snapshot_row(stream_id: str, position: int, memory) -> dict:
    """A snapshots row: the memory (Q, D) after segment position of the stream."""
    return {"stream_id": stream_id, "position": position, "memory": memory.astype("float32").tobytes()}


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(sql_str(v) for v in values)})"


def sql_time(t: datetime) -> str:
    utc = t.astimezone(timezone.utc).replace(tzinfo=None)
    return f"timestamp '{utc.isoformat(sep=' ', timespec='microseconds')}'"


def no_index(uri: str) -> StoreError:
    return StoreError(f"no index at {uri}", "run `evosearch index PATH` first, or pass --db")


def cannot_open(uri: str, error: Exception) -> StoreError:
    return StoreError(f"cannot open the index at {uri}: {error}", "check --db / $EVOSEARCH_DB and credentials")


def check_schema_version(uri: str, meta: dict[str, str]) -> None:
    if meta.get("schema_version", str(SCHEMA_VERSION)) != str(SCHEMA_VERSION):
        raise StoreError(
            f"the index at {uri} has schema version {meta['schema_version']}, this evosearch writes {SCHEMA_VERSION}",
            "run `evosearch index --rebuild PATH`",
        )
