"""The approximate vector index: built once the index is large, and search stays right."""

from __future__ import annotations

import numpy as np

from evosearch import store as store_module
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
    monkeypatch.setattr(store_module, "ANN_MIN_SEGMENTS", 1500)
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
    # Each vector's own row comes back first; rows appended after the index are found too.
    for i in (3, 1500, 1999):
        assert store.vector_search(vectors[i], 1, None)[0]["id"] == f"s@{i}"
    store.add_segments(_rows(vectors[:1] * -1, start=2000))  # not yet in the vector index
    store.finish_writes()
    assert store.vector_search(-vectors[0], 1, None)[0]["id"] == "s@2000"


def test_the_vector_index_is_rebuilt_once_the_corpus_outgrows_it(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "ANN_MIN_SEGMENTS", 300)
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
    monkeypatch.setattr(store_module, "ANN_MIN_SEGMENTS", 300)
    monkeypatch.setattr(store_module, "ANN_REBUILD_MAX_SEGMENTS", 500)
    monkeypatch.setattr(store_module, "ANN_DELTA_SEGMENTS", 200)
    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((1500, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = Store.open(str(tmp_path / "db"), model_id="m", dim=16, memory_shape=(2, 16))
    built = []
    real_create = store.table(SEGMENTS).create_index

    def spy(column, **kwargs):
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
    assert store_module.vector_index_parts(store.table(SEGMENTS).to_lance()) == [300, 400, 400, 400]
    reopened = Store.open(str(tmp_path / "db"))
    stats = reopened.table(SEGMENTS).index_stats(next(i.name for i in reopened.table(SEGMENTS).list_indices() if "vector" in i.columns))
    assert (stats.num_indices, stats.num_indexed_rows, stats.num_unindexed_rows) == (4, 1500, 0)  # 300 | 400 | 200+200 | 400
    for i in (0, 350, 720, 899, 1050, 1499):
        assert reopened.vector_search(vectors[i], 1, None)[0]["id"] == f"s@{i}"
