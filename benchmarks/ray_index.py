"""`evosearch index --ray` with 1 and 2 workers against plain `index`, same corpus, one run.

Each run indexes the corpus into a fresh index in a fresh process; order: plain, ray 1, ray 2,
plain (the second plain shows the machine's drift). Reports wall seconds of the whole process
(Ray start included) and the segments/s `index` prints (encoding and writing only).

  python benchmarks/ray_index.py --chats 20
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import chat_messages, write_chat  # noqa: E402

CLI = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--chats", type=int, default=20)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ray-index-"))
    notes = work / "notes"
    notes.mkdir()
    for c in range(args.chats):
        write_chat(notes / f"c{c}.jsonl", chat_messages(300), conversation=f"c{c}")
    env = {**os.environ, "EVOSEARCH_HOME": str(work / "home")}
    results = []
    for n, (name, extra) in enumerate(
        [("plain", []), ("ray 1 worker", ["--ray", "--ray-workers", "1"]), ("ray 2 workers", ["--ray", "--ray-workers", "2"]), ("plain", [])]
    ):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CLI, "index", str(notes), "--db", str(work / f"db{n}"), *extra], env=env, capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        if out.returncode:
            sys.exit(out.stderr)
        m = re.search(r"\((\d+) segments encoded.*?(\d+) segments/s\).*in ([\d.]+)s", out.stderr)
        results.append({"run": name, "wall_s": round(wall, 2), "segments": int(m[1]), "segments_per_s": int(m[2]), "index_s": float(m[3])})
        print(json.dumps(results[-1]), flush=True)


if __name__ == "__main__":
    main()
