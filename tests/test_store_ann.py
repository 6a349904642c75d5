"""The approximate vector index: built once the index is large, and search stays right."""

from __future__ import annotations

import numpy as np
import pytest

from evosearch.store import maintenance
from evosearch.store import SEGMENTS, Store


def _rows(vectors: np.ndarray, start: int = 0) -> list[dict]:
    return [
        {
            "id": f"s@{start + i}",
            "stream_id": "s",
            "path": "/notes/a.md",
            "position": start + i,
            "title": "a",
            "format": "markdown",
            "text": f"paragraph {start + i}",
            "vector": v,
            "time": None,
            "time_end": None,
            "speaker": None,
            "message_ids": [],
            "line_start": 1,
            "line_end": 1,
            "content_hash": str(start + i),
        }
        for i, v in enumerate(vectors)
    ]


def test_a_large_index_gets_a_vector_index_and_still_finds_exact_neighbours(tmp_path, monkeypatch):
    monkeypatch.setattr(maintenance, "ANN_MIN_SEGMENTS", 1500)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = Store.open(str(tmp_path / "db"), model_id="m", dim=16, memory_shape=(2, 16))
    store.add_segments(_rows(vectors[:1000]))
    store.finish_writes()
    assert not any("vector" in i.columns for i in store.table(SEGMENTS).list_indices())  # small: exact scan
    store.add_segments(_rows(vectors[1000:], start=1000))
    store.finish_writes()
    assert any("vector" in i.columns for i in store.table(SEGMENTS).list_indices())
    # Its similarities are the exact cosines `ask` adds full-text hits' cosines to: the index alone
    # reports twice the cosine distance (lancedb issue 3530), which scored every dense candidate 2 cos - 1.
    query = vectors[7] + 0.5 * vectors[8]
    query /= np.linalg.norm(query)
    hits = store.vector_search(query, 20, None)
    assert len(hits) == 20
    exact = [float(vectors[int(h["id"].split("@")[1])] @ query) for h in hits]
    assert [h["similarity"] for h in hits] == pytest.approx(exact, abs=1e-5)
    # Each vector's own row comes back first; rows appended after the index are found too.
    for i in (3, 1500, 1999):
        assert store.vector_search(vectors[i], 1, None)[0]["id"] == f"s@{i}"
    store.add_segments(_rows(vectors[:1] * -1, start=2000))  # not yet in the vector index
    store.finish_writes()
    assert store.vector_search(-vectors[0], 1, None)[0]["id"] == "s@2000"


def test_the_vector_index_is_rebuilt_once_the_corpus_outgrows_it(tmp_path, monkeypatch):
    monkeypatch.setattr(maintenance, "ANN_MIN_SEGMENTS", 300)
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((1400, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = Store.open(str(tmp_path / "db"), model_id="m", dim=16, memory_shape=(2, 16))

    def vector_index():
        return [i for i in store.table(SEGMENTS).list_indices() if "vector" in i.columns]

    store.add_segments(_rows(vectors[:300]))
    store.finish_writes()
    first = vector_index()
    assert first and store.meta["vector_index_rows"] == "300"
    store.add_segments(_rows(vectors[300:1100], start=300))  # 3.7x: folded into the existing index
    store.finish_writes()
    assert store.meta["vector_index_rows"] == "300"
    store.add_segments(_rows(vectors[1100:], start=1100))  # 4.7x: rebuilt over all rows
    store.finish_writes()
    assert store.meta["vector_index_rows"] == "1400"
    assert Store.open(str(tmp_path / "db")).meta["vector_index_rows"] == "1400"
    for i in (5, 700, 1399):
        assert store.vector_search(vectors[i], 1, None)[0]["id"] == f"s@{i}"


def test_past_the_rebuild_limit_new_rows_are_indexed_in_bounded_parts(tmp_path, monkeypatch):
    """No build covers more than ANN_REBUILD_MAX_SEGMENTS rows (memory grows with the rows a
    build covers): past it, waiting rows join the newest part while it stays within the
    limit, else start a new part; every row stays findable throughout."""
    monkeypatch.setattr(maintenance, "ANN_MIN_SEGMENTS", 300)
    monkeypatch.setattr(maintenance, "ANN_REBUILD_MAX_SEGMENTS", 500)
    monkeypatch.setattr(maintenance, "ANN_DELTA_SEGMENTS", 200)
    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((1500, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = Store.open(str(tmp_path / "db"), model_id="m", dim=16, memory_shape=(2, 16))
    built = []
    real_create = store.table(SEGMENTS).create_index

    def spy(column, **kwargs):
        if column == "vector":
            built.append(store.table(SEGMENTS).count_rows())
        return real_create(column, **kwargs)

    monkeypatch.setattr(store.table(SEGMENTS), "create_index", spy)
    lo = 0
    for n in (300, 100, 300, 150, 50, 200, 400):  # rows written between index_vectors() calls
        store.add_segments(_rows(vectors[lo : lo + n], start=lo))
        lo += n
        store.index_vectors()
    meta = {k: int(v) for k, v in store.meta.items() if k.startswith("vector_")}
    assert built == [300], "past the limit nothing is rebuilt over all rows"
    # 400 rows: 100 wait (< 200). 700: 400 wait, newest part 300 + 400 > 500: a new part of 400.
    # 850: 150 wait. 900: 200 wait, 400 + 200 > 500: a new part. 1100: 200 wait, 200 + 200 <= 500
    # (400 + 200 + 200 > 500): merged with the newest part only. 1500: 400 + 400 > 500: a new part.
    assert meta == {"vector_index_rows": 300, "vector_indexed_rows": 1500}
    assert maintenance.vector_index_parts(store.table(SEGMENTS).to_lance()) == [300, 400, 400, 400]
    reopened = Store.open(str(tmp_path / "db"))
    stats = reopened.table(SEGMENTS).index_stats(next(i.name for i in reopened.table(SEGMENTS).list_indices() if "vector" in i.columns))
    assert (stats.num_indices, stats.num_indexed_rows, stats.num_unindexed_rows) == (4, 1500, 0)  # 300 | 400 | 200+200 | 400
    for i in (0, 350, 720, 899, 1050, 1499):
        assert reopened.vector_search(vectors[i], 1, None)[0]["id"] == f"s@{i}"


def _indexed_store(tmp_path, monkeypatch, rows=400):
    """A store past the vector-index threshold, both indexes built, one 400-row fragment."""
    monkeypatch.setattr(maintenance, "ANN_MIN_SEGMENTS", 300)
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((rows + 200, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = Store.open(str(tmp_path / "db"), model_id="m", dim=16, memory_shape=(2, 16))
    store.add_segments(_rows(vectors[:rows]))
    store.finish_writes()
    return store, vectors


def _unindexed_rows(store) -> dict[str, int]:
    table = store.table(SEGMENTS)
    return {i.columns[0]: table.index_stats(i.name).num_unindexed_rows for i in table.list_indices()}


def _data_files(dataset) -> dict[int, list[str]]:
    return {f.fragment_id: [d.path for d in f.metadata.files] for f in dataset.get_fragments()}


def test_small_writes_are_folded_into_the_indexes_without_rewriting_indexed_fragments(tmp_path, monkeypatch):
    """Appended messages (watch) write tiny fragments. Once COMPACT_AFTER_SMALL_FRAGMENTS of them
    wait, they are compacted into one and added to both indexes; the fragments the indexes
    already cover are left exactly as they were (rewriting them means remapping the indexes,
    whose memory grows with the corpus)."""
    store, vectors = _indexed_store(tmp_path, monkeypatch)
    assert _unindexed_rows(store) == {"text": 0, "vector": 0}
    before = _data_files(store.table(SEGMENTS).to_lance())
    assert maintenance.unindexed_fragments(store.table(SEGMENTS).to_lance()) == []
    at = 400
    for write in range(maintenance.COMPACT_AFTER_SMALL_FRAGMENTS):
        assert len(maintenance.unindexed_fragments(store.table(SEGMENTS).to_lance())) == write
        store.add_segments(_rows(vectors[at : at + 5], start=at))
        at += 5
        store.finish_writes()
    dataset = store.table(SEGMENTS).to_lance()
    after = _data_files(dataset)
    assert {f: after[f] for f in before} == before, "an indexed fragment was rewritten"
    assert len(after) == len(before) + 1 and dataset.count_rows() == at  # the 16 small writes, now one fragment
    assert _unindexed_rows(store) == {"text": 0, "vector": 0}
    assert maintenance.unindexed_fragments(dataset) == []
    for i in (0, 399, 400, at - 1):
        assert store.vector_search(vectors[i], 1, None)[0]["id"] == f"s@{i}"
        assert store.text_search(f"paragraph {i}", 1, None)[0]["id"] == f"s@{i}"


def test_a_kill_between_compaction_and_the_index_update_loses_nothing(tmp_path, monkeypatch):
    from lance.dataset import DatasetOptimizer

    store, vectors = _indexed_store(tmp_path, monkeypatch)
    real_optimize = DatasetOptimizer.optimize_indices

    def killed(dataset, *args, **kwargs):
        if any("vector" in name for name in kwargs.get("index_names", [])):  # the full-text index is extended every run
            raise KeyboardInterrupt("killed")
        return real_optimize(dataset, *args, **kwargs)

    monkeypatch.setattr(DatasetOptimizer, "optimize_indices", killed)
    at = 400
    with pytest.raises(KeyboardInterrupt):
        for _ in range(maintenance.COMPACT_AFTER_SMALL_FRAGMENTS):
            store.add_segments(_rows(vectors[at : at + 5], start=at))
            at += 5
            store.finish_writes()
    monkeypatch.setattr(DatasetOptimizer, "optimize_indices", real_optimize)
    store.close()  # as the killed process's exit would: the kernel releases its writer lock
    reopened = Store.open(str(tmp_path / "db"), model_id="m", dim=16, memory_shape=(2, 16))
    assert reopened.table(SEGMENTS).count_rows() == at
    assert len(maintenance.unindexed_fragments(reopened.table(SEGMENTS).to_lance())) == 1  # compacted, not indexed
    for i in (0, 420, at - 1):  # rows no index covers are searched flat
        assert reopened.vector_search(vectors[i], 1, None)[0]["id"] == f"s@{i}"
        assert reopened.text_search(f"paragraph {i}", 1, None)[0]["id"] == f"s@{i}"
    for _ in range(maintenance.COMPACT_AFTER_SMALL_FRAGMENTS - 1):  # later writes fold them in
        reopened.add_segments(_rows(vectors[at : at + 5], start=at))
        at += 5
        reopened.finish_writes()
    assert _unindexed_rows(reopened) == {"text": 0, "vector": 0}
    assert reopened.vector_search(vectors[420], 1, None)[0]["id"] == "s@420"


def test_vector_index_parts_stay_few_and_bounded_under_many_small_folds():
    """parts_to_merge, applied fold after fold: no part over the limit, and the number of parts
    grows like the log of the rows (a few new rows never rebuild a large part)."""
    limit, parts, rebuilt = 120_000, [20_000], []
    for fold in range(3_000):
        waiting = 16 if fold % 100 else 4_000
        merge = maintenance.parts_to_merge(parts, waiting, limit)
        rebuilt.append(waiting + sum(parts[len(parts) - merge :]))
        parts = parts[: len(parts) - merge] + [rebuilt[-1]]
        assert max(parts) <= limit
        assert len(parts) <= 4 + 2 * np.log2(sum(parts) / 16)
    assert sum(parts) == 20_000 + 2_970 * 16 + 30 * 4_000
    assert np.mean(rebuilt) < 0.05 * limit  # rows rebuilt per fold, on average
    assert maintenance.parts_to_merge([120_000], 40_000, limit) == 0  # would pass the limit
    assert maintenance.parts_to_merge([80_000, 300], 16, limit) == 0  # 300 > 2 x 16: a new part
    assert maintenance.parts_to_merge([80_000, 30], 16, limit) == 1


def test_an_indexed_fragment_is_rewritten_once_a_tenth_of_its_rows_are_deleted(tmp_path, monkeypatch):
    """Edited and removed files leave deleted rows in fragments the indexes cover; the next index
    update rewrites such a fragment without them (its index part remapped), and only that one."""
    store, vectors = _indexed_store(tmp_path, monkeypatch)
    at = 400
    for _ in range(maintenance.COMPACT_AFTER_SMALL_FRAGMENTS):  # a second indexed fragment
        store.add_segments(_rows(vectors[at : at + 5], start=at))
        at += 5
        store.finish_writes()
    first, second = store.table(SEGMENTS).to_lance().get_fragments()
    store.table(SEGMENTS).delete(f"id IN ({', '.join(repr(f's@{i}') for i in range(0, 400, 8))})")  # 50 of 400
    store.dirty = True
    store.update_indexes()
    dataset = store.table(SEGMENTS).to_lance()
    fragments = {f.fragment_id: (f.count_rows(), f.physical_rows) for f in dataset.get_fragments()}
    assert first.fragment_id not in fragments and (350, 350) in fragments.values(), fragments
    assert _data_files(dataset)[second.fragment_id] == [d.path for d in second.metadata.files]  # untouched
    assert maintenance.unindexed_fragments(dataset) == []
    assert _unindexed_rows(store) == {"text": 0, "vector": 0}
    for i in (1, 399, at - 1):
        assert store.vector_search(vectors[i], 1, None)[0]["id"] == f"s@{i}"
        assert store.text_search(f"paragraph {i}", 1, None)[0]["id"] == f"s@{i}"
    assert store.text_search("paragraph 8", 1, None)[0]["id"] != "s@8"  # deleted rows stay deleted


def _worded_rows(ids: list[int]) -> list[dict]:
    """Rows whose texts differ in words and length, so BM25's statistics matter to the ranking."""
    vocabulary = [f"w{n}" for n in range(60)]
    rows = []
    for i in ids:
        rng = np.random.default_rng(i)
        rows += _rows(np.ones((1, 16), np.float32) / 4, start=i)
        rows[-1]["text"] = " ".join(rng.choice(vocabulary, size=int(rng.integers(3, 30))))
    return rows


def _text_parts(store) -> dict[str, list[int]]:
    dataset = store.table(SEGMENTS).to_lance()
    index = maintenance.text_index(dataset, "text")
    return {p.uuid: sorted(p.fragment_ids) for p in index.segments}


def _bm25(store) -> list[dict[str, float]]:
    """Every match's BM25 score for a few queries (all of them: rows that tie may come in any order)."""
    return [{h["id"]: round(h["bm25"], 4) for h in store.text_search(q, 400, None)} for q in ("w1 w2 w3", "w7 w40", "w11 w12 w13 w14")]


def test_a_deletion_rebuilds_the_full_text_part_that_counted_it_and_bm25_stays_that_of_a_clean_index(tmp_path, monkeypatch):
    """The full-text index is kept in parts whose statistics BM25 sums. A deleted row is still
    counted by its part (lance hides it, but its length and terms stay in the statistics), so the
    next run rebuilds that part, and only it: an appended message costs a part, not the index."""
    monkeypatch.setattr(maintenance, "TEXT_PART_ROWS", 100)
    store = Store.open(str(tmp_path / "db"), model_id="m", dim=16, memory_shape=(2, 16))
    for start in (0, 100, 200):
        store.add_segments(_worded_rows(list(range(start, start + 100))))
    store.finish_writes()
    parts = _text_parts(store)
    assert len(parts) == 3  # a part per 100-row write

    def delete(ids):
        store.table(SEGMENTS).delete(f"id IN ({', '.join(repr(f's@{i}') for i in ids)})")
        store.dirty = True
        store.finish_writes()
        return _text_parts(store)

    def clean(live: list[int]):
        fresh = Store.open(str(tmp_path / f"clean{len(list(tmp_path.iterdir()))}"), model_id="m", dim=16, memory_shape=(2, 16))
        fresh.add_segments(_worded_rows(live))
        fresh.finish_writes()
        return _bm25(fresh)

    ghosted = _bm25(store)
    store.table(SEGMENTS).delete("id = 's@150'")
    assert _bm25(store) != clean([i for i in range(300) if i != 150])  # lance alone keeps counting the row
    after = delete([150])
    assert len(after) == 3 and len(set(after) & set(parts)) == 2  # the middle part, alone, was rebuilt
    assert _bm25(store) == clean([i for i in range(300) if i != 150]) != ghosted

    rebuilt = delete(range(10, 13))  # a forgotten file, at any size of index
    assert len(set(rebuilt) & set(after)) == 2  # the first part this time
    assert _bm25(store) == clean([i for i in range(300) if i != 150 and not 10 <= i < 13])


def test_a_fragment_deleted_whole_leaves_no_ghost_in_the_part_that_covered_it(tmp_path, monkeypatch):
    """Deleting every row of a fragment drops it, deletion file and all; the full-text part over
    it and others still counts its rows, so it is rebuilt too."""
    store = Store.open(str(tmp_path / "db"), model_id="m", dim=16, memory_shape=(2, 16))
    for start in (0, 100, 200):
        store.add_segments(_worded_rows(list(range(start, start + 100))))
    store.finish_writes()
    assert list(_text_parts(store).values()) == [[0, 1, 2]]
    store.table(SEGMENTS).delete("position >= 200")
    store.dirty = True
    store.finish_writes()
    fresh = Store.open(str(tmp_path / "clean"), model_id="m", dim=16, memory_shape=(2, 16))
    fresh.add_segments(_worded_rows(list(range(200))))
    fresh.finish_writes()
    assert list(_text_parts(store).values()) == [[0, 1]]
    assert _bm25(store) == _bm25(fresh)


def test_messages_to_one_chat_rebuild_only_the_small_part_the_last_one_wrote(tmp_path, monkeypatch):
    """Each message to a chat rewrites the chat's last row (reading ahead re-encodes it). The rows a
    run adds make a part apart from the stale part it rebuilds, so the next message to the same
    chat rebuilds that small part, not the large one."""
    store = Store.open(str(tmp_path / "db"), model_id="m", dim=16, memory_shape=(2, 16))
    store.add_segments(_worded_rows(list(range(300))))
    store.finish_writes()

    def message(rewrite: int, new: int) -> dict[str, list[int]]:
        store.table(SEGMENTS).delete(f"id = 's@{rewrite}'")
        store.add_segments(_worded_rows([rewrite, new]))
        store.dirty = True
        store.finish_writes()
        return _text_parts(store)

    first = message(299, 300)  # the large part held the chat's last row: it is rebuilt once
    assert sorted(len(f) for f in first.values()) == [1, 1]
    large = next(uuid for uuid, f in first.items() if f == [0])
    for n in range(300, 306):
        parts = message(n, n + 1)
        assert large in parts and len(parts) <= 3  # the large part as it was; small ones rebuilt and merged
    fresh = Store.open(str(tmp_path / "clean"), model_id="m", dim=16, memory_shape=(2, 16))
    fresh.add_segments(_worded_rows(list(range(307))))
    fresh.finish_writes()
    assert _bm25(store) == _bm25(fresh)
