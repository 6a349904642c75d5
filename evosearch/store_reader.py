"""Searching an index through `lance` directly, without LanceDB.

`ask` only reads: two searches over the segments table and a look at the sources. LanceDB
tables are Lance datasets at `<uri>/<table>.lance`, and reading them through `lance` returns
the same rows (same engine, same indexes, same default probes), while a cold process saves
the 1.4 s that `import lancedb` costs (1.0 s of it LanceDB's namespace REST client). `status`
reads through it too; writes and maintenance stay in store.py.
"""

from __future__ import annotations

from pathlib import Path

import lance
import numpy as np

from .config import is_local_uri
from .remote import storage_options
from .errors import StoreError
from .store import META, METADATA_CACHE_BYTES, SCHEMA_VERSION, SEGMENTS, SOURCES, STATS_COLUMNS, SourceRecord, Store, index_stats, search_rows


def open_for_search(uri: str) -> StoreReader:
    """A read-only view of the index at uri."""
    return StoreReader.open(uri)


def _table_uri(uri: str, name: str) -> str:
    return f"{uri.rstrip('/')}/{name}.lance"


class StoreReader:
    """The search half of Store, over Lance datasets. A long-lived reader (the API, a server)
    sees what a writer commits: see refresh()."""

    def __init__(self, uri: str, datasets: dict, meta: dict[str, str]):
        self.uri = uri
        self._datasets = datasets
        self.meta = meta

    @classmethod
    def open(cls, uri: str) -> StoreReader:
        if is_local_uri(uri) and not Path(uri.removeprefix("file://"), f"{SEGMENTS}.lance").exists():
            raise StoreError(f"no index at {uri}", "run `evosearch index PATH` first, or pass --db")
        datasets = {}
        for name in (SEGMENTS, META):
            try:
                # capped as the writer's: a long-lived reader checks out every version a writer commits
                datasets[name] = lance.dataset(
                    _table_uri(uri, name), metadata_cache_size_bytes=METADATA_CACHE_BYTES, storage_options=storage_options(uri)
                )
            except Exception as e:  # lance raises ValueError/OSError for missing or unreadable datasets
                if "not found" in str(e).lower():
                    raise StoreError(f"no index at {uri}", "run `evosearch index PATH` first, or pass --db") from e
                raise StoreError(f"cannot open the index at {uri}: {e}", "check --db / $EVOSEARCH_DB and credentials") from e
        meta = {r["key"]: r["value"] for r in datasets[META].to_table().to_pylist()}
        if meta.get("schema_version", str(SCHEMA_VERSION)) != str(SCHEMA_VERSION):
            raise StoreError(
                f"the index at {uri} has schema version {meta['schema_version']}, this evosearch writes {SCHEMA_VERSION}",
                "run `evosearch index --rebuild PATH`",
            )
        return cls(uri, datasets, meta)

    @property
    def model_id(self) -> str:
        return self.meta.get("model_id", "?")

    def refresh(self) -> None:
        """Move to the newest version of the segments (a directory listing locally): `ask` calls it
        once, so its searches and the rows it fetches by row id come from one version."""
        dataset = self._datasets[SEGMENTS]
        latest = dataset.latest_version
        if latest != dataset.version:
            self._datasets[SEGMENTS] = dataset.checkout_version(latest)

    def _sources(self):
        return lance.dataset(_table_uri(self.uri, SOURCES), storage_options=storage_options(self.uri))  # the newest version, like the searches after refresh()

    def sources(self) -> dict[str, SourceRecord]:
        rows = self._sources().to_table(columns=["path", "size", "mtime", "hash", "format", "stream_ids", "segment_count"])
        return {
            r["path"]: SourceRecord(
                r["path"], r["size"], r["mtime"], r["hash"], r["format"], list(r["stream_ids"] or []), r["segment_count"]
            )
            for r in rows.to_pylist()
        }

    def stats(self) -> dict:
        segments = self._datasets[SEGMENTS].to_table(columns=list(STATS_COLUMNS))
        return index_stats(self.uri, self.model_id, segments, self._sources().to_table(columns=["format"]))

    def vector_search(self, vector: np.ndarray, limit: int, where: str | None, columns: list[str] | None = None) -> list[dict]:
        """The nearest segments by cosine, each with its `_rowid`, `similarity` and the columns asked for."""
        nearest = {"column": "vector", "q": vector.astype(np.float32), "k": limit, "metric": "cosine"}
        table = self._datasets[SEGMENTS].to_table(
            nearest=nearest,
            columns=[*(columns or Store.RESULT_COLUMNS), "_distance"],
            filter=where,
            prefilter=bool(where),
            with_row_id=True,
        )
        return search_rows(table, "vector")

    def text_search(self, text: str, limit: int, where: str | None, columns: list[str] | None = None) -> list[dict]:
        """The best BM25 matches, each with its `_rowid`, `bm25` and the columns asked for."""
        if not text.strip():
            return []
        try:
            table = self._datasets[SEGMENTS].to_table(
                full_text_query=text,
                limit=limit,
                columns=[*(columns or Store.RESULT_COLUMNS), "_score"],
                filter=where,
                prefilter=bool(where),
                with_row_id=True,
            )
        except Exception as e:  # no full-text index yet (an index run was killed before finish_writes)
            if "index" in str(e).lower():
                return []
            raise
        return search_rows(table, "text")

    def rows(self, rowids: list[int]) -> dict[int, dict]:
        """Row id -> full result row, for row ids from a search of the same version."""
        if not rowids:
            return {}
        where = f"_rowid IN ({', '.join(str(int(i)) for i in rowids)})"
        table = self._datasets[SEGMENTS].to_table(columns=Store.RESULT_COLUMNS, filter=where, with_row_id=True)
        return {r["_rowid"]: r for r in table.to_pylist()}
