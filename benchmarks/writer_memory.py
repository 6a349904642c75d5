"""Memory of `index`'s writes on a large real folder, with and without the cap on LanceDB's metadata cache.

    python benchmarks/writer_memory.py FOLDER [--every 20000]

The folder is read, segmented and written exactly as `evosearch index` does (evosearch.indexer:
512-row writes of segments, memory snapshots and sources, the vector index built and extended
as rows arrive, finish_writes at the end), but the encoder is a stand-in of MiniLM's shapes
(random 384-d unit vectors, a 32-slot memory queue): what the writes cost does not depend on what
the vectors mean, and a 279k-segment folder takes minutes instead of an hour. Malloc arenas are
limited as `index` limits them.
Two runs, each in a new process into a fresh index: LanceDB's default metadata cache (what
`index` had), then evosearch's cap (store.METADATA_CACHE_BYTES). Every --every segments each
prints its RSS, the size of LanceDB's caches (Session.size_bytes) and the fragments per table;
at the end its peak RSS and wall time; then the ratios cap / default.
The encoder's own memory comes on top (benchmarks/speed.py measures `index` end to end).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_memory import rss_mb  # noqa: E402

DIM, SLOTS = 384, 32


class ShapedEncoder:
    """MiniLM's shapes, no model: random unit vectors; the memory queue shifts as the real one does.
    Not the tests' HashingEncoder: it caches a vector per word seen, memory that would grow with the folder."""

    model_id = "writer-memory-benchmark"
    dim, memory_slots = DIM, SLOTS

    def __init__(self):
        self.rng = np.random.default_rng(0)

    def empty_memory(self, n: int) -> np.ndarray:
        return np.zeros((n, SLOTS, DIM), dtype=np.float32)

    def encode(self, texts: list[str], memory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vectors = self.rng.standard_normal((len(texts), DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors, np.concatenate([memory[:, 1:], vectors[:, None]], axis=1)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts, self.empty_memory(len(texts)))[0]


def child(folder: str, db: str, capped: bool, every: int) -> None:
    from evosearch.store import schema
    from evosearch.heap import limit_malloc_arenas
    from evosearch.indexer import Indexer
    from evosearch.store import SEGMENTS, SNAPSHOTS, SOURCES, Store

    limit_malloc_arenas()
    if not capped:
        schema.METADATA_CACHE_BYTES = None  # lancedb.Session's default
    arm = "cap" if capped else "default"
    encoder = ShapedEncoder()
    store = Store.open(db, model_id=encoder.model_id, dim=DIM, memory_shape=(SLOTS, DIM))
    written, started = [0], time.monotonic()
    add_segments = store.add_segments

    def counting(rows):
        add_segments(rows)
        before, written[0] = written[0], written[0] + len(rows)
        if written[0] // every > before // every:
            fragments = {name: len(store.table(name).to_lance().get_fragments()) for name in (SEGMENTS, SNAPSHOTS, SOURCES)}
            print(
                f"{arm:>7} {written[0]:>8,} segments  RSS {rss_mb()[0]:>5} MB  LanceDB caches {store.session.size_bytes / 1e6:6.1f} MB"
                f"  fragments {fragments}",
                flush=True,
            )

    store.add_segments = counting
    Indexer(store, encoder, warn=lambda message: None).run([Path(folder)])
    seconds = time.monotonic() - started
    print(f"RESULT {arm} {written[0]} {rss_mb()[1]} {store.session.size_bytes} {seconds:.1f}", flush=True)


def run_arm(folder: str, capped: bool, every: int) -> tuple[int, int, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, __file__, folder, "--every", str(every), "--child", "cap" if capped else "default", "--db", tmp + "/db"]
        result = None
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
            for line in process.stdout:
                if line.startswith("RESULT "):
                    _, _, segments, peak, cache, seconds = line.split()
                    result = int(segments), int(peak), int(cache), float(seconds)
                else:
                    print(line, end="", flush=True)
        if process.returncode or result is None:
            raise SystemExit(f"the {'cap' if capped else 'default'} run failed (exit {process.returncode})")
        return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--every", type=int, default=20_000)
    parser.add_argument("--child", choices=["cap", "default"])
    parser.add_argument("--db")
    args = parser.parse_args(argv)
    if args.child:
        child(args.folder, args.db, args.child == "cap", args.every)
        return 0
    default = run_arm(args.folder, False, args.every)
    cap = run_arm(args.folder, True, args.every)
    print(f"\n{'':>8} {'segments':>9} {'peak RSS':>9} {'caches at end':>14} {'wall':>8}")
    for arm, (segments, peak, cache, seconds) in (("default", default), ("cap", cap)):
        print(f"{arm:>8} {segments:>9,} {peak:>6} MB {cache / 1e6:>11.1f} MB {seconds:>7.0f}s")
    print(
        f"cap / default: peak RSS {cap[1] / default[1]:.2f}x, LanceDB caches at the end {cap[2] / default[2]:.2f}x,"
        f" wall {cap[3] / default[3]:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
