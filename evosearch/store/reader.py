"""Reading an index: the one read interface (IndexReader) and its implementation over lance.

LanceDB tables are Lance datasets at `<uri>/<table>.lance`. `ask` and `status` read them through
`lance` directly: the same rows, engine and indexes as through LanceDB, without the cost of
importing LanceDB in a cold process (benchmarks/query_latency.py). The writer (writer.Store)
reads through the same code, on its own tables' datasets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from ..config import is_local_uri
from ..remote import storage_options
from . import schema
from .schema import META, RESULT_COLUMNS, SEGMENTS, SOURCE_COLUMNS, SOURCES, STATS_COLUMNS, SourceRecord, source_records

# The approximate vector index (maintenance.py) reports the squared L2 distance of the normalized
# vectors, twice the cosine distance (lancedb issue 3530), and `ask` adds dense cosines to full-text
# hits' exact ones. Refining re-scores the index's nearest rows by their stored vectors: exact
# cosines, and with 2x the rows re-scored the top 50 matched the exact scan's (benchmarks/ann_refine.py).
REFINE_FACTOR = 2


class IndexReader(Protocol):
    """What searching needs of an index: `search` and the API are written against this."""

    uri: str
    meta: dict[str, str]

    @property
    def model_id(self) -> str: ...

    def latest(self) -> "IndexReader":
        """A view of the newest committed version, whose searches and rows() all read that one version."""
        ...

    def sources(self) -> dict[str, SourceRecord]: ...

    def stats(self) -> dict: ...

    def vector_search(self, vector: np.ndarray, limit: int, where: str | None, columns: list[str] | None = None) -> list[dict]: ...

    def text_search(self, text: str, limit: int, where: str | None, columns: list[str] | None = None, field: str = "text") -> list[dict]: ...

    @property
    def holds_context(self) -> bool:
        """Whether its segment rows hold the text before each chat turn (schema.CONTEXT)."""
        ...

    def rows(self, rowids: list[int]) -> dict[int, dict]: ...

    def scan(self, where: str | None, columns: list[str]) -> list[dict]: ...


def open_for_search(uri: str) -> LanceReader:
    """A read-only view of the index at uri, at its newest version."""
    return LanceReader.open(uri)


def table_uri(uri: str, name: str) -> str:
    return f"{uri.rstrip('/')}/{name}.lance"


class LanceReader:
    """An index's segments as a Lance dataset at one version (see latest()); its sources are read
    at their newest version each time."""

    def __init__(self, uri: str, segments, meta: dict[str, str]):
        self.uri = uri
        self._segments = segments  # the segments table's lance dataset, at one version
        self.meta = meta

    @classmethod
    def open(cls, uri: str) -> LanceReader:
        if is_local_uri(uri) and not Path(uri.removeprefix("file://"), f"{SEGMENTS}.lance").exists():
            raise schema.no_index(uri)
        segments = _open_dataset(uri, SEGMENTS)
        meta = {r["key"]: r["value"] for r in _open_dataset(uri, META).to_table().to_pylist()}
        schema.check_schema_version(uri, meta)
        return cls(uri, segments, meta)

    @property
    def model_id(self) -> str:
        return self.meta.get("model_id", "?")

    def dataset(self, name: str):
        """The lance dataset of a table: the segments at this reader's version, others at their newest."""
        return self._segments if name == SEGMENTS else _open_dataset(self.uri, name)

    def latest(self) -> LanceReader:
        """Checks for a newer version (a directory listing locally): a long-lived reader (the API,
        a server) sees what a writer has committed since."""
        segments = self.dataset(SEGMENTS)
        newest = segments.latest_version
        return LanceReader(self.uri, segments if newest == segments.version else segments.checkout_version(newest), self.meta)

    def sources(self) -> dict[str, SourceRecord]:
        return source_records(self.dataset(SOURCES).to_table(columns=SOURCE_COLUMNS).to_pylist())

    def stats(self) -> dict:
        """What `status` shows."""
        segments = self.dataset(SEGMENTS).to_table(columns=list(STATS_COLUMNS))
        sources = self.dataset(SOURCES).to_table(columns=["format"])
        starts = [t for t in segments.column("time").to_pylist() if t]
        ends = [t for t in segments.column("time_end").to_pylist() if t]
        formats: dict[str, int] = {}
        for f in sources.column("format").to_pylist():
            formats[f] = formats.get(f, 0) + 1
        return {
            "db": self.uri,
            "model": self.model_id,
            "sources": sources.num_rows,
            "formats": formats,
            "segments": segments.num_rows,
            "streams": len(set(segments.column("stream_id").to_pylist())),
            "first_time": min(starts).isoformat() if starts else None,
            "last_time": max(ends).isoformat() if ends else None,
            "size_bytes": _dir_size(self.uri),
        }

    def vector_search(self, vector: np.ndarray, limit: int, where: str | None, columns: list[str] | None = None) -> list[dict]:
        """The nearest segments by cosine, each with its `_rowid`, `similarity` and the columns asked for."""
        nearest = {"column": "vector", "q": vector.astype(np.float32), "k": limit, "metric": "cosine", "refine_factor": REFINE_FACTOR}
        table = self.dataset(SEGMENTS).to_table(
            nearest=nearest,
            columns=[*self._columns(columns or RESULT_COLUMNS), "_distance"],
            filter=where,
            prefilter=bool(where),
            with_row_id=True,
        )
        rows = table.to_pylist()
        for r in rows:
            r["similarity"] = 1.0 - r.pop("_distance")
        return rows

    @property
    def holds_context(self) -> bool:
        return schema.CONTEXT in self.dataset(SEGMENTS).schema.names

    def text_search(self, text: str, limit: int, where: str | None, columns: list[str] | None = None, field: str = "text") -> list[dict]:
        """The best BM25 matches of field (`text`, or `context`), each with its `_rowid`, `bm25` and the columns asked for."""
        if not text.strip():
            return []
        try:
            table = self.dataset(SEGMENTS).to_table(
                full_text_query={"query": text, "columns": [field]},
                limit=limit,
                columns=[*self._columns(columns or RESULT_COLUMNS), "_score"],
                filter=where,
                prefilter=bool(where),
                with_row_id=True,
            )
        except Exception as e:  # no full-text index yet (an index run was killed before finish_writes)
            if "index" in str(e).lower():
                return []
            raise
        rows = table.to_pylist()
        for r in rows:
            r["bm25"] = r.pop("_score")
        return rows

    def rows(self, rowids: list[int]) -> dict[int, dict]:
        """Row id -> full result row, for row ids from a search of the same version."""
        if not rowids:
            return {}
        where = f"_rowid IN ({', '.join(str(int(i)) for i in rowids)})"
        table = self.dataset(SEGMENTS).to_table(columns=self._columns(RESULT_COLUMNS), filter=where, with_row_id=True)
        return {r["_rowid"]: r for r in table.to_pylist()}

    def scan(self, where: str | None, columns: list[str]) -> list[dict]:
        """Every segment the filter selects, unordered, each with its `_rowid` and the columns asked for (`show`, `recent`)."""
        return self.dataset(SEGMENTS).to_table(columns=self._columns(columns), filter=where, with_row_id=True).to_pylist()

    def _columns(self, columns: list[str]) -> list[str]:
        """columns, less the section where this index has none yet (schema.SECTION): `ask` reads an index
        from before sections had names until `index` next writes to it."""
        if schema.SECTION in columns and schema.SECTION not in self.dataset(SEGMENTS).schema.names:
            return [c for c in columns if c != schema.SECTION]
        return columns


def _open_dataset(uri: str, name: str):
    import lance

    try:
        # capped as the writer's: a long-lived reader checks out every version a writer commits
        return lance.dataset(
            table_uri(uri, name), metadata_cache_size_bytes=schema.METADATA_CACHE_BYTES, storage_options=storage_options(uri)
        )
    except Exception as e:  # lance raises ValueError/OSError for missing or unreadable datasets
        if "not found" in str(e).lower():
            raise schema.no_index(uri) from e
        raise schema.cannot_open(uri, e) from e


def _dir_size(uri: str) -> int | None:
    if not is_local_uri(uri):
        return None
    root = Path(uri.removeprefix("file://"))
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
