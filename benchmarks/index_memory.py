"""Where `evosearch index`'s memory goes on a large real folder, end to end (the real encoder).

    python benchmarks/index_memory.py FOLDER [--every 10000] [--cache-mb MB]

Runs `evosearch index FOLDER --db <fresh temp dir> --quiet` in a new process, with the data dir
as it is (so the ONNX models cached there are reused, not rebuilt). Every --every segments
written, the child prints:
- RSS, split into anonymous memory and file pages (the mapped .so files, code touched so far);
- LanceDB's caches (Session.size_bytes): the metadata cache, capped at store.METADATA_CACHE_BYTES
  (--cache-mb overrides it for this run);
- glibc's heap, from mallinfo2: bytes in use and bytes free but still held, over all arenas.
At the end: peak RSS and wall time; then, fitted by least squares over the stretch before and after
LanceDB's caches reach their cap, how RSS, anonymous memory and the heap in use grow, in MB per
1,000 segments. On Linux with glibc only.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_memory import status_mb  # noqa: E402

FIELDS = ("segments", "rss", "anon", "file", "caches", "heap_used", "heap_free")


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")
    ]


def heap_mb() -> tuple[float, float]:
    """(in use, free but held) by glibc malloc, all arenas and mmapped chunks, in MB."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20, info.fordblks / 2**20


def child(folder: str, db: str, every: int, cache_mb: int | None) -> None:
    from evosearch import store as store_module
    from evosearch.store import schema
    from evosearch.cli.app import main

    if cache_mb is not None:
        schema.METADATA_CACHE_BYTES = cache_mb << 20
    written, started = [0], time.monotonic()
    add_segments = store_module.Store.add_segments

    def logging_add_segments(self, rows):
        add_segments(self, rows)
        before, written[0] = written[0], written[0] + len(rows)
        if written[0] // every > before // every:
            (rss, anon, file), (used, free) = status_mb("VmRSS", "RssAnon", "RssFile"), heap_mb()
            caches = self.session.size_bytes / 2**20
            print(f"ROW {written[0]} {rss} {anon} {file} {caches:.1f} {used:.1f} {free:.1f}", flush=True)

    store_module.Store.add_segments = logging_add_segments
    sys.argv = ["evosearch", "index", folder, "--db", db, "--quiet"]
    try:
        main()
    except SystemExit as e:
        if e.code:
            raise
    print(f"RESULT {written[0]} {status_mb('VmHWM')[0]} {time.monotonic() - started:.1f}", flush=True)


def slope_per_1000(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x, x in segments, in y units per 1,000 segments."""
    if len(points) < 3:
        return None
    n = len(points)
    mean_x, mean_y = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return 1000 * sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else None


def summarise(rows: list[dict[str, float]]) -> None:
    final = rows[-1]["caches"]
    capped_at = next((r["segments"] for r in rows if r["caches"] >= 0.95 * final), rows[-1]["segments"])
    print(f"\nLanceDB's caches reach 95% of their final {final:.1f} MB at {capped_at:,.0f} segments.")
    print(f"growth, MB per 1,000 segments (least squares) {'before':>8} {'after':>8}")
    for field in ("rss", "anon", "heap_used", "caches"):
        slopes = []
        for stretch in ([r for r in rows if r["segments"] <= capped_at], [r for r in rows if r["segments"] >= capped_at]):
            slope = slope_per_1000([(r["segments"], r[field]) for r in stretch])
            slopes.append("-" if slope is None else f"{slope:+.3f}")
        print(f"  {field:<44} {slopes[0]:>8} {slopes[1]:>8}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--cache-mb", type=int, help="LanceDB's metadata cache cap for this run (default: evosearch's)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the db path, in the child process
    args = parser.parse_args(argv)
    if args.child:
        child(args.folder, args.child, args.every, args.cache_mb)
        return 0
    rows, result = [], None
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, __file__, args.folder, "--every", str(args.every), "--child", tmp + "/db"]
        if args.cache_mb is not None:
            command += ["--cache-mb", str(args.cache_mb)]
        print(f"{'segments':>9} {'RSS':>6} {'anon':>6} {'file':>6} {'LanceDB caches':>15} {'heap in use':>12} {'heap free':>10}  (MB)")
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}) as process:
            for line in process.stdout:
                kind, *values = line.split()
                if kind == "ROW":
                    row = dict(zip(FIELDS, map(float, values)))
                    rows.append(row)
                    print(
                        f"{row['segments']:>9,.0f} {row['rss']:>6.0f} {row['anon']:>6.0f} {row['file']:>6.0f}"
                        f" {row['caches']:>15.1f} {row['heap_used']:>12.1f} {row['heap_free']:>10.1f}",
                        flush=True,
                    )
                elif kind == "RESULT":
                    result = values
                else:
                    print(line, end="", flush=True)
    if process.returncode or result is None:
        raise SystemExit(f"the index run failed (exit {process.returncode})")
    segments, peak, seconds = result
    print(f"\n{int(segments):,} segments in {float(seconds):.0f} s, peak RSS {peak} MB")
    if len(rows) >= 2:
        summarise(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
