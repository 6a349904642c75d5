"""What keeping BM25's statistics exact costs: the full-text index built, extended, and a part rebuilt, at a size.

    python benchmarks/text_index.py [--segments 100000,200000,1000000] [--part-rows N]

For each size, a segments table is filled directly (60-word texts from a 20,000-word vocabulary,
random unit vectors, no vector index: its cost is not the question here) through the store
package, and then, as `index` does after a run (store/maintenance.update_text_index): the first
build (in parts of TEXT_PART_ROWS rows); 30 rows appended, then the index extended (a new part:
what a run that only added rows costs); one row deleted, then the part that held it rebuilt (what
a run with an edited or removed file costs). Prints seconds per step, the parts the index ends
with, and what a full-text search then takes (the reader `ask` uses; 3 words drawn from the
vocabulary, 50 hits, median of 100). --part-rows 100000000 keeps the index in one part, as it was
before parts: each deletion then rebuilds all of it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def rows(lo: int, hi: int, rng: random.Random, words: list[str], dim: int = 384) -> list[dict]:
    vectors = np.random.default_rng(lo).standard_normal((hi - lo, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [
        {
            "id": f"s{i}@0", "stream_id": f"s{i}", "path": f"/notes/n{i}.md", "position": 0, "title": "n", "format": "markdown",
            "text": " ".join(rng.choices(words, k=60)), "vector": v, "time": None, "time_end": None, "speaker": None,
            "message_ids": [], "line_start": 1, "line_end": 1, "content_hash": str(i),
        }
        for i, v in zip(range(lo, hi), vectors)
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", default="100000,200000,1000000")
    parser.add_argument("--part-rows", type=int)
    args = parser.parse_args(argv)
    from evosearch.store import Store, maintenance
    from evosearch.store.schema import SEGMENTS

    if args.part_rows:
        maintenance.TEXT_PART_ROWS = args.part_rows
    maintenance.ANN_MIN_SEGMENTS = 10**12  # no vector index: only the full-text index is timed
    rng = random.Random(0)
    words = [f"w{i}" for i in range(20_000)]
    print("| segments | first build (s) | +30 rows, extended (s) | 1 row deleted, its part rebuilt (s) | parts | full-text search (ms) |")
    print("|---|---|---|---|---|---|")
    for n in (int(x) for x in args.segments.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(str(Path(tmp) / "db"), model_id="m", dim=384, memory_shape=(2, 384))
            for lo in range(0, n, 10_000):
                store.add_segments(rows(lo, min(lo + 10_000, n), rng, words))
            maintenance.compact_unindexed(store.table(SEGMENTS).to_lance())  # as a finished first run leaves it
            store.table(SEGMENTS).checkout_latest()
            timings = []
            for step in ("build", "extend", "rebuild"):
                if step == "extend":
                    store.add_segments(rows(n, n + 30, rng, words))
                elif step == "rebuild":
                    store.table(SEGMENTS).delete("id = 's7@0'")
                started = time.monotonic()
                maintenance.update_text_index(store)
                timings.append(time.monotonic() - started)
            parts = len(maintenance.text_index(store.table(SEGMENTS).to_lance(), "text").segments)
            reader = store.latest()
            queries = [" ".join(rng.choices(words[:2000], k=3)) for _ in range(20)]
            for query in queries:  # warm
                reader.text_search(query, 50, None)
            searches = []
            for query in queries * 5:
                started = time.perf_counter()
                reader.text_search(query, 50, None)
                searches.append(1000 * (time.perf_counter() - started))
            print(f"| {n:,} | {timings[0]:.1f} | {timings[1]:.2f} | {timings[2]:.2f} | {parts} | {statistics.median(searches):.1f} |", flush=True)
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
