"""Writing an index through LanceDB, the one module that imports it.

Writes follow the order schema.py describes, so a killed run leaves an index the next run repairs.
An edited file's rows are overwritten in place (mark_replacing, then replace_segments), never
deleted before their replacements exist, so its old text stays searchable through a kill.
"""

from __future__ import annotations

import os
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from ..config import is_local_uri, make_private_dir
from ..errors import StoreError
from ..remote import storage_options
from . import maintenance, schema
from .fragments import FragmentTarget
from .reader import LanceReader
from .scan import StoredStreams
from .schema import (
    CONTEXT,
    META,
    SCHEMA_VERSION,
    SECTION,
    SEGMENTS,
    SNAPSHOTS,
    SOURCES,
    STALE_HASH,
    TABLES,
    SourceRecord,
    cannot_open,
    check_schema_version,
    no_index,
    snapshot_row,
    sql_in,
    sql_str,
    table_schemas,
)

warnings.filterwarnings("ignore", category=DeprecationWarning, module="lancedb")
# lance 14 warns on stderr (on every `index` that compacts) that index statistics will stop
# including the centroids; nothing here reads them: take the new behaviour and no warning.
os.environ.setdefault("LANCE_INCLUDE_VECTOR_CENTROIDS", "false")


class Store(LanceReader):
    """An index opened through LanceDB, at a local path or an object-store URI (s3://, gs://, az://):
    what writes and maintains it. It reads as a LanceReader does, on its own tables."""

    def __init__(self, uri: str, db, tables: dict, meta: dict[str, str], session):
        super().__init__(uri, None, meta)
        self._db = db
        self.session = session  # LanceDB's caches: size_bytes says what they hold
        self._tables = tables
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
        context: bool = False,
        write: bool = False,
        rebuild: bool = False,
        command: str = "api",
    ) -> "Store":
        """Open the index. With model_id/dim given (indexing), create it if missing and refuse a
        different model; without (searching), it must exist. Opening to write (model_id given,
        write=True or rebuild=True) takes the index's writer lock first, or raises LockedError naming
        the holder; the store keeps it until close() (or until the process ends). `command` names
        this writer in another writer's refusal. rebuild=True drops every table under that lock. context:
        a new index's rows hold each chat turn's context text (schema.table_schemas)."""
        from ..lock import WriterLock

        creating = model_id is not None
        if uri.startswith("memory://"):  # lance, which maintains and reads the index, cannot see it
            raise StoreError(f"an index cannot live at {uri}", "use a folder or an object-store URI (s3://, gs://, az://)")
        if not creating and is_local_uri(uri) and not Path(uri.removeprefix("file://")).exists():
            raise no_index(uri)
        lock = WriterLock(uri, command).acquire() if (creating or write or rebuild) else None
        try:
            store = cls._open_locked(uri, model_id, dim, memory_shape, rebuild, context)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        store.writer_lock = lock
        return store

    @classmethod
    def _open_locked(cls, uri: str, model_id, dim, memory_shape, rebuild: bool, context: bool) -> "Store":
        import lancedb

        creating = model_id is not None
        if rebuild:
            cls._drop_tables(uri)
        try:
            if creating and is_local_uri(uri):
                make_private_dir(Path(uri.removeprefix("file://")))  # lance would make it world-readable (0755)
            # Readers check for new versions on every query, so a long-lived `ask` (the API, a
            # server, the watch soak) sees what a concurrent writer has committed.
            session = lancedb.Session(metadata_cache_size_bytes=schema.METADATA_CACHE_BYTES)
            db = lancedb.connect(
                uri, read_consistency_interval=None if creating else timedelta(0), session=session, storage_options=storage_options(uri)
            )
            names = set(db.list_tables().tables)
        except Exception as e:  # lancedb raises plain OSError/ValueError/RuntimeError for bad URIs
            raise cannot_open(uri, e) from e
        if not creating and SEGMENTS not in names:
            raise no_index(uri)
        tables = {}
        if creating:
            try:
                for name, arrow_schema in table_schemas(dim, context).items():
                    tables[name] = db.open_table(name) if name in names else db.create_table(name, schema=arrow_schema, exist_ok=True)
            except (OSError, RuntimeError) as e:  # lance reports an unwritable folder as a RuntimeError
                raise StoreError(
                    f"cannot write the index at {uri}: {e}", "choose a folder you can write to with --db or $EVOSEARCH_DB"
                ) from e
        else:
            tables = {name: db.open_table(name) for name in TABLES if name in names}
        meta = {r["key"]: r["value"] for r in tables[META].to_arrow().to_pylist()} if META in tables else {}
        check_schema_version(uri, meta)
        if creating:
            if meta and meta.get("model_id") != model_id:
                raise StoreError(
                    f"the index at {uri} was built with encoder {meta.get('model_id')}, not {model_id}",
                    "run `evosearch index --rebuild PATH` to re-encode everything with the current encoder",
                )
            _add_section_column(tables[SEGMENTS])
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
        from ..lock import WriterLock

        with WriterLock(uri, "rebuild"):
            Store._drop_tables(uri)

    @staticmethod
    def _drop_tables(uri: str) -> None:
        import lancedb

        db = lancedb.connect(uri, storage_options=storage_options(uri))
        for name in set(db.list_tables().tables) & set(TABLES):
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

    def table(self, name: str):
        """The LanceDB table (what maintenance and the tests work on)."""
        return self._tables[name]

    def dataset(self, name: str):
        """The table's current version as a lance dataset: what the read half (LanceReader) reads."""
        return self._tables[name].to_lance()

    def latest(self) -> LanceReader:
        return LanceReader(self.uri, self.dataset(SEGMENTS), self.meta)

    # ---- sources -------------------------------------------------------------------------

    def put_sources(self, records: list[SourceRecord]) -> None:
        """Upsert source rows, one merge for all (a merge costs the same whatever its size)."""
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
        path -> stream ids. Indexing compares against these instead of querying per file, which costs a query each."""
        return StoredStreams.scan(self._tables[SEGMENTS].to_lance())

    def stream_texts(self) -> dict[str, list[tuple[str, list[str], str | None]]]:
        """stream_id -> (text, speakers, section) of its segments in position order (what `train
        --self-supervised` learns from); speakers as schema.segment_row joined them."""
        columns = self._columns(["stream_id", "position", "text", "speaker", SECTION])
        table = self._tables[SEGMENTS].search().select(columns).limit(None).to_arrow()
        sections = table.column(SECTION).to_pylist() if SECTION in columns else [None] * table.num_rows
        rows: dict[str, list[tuple[int, str, str | None, str | None]]] = {}
        for sid, pos, text, speaker, section in zip(*(table.column(c).to_pylist() for c in columns[:4]), sections):
            rows.setdefault(sid, []).append((pos, text, speaker, section))
        return {
            sid: [(t, schema.stored_speakers(speaker), section) for _, t, speaker, section in sorted(r, key=lambda row: row[0])]
            for sid, r in rows.items()
        }

    @property
    def holds_context(self) -> bool:
        """Whether its segment rows hold the text before each chat turn (schema.CONTEXT)."""
        return CONTEXT in self._tables[SEGMENTS].schema.names

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
        for where in stream_tail_filters(starts):
            self.dirty = True
            self._tables[SNAPSHOTS].delete(where)
            self._tables[SEGMENTS].update(where=where, values={"content_hash": STALE_HASH})

    def retitle_stream(self, stream_id: str, title: str | None) -> None:
        """Give every stored row of a stream a new title (a chat renamed, its messages the same)."""
        self._update_stream_rows(stream_id, values={"title": title})

    def move_lines(self, stream_id: str, first: int, last: int, by: tuple[int, int]) -> None:
        """Add by to the line_start and line_end of a stream's rows at positions first..last."""
        moved = {"line_start": f"line_start + {int(by[0])}", "line_end": f"line_end + {int(by[1])}"}
        self._update_stream_rows(stream_id, (first, last), values_sql=moved)

    def set_times(self, stream_id: str, first: int, last: int, times: tuple) -> None:
        """Give a stream's rows at positions first..last the time and time_end times (datetimes or None)."""
        self._update_stream_rows(stream_id, (first, last), values={"time": times[0], "time_end": times[1]})

    def set_lines(self, stream_id: str, position: int, lines: tuple[int | None, int | None]) -> None:
        """Give one row of a stream its line_start and line_end (either may be None)."""
        self._update_stream_rows(stream_id, (position, position), values={"line_start": lines[0], "line_end": lines[1]})

    def _update_stream_rows(self, stream_id: str, positions: tuple[int, int] | None = None, **update) -> None:
        """One update of a stream's rows, at positions first..last when given (LanceDB's values or values_sql)."""
        where = f"stream_id = {sql_str(stream_id)}"
        if positions is not None:
            where += f" AND position >= {int(positions[0])} AND position <= {int(positions[1])}"
        self.dirty = True
        self._tables[SEGMENTS].update(where=where, **update)

    def replace_segments(self, rows: list[dict]) -> None:
        """Write rows over the rows with the same id (stream and position) in one commit, adding
        those that have none: at every moment each position holds the old row or the new one."""
        if rows:
            self.dirty = True
            self._tables[SEGMENTS].merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(rows)

    def delete_stream_tails(self, tails: dict[str, int]) -> None:
        """Drop segments and snapshots at positions >= tails[stream_id], for many streams at once."""
        for where in stream_tail_filters(tails):
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

    # ---- rows written elsewhere as fragments (fragments.py, `index --ray`) ---------------------

    def fragment_target(self, name: str) -> FragmentTarget:
        """Where a worker writes table name's rows as fragments."""
        ds = self.dataset(name)
        return FragmentTarget(ds.uri, ds.schema, ds.data_storage_version)

    def commit_fragments(self, name: str, fragments: list) -> None:
        """Make fragments written by workers rows of table name, in one Append commit. Appends never
        conflict, so a commit another writer made since is rebased on, not lost (lance retries)."""
        if not fragments:
            return
        import lance

        ds = self.dataset(name)
        lance.LanceDataset.commit(ds, lance.LanceOperation.Append(fragments), read_version=ds.version)
        self._tables[name].checkout_latest()  # this writer's handle never polls for new versions
        self.dirty = True

    def delete_replaced(self, starts: dict[str, int]) -> None:
        """Drop the rows mark_replacing blanked (stream_id -> position), once their replacements are
        committed: those still carrying STALE_HASH, which no new row has. Their snapshots went in mark_replacing."""
        for where in stream_tail_filters(starts):
            self.dirty = True
            self._tables[SEGMENTS].delete(f"({where}) AND content_hash = {sql_str(STALE_HASH)}")

    def add_segments(self, rows: list[dict]) -> None:
        if rows:
            self.dirty = True
            self._tables[SEGMENTS].add(rows)

    def add_snapshots(self, rows: list[tuple[str, int, np.ndarray]]) -> None:
        if rows:
            self._tables[SNAPSHOTS].add([snapshot_row(s, p, m) for s, p, m in rows])

    def set_meta(self, key: str, value: str) -> None:
        self.meta[key] = value
        (
            self._tables[META]
            .merge_insert("key")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute([{"key": key, "value": value}])
        )

    # ---- maintenance (maintenance.py) ---------------------------------------------------------

    def finish_writes(self) -> None:
        maintenance.finish_writes(self)

    def index_vectors(self) -> None:
        maintenance.index_vectors(self)

    def update_indexes(self, *, rebuild_vectors: bool = False) -> None:
        maintenance.update_indexes(self, rebuild_vectors=rebuild_vectors)


# A filter ORs one condition per stream; lance parses it recursively, so thousands at once could
# exhaust its stack: they go in chunks of this many.
STREAMS_PER_FILTER = 64


def stream_tail_filters(tails: dict[str, int]) -> list[str]:
    """Filters selecting, for each stream_id -> position, that stream's rows at positions >= position."""
    items = sorted(tails.items())
    return [
        " OR ".join(f"(stream_id = {sql_str(sid)} AND position >= {int(position)})" for sid, position in items[i : i + STREAMS_PER_FILTER])
        for i in range(0, len(items), STREAMS_PER_FILTER)
    ]


def _add_section_column(segments) -> None:
    """Give an index from before sections had names (schema.SECTION) the column, empty: one commit
    that writes no rows. The SEGMENTATION they were cut by is older, so `index` reads every file again
    and rewrites the documents' rows with their sections."""
    import pyarrow as pa

    if SECTION not in segments.schema.names:
        segments.add_columns(pa.field(SECTION, pa.string()))
