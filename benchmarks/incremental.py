"""Time to take in one appended message on a large index, next to a run that finds nothing new.

    python benchmarks/incremental.py [--files 2000] [--messages 200] [--encoder hashing|minilm]
        [--same-chat] [--seed N] [--workdir DIR]

Builds a folder of chat files (files x messages, 4 messages per segment: 100k segments by
default), indexes it, appends one message to one file and times `index` again, then times a
run with no change (the fixed cost: walk, hash check, stored-segment scan). With
--encoder minilm the first full index takes a long time on a CPU; the append itself encodes
one or two segments either way. Each append goes to a chat drawn at random, or with --same-chat
to one chat (a conversation under way, as `watch` sees it); --seed draws other chats. With --workdir the folder and index
are kept there and reused by the next run with the same DIR: build once, copy DIR, and time two
commits on the copies in turn (PYTHONPATH=<checkout>).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--encoder", default="hashing")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--same-chat", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    os.environ["EVOSEARCH_ENCODER"] = args.encoder
    from evosearch.api import open_index
    from evosearch.indexer import index_paths
    from evosearch.search import ask

    rng = random.Random(0)
    words = "plan launch shed roof budget sqlite postgres trip thursday moved decided vendor export council".split()
    tmp = args.workdir or Path(tempfile.mkdtemp(prefix="evosearch-incremental-"))
    notes = tmp / "notes"
    built = notes.exists()
    notes.mkdir(parents=True, exist_ok=True)
    for f in range(0 if built else args.files):
        with open(notes / f"chat{f}.jsonl", "w") as out:
            for i in range(args.messages):
                text = " ".join(rng.choice(words) for _ in range(12))
                out.write(json.dumps({"id": f"m{i}", "ts": 1790000000 + i * 60, "speaker": "AB"[i % 2], "text": text}) + "\n")
    store, encoder = open_index(str(tmp / "db"), write=True)
    started = time.monotonic()
    full = index_paths([notes], store, encoder, print)
    print(f"built: {full.segments_encoded} segments in {time.monotonic() - started:.1f}s")
    appends, noops = [], []
    run = time.time_ns()  # message ids and words unique across runs on one --workdir
    chats = random.Random(args.seed)
    for n in range(args.repeats):
        with open(notes / f"chat{0 if args.same_chat else chats.randrange(args.files)}.jsonl", "a") as out:
            out.write(json.dumps({"id": f"new{run}-{n}", "ts": 1799999999 + n, "speaker": "A", "text": f"quokka{n}x{run} appended"}) + "\n")
        started = time.monotonic()
        report = index_paths([notes], store, encoder, print)
        appends.append(time.monotonic() - started)
        assert report.segments_encoded >= 1 and any(f"quokka{n}x{run}" in r["text"] for r in ask(store, encoder, f"quokka{n}x{run}")["results"])
        started = time.monotonic()
        index_paths([notes], store, encoder, print)
        noops.append(time.monotonic() - started)
    print(f"append one message, index again, searchable: median {statistics.median(appends):.2f}s (max {max(appends):.2f}s; each: {', '.join(f'{t:.2f}' for t in appends)})")
    print(f"index with nothing new (fixed cost):          median {statistics.median(noops):.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
