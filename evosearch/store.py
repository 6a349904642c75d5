"""The index: the only module that imports lancedb.

Three tables, written in an order that keeps the index consistent if a run is killed:
- segments: one row per encoded segment (vector, text, place, time) — the truth of what is stored;
- snapshots: the memory queue after segment `position` of a stream, to resume without re-encoding;
- sources: one row per indexed file, written last, after all its segments; its hash says
  "this file is fully indexed at this content".
A kill between those writes leaves extra or missing rows that the next run detects by
comparing segment hashes position by position (see indexer.py), never a broken table.
An edited file's rows are overwritten in place (mark_replacing, then replace_segments), never
deleted before their replacements exist, so its old text stays searchable through a kill.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from .config import is_local_uri, make_private_dir
from .remote import storage_options
from .errors import StoreError
from .heap import return_freed_memory

SCHEMA_VERSION = 1
# Rows no index covers yet are searched flat; once they lie in this many fragments (small writes:
# watch, appended messages) they are compacted and added to the indexes (Store.update_indexes).
# The tables without an index are compacted at the same count of small fragments.
COMPACT_AFTER_SMALL_FRAGMENTS = 16
REWRITE_DELETED_SHARE = 0.1  # an indexed fragment is rewritten once this share of its rows is deleted
# From this many segments on, vectors get an approximate index (IVF_HNSW_SQ, cosine): on 30,760
# real MiniLM segment vectors it returned 99.1% of the exact top 10 and 98.1% of the top 50,
# in 2.6 ms instead of 47 ms, after a 6.4 s build (benchmarks/ann_recall.py). Below it, the
# exact scan is fast enough and nothing needs building.
ANN_MIN_SEGMENTS = 20_000
ANN_REBUILD_GROWTH = 4  # the vector index is rebuilt when the index has grown 4x since it was built
# Building it holds about 3.3 KB per row it covers (LanceDB 0.40: +334 MB at 100k rows, +907 MB
# at 300k, benchmarks/store_memory.py). So it is rebuilt only up to ANN_REBUILD_MAX_SEGMENTS rows.
# Past that, rows added since are indexed once ANN_DELTA_SEGMENTS of them wait (searched exactly
# until then), together with the newest parts of the index that fit the same limit, else as a
# new part. No build covers more rows than the limit; a 1M-segment index has about 9 parts.
ANN_REBUILD_MAX_SEGMENTS = 120_000
ANN_DELTA_SEGMENTS = 40_000
SEGMENTS, SOURCES, SNAPSHOTS, META = "segments", "sources", "snapshots", "meta"
HASH_WIDTH = 40  # a segment's content_hash: sha1, hex
# The content_hash of a row about to be replaced, and the hash of a source row whose file is being
# re-encoded: it matches no content, so a run killed before the replacement ends re-checks them.
STALE_HASH = ""
SCAN_ROWS = 65_536  # rows per batch when a run reads every stored segment's hash
# LanceDB keeps what it reads of every table version (manifests, fragment lists, deletion files)
# in a metadata cache of 1 GiB by default. A run commits three versions per 512-row write, each
# listing more fragments than the last, so the cache grew with the square of the run: 228 MB after
# 279,367 segments (benchmarks/writer_memory.py), 1 GiB from about 600k (extrapolated). Only the newest
# versions are read again: capped, the same run ended with 61 MB, peak RSS 0.91x (one run each).
METADATA_CACHE_BYTES = 64 << 20

warnings.filterwarnings("ignore", category=DeprecationWarning, module="lancedb")
# lance 14 warns on stderr (on every `index` that compacts) that index statistics will stop
# including the centroids; nothing here reads them: take the new behaviour and no warning.
os.environ.setdefault("LANCE_INCLUDE_VECTOR_CENTROIDS", "false")


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(sql_str(v) for v in values)})"


def sql_time(t: datetime) -> str:
    utc = t.astimezone(timezone.utc).replace(tzinfo=None)
    return f"timestamp '{utc.isoformat(sep=' ', timespec='microseconds')}'"


def _schemas(dim: int):
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


@dataclass
class SourceRecord:
    path: str
    size: int
    mtime: float
    hash: str
    format: str
    stream_ids: list[str]
    segment_count: int


class Store:
    """A LanceDB database at a local path or an object-store URI (s3://, gs://, az://)."""

    def __init__(self, uri: str, db, tables: dict, meta: dict[str, str], session):
        self.uri = uri
        self._db = db
        self.session = session  # LanceDB's caches: size_bytes says what they hold
        self._tables = tables
        self.meta = meta
        self.dirty = False  # written since the last finish_writes()
        self.writer_lock = None  # a WriterLock while this store may write (Store.open(write=True))

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        uri: str,
        *,
        model_id: str | None = None,
        dim: int | None = None,
        memory_shape=None,
        write: bool = False,
        rebuild: bool = False,
        command: str = "api",
    ) -> "Store":
        """Open the index. With model_id/dim given (indexing), create it if missing and refuse a
        different model; without (searching), it must exist. Opening to write (model_id given,
        write=True or rebuild=True) takes the index's writer lock first, or raises LockedError naming
        the holder; the store keeps it until close() (or until the process ends). `command` names
        this writer in another writer's refusal. rebuild=True drops every table under that lock."""
        from .lock import WriterLock

        creating = model_id is not None
        if uri.startswith("memory://"):  # lance, which maintains and reads the index, cannot see it
            raise StoreError(f"an index cannot live at {uri}", "use a folder or an object-store URI (s3://, gs://, az://)")
        if not creating and is_local_uri(uri) and not Path(uri.removeprefix("file://")).exists():
            raise StoreError(f"no index at {uri}", "run `evosearch index PATH` first, or pass --db")
        lock = WriterLock(uri, command).acquire() if (creating or write or rebuild) else None
        try:
            store = cls._open_locked(uri, model_id, dim, memory_shape, rebuild)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        store.writer_lock = lock
        return store

    @classmethod
    def _open_locked(cls, uri: str, model_id, dim, memory_shape, rebuild: bool) -> "Store":
        import lancedb

        creating = model_id is not None
        if rebuild:
            cls._drop_tables(uri)
        try:
            if creating and is_local_uri(uri):
                make_private_dir(Path(uri.removeprefix("file://")))  # lance would make it world-readable (0755)
            # Readers check for new versions on every query, so a long-lived `ask` (the API, a
            # server, the watch soak) sees what a concurrent writer has committed.
            session = lancedb.Session(metadata_cache_size_bytes=METADATA_CACHE_BYTES)
            db = lancedb.connect(
                uri, read_consistency_interval=None if creating else timedelta(0), session=session, storage_options=storage_options(uri)
            )
            names = set(db.list_tables().tables)
        except Exception as e:  # lancedb raises plain OSError/ValueError/RuntimeError for bad URIs
            raise StoreError(f"cannot open the index at {uri}: {e}", "check --db / $EVOSEARCH_DB and credentials") from e
        if not creating and SEGMENTS not in names:
            raise StoreError(f"no index at {uri}", "run `evosearch index PATH` first, or pass --db")
        tables = {}
        if creating:
            try:
                for name, schema in _schemas(dim).items():
                    tables[name] = db.open_table(name) if name in names else db.create_table(name, schema=schema, exist_ok=True)
            except (OSError, RuntimeError) as e:  # lance reports an unwritable folder as a RuntimeError
                raise StoreError(
                    f"cannot write the index at {uri}: {e}", "choose a folder you can write to with --db or $EVOSEARCH_DB"
                ) from e
        else:
            tables = {name: db.open_table(name) for name in (SEGMENTS, SNAPSHOTS, SOURCES, META) if name in names}
        meta = {r["key"]: r["value"] for r in tables[META].to_arrow().to_pylist()} if META in tables else {}
        if meta.get("schema_version", str(SCHEMA_VERSION)) != str(SCHEMA_VERSION):
            raise StoreError(
                f"the index at {uri} has schema version {meta['schema_version']}, this evosearch writes {SCHEMA_VERSION}",
                "run `evosearch index --rebuild PATH`",
            )
        if creating:
            if meta and meta.get("model_id") != model_id:
                raise StoreError(
                    f"the index at {uri} was built with encoder {meta.get('model_id')}, not {model_id}",
                    "run `evosearch index --rebuild PATH` to re-encode everything with the current encoder",
                )
            if not meta:
                meta = {
                    "model_id": model_id,
                    "dim": str(dim),
                    "memory_slots": str(memory_shape[0]),
                    "schema_version": str(SCHEMA_VERSION),
                }
                tables[META].add([{"key": k, "value": v} for k, v in meta.items()])
        return cls(uri, db, tables, meta, session)

    @staticmethod
    def drop(uri: str) -> None:
        """Delete every evosearch table at uri, under the writer lock (LockedError while another writer holds it)."""
        from .lock import WriterLock

        with WriterLock(uri, "rebuild"):
            Store._drop_tables(uri)

    @staticmethod
    def _drop_tables(uri: str) -> None:
        import lancedb

        db = lancedb.connect(uri, storage_options=storage_options(uri))
        for name in set(db.list_tables().tables) & {SEGMENTS, SNAPSHOTS, SOURCES, META}:
            db.drop_table(name)

    def close(self) -> None:
        """Release the writer lock, if this store holds it. The store still reads; it must not write after this."""
        if self.writer_lock is not None:
            self.writer_lock.release()
            self.writer_lock = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def model_id(self) -> str:
        return self.meta.get("model_id", "?")

    def table(self, name: str):
        return self._tables[name]

    # ---- sources -------------------------------------------------------------------------

    def sources(self) -> dict[str, SourceRecord]:
        rows = self._tables[SOURCES].to_arrow().to_pylist()
        return {
            r["path"]: SourceRecord(
                r["path"], r["size"], r["mtime"], r["hash"], r["format"], list(r["stream_ids"] or []), r["segment_count"]
            )
            for r in rows
        }

    def put_sources(self, records: list[SourceRecord]) -> None:
        """Upsert source rows, one merge for all (a merge costs ~40 ms whatever its size)."""
        if not records:
            return
        now = datetime.now(timezone.utc)
        self.dirty = True
        rows = [{**r.__dict__, "model_id": self.model_id, "schema_version": SCHEMA_VERSION, "indexed_at": now} for r in records]
        self._tables[SOURCES].merge_insert("path").when_matched_update_all().when_not_matched_insert_all().execute(rows)

    def duplicated_source_paths(self) -> set[str]:
        """Paths with more than one source row (two writers merged the same new path at once)."""
        import pyarrow.compute as pc

        paths = self._tables[SOURCES].to_arrow().column("path")
        counts = pc.value_counts(paths)
        return {v.as_py() for v, n in zip(counts.field("values"), counts.field("counts")) if n.as_py() > 1}

    def remove_duplicates(self, stream_ids: set[str], source_paths: set[str]) -> int:
        """Keep one segment row per (stream, position) of stream_ids and one source row per path
        of source_paths; the streams' snapshots are dropped, since the two writers may have stored
        them for different contents (later edits re-encode those streams from their start).
        Rows are read, deleted and the kept ones written back: a kill in between loses rows,
        which the next run re-encodes, never keeps a duplicate. Returns the segment rows removed."""
        removed = 0
        if stream_ids:
            where = sql_in("stream_id", sorted(stream_ids))
            rows = self._tables[SEGMENTS].search().where(where).limit(None).to_arrow().to_pylist()
            kept = list({(r["stream_id"], r["position"]): r for r in rows}.values())
            removed = len(rows) - len(kept)
            self._tables[SNAPSHOTS].delete(where)
            self._tables[SEGMENTS].delete(where)
            self.add_segments(kept)
        if source_paths:
            where = sql_in("path", sorted(source_paths))
            rows = self._tables[SOURCES].search().where(where).limit(None).to_arrow().to_pylist()
            latest = {}
            for r in sorted(rows, key=lambda r: r["indexed_at"]):
                latest[r["path"]] = r
            self._tables[SOURCES].delete(where)
            self._tables[SOURCES].add(list(latest.values()))
        self.dirty = True
        return removed

    def delete_source(self, record: SourceRecord) -> None:
        """Vectors and snapshots first, then the row: a kill in between leaves a source row whose
        streams are gone, which the next index run re-encodes, never orphaned vectors."""
        if record.stream_ids:
            self.delete_streams_from(record.stream_ids, 0)
        self._tables[SOURCES].delete(f"path = {sql_str(record.path)}")
        self.dirty = True

    # ---- segments and snapshots ------------------------------------------------------------

    def stored_segments(self) -> tuple[StoredStreams, dict[str, set[str]]]:
        """In one scan: every stored segment's (position, content_hash) by stream (StoredStreams), and
        path -> stream ids. Indexing compares against these instead of querying per file (a query costs ~10 ms)."""
        return StoredStreams.scan(self._tables[SEGMENTS].to_lance())

    def stream_texts(self) -> dict[str, list[str]]:
        """stream_id -> segment texts in position order (what `train --self-supervised` learns from)."""
        table = self._tables[SEGMENTS].search().select(["stream_id", "position", "text"]).limit(None).to_arrow()
        rows: dict[str, list[tuple[int, str]]] = {}
        for sid, pos, text in zip(*(table.column(c).to_pylist() for c in ("stream_id", "position", "text"))):
            rows.setdefault(sid, []).append((pos, text))
        return {sid: [t for _, t in sorted(r)] for sid, r in rows.items()}

    def latest_snapshot(self, stream_id: str, at_most: int) -> tuple[int, np.ndarray] | None:
        """The memory after the latest snapshotted position <= at_most, or None."""
        if at_most < 0:
            return None
        rows = (
            self._tables[SNAPSHOTS]
            .search()
            .where(f"stream_id = {sql_str(stream_id)} AND position <= {int(at_most)}")
            .select(["position", "memory"])
            .limit(None)
            .to_arrow()
            .to_pylist()
        )
        if not rows:
            return None
        best = max(rows, key=lambda r: r["position"])
        q, d = self.memory_shape
        memory = np.frombuffer(best["memory"], dtype=np.float32).reshape(q, d).copy()
        return best["position"], memory

    @property
    def memory_shape(self) -> tuple[int, int]:
        return int(self.meta["memory_slots"]), int(self.meta["dim"])

    def mark_replacing(self, starts: dict[str, int]) -> None:
        """Before streams are re-encoded from a position on (stream_id -> position): drop their
        snapshots there and blank their rows' content_hash (STALE_HASH). The rows themselves stay,
        searchable, until replace_segments writes the new ones over them. A blank hash matches no
        segment, so a run killed halfway resumes where the new rows stop instead of trusting an old
        row whose text is unchanged but whose vector was encoded after different earlier segments."""
        for where in _stream_tail_filters(starts):
            self.dirty = True
            self._tables[SNAPSHOTS].delete(where)
            self._tables[SEGMENTS].update(where=where, values={"content_hash": STALE_HASH})

    def replace_segments(self, rows: list[dict]) -> None:
        """Write rows over the rows with the same id (stream and position) in one commit, adding
        those that have none: at every moment each position holds the old row or the new one."""
        if rows:
            self.dirty = True
            self._tables[SEGMENTS].merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(rows)

    def delete_stream_tails(self, tails: dict[str, int]) -> None:
        """Drop segments and snapshots at positions >= tails[stream_id], for many streams at once."""
        for where in _stream_tail_filters(tails):
            self.dirty = True
            self._tables[SNAPSHOTS].delete(where)
            self._tables[SEGMENTS].delete(where)

    def delete_streams_from(self, stream_ids: list[str], position: int) -> None:
        """Drop segments and snapshots at positions >= position. Snapshots go first so that a
        snapshot never outlives the segments it summarises."""
        where = f"{sql_in('stream_id', stream_ids)} AND position >= {int(position)}"
        self.dirty = True
        self._tables[SNAPSHOTS].delete(where)
        self._tables[SEGMENTS].delete(where)

    def copy_stream(self, old_id: str, new_id: str, path: str, title: str) -> None:
        """Copy a stream's segments and snapshots under a new stream id and path (a rename)."""
        where = f"stream_id = {sql_str(old_id)}"
        rows = self._tables[SEGMENTS].search().where(where).limit(None).to_arrow().to_pylist()
        for r in rows:
            r.update(id=f"{new_id}@{r['position']}", stream_id=new_id, path=path, title=title)
        self.add_segments(rows)
        snaps = self._tables[SNAPSHOTS].search().where(where).limit(None).to_arrow().to_pylist()
        for r in snaps:
            r["stream_id"] = new_id
        if snaps:
            self._tables[SNAPSHOTS].add(snaps)

    def add_segments(self, rows: list[dict]) -> None:
        if rows:
            self.dirty = True
            self._tables[SEGMENTS].add(rows)

    def add_snapshots(self, rows: list[tuple[str, int, np.ndarray]]) -> None:
        if rows:
            self._tables[SNAPSHOTS].add([{"stream_id": s, "position": p, "memory": m.astype(np.float32).tobytes()} for s, p, m in rows])

    def set_meta(self, key: str, value: str) -> None:
        self.meta[key] = value
        (
            self._tables[META]
            .merge_insert("key")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute([{"key": key, "value": value}])
        )

    # ---- maintenance -----------------------------------------------------------------------

    def finish_writes(self) -> None:
        """After a run that wrote: bring the indexes up to date (update_indexes) at the end of a
        first run, or once small writes pile up (watch, appended messages; until then their rows
        are searched flat), and keep the vector index in step (index_vectors)."""
        segments = self._tables[SEGMENTS]
        if not self.dirty:
            return
        if segments.count_rows() == 0:
            return
        self.dirty = False
        self.index_vectors()
        has_text = any("text" in i.columns for i in segments.list_indices())
        if not has_text or len(unindexed_fragments(segments.to_lance())) >= COMPACT_AFTER_SMALL_FRAGMENTS:
            self.update_indexes(build_text=not has_text)
        for name in (SNAPSHOTS, SOURCES, META):  # no index on these: compaction is a plain copy
            table = self._tables[name]
            if table.stats()["fragment_stats"]["num_small_fragments"] >= COMPACT_AFTER_SMALL_FRAGMENTS:
                table.optimize()
                return_freed_memory()

    def index_vectors(self) -> None:
        """Keep the approximate vector index in step with the rows, in memory bounded by the
        constants above whatever the index size. `index` calls it after every write, so a first
        run over a large corpus (or one huge chat export) builds early and small, then adds parts."""
        segments = self._tables[SEGMENTS]
        rows = segments.count_rows()
        if rows < ANN_MIN_SEGMENTS:
            return
        built_at = int(self.meta.get("vector_index_rows", 0))
        covered = int(self.meta.get("vector_indexed_rows", built_at))  # rows when last built or extended
        has_index = any("vector" in i.columns for i in segments.list_indices())
        if not has_index or (rows >= ANN_REBUILD_GROWTH * built_at and rows <= ANN_REBUILD_MAX_SEGMENTS):
            # Its partitions are learned from the rows there at build time; rows added later are
            # folded into those partitions, which fit less well as the corpus outgrows them.
            self.update_indexes(rebuild_vectors=True)
            self.set_meta("vector_index_rows", str(rows))
        elif rows > ANN_REBUILD_MAX_SEGMENTS and rows - covered >= ANN_DELTA_SEGMENTS:
            self.update_indexes()

    def update_indexes(self, *, rebuild_vectors: bool = False, build_text: bool = False) -> None:
        """Compact the fragments no index covers, then add their rows to the indexes: the vector
        index rebuilt over all rows, or extended (a new part, or merged with the newest parts, see
        parts_to_merge); the full-text index built, or extended (lance keeps it in one part).
        A fragment an index covers is rewritten only once a tenth of its rows are deleted
        (rewrite_a_stale_fragment): remapping every index onto rewritten fragments is what made
        LanceDB's optimize() grow with the corpus (+536 MB at 300k rows, store_memory.py)."""
        from lancedb.index import FTS, HnswSq

        segments = self._tables[SEGMENTS]
        dataset = segments.to_lance()
        compact_unindexed(dataset)
        rewrite_a_stale_fragment(dataset)  # on the version compact_unindexed committed
        segments.checkout_latest()
        if rebuild_vectors:
            segments.create_index("vector", config=HnswSq(distance_type="cosine"), replace=True)
            return_freed_memory()
        if build_text:  # once, at the end of a first run: not rebuilt as rows arrive
            segments.create_index("text", config=FTS(stem=True, remove_stop_words=True), replace=True)
            return_freed_memory()
        dataset = segments.to_lance()
        indexes = dataset.describe_indices()
        vector = [i.name for i in indexes if i.field_names == ["vector"]]
        text = [i.name for i in indexes if i.field_names == ["text"]]
        parts = vector_index_parts(dataset) if vector else []
        waiting = dataset.count_rows() - sum(parts)
        if vector and not rebuild_vectors and waiting > 0:
            merge = parts_to_merge(parts, waiting, ANN_REBUILD_MAX_SEGMENTS)
            dataset.optimize.optimize_indices(index_names=vector, num_indices_to_merge=merge)
            return_freed_memory()
        if text and not build_text:
            dataset.optimize.optimize_indices(index_names=text)
            return_freed_memory()
        dataset.cleanup_old_versions(older_than=timedelta(days=7))  # as LanceDB's optimize() did
        segments.checkout_latest()  # the table's view would otherwise lag until its next write
        if vector:
            self.set_meta("vector_indexed_rows", str(segments.count_rows()))

    # ---- search ------------------------------------------------------------------------------

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
    ]

    def refresh(self) -> None:
        """LanceDB already checks for a newer version on every query (read_consistency_interval=0)."""

    def vector_search(self, vector: np.ndarray, limit: int, where: str | None, columns: list[str] | None = None) -> list[dict]:
        """The nearest segments by cosine, each with its `_rowid`, `similarity` and the columns asked for."""
        q = self._tables[SEGMENTS].search(vector.astype(np.float32), vector_column_name="vector").distance_type("cosine")
        if where:
            q = q.where(where, prefilter=True)
        q = q.select([*(columns or self.RESULT_COLUMNS), "_distance"]).with_row_id(True).limit(limit)
        return search_rows(q.to_arrow(), "vector")

    def text_search(self, text: str, limit: int, where: str | None, columns: list[str] | None = None) -> list[dict]:
        """The best BM25 matches, each with its `_rowid`, `bm25` and the columns asked for."""
        if not text.strip():
            return []
        q = self._tables[SEGMENTS].search(text, query_type="fts", fts_columns="text")
        if where:
            q = q.where(where, prefilter=True)
        try:
            table = q.select([*(columns or self.RESULT_COLUMNS), "_score"]).with_row_id(True).limit(limit).to_arrow()
        except Exception as e:  # no FTS index yet (an index run was killed before finish_writes)
            if "index" in str(e).lower():
                return []
            raise
        return search_rows(table, "text")

    def rows(self, rowids: list[int]) -> dict[int, dict]:
        """Row id -> full result row, for row ids from a search of the same version."""
        if not rowids:
            return {}
        table = self._tables[SEGMENTS].take_row_ids(rowids).with_row_id().select(self.RESULT_COLUMNS).to_arrow()
        return {r["_rowid"]: r for r in table.to_pylist()}

    # ---- status -------------------------------------------------------------------------------

    def stats(self) -> dict:
        times = self._tables[SEGMENTS].search().select(list(STATS_COLUMNS)).limit(None).to_arrow()
        return index_stats(self.uri, self.model_id, times, self._tables[SOURCES].to_arrow())


STATS_COLUMNS = ("time", "time_end", "stream_id")
# A filter ORs one condition per stream; lance parses it recursively, so thousands at once could
# exhaust its stack: they go in chunks of this many.
STREAMS_PER_FILTER = 64


def _stream_tail_filters(tails: dict[str, int]) -> list[str]:
    """Filters selecting, for each stream_id -> position, that stream's rows at positions >= position."""
    items = sorted(tails.items())
    return [
        " OR ".join(f"(stream_id = {sql_str(sid)} AND position >= {int(position)})" for sid, position in items[i : i + STREAMS_PER_FILTER])
        for i in range(0, len(items), STREAMS_PER_FILTER)
    ]


class StoredStreams:
    """stream_id -> [(position, content_hash)] in position order, for every stored segment: what a run
    compares each file's segments against. Held as arrays (48 bytes a segment) and read in batches; a
    stream's list is built when asked for. On a 279,367-segment index (tracemalloc, with path -> streams):
    22 MB held and a 37 MB peak, in 0.38 s; as Python tuples from one table it was 48 MB, 102 MB, 0.73 s."""

    def __init__(self, spans: dict[str, tuple[int, int]], positions: np.ndarray, hashes: np.ndarray, duplicated: set[str] | None = None):
        self._spans = spans  # stream_id -> (start, end) in positions and hashes, sorted by (stream, position)
        self._positions = positions
        self._hashes = hashes
        # Streams holding two rows for one position, which only two writers at once could store
        # (the lock prevents it now; older indexes and object stores written from two machines may
        # still hold them). Their lists here repeat those positions, so they never match a file's.
        self.duplicated = duplicated or set()

    @classmethod
    def scan(cls, dataset) -> tuple[StoredStreams, dict[str, set[str]]]:
        import pyarrow as pa
        import pyarrow.compute as pc

        codes: dict[str, int] = {}  # stream_id -> its number, in order of first appearance
        by_path: dict[str, set[str]] = {}
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        columns = ["stream_id", "path", "position", "content_hash"]
        for batch in dataset.to_batches(columns=columns, batch_size=SCAN_ROWS):
            streams = pc.dictionary_encode(batch.column("stream_id"))
            to_code = np.array([codes.setdefault(sid, len(codes)) for sid in streams.dictionary.to_pylist()], dtype=np.int32)
            pairs = pa.table({"stream_id": batch.column("stream_id"), "path": batch.column("path")}).group_by(["stream_id", "path"])
            for sid, path in zip(*pairs.aggregate([]).columns):
                by_path.setdefault(path.as_py(), set()).add(sid.as_py())
            positions = batch.column("position").to_numpy().astype(np.int32)
            parts.append((to_code[streams.indices.to_numpy()], positions, _hash_array(batch.column("content_hash"))))
        if not parts:
            return cls({}, np.zeros(0, np.int32), np.zeros(0, f"S{HASH_WIDTH}")), by_path
        stream, positions, hashes = (np.concatenate(column) for column in zip(*parts))
        del parts
        order = np.lexsort((positions, stream))
        stream, positions, hashes = stream[order], positions[order], hashes[order]
        starts = np.flatnonzero(np.diff(stream, prepend=-1))
        ends = np.append(starts[1:], len(stream))
        names = list(codes)
        spans = {names[stream[a]]: (int(a), int(b)) for a, b in zip(starts, ends)}
        repeated = (np.diff(stream) == 0) & (np.diff(positions) == 0)
        duplicated = {names[c] for c in np.unique(stream[1:][repeated])}
        return cls(spans, positions, hashes, duplicated), by_path

    def get(self, stream_id: str, default=None):
        span = self._spans.get(stream_id)
        if span is None:
            return default
        a, b = span
        return list(zip(self._positions[a:b].tolist(), (h.decode() for h in self._hashes[a:b])))

    def pop(self, stream_id: str, default=None) -> None:
        self._spans.pop(stream_id, default)

    def __len__(self) -> int:
        return len(self._spans)


def _hash_array(column) -> np.ndarray:
    """A string column of sha1 hex digests as fixed-width bytes (no Python object per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        fixed = pc.cast(column, pa.binary(HASH_WIDTH))
    except pa.ArrowInvalid:  # a digest of another width (evosearch writes none): cut to the width
        return np.array([(h or "").encode() for h in column.to_pylist()], dtype=f"S{HASH_WIDTH}")
    data = np.frombuffer(fixed.buffers()[1], dtype=f"S{HASH_WIDTH}")
    return data[fixed.offset : fixed.offset + len(fixed)].copy()


def vector_index_parts(dataset) -> list[int]:
    """Rows in each part of the vector index of a lance dataset, oldest part first."""
    parts = [p for i in dataset.describe_indices() if i.field_names == ["vector"] for p in i.segments]
    parts.sort(key=lambda p: p.dataset_version_at_last_update)
    rows = {f.fragment_id: f.count_rows() for f in dataset.get_fragments()}
    return [sum(rows.get(f, 0) for f in part.fragment_ids) for part in parts]


def unindexed_fragments(dataset) -> list[int]:
    """Ids of the fragments of a lance dataset that no index covers (rows written since the
    indexes were last built or extended)."""
    covered = {f for i in dataset.describe_indices() for part in i.segments for f in part.fragment_ids}
    return [f.fragment_id for f in dataset.get_fragments() if f.fragment_id not in covered]


def compact_unindexed(dataset) -> None:
    """Merge the fragments no index covers into large ones, leaving every indexed fragment as
    it is: nothing to remap, so memory follows the rows compacted, not the corpus."""
    waiting = set(unindexed_fragments(dataset))
    if len(waiting) > 1:
        indexed = [f.fragment_id for f in dataset.get_fragments() if f.fragment_id not in waiting]
        dataset.optimize.compact_files(excluded_fragment_ids=indexed)
        return_freed_memory()


def rewrite_a_stale_fragment(dataset) -> None:
    """Rewrite without its deleted rows (edited and removed files leave them behind) the first
    indexed fragment where they reach REWRITE_DELETED_SHARE. That remaps the vector-index part
    covering it, which costs about what rebuilding that part does (bounded by the part limit:
    +394 MB for a 61k-row fragment in an 82k-row part, one probe): one fragment per update."""
    fragments = dataset.get_fragments()
    stale = [f.fragment_id for f in fragments if f.count_rows() <= (1 - REWRITE_DELETED_SHARE) * f.physical_rows]
    if stale:
        others = [f.fragment_id for f in fragments if f.fragment_id != stale[0]]
        dataset.optimize.compact_files(excluded_fragment_ids=others, materialize_deletions_threshold=REWRITE_DELETED_SHARE)
        return_freed_memory()


def parts_to_merge(parts: list[int], waiting: int, limit: int) -> int:
    """How many of the newest vector-index parts (row counts, oldest first) to rebuild together
    with the waiting rows: each while it holds at most twice the rows gathered so far and the
    total stays within limit. So a few new rows make a small new part instead of rebuilding a
    large one, small parts merge as they pile up (their count grows with the log of the rows),
    and no build covers more than limit rows."""
    gathered, merge = waiting, 0
    for part in reversed(parts):
        if part > 2 * gathered or gathered + part > limit:
            break
        gathered += part
        merge += 1
    return merge


def index_stats(uri: str, model_id: str, segments, sources) -> dict:
    """What `status` shows, from the segments' STATS_COLUMNS and the sources table (Arrow tables)."""
    starts = [t for t in segments.column("time").to_pylist() if t]
    ends = [t for t in segments.column("time_end").to_pylist() if t]
    formats: dict[str, int] = {}
    for f in sources.column("format").to_pylist():
        formats[f] = formats.get(f, 0) + 1
    return {
        "db": uri,
        "model": model_id,
        "sources": sources.num_rows,
        "formats": formats,
        "segments": segments.num_rows,
        "streams": len(set(segments.column("stream_id").to_pylist())),
        "first_time": min(starts).isoformat() if starts else None,
        "last_time": max(ends).isoformat() if ends else None,
        "size_bytes": _dir_size(uri),
    }


def search_rows(table, kind: str) -> list[dict]:
    """Search hits as dicts: "vector" hits get a cosine `similarity`, "text" hits their `bm25` score."""
    rows = table.to_pylist()
    for r in rows:
        if kind == "vector":
            r["similarity"] = 1.0 - r.pop("_distance")
        else:
            r["bm25"] = r.pop("_score")
    return rows


def _dir_size(uri: str) -> int | None:
    if not is_local_uri(uri):
        return None
    root = Path(uri.removeprefix("file://"))
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
