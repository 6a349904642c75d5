"""What the store keeps in memory while a run writes: bounded, not growing with its versions."""

from __future__ import annotations

import numpy as np

from evosearch.store import SEGMENTS, Store, open_for_search, scan, schema

from .test_store_ann import _rows

CAP = 256 << 10


def _write_many(uri: str, writes: int = 150) -> Store:
    store = Store.open(uri, model_id="t", dim=8, memory_shape=(2, 8))
    rng = np.random.default_rng(0)
    for i in range(writes):  # each write commits a version listing one more fragment
        store.add_segments(_rows(rng.standard_normal((2, 8)).astype(np.float32), 2 * i))
    return store


def test_lancedb_metadata_cache_stays_within_its_cap_over_many_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(schema, "METADATA_CACHE_BYTES", None)  # LanceDB's default: what index had
    uncapped = _write_many(str(tmp_path / "uncapped"))
    assert uncapped.session.size_bytes > 8 * CAP  # grows with versions x fragments: the creep a cap stops

    monkeypatch.setattr(schema, "METADATA_CACHE_BYTES", CAP)
    capped = _write_many(str(tmp_path / "capped"))
    assert capped.session.size_bytes <= CAP
    assert capped.table(SEGMENTS).count_rows() == 300
    reader = open_for_search(str(tmp_path / "capped"))
    assert reader.stats()["segments"] == 300


def test_stored_segments_match_the_rows_across_batches_streams_and_deletions(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "SCAN_ROWS", 7)  # streams interleaved across many batches
    store = Store.open(str(tmp_path / "db"), model_id="t", dim=8, memory_shape=(2, 8))
    rng = np.random.default_rng(1)
    rows = []
    for position in range(12):  # written interleaved, the newest position first, as runs of streams in flight can
        for stream, path in (("a.md", "/n/a.md"), ("chat#1", "/n/chat.json"), ("chat#2", "/n/chat.json")):
            row = _rows(rng.standard_normal((1, 8)).astype(np.float32), 11 - position)[0]
            digest = f"{stream}{row['position']:038d}"[-40:]
            rows.append({**row, "id": f"{stream}@{row['position']}", "stream_id": stream, "path": path, "content_hash": digest})
    store.add_segments(rows)
    store.delete_streams_from(["chat#2"], 5)

    stored, by_path = store.stored_segments()

    for stream, kept in (("a.md", 12), ("chat#1", 12), ("chat#2", 5)):
        assert stored.get(stream) == [(p, f"{stream}{p:038d}"[-40:]) for p in range(kept)]
    assert by_path == {"/n/a.md": {"a.md"}, "/n/chat.json": {"chat#1", "chat#2"}}
    assert stored.get("missing") is None and stored.get("missing", []) == []
    stored.pop("a.md")
    assert stored.get("a.md") is None and len(stored) == 2


def test_stored_segments_of_an_empty_index(tmp_path):
    store = Store.open(str(tmp_path / "db"), model_id="t", dim=8, memory_shape=(2, 8))
    stored, by_path = store.stored_segments()
    assert len(stored) == 0 and by_path == {} and stored.get("a", []) == []
