"""Is an approximate vector index faithful on real embeddings? Recall of ANN against the flat scan.

    python benchmarks/ann_recall.py FEATURES.npz [--queries 500] [--index IVF_HNSW_SQ]

FEATURES.npz is the base-vector cache that `evosearch train` writes to <out>/checkpoints/
(real MiniLM vectors of real segments and queries: the bundled recipe gives about 31k segments
and 14k queries). Segment vectors go into a LanceDB table; the same queries are searched with
the flat scan and with the index; printed: build time, recall@10 and recall@50 of the index
(share of the flat top-k it returns), and p50 latency of both.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def recall(approx: list[list], exact: list[list], k: int) -> float:
    """Mean share (%) of each exact top k that the approximate search returned in its top k."""
    return 100 * statistics.mean(len(set(a[:k]) & set(e[:k])) / k for a, e in zip(approx, exact))


def report(approx: list[tuple[list, float]], exact: list[tuple[list, float]]) -> str:
    """Recall@10 and @50 and p50 latencies of searches given as (ids, milliseconds), index against exact."""
    ids = [a for a, _ in approx], [e for e, _ in exact]
    latency = {name: statistics.median(ms for _, ms in runs) for name, runs in (("index", approx), ("exact scan", exact))}
    return f"recall@10 {recall(*ids, 10):.1f}%, recall@50 {recall(*ids, 50):.1f}%; p50 latency: " + ", ".join(f"{n} {ms:.1f} ms" for n, ms in latency.items())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("features", type=Path)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--index", default="IVF_HNSW_SQ")
    args = parser.parse_args(argv)
    import lancedb
    import pyarrow as pa

    flat = np.load(args.features)
    segments = flat["segments"] / np.linalg.norm(flat["segments"], axis=1, keepdims=True)
    queries = flat["queries"] / np.linalg.norm(flat["queries"], axis=1, keepdims=True)
    queries = queries[np.random.default_rng(0).choice(len(queries), min(args.queries, len(queries)), replace=False)]
    with tempfile.TemporaryDirectory() as tmp:
        db = lancedb.connect(tmp)
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(segments.astype(np.float32).ravel()), segments.shape[1])
        table = db.create_table("t", pa.table({"id": np.arange(len(segments)), "vector": vectors}))

        def search(q: np.ndarray, k: int) -> tuple[list[int], float]:
            started = time.perf_counter()
            rows = table.search(q, vector_column_name="vector").distance_type("cosine").select(["id"]).limit(k).to_arrow()
            return rows.column("id").to_pylist(), 1000 * (time.perf_counter() - started)

        exact = [search(q, 50) for q in queries]
        started = time.perf_counter()
        table.create_index(metric="cosine", vector_column_name="vector", index_type=args.index)
        build = time.perf_counter() - started
        approx = [search(q, 50) for q in queries]
    print(f"{len(segments)} real segment vectors, {len(queries)} real queries; {args.index} built in {build:.1f} s")
    print(report(approx, exact))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
