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
