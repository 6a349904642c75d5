"""What limiting glibc's malloc arenas (evosearch/heap.py) saves in memory and costs in speed.

    python benchmarks/malloc_arenas.py [--docs 300] [--rounds 2] [--store-segments 60000]

Each measurement runs in a new process, alternately with the limit `index` sets (2 arenas) and
with glibc's default (MALLOC_ARENA_MAX = 8 per core, which evosearch leaves alone), --rounds
times each:
  index: `evosearch index` of speed.py's corpus (real /usr/share/doc files and LoCoMo chats)
  into a fresh index: wall time and peak RSS (/usr/bin/time);
  store: benchmarks/store_memory.py --segments N (the store alone, vector index builds and
  compactions): its peak RSS and its RSS after finish_writes.
Prints the medians and the ratios limit / default.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import EVOSEARCH, write_corpus  # noqa: E402

DEFAULT_ARENAS = str(8 * (os.cpu_count() or 1))  # glibc's default on 64-bit


def environment(limited: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    return env if limited else {**env, "MALLOC_ARENA_MAX": DEFAULT_ARENAS}


def index_run(corpus: Path, home: Path, limited: bool) -> tuple[float, int]:
    """(wall seconds, peak RSS MB) of `evosearch index` into a fresh index (the int8 model is
    cached in home: built by the first, untimed, run)."""
    with tempfile.TemporaryDirectory() as db:
        env = {**environment(limited), "EVOSEARCH_HOME": str(home), "HF_HUB_OFFLINE": "1"}
        out = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", EVOSEARCH, "index", str(corpus), "--db", db, "--quiet"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    wall, rss_kb = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss_kb) // 1024


def store_run(segments: int, limited: bool) -> tuple[int, int]:
    """(peak RSS MB, RSS MB after finish_writes) of store_memory.py."""
    script = Path(__file__).resolve().parent / "store_memory.py"
    out = subprocess.run(
        [sys.executable, str(script), "--segments", str(segments), "--queries", "1", "--no-baselines"],
        env=environment(limited),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"finish_writes: RSS (\d+) MB; peak over the whole build (\d+) MB", out)
    return int(found.group(2)), int(found.group(1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--store-segments", type=int, default=60_000)
    args = parser.parse_args(argv)
    results = {True: {"index": [], "store": []}, False: {"index": [], "store": []}}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        write_corpus(corpus, args.docs, 4)
        home = Path(tmp) / "home"
        index_run(corpus, home, True)  # builds the int8 model into the cache: no run below pays for it
        for _ in range(args.rounds):
            for limited in (True, False):
                results[limited]["index"].append(index_run(corpus, home, limited))
                results[limited]["store"].append(store_run(args.store_segments, limited))

    def median(limited: bool, kind: str, field: int) -> float:
        return statistics.median(r[field] for r in results[limited][kind])

    rows = [
        ("index: wall s", "index", 0),
        ("index: peak RSS MB", "index", 1),
        (f"store {args.store_segments} rows: peak RSS MB", "store", 0),
        (f"store {args.store_segments} rows: RSS after finish_writes MB", "store", 1),
    ]
    print(f"medians of {args.rounds} runs each, alternating; 2 arenas (what index sets) vs glibc's default ({DEFAULT_ARENAS})")
    for label, kind, field in rows:
        ours, default = median(True, kind, field), median(False, kind, field)
        print(f"{label}: {ours:.1f} vs {default:.1f} ({ours / default:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
