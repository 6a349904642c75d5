"""Peak memory of reading a large generated mbox (issue 21): the file is streamed, so peak RSS should
track the text kept for indexing, not the file's size.

    python benchmarks/mbox_memory.py --gb 1 [--dir /tmp] [--baseline /path/to/other/checkout --repeat 2]

Writes a synthetic mbox (threads of replies with quotes and signatures; every tenth message carries a
base64 attachment, as real mailboxes do: alternately a photo and a three-page PDF with a text layer,
which is read for its text), then reads it with read_source in a fresh process and prints the file
size, messages, threads, indexed text size, seconds and peak RSS. With --baseline the same file is
also read by that checkout's evosearch, alternating (baseline, this) --repeat times.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORDS = "cabin lake march deposit garden tomato seed swap walk photos train ticket budget invoice meeting notes draft review".split()


def write_mbox(path: Path, size: int) -> int:
    rng = random.Random(0)
    sys.path.insert(0, str(ROOT))  # here only: a --measure child must import the evosearch its PYTHONPATH names
    from tests.test_sources_documents import make_pdf  # the test suite's hand-written PDF

    photo = base64.encodebytes(rng.randbytes(75_000)).decode()
    pages = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(3)]
    pdf = base64.encodebytes(make_pdf(pages, title="Minutes")).decode()
    written, n = 0, 0
    with open(path, "w", newline="\n") as f:
        while written < size:
            n += 1
            thread = n // 5
            body = "\n".join(" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(rng.randint(3, 30)))
            headers = (
                f"From - Tue Nov 03 14:05:00 2026\nFrom: Person {n % 37} <p{n % 37}@example.org>\nTo: me@example.org\n"
                f"Subject: {'Re: ' if n % 5 else ''}Thread {thread}\nDate: Tue, 3 Nov 2026 14:{n % 60:02d}:00 +0000\n"
                f"Message-ID: <{n}@gen>\n" + (f"In-Reply-To: <{n - 1}@gen>\nReferences: <{thread * 5}@gen> <{n - 1}@gen>\n" if n % 5 else "")
            )
            quote = "\n\nOn Tue, Person wrote:\n" + "\n".join("> " + line for line in body.split("\n")[:10]) if n % 5 else ""
            text = body + quote + "\n\n-- \nPerson\n"
            if n % 10 == 0:
                msg = (
                    headers
                    + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n'
                    + text
                    + (
                        '\n--b\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="photo.jpg"\n\n' + photo
                        if n % 20
                        else '\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="minutes.pdf"\n\n' + pdf
                    )
                    + "--b--\n\n"
                )
            else:
                msg = headers + "Content-Type: text/plain; charset=utf-8\n\n" + text + "\n"
            f.write(msg)
            written += len(msg)
    return n


def measure(path: str) -> None:
    from evosearch.sources.detect import read_source

    start = time.perf_counter()
    streams = read_source(Path(path), lambda w: print(w, file=sys.stderr))
    seconds = time.perf_counter() - start
    units = sum(len(s.units) for s in streams)
    text = sum(len(u.text) for s in streams for u in s.units)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(json.dumps({"messages": units, "threads": len(streams), "text_mib": text / 2**20, "seconds": seconds, "peak_rss_mib": peak / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--measure")
    parser.add_argument("--baseline", help="another checkout whose evosearch reads the same file, for a before/after ratio")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure)
    path = Path(args.dir) / "evosearch-bench.mbox"
    # the children import the named checkout's evosearch, not whichever one is installed
    checkouts = ([("baseline", Path(args.baseline).resolve())] if args.baseline else []) + [("this", ROOT)]
    try:
        n = write_mbox(path, int(args.gb * 2**30))
        print(f"mbox: {path.stat().st_size / 2**20:.0f} MiB, {n} messages", flush=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        imports = subprocess.run([sys.executable, "-c", "import resource, evosearch.sources.detect; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"], capture_output=True, text=True, check=True, env=env)
        print(f"peak RSS after imports only: {int(imports.stdout) / 1024:.0f} MiB")
        for _ in range(args.repeat):
            for label, checkout in checkouts:
                print(f"{label} ({checkout}): ", end="", flush=True)
                subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True, env={**os.environ, "PYTHONPATH": str(checkout)})
    finally:
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
