"""Keeping an index fast as it grows: compaction of small writes, the approximate vector index
built in bounded parts, the full-text index, and rewriting fragments full of deleted rows.

Every step is bounded by the rows it touches, not the corpus: LanceDB's own optimize() remaps
every index onto rewritten fragments and grew with the corpus (benchmarks/store_memory.py,
docs/benchmarks.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ..heap import return_freed_memory
from .schema import CONTEXT, META, SEGMENTS, SNAPSHOTS, SOURCES, TEXT

if TYPE_CHECKING:
    from .writer import Store

# Rows the vector index does not cover yet are searched flat; once they lie in this many fragments
# (small writes: watch, appended messages) they are compacted and added to it (update_indexes).
# The full-text index is kept apart (update_text_index).
# The tables without an index are compacted at the same count of small fragments.
COMPACT_AFTER_SMALL_FRAGMENTS = 16
# The full-text index is built in parts of at most this many rows (more only where one fragment
# holds more), and compaction makes fragments no larger: a run that deleted rows rebuilds the
# parts that held them, so an appended message costs a part, not the index (benchmarks/incremental.py;
# docs/benchmarks.md, "Speed", one appended message). Each part costs a full-text search about
# 0.12 ms (benchmarks/text_index.py; "Faults").
TEXT_PART_ROWS = 20_000
# What `ask` tokenizes with: LanceDB's FTS(stem=True, remove_stop_words=True), spelled out for
# lance, which builds the parts.
FTS_PARAMS = dict(
    base_tokenizer="simple", language="English", with_position=False, max_token_length=40,
    lower_case=True, stem=True, remove_stop_words=True, ascii_folding=True,
)
COMMIT_RETRIES = 5  # on an object store another machine's writer may commit between our read and our commit
REWRITE_DELETED_SHARE = 0.1  # an indexed fragment is rewritten once this share of its rows is deleted
# From this many segments on, vectors get an approximate index (IVF_HNSW_SQ, cosine); below it the
# exact scan is fast enough and nothing needs building (recall and speed: benchmarks/ann_recall.py).
ANN_MIN_SEGMENTS = 20_000
ANN_REBUILD_GROWTH = 4  # the vector index is rebuilt when the index has grown 4x since it was built
# Building the vector index holds memory in proportion to the rows it covers
# (benchmarks/store_memory.py), so it is rebuilt whole only up to ANN_REBUILD_MAX_SEGMENTS rows.
# Past that, rows added since are indexed once ANN_DELTA_SEGMENTS of them wait (searched exactly
# until then), together with the newest parts of the index that fit the same limit, else as a
# new part: no build covers more rows than the limit.
ANN_REBUILD_MAX_SEGMENTS = 120_000
ANN_DELTA_SEGMENTS = 40_000


def finish_writes(store: Store) -> None:
    """After a run that wrote: keep the full-text index's statistics true (update_text_index),
    the vector index in step (index_vectors), and once small writes pile up (watch, appended
    messages; until then the vector index searches their rows flat) compact them and add them
    to the indexes (update_indexes)."""
    segments = store.table(SEGMENTS)
    if segments.count_rows() == 0:
        return
    if not store.dirty:  # a killed run may have written without finishing: the check costs little
        update_text_index(store)
        return
    store.dirty = False
    index_vectors(store)
    update_text_index(store)  # first: lance compacts only fragments the same indexes cover
    if len(unindexed_fragments(segments.to_lance())) >= COMPACT_AFTER_SMALL_FRAGMENTS:
        update_indexes(store)
    for name in (SNAPSHOTS, SOURCES, META):  # no index on these: compaction is a plain copy
        table = store.table(name)
        if table.stats()["fragment_stats"]["num_small_fragments"] >= COMPACT_AFTER_SMALL_FRAGMENTS:
            table.optimize()
            return_freed_memory()


def index_vectors(store: Store) -> None:
    """Keep the approximate vector index in step with the rows, in memory bounded by the
    constants above whatever the index size. `index` calls it after every write, so a first
    run over a large corpus (or one huge chat export) builds early and small, then adds parts."""
    segments = store.table(SEGMENTS)
    rows = segments.count_rows()
    if rows < ANN_MIN_SEGMENTS:
        return
    built_at = int(store.meta.get("vector_index_rows", 0))
    covered = int(store.meta.get("vector_indexed_rows", built_at))  # rows when last built or extended
    has_index = any("vector" in i.columns for i in segments.list_indices())
    if not has_index or (rows >= ANN_REBUILD_GROWTH * built_at and rows <= ANN_REBUILD_MAX_SEGMENTS):
        # Its partitions are learned from the rows there at build time; rows added later are
        # folded into those partitions, which fit less well as the corpus outgrows them.
        update_indexes(store, rebuild_vectors=True)
        store.set_meta("vector_index_rows", str(rows))
    elif rows > ANN_REBUILD_MAX_SEGMENTS and rows - covered >= ANN_DELTA_SEGMENTS:
        update_indexes(store)


def update_text_index(store: Store) -> None:
    """Keep BM25's statistics (row count, lengths, term counts) those of the live rows, so `ask`
    ranks as it would on a clean index of the same files, whatever the index's history of
    kills, edits and resumes (benchmarks/faults.py). The full-text index is kept in parts
    (text_parts) whose statistics BM25 sums: rows added since are indexed as a new part, and a
    part that still counts rows deleted since it was built (edited, removed and forgotten files;
    a stream's last segment re-read when a message arrives) is rebuilt alone, so the cost
    follows the rows written, not the index (benchmarks/text_index.py)."""
    for attempt in range(COMMIT_RETRIES):
        try:
            _update_text_index(store)
            return
        except OSError as e:  # another machine's writer committed first (an index in a bucket)
            if "Retryable commit conflict" not in str(e) or attempt == COMMIT_RETRIES - 1:
                raise
            store.table(SEGMENTS).checkout_latest()


def _update_text_index(store: Store) -> None:
    segments = store.table(SEGMENTS)
    segments.checkout_latest()
    for field in (TEXT, CONTEXT):  # a lexical memory's context (schema.CONTEXT) is kept as its text is
        if field in segments.schema.names:
            _update_field_index(store, field)


def _update_field_index(store: Store, field: str) -> None:
    dataset = store.table(SEGMENTS).to_lance()
    fragments = {f.fragment_id: f for f in dataset.get_fragments()}
    index = text_index(dataset, field)
    parts = sorted(index.segments, key=lambda p: p.dataset_version_at_last_update) if index else []
    stale = [p for p in parts if holds_ghosts(p, fragments)]
    covered = {f for p in parts for f in p.fragment_ids}
    added = [f for f in fragments if f not in covered]
    if not stale and not added:
        return
    keep = [p for p in parts if p not in stale]
    # Rows added make a part of their own, apart from stale parts' rows: the next message to the
    # same chat rewrites a row of it and rebuilds it alone. It takes in the newest parts while they
    # are small, so parts stay few (their count grows with the log of the rows, as the vector index's).
    merge = parts_to_merge([part_rows(p, fragments) for p in keep], sum(fragments[f].count_rows() for f in added), TEXT_PART_ROWS)
    if merge:
        added += [f for p in keep[-merge:] for f in p.fragment_ids if f in fragments]
        keep = keep[:-merge]
    waiting = set(unindexed_fragments(dataset))
    held = [[f for f in p.fragment_ids if f in fragments] for p in stale] + [added]
    name = index.name if index is not None else f"{field}_idx"
    commit_text_parts(store, field, name, keep, [group for ids in held for group in text_parts(ids, waiting, fragments)])


def gather_waiting_text(store: Store, waiting: set[int]) -> None:
    """Make the full-text parts over the fragments waiting for the vector index as few as their
    rows allow, so that compact_unindexed can merge them: lance compacts fragments only within one
    part of each index. They are small writes (or, before the vector index exists, an index of at
    most ANN_MIN_SEGMENTS rows) and this runs once per COMPACT_AFTER_SMALL_FRAGMENTS of them."""
    dataset = store.table(SEGMENTS).to_lance()
    fragments = {f.fragment_id: f for f in dataset.get_fragments()}
    for field in (TEXT, CONTEXT):
        index = text_index(dataset, field)
        if index is None:
            continue
        parts = index.segments
        touched = [p for p in parts if waiting & set(p.fragment_ids)]
        if len(touched) < 2 and all(set(p.fragment_ids) <= waiting for p in touched):
            continue
        held = [f for p in touched for f in p.fragment_ids if f in fragments]
        commit_text_parts(store, field, index.name, [p for p in parts if not waiting & set(p.fragment_ids)], text_parts(held, waiting, fragments))


def text_index(dataset, field: str):
    return next((i for i in dataset.describe_indices() if i.field_names == [field]), None)


def commit_text_parts(store: Store, field: str, name: str, keep: list, groups: list[list[int]]) -> None:
    """Build a full-text part over each group of fragments and commit them, with the parts in
    keep as they are, as the field's whole index, called name (parts not kept are dropped)."""
    if not groups:
        return
    import lance

    segments = store.table(SEGMENTS)
    dataset = segments.to_lance()  # the newest version: the other field's index may have just been committed
    built = [
        dataset.create_index_uncommitted(field, "INVERTED", name=name, replace=True, fragment_ids=group, **FTS_PARAMS)
        for group in groups
    ]

    def as_index(part) -> lance.Index:  # a part kept as it is, in the form the commit takes
        return lance.Index(
            uuid=part.uuid, name=name, fields=built[0].fields, dataset_version=part.dataset_version_at_last_update,
            fragment_ids=set(part.fragment_ids), index_version=part.index_version, created_at=part.created_at,
            base_id=part.base_id, files=None, index_details=built[0].index_details, covering_fields=[],
        )

    dataset.commit_existing_index_segments(name, field, [as_index(p) for p in keep] + built)
    segments.checkout_latest()
    return_freed_memory()


def holds_ghosts(part, fragments: dict) -> bool:
    """Whether a full-text part still counts in BM25's statistics rows that are no longer live:
    rows of its fragments deleted since it was built (a fragment's deletion file records the
    version the deletion read), or a fragment dropped whole."""
    for fragment_id in part.fragment_ids:
        if fragment_id not in fragments:
            return True
        deletion = fragments[fragment_id].metadata.deletion_file
        if deletion is not None and deletion.read_version >= part.dataset_version_at_last_update:
            return True
    return False


def part_rows(part, fragments: dict) -> int:
    return sum(fragments[f].count_rows() for f in part.fragment_ids if f in fragments)


def text_parts(fragment_ids: list[int], waiting: set[int], fragments: dict) -> list[list[int]]:
    """Fragments (ids into fragments, lance fragments by id) grouped in order into full-text parts
    of at most TEXT_PART_ROWS rows (a larger fragment alone). Those waiting for the vector index
    never share a part with the others: update_indexes compacts them together, which lance does
    only within one part of each index."""
    parts: list[list[int]] = []
    for kind in (True, False):
        size = TEXT_PART_ROWS
        for fragment_id in sorted(f for f in fragment_ids if (f in waiting) == kind):
            rows = fragments[fragment_id].count_rows()
            if size + rows > TEXT_PART_ROWS:
                parts.append([])
                size = 0
            parts[-1].append(fragment_id)
            size += rows
    return parts


def update_indexes(store: Store, *, rebuild_vectors: bool = False) -> None:
    """Compact the fragments no index covers, then add their rows to the vector index: rebuilt
    over all rows, or extended (a new part, or merged with the newest parts, see parts_to_merge).
    A fragment an index covers is rewritten only once a tenth of its rows are deleted
    (rewrite_a_stale_fragment), so indexes are not remapped onto the whole corpus each time.
    The full-text index is extended too (update_text_index)."""
    from lancedb.index import HnswSq

    segments = store.table(SEGMENTS)
    gather_waiting_text(store, set(unindexed_fragments(segments.to_lance())))
    dataset = segments.to_lance()
    compact_unindexed(dataset)
    rewrite_a_stale_fragment(dataset)  # on the version compact_unindexed committed
    segments.checkout_latest()
    if rebuild_vectors:
        segments.create_index("vector", config=HnswSq(distance_type="cosine"), replace=True)
        return_freed_memory()
    dataset = segments.to_lance()
    vector = [i.name for i in dataset.describe_indices() if i.field_names == ["vector"]]
    parts = vector_index_parts(dataset) if vector else []
    waiting = dataset.count_rows() - sum(parts)
    if vector and not rebuild_vectors and waiting > 0:
        merge = parts_to_merge(parts, waiting, ANN_REBUILD_MAX_SEGMENTS)
        dataset.optimize.optimize_indices(index_names=vector, num_indices_to_merge=merge)
        return_freed_memory()
    update_text_index(store)
    dataset.cleanup_old_versions(older_than=timedelta(days=7))  # as LanceDB's optimize() did
    segments.checkout_latest()  # the table's view would otherwise lag until its next write
    if vector:
        store.set_meta("vector_indexed_rows", str(segments.count_rows()))


def vector_index_parts(dataset) -> list[int]:
    """Rows in each part of the vector index of a lance dataset, oldest part first."""
    parts = [p for i in dataset.describe_indices() if i.field_names == ["vector"] for p in i.segments]
    parts.sort(key=lambda p: p.dataset_version_at_last_update)
    fragments = {f.fragment_id: f for f in dataset.get_fragments()}
    return [part_rows(part, fragments) for part in parts]


def unindexed_fragments(dataset) -> list[int]:
    """Ids of the fragments of a lance dataset that the vector index does not cover (rows written
    since it was last built or extended; every fragment while there is none)."""
    covered = {f for i in dataset.describe_indices() if i.field_names == ["vector"] for part in i.segments for f in part.fragment_ids}
    return [f.fragment_id for f in dataset.get_fragments() if f.fragment_id not in covered]


def compact_unindexed(dataset) -> None:
    """Merge the fragments the vector index does not cover into large ones, leaving every
    fragment it covers as it is: nothing of it to remap, so memory follows the rows compacted,
    not the corpus (the full-text index is remapped, which costs about what extending it does)."""
    waiting = set(unindexed_fragments(dataset))
    if len(waiting) > 1:
        indexed = [f.fragment_id for f in dataset.get_fragments() if f.fragment_id not in waiting]
        dataset.optimize.compact_files(excluded_fragment_ids=indexed, target_rows_per_fragment=TEXT_PART_ROWS)
        return_freed_memory()


def rewrite_a_stale_fragment(dataset) -> None:
    """Rewrite without its deleted rows (edited and removed files leave them behind) the first
    indexed fragment where they reach REWRITE_DELETED_SHARE. That remaps the vector-index part
    covering it, which costs about what rebuilding that part does (bounded by the part limit):
    one fragment per update."""
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
