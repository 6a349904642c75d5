"""Soak `evosearch watch`: append to 20 files for a while, querying all along.

    python benchmarks/watch_soak.py [--seconds 120] [--encoder minilm|hashing]

Starts a real `evosearch watch` process on a fresh folder and index, appends a line with a
unique token to a random file every --interval seconds, and polls `ask` (the Python API, in
this process) for every token not yet found. Prints events seen (saves), events indexed
(tokens found), the lag from save to searchable (median, p95, max) and query errors (must be 0).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WATCH_CLI = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between appends")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--encoder", default=os.environ.get("EVOSEARCH_ENCODER", "minilm"))
    args = parser.parse_args(argv)
    os.environ["EVOSEARCH_ENCODER"] = args.encoder
    from evosearch.api import open_index
    from evosearch.search import ask

    tmp = Path(tempfile.mkdtemp(prefix="evosearch-soak-"))
    folder, db = tmp / "notes", str(tmp / "db")
    folder.mkdir()
    files = [folder / f"note-{i:02d}.md" for i in range(args.files)]
    for f in files:
        f.write_text(f"# {f.stem}\n\nA running log.\n")
    watcher = subprocess.Popen([sys.executable, "-c", WATCH_CLI, "watch", str(folder), "--db", db, "--quiet"])
    rng = random.Random(0)
    saved: dict[str, float] = {}
    lags: list[float] = []
    errors = 0
    store = encoder = None
    try:
        while store is None:
            try:
                store, encoder = open_index(db)
            except Exception:
                time.sleep(0.2)
        started = next_save = time.monotonic()
        n = 0
        while time.monotonic() - started < args.seconds or (saved and time.monotonic() - started < args.seconds + 30):
            now = time.monotonic()
            if now >= next_save and now - started < args.seconds:
                token = f"zq{n:05d}x"
                with rng.choice(files).open("a") as f:
                    f.write(f"\nEntry {n}: {token} noted.\n")
                saved[token] = time.monotonic()
                n += 1
                next_save = now + args.interval
            for token in list(saved)[:20]:
                try:
                    hits = ask(store, encoder, token, limit=3)["results"]
                except Exception as e:  # noqa: BLE001 - counting every failure is the point
                    errors += 1
                    print(f"query error: {e}", file=sys.stderr)
                    continue
                if any(token in h["text"] for h in hits):
                    lags.append(time.monotonic() - saved.pop(token))
            time.sleep(0.05)
    finally:
        watcher.send_signal(signal.SIGTERM)
        code = watcher.wait(timeout=60)
    events = len(lags) + len(saved)
    print(f"appends (events seen): {events}, searchable (events indexed): {len(lags)}, never found: {len(saved)}")
    if lags:
        q = statistics.quantiles(lags, n=20) if len(lags) >= 20 else [max(lags)] * 19
        print(f"save -> searchable lag: median {statistics.median(lags):.2f}s, p95 {q[18]:.2f}s, max {max(lags):.2f}s")
    print(f"query errors: {errors}; watcher exit code after SIGTERM: {code}")
    return 0 if errors == 0 and not saved and code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
