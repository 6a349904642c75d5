"""A folder of .eml files against the same messages as one .mbox (issue 21): reading a mail folder
threads across files, and must stay linear in the number of files.

    python benchmarks/mail_folder.py --n 2000 8000 [--repeat 2] [--dir /tmp]

For each N, writes N synthetic messages (threads of five with In-Reply-To/References, one reply in ten
without them, joined by subject; file names in an order unrelated to time, as "save as" produces) as N
.eml files in a folder and as one .mbox, then, alternating (mbox, folder) --repeat times, times
  read:   read_source on the mbox / on the folder (reading, parsing, threading)
  index:  a first `index` of it into a fresh index, with the instant hashing encoder, so that the
          figure is the reading, hashing and storing around the encoder, not the encoder
  update: one reply added (appended to the mbox / saved as a new file) and `index` run again
and prints the seconds and the folder/mbox ratios. Linear: the ratios stay flat from one N to the next.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = "cabin lake march deposit garden tomato seed swap walk photos train ticket budget invoice meeting notes draft review".split()


def message(n: int, rng: random.Random) -> bytes:
    thread = n // 5
    body = "\n".join(" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(rng.randint(2, 12)))
    reply = n % 5 != 0
    refs = f"In-Reply-To: <{n - 1}@gen>\nReferences: <{thread * 5}@gen> <{n - 1}@gen>\n" if reply and n % 10 != 3 else ""
    quote = "\n\nOn Tue, Person wrote:\n" + "\n".join("> " + line for line in body.split("\n")[:5]) if reply else ""
    return (
        f"From: Person {n % 37} <p{n % 37}@example.org>\nTo: me@example.org\nSubject: {'Re: ' if reply else ''}Thread {thread}\n"
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(1_790_000_000 + n * 600))}\nMessage-ID: <{n}@gen>\n{refs}"
        f"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{body}{quote}\n\n-- \nPerson\n"
    ).encode()


def write(n: int, where: Path) -> tuple[Path, Path]:
    rng = random.Random(n)
    folder, mbox = where / f"folder-{n}" / "Saved mail", where / f"mbox-{n}" / "all.mbox"
    folder.mkdir(parents=True)
    mbox.parent.mkdir(parents=True)
    order = list(range(n))
    rng.shuffle(order)  # file names unrelated to time order
    with open(mbox, "wb") as f:
        for i in range(n):
            raw = message(i, rng)
            f.write(b"From - Tue Nov 03 14:05:00 2026\n" + raw + b"\n")
            (folder / f"{order[i]:06d} Thread {i // 5}.eml").write_bytes(raw)
    return folder, mbox


def add_reply(source: Path, n: int) -> None:
    raw = message(n + 1, random.Random(-1))  # a reply to message n, in the last thread
    if source.is_dir():
        (source / "zz new reply.eml").write_bytes(raw)
    else:
        with open(source, "ab") as f:
            f.write(b"From - Tue Nov 03 14:05:00 2026\n" + raw + b"\n")


def timed(source: Path, work: Path) -> dict[str, float]:
    from evosearch.api import open_index
    from evosearch.indexer import index_paths
    from evosearch.sources.detect import read_source

    started = time.perf_counter()
    streams = read_source(source, print)
    read_s = time.perf_counter() - started
    db = work / f"db-{source.parent.name}"
    shutil.rmtree(db, ignore_errors=True)
    times = {"read": read_s, "threads": float(len(streams))}
    for step in ("index", "update"):
        if step == "update":
            add_reply(source, sum(len(s.units) for s in streams))
        store, encoder = open_index(str(db), write=True)
        with store:
            started = time.perf_counter()
            report = index_paths([source.parent], store, encoder, print)
            times[step] = time.perf_counter() - started
        assert report.indexed == 1, report
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, nargs="+", default=[2000, 8000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    os.environ["EVOSEARCH_ENCODER"] = "hashing"
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="mail-folder-", dir=args.dir))
    os.environ["EVOSEARCH_HOME"] = str(work / "home")
    try:
        for n in args.n:
            runs: dict[str, list[dict[str, float]]] = {"mbox": [], "folder": []}
            for _ in range(args.repeat):
                for kind in ("mbox", "folder"):  # A B A B
                    shutil.rmtree(work / f"folder-{n}", ignore_errors=True)
                    shutil.rmtree(work / f"mbox-{n}", ignore_errors=True)
                    folder, mbox = write(n, work)
                    runs[kind].append(timed(mbox if kind == "mbox" else folder, work))
            med = {kind: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for kind, rs in runs.items()}
            assert med["mbox"]["threads"] == med["folder"]["threads"], med
            print(
                f"N={n}: threads {int(med['mbox']['threads'])}; "
                + "; ".join(
                    f"{step} mbox {med['mbox'][step]:.2f} s, folder {med['folder'][step]:.2f} s, ratio {med['folder'][step] / med['mbox'][step]:.2f}"
                    for step in ("read", "index", "update")
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
