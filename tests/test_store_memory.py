"""What the store keeps in memory while a run writes: bounded, not growing with its versions."""

from __future__ import annotations

import numpy as np

from evosearch import store as store_module
from evosearch.store import SEGMENTS, Store
from evosearch.store_reader import open_for_search

from .test_store_ann import _rows

CAP = 256 << 10


def _write_many(uri: str, writes: int = 150) -> Store:
    store = Store.open(uri, model_id="t", dim=8, memory_shape=(2, 8))
    rng = np.random.default_rng(0)
    for i in range(writes):  # each write commits a version listing one more fragment
        store.add_segments(_rows(rng.standard_normal((2, 8)).astype(np.float32), 2 * i))
    return store


def test_lancedb_metadata_cache_stays_within_its_cap_over_many_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "METADATA_CACHE_BYTES", None)  # LanceDB's default: what index had
    uncapped = _write_many(str(tmp_path / "uncapped"))
    assert uncapped.session.size_bytes > 8 * CAP  # grows with versions x fragments: the creep a cap stops

    monkeypatch.setattr(store_module, "METADATA_CACHE_BYTES", CAP)
    capped = _write_many(str(tmp_path / "capped"))
    assert capped.session.size_bytes <= CAP
    assert capped.table(SEGMENTS).count_rows() == 300
    reader = open_for_search(str(tmp_path / "capped"))
    assert reader.stats()["segments"] == 300
