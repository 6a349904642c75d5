"""Rows written as lance fragments by a worker, for the index's one writer to commit.

lance's distributed write: a worker (a Ray actor in `index --ray`) writes data files straight
into a table's dataset (local or object store) and returns only their metadata; the writer then
makes them rows with one Append commit per table (Store.commit_fragments). Until that commit the
files are in no version, so a worker or driver killed before it leaves files no reader sees, never
rows; lance's cleanup_old_versions, which `index` runs (maintenance.py), deletes them once they are
7 days old (younger ones may belong to a commit still under way).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..remote import storage_options


@dataclass(frozen=True)
class FragmentTarget:
    """Where a worker writes one table's fragments: what it needs without opening the index."""

    uri: str  # the table's lance dataset
    schema: object  # pyarrow.Schema of the table
    storage_version: str  # the dataset's data file format, which new files must match


def write_fragments(target: FragmentTarget, rows: list[dict]) -> list:
    """Write rows as new data files of target's dataset; their lance FragmentMetadata (picklable), [] for no rows.
    Credentials come from this process's environment or $EVOSEARCH_STORAGE_OPTIONS (remote.py)."""
    if not rows:
        return []
    import lance.fragment
    import pyarrow as pa

    return lance.fragment.write_fragments(
        pa.Table.from_pylist(rows, schema=target.schema),
        target.uri,
        target.schema,
        data_storage_version=target.storage_version,
        storage_options=storage_options(target.uri),
    )
