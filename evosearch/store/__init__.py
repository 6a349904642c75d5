"""The index, the only package that imports lancedb or lance.

schema.py      tables, columns, shared row shapes and the errors that name an index
reader.py      IndexReader, the one read interface, and LanceReader, its implementation
writer.py      Store: opens an index through LanceDB under the writer lock, and writes it
scan.py        every stored segment's hash, title, lines and time by stream, in one pass (what `index` compares against)
fragments.py   rows written as lance fragments by a worker, for the writer to commit (`index --ray`)
maintenance.py compaction and the vector and full-text indexes, in bounded steps
"""

from .fragments import FragmentTarget, write_fragments
from .reader import IndexReader, LanceReader, open_for_search
from .scan import NO_LINE, microseconds_of
from .schema import CONTEXT, META, SEGMENTS, SNAPSHOTS, SOURCES, STALE_HASH, SourceRecord, segment_row, snapshot_row, sql_in, sql_str, sql_time
from .writer import Store

__all__ = [
    "IndexReader",
    "LanceReader",
    "open_for_search",
    "Store",
    "FragmentTarget",
    "write_fragments",
    "SourceRecord",
    "CONTEXT",
    "META",
    "NO_LINE",
    "microseconds_of",
    "SEGMENTS",
    "SNAPSHOTS",
    "SOURCES",
    "STALE_HASH",
    "segment_row",
    "snapshot_row",
    "sql_in",
    "sql_str",
    "sql_time",
]
