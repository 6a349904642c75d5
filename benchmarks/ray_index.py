"""`evosearch index --ray` against plain `index`, same corpus, one run, in A B C A B C order.

Three ways of indexing the corpus (the Ray ones for each --workers count), each into a fresh
index in a fresh process:
- plain: one process encodes and writes;
- ray, driver writes: Ray workers encode, the driver writes every row (the code at --driver-rev,
  the last revision with that path, exported from git into a temporary folder);
- ray, fragments: Ray workers encode and write lance fragments, the driver commits them once per
  group (this checkout).
Every round runs the three in that order; ratios are per round against that round's plain run,
so the machine's drift between rounds cancels (vs_driver_writes: a fragments run against the
driver-writes run just before it). Reports, per run: segments/s over planning,
encoding and writing, model loading left out (a plain run: the rate `index` prints; a Ray run:
segments over the seconds `index` prints, its workers having loaded the model before; the rate
it prints would leave out the wait for the first whole task), the seconds `index` prints, and
the process's wall seconds (Ray's start and model loading included).

  python benchmarks/ray_index.py --chats 20 --rounds 2 --workers 1 2
  python benchmarks/ray_index.py --chats 480 --rounds 2 --workers 2 --encoder hashing   # writing is the bound
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.helpers import chat_messages, write_chat  # noqa: E402

# The last revision whose `index --ray` wrote every row from the driver.
DRIVER_WRITES_REV = "69d07bd"


def export(rev: str, into: Path) -> Path:
    """The evosearch package as it was at rev, in a folder to put first on PYTHONPATH."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "evosearch"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_index(notes: Path, db: Path, env: dict, extra: list[str]) -> dict:
    t0 = time.perf_counter()
    command = [sys.executable, "-m", "evosearch", "index", str(notes), "--db", str(db), *extra]
    # Run from the code's folder: `-m` puts the working directory first on the path.
    out = subprocess.run(command, env=env, cwd=env["PYTHONPATH"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode:
        sys.exit(out.stderr)
    m = re.search(r"\((\d+) segments encoded.*?(\d+) segments/s\).*in ([\d.]+)\s*s", out.stderr)
    segments, index_s, printed = int(m[1]), float(m[3]), int(m[2])
    # The same work on both sides: a Ray run's workers load the model before `index`'s clock
    # starts, and a plain run's printed rate leaves its model loading out.
    rate = round(segments / index_s) if "--ray" in extra else printed
    return {"wall_s": round(wall, 2), "segments": segments, "index_s": index_s, "segments_per_s": rate}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--chats", type=int, default=20, help="chat files of 300 messages (75 segments) each")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--workers", type=int, nargs="+", default=[2], help="Ray worker counts, each run both ways")
    p.add_argument("--encoder", default=None, help="EVOSEARCH_ENCODER for every run (hashing: writing is the bound)")
    p.add_argument("--driver-rev", default=DRIVER_WRITES_REV)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ray-index-"))
    notes = work / "notes"
    notes.mkdir()
    for c in range(args.chats):
        write_chat(notes / f"c{c}.jsonl", chat_messages(300), conversation=f"c{c}")
    env = {**os.environ, "EVOSEARCH_HOME": str(work / "home"), "PYTHONPATH": str(ROOT)}
    if args.encoder:
        env["EVOSEARCH_ENCODER"] = args.encoder
    old = export(args.driver_rev, work / "driver-writes")
    variants = [("plain", env, [])]
    for w in args.workers:
        ray = ["--ray", "--ray-workers", str(w)]
        variants += [(f"ray {w}, driver writes", {**env, "PYTHONPATH": str(old)}, ray), (f"ray {w}, fragments", env, ray)]
    n = 0
    for r in range(args.rounds):
        first = []
        for name, variant_env, extra in variants:
            n += 1
            result = {"round": r + 1, "run": name, **run_index(notes, work / f"db{n}", variant_env, extra)}
            first.append(result)
            result["vs_plain"] = round(result["segments_per_s"] / first[0]["segments_per_s"], 2)
            if name.endswith("fragments"):
                result["vs_driver_writes"] = round(result["segments_per_s"] / first[-2]["segments_per_s"], 2)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
