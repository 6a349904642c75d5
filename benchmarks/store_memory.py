"""Memory of the index's store side as it grows, against one vector-index build over all rows.

    python benchmarks/store_memory.py [--segments 300000] [--queries 20] [--no-baselines]

Rows (real paragraphs from /usr/share/doc, random unit 384-d vectors: the store's work does not
depend on what the vectors mean) go through evosearch.store.Store as `index` writes them:
512-row writes, each followed by Store.index_vectors(), finish_writes() at the end; malloc arenas
limited as `index` limits them (evosearch/heap.py; MALLOC_ARENA_MAX=16 in the environment gives
glibc's default on 2 cores).
Prints the resident memory (RSS) after each step that built or extended the vector index, the
peak, and the index's parts. Then, in the same run:
  later writes: what `watch` does (small writes, finish_writes after each, until they are folded
  into the indexes) and a later `index` run adding 10,000 rows; the peak of each;
  search: through the lance reader (what `ask` uses), a stored row plus a little noise as the
  query: how often that row comes back first (every part of the index is searched), latency;
  baselines, each in a new process on a copy of the table as it was before finish_writes:
  LanceDB's optimize() (what finish_writes ran before: compaction of every small fragment, the
  indexes remapped onto them), and one IVF_HNSW_SQ build over all rows (what it did before the
  index was kept in parts); the RSS increase of each.
The encoder's memory comes on top of the first figure (benchmarks/speed.py measures `index`
end to end).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from query_latency import real_texts, synthetic_rows  # noqa: E402

DIM = 384


def status_mb(*keys: str) -> tuple[int, ...]:
    """Fields of /proc/self/status given in kB (VmRSS, VmHWM, RssAnon, RssFile, ...), in MB, in the order asked."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in keys:
            found[key] = int(value.split()[0]) // 1024
    return tuple(found[key] for key in keys)


def rss_mb() -> tuple[int, int]:
    """(current, peak) resident memory of this process in MB (peak since start or reset_peak)."""
    return status_mb("VmRSS", "VmHWM")


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: the peak (VmHWM) restarts from now


def self_search(reader, probes) -> str:
    """Each probe is a stored row plus a little noise: how often that row comes back first."""
    found, latencies = 0, []
    for row_id, query in probes:
        started = time.perf_counter()
        top = reader.vector_search(query, 10, None, columns=["id"])
        latencies.append(time.perf_counter() - started)
        found += top[0]["id"] == row_id
    return f"the noisy row first in {found} of {len(probes)}; p50 {1000 * np.median(latencies):.0f} ms, p95 {1000 * np.percentile(latencies, 95):.0f} ms"


BASELINE = """
import sys
sys.path.insert(0, sys.argv[2])
import lancedb
from lancedb.index import HnswSq
from store_memory import rss_mb
table = lancedb.connect(sys.argv[1]).open_table('segments')
before = rss_mb()[0]
if sys.argv[3] == 'build':
    table.create_index('vector', config=HnswSq(distance_type='cosine'), replace=True)
else:
    table.optimize()
print(before, rss_mb()[1])
"""


def baseline(uri: str, step: str) -> str:
    from evosearch.heap import WRITER_ARENAS

    env = {"MALLOC_ARENA_MAX": str(WRITER_ARENAS), **os.environ}  # the same malloc arenas as this process
    out = subprocess.run(
        [sys.executable, "-c", BASELINE, uri, str(Path(__file__).parent), step], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    before, peak = int(out[-2]), int(out[-1])
    return f"RSS {before} -> peak {peak} MB (+{peak - before} MB)"


def later_writes(store, texts, rng, label: str, writes: int, rows: int, finish_each: bool) -> None:
    """Writes as `watch` (a few rows, finish_writes after each) or a later `index` run (finish_writes
    at the end) make them; the peak."""
    from evosearch.store import SEGMENTS
    from evosearch.store.maintenance import unindexed_fragments

    reset_peak()
    start, started = store.table(SEGMENTS).count_rows(), time.perf_counter()
    for n in range(writes):
        store.add_segments(synthetic_rows(start + n * rows, rows, texts, rng, DIM))
        store.index_vectors()
        if finish_each:
            store.finish_writes()
    store.finish_writes()
    now, peak = rss_mb()
    waiting = len(unindexed_fragments(store.table(SEGMENTS).to_lance()))
    print(f"{label}: {writes} writes of {rows} rows ({time.perf_counter() - started:.1f} s), {waiting} fragments left to index; RSS {now} MB, peak {peak} MB")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=300_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--no-baselines", action="store_true", help="skip the two baselines in new processes")
    args = parser.parse_args(argv)
    from evosearch.store import maintenance
    from evosearch.heap import limit_malloc_arenas
    from evosearch.indexer import WRITE_ROWS
    from evosearch.store import SEGMENTS, Store
    from evosearch.store import open_for_search

    limit_malloc_arenas()  # as `index` does (evosearch/api.py)
    texts = real_texts(20_000)
    rng = np.random.default_rng(0)
    print(
        f"{args.segments} segments; vector index from {maintenance.ANN_MIN_SEGMENTS}, rebuilt up to "
        f"{maintenance.ANN_REBUILD_MAX_SEGMENTS}, then parts of new rows every {maintenance.ANN_DELTA_SEGMENTS}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        uri = str(Path(tmp) / "db")
        store = Store.open(uri, model_id="m", dim=DIM, memory_shape=(32, DIM))
        print(f"opened: RSS {rss_mb()[0]} MB")
        started = time.perf_counter()
        written = 0
        while written < args.segments:
            store.add_segments(synthetic_rows(written, min(WRITE_ROWS, args.segments - written), texts, rng, DIM))
            written = min(args.segments, written + WRITE_ROWS)
            before = dict(store.meta)
            step = time.perf_counter()
            store.index_vectors()
            if dict(store.meta) != before:
                now, peak = rss_mb()
                meta = store.meta
                print(
                    f"  at {written:>7} rows: vector index {'built' if meta['vector_index_rows'] != before.get('vector_index_rows') else 'extended'}"
                    f" ({time.perf_counter() - step:.1f} s), parts {maintenance.vector_index_parts(store.table(SEGMENTS).to_lance())}; RSS {now} MB, peak so far {peak} MB"
                )
        if not args.no_baselines:
            shutil.copytree(uri, Path(tmp) / "before_finish")
        steps = []
        trim = maintenance.return_freed_memory  # called after each heavy step: note RSS there
        maintenance.return_freed_memory = lambda: steps.append(rss_mb()[1]) or trim()
        store.finish_writes()
        maintenance.return_freed_memory = trim
        print(f"finish_writes: peak after each heavy step (full-text index, compactions) {steps} MB")
        now, peak = rss_mb()
        print(f"finish_writes: RSS {now} MB; peak over the whole build {peak} MB ({time.perf_counter() - started:.0f} s)")

        later_writes(store, texts, rng, "watch, appended messages", maintenance.COMPACT_AFTER_SMALL_FRAGMENTS, 4, True)
        later_writes(store, texts, rng, "a later index run", 10_000 // WRITE_ROWS, WRITE_ROWS, False)

        reader = open_for_search(uri)
        dataset = reader.dataset(SEGMENTS)
        parts = maintenance.vector_index_parts(dataset)
        print(f"vector index: {len(parts)} parts of {parts} rows; {dataset.count_rows() - sum(parts)} rows searched exactly")
        picks = np.linspace(0, args.segments - 1, args.queries).astype(int)  # across every part, in both tables
        probes = [
            (row["id"], np.asarray(row["vector"], dtype=np.float32) + rng.standard_normal(DIM).astype(np.float32) * 0.01)
            for row in dataset.take(picks.tolist(), columns=["id", "vector"]).to_pylist()
        ]
        print("search, in parts: " + self_search(open_for_search(uri), probes))
        if args.no_baselines:
            return 0
        before_finish = str(Path(tmp) / "before_finish")
        print(f"baseline, LanceDB optimize() instead of finish_writes' maintenance (new process): {baseline(before_finish, 'optimize')}")
        print(f"baseline, one build over all {args.segments} rows (new process): {baseline(before_finish, 'build')}")
        print("search, one index: " + self_search(open_for_search(before_finish), probes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
