"""Fault injection: kill -9 during `index` and `watch`, racing writers over stale locks, `forget`
during `index`; then the index must equal a clean one.

    python benchmarks/faults.py [--files 1500] [--index-kills 12] [--watch-kills 10] [--races 4]
        [--writers 3] [--seed 0] [--encoder minilm|hashing] [--keep DIR]

The corpus (real-shaped, made in a temporary folder): LoCoMo's conversations as chat exports
(benchmarks/locomo_to_jsonl.py), this repository's own source and documentation files as they
are, and markdown notes made of their paragraphs and of LoCoMo's sessions, up to --files files.
One index (the faulted one) then goes through, all real `evosearch` processes:

1. `index` runs killed with SIGKILL after a random 0.5-8 s (a few files edited between runs);
   every fourth run also gets a `forget` of one note part way, which must be refused while
   `index` holds the lock (or go through if `index` already ended).
2. --races rounds of --writers `index` runs started together after a few edits, the lock file
   holding a dead pid's record (or, every other round, empty), as if its writer had died; the
   rows stored twice are counted right after each round, before any run could repair them.
3. `watch` started, a burst of edits, appends, new and deleted notes, SIGKILL after a random
   0.2-4 s, repeated; after each kill every file that had segments and is still unchanged on
   disk must still have them (an edited file's old rows stay until its new ones are written).
4. One `index` run to the end (the resume), and a clean `index` of the same folder into a new
   index. The two are compared: sources (path, hash, segment count), segment rows per
   (stream, position) — duplicated, lost, extra, different text — vectors (max abs difference)
   and the top 10 of a fixed query set (8 about the repository, 12 LoCoMo questions), by vector
   search alone and by `ask`.

One table; the targets are 0 duplicated rows, 0 lost segments, identical top 10 for every query.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

import locomo_to_jsonl

REPO = Path(__file__).resolve().parents[1]
CLI = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"
QUERIES = [
    "how is the writer lock taken and released",
    "what happens when a file is deleted during a run",
    "reciprocal rank fusion of dense and full text results",
    "which encoder does index use on a CPU",
    "time phrases like last week in a question",
    "memory snapshots every few segments",
    "watch debounce before indexing a changed file",
    "how are chat exports from WhatsApp read",
]
LOCOMO_QUERIES = 12  # LoCoMo questions added to QUERIES
DEAD_PID = 999_999_999


# ---- the corpus --------------------------------------------------------------------------------


def repo_files() -> list[Path]:
    """This repository's own text files (source, tests, docs), tracked by git."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    return [REPO / p for p in listed if p.endswith((".py", ".md", ".toml", ".txt")) and (REPO / p).is_file()]


def paragraphs(files: list[Path], conversion) -> list[str]:
    out = [p.strip() for f in files for p in f.read_text(errors="replace").split("\n\n") if len(p.strip()) > 60]
    for conversation in conversion.turns.values():
        turns = [f"{t.speaker}: {t.text}" for t in conversation]
        out += ["\n".join(turns[i : i + 5]) for i in range(0, len(turns), 5)]
    return out


def note_text(rng: random.Random, pool: list[str], title: str) -> str:
    return f"# {title}\n\n" + "\n\n".join(rng.sample(pool, rng.randint(1, 8))) + "\n"


def build_corpus(root: Path, files: int, rng: random.Random, data: Path) -> tuple[list[str], list[str], list[str]]:
    """Write the corpus under root; returns (the notes' paths, LoCoMo questions for the query set, paragraphs)."""
    conversion = locomo_to_jsonl.load(data)
    locomo_to_jsonl.write(conversion, root / "chats")
    questions = [json.loads(line)["question"] for line in (root / "chats" / "questions.jsonl").read_text().splitlines()]
    (root / "chats" / "questions.jsonl").unlink()
    sources = repo_files()
    count = len(list((root / "chats").iterdir()))
    for f in sources[: max(0, files - count)]:
        target = root / "repo" / f.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
        count += 1
    pool = paragraphs(sources, conversion)
    notes = []
    for i in range(max(0, files - count)):
        path = root / "notes" / f"{2024 + i % 3}-{1 + i % 12:02d}" / f"{1 + i % 28:02d}-note-{i:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note_text(rng, pool, f"Note {i}"))
        notes.append(str(path))
    return notes, rng.sample(questions, LOCOMO_QUERIES), pool


class Edits:
    """Random edits of the corpus's notes and chats: append, rewrite, new, delete, new chat lines."""

    def __init__(self, root: Path, notes: list[str], pool: list[str], rng: random.Random):
        self.root, self.notes, self.pool, self.rng = root, notes, pool, rng
        self.created = 0

    def one(self) -> str:
        rng = self.rng
        kind = rng.choice(["append", "append", "rewrite", "new", "delete", "chat"])
        if kind == "new" or not self.notes:
            self.created += 1
            path = self.root / "notes" / "new" / f"added-{self.created:04d}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(note_text(rng, self.pool, f"Added {self.created}"))
            self.notes.append(str(path))
            return str(path)
        if kind == "chat":
            path = rng.choice(sorted((self.root / "chats").glob("*.jsonl")))
            last = json.loads(path.read_text().splitlines()[-1])
            ts = datetime.fromisoformat(last["ts"])
            lines = []
            for n in range(rng.randint(1, 6)):
                self.created += 1
                text = rng.choice(self.pool).split("\n")[0][:300]
                message = {**last, "id": f"x{self.created}", "ts": ts.replace(second=(ts.second + n + 1) % 60).isoformat(), "text": text}
                lines.append(json.dumps(message) + "\n")
            with path.open("a") as f:
                f.writelines(lines)
            return str(path)
        path = Path(rng.choice(self.notes))
        if kind == "delete":
            path.unlink()
            self.notes.remove(str(path))
        elif kind == "append":
            with path.open("a") as f:
                f.write("\n" + rng.choice(self.pool) + "\n")
        else:
            parts = path.read_text().split("\n\n")
            parts[rng.randrange(len(parts))] = rng.choice(self.pool)
            path.write_text("\n\n".join(parts))
        return str(path)


# ---- reading an index --------------------------------------------------------------------------


def segment_rows(db: Path) -> list[dict]:
    from evosearch.store import Store

    store = Store.open(str(db))
    return store.table("segments").to_arrow().select(["stream_id", "path", "position", "content_hash", "vector"]).to_pylist()


def source_rows(db: Path) -> dict[str, tuple]:
    from evosearch.store import Store

    rows = Store.open(str(db)).table("sources").to_arrow().to_pylist()
    return {r["path"]: (r["hash"], r["segment_count"]) for r in rows}


def duplicated(rows: list[dict]) -> int:
    """Rows beyond the first for one (stream, position)."""
    return len(rows) - len({(r["stream_id"], r["position"]) for r in rows})


def top10(db: Path, queries: list[str]) -> tuple[list[list], list[list]]:
    """Per query, the top 10 as ((stream, position), score): by vector search alone, and by `ask`."""
    from evosearch.api import open_index
    from evosearch.search import ask

    store, encoder = open_index(str(db))
    now = datetime(2026, 12, 5, tzinfo=timezone.utc)
    dense, asked = [], []
    for q in queries:
        hits = store.vector_search(encoder.encode_queries([q])[0], 10, None)
        dense.append([((h["stream_id"], h["position"]), h["similarity"]) for h in hits])
        asked.append([((r["stream_id"], r["position"]), r["score"]) for r in ask(store, encoder, q, now=now, limit=10)["results"]])
    return dense, asked


def same_order(a: list, b: list) -> bool:
    return [k for k, _ in a] == [k for k, _ in b]


def same_up_to_ties(a: list, b: list, tol: float = 1e-6) -> bool:
    """The same scores rank by rank, and the same segments in every run of equal scores (the corpus
    repeats paragraphs, and equal texts tie exactly, in storage order); a tie cut by the limit may
    hold different members."""
    if same_order(a, b):
        return True
    if len(a) != len(b) or any(abs(x[1] - y[1]) > tol for x, y in zip(a, b)):
        return False
    start = 0
    for end in range(1, len(a) + 1):
        if end == len(a) or abs(a[end][1] - a[start][1]) > tol:
            if end < len(a) and {k for k, _ in a[start:end]} != {k for k, _ in b[start:end]}:
                return False
            start = end
    return True


def identical(left: list[list], right: list[list]) -> str:
    """'strictly / up to ties' counts of queries whose top 10 agree."""
    return f"{sum(map(same_order, left, right))} / {sum(map(same_up_to_ties, left, right))}"


# ---- running evosearch -------------------------------------------------------------------------


class Runner:
    def __init__(self, root: Path, db: Path, env: dict):
        self.root, self.db, self.env = root, db, env
        self.log: list[str] = []

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", CLI, *args], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def index(self) -> subprocess.Popen:
        return self.start("index", str(self.root), "--db", str(self.db), "--quiet")

    def kill(self, proc: subprocess.Popen) -> bool:
        """SIGKILL proc; True when it was still running."""
        alive = proc.poll() is None
        if alive:
            proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return alive

    def finish(self, proc: subprocess.Popen, what: str) -> tuple[int, str]:
        _, err = proc.communicate()
        self.log += [f"{what}: {line}" for line in err.splitlines() if line.strip()]
        return proc.returncode, err


def searchable_paths(db: Path) -> set[str]:
    if not (db / "segments.lance").exists():
        return set()
    return {r["path"] for r in segment_rows(db)}


def main(argv=None) -> int:
    from evosearch.store import Store

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1500, help="corpus size in files")
    parser.add_argument("--index-kills", type=int, default=12, help="SIGKILLs during `index`")
    parser.add_argument("--watch-kills", type=int, default=10, help="SIGKILLs during `watch` bursts")
    parser.add_argument("--races", type=int, default=4, help="rounds of racing writers over a stale lock")
    parser.add_argument("--writers", type=int, default=3, help="`index` runs started together per round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoder", default=os.environ.get("EVOSEARCH_ENCODER", "minilm"))
    parser.add_argument("--data", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)
    os.environ["EVOSEARCH_ENCODER"] = args.encoder
    rng = random.Random(args.seed)
    started = time.monotonic()
    work = args.keep or Path(tempfile.mkdtemp(prefix="evosearch-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    root, db, clean_db = work / "corpus", work / "db", work / "clean"
    notes, questions, pool = build_corpus(root, args.files, rng, args.data)
    edits = Edits(root, notes, pool, rng)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    run = Runner(root, db, env)
    lock_file = db.parent / f".{db.name}.writer.lock"
    files = sum(1 for p in root.rglob("*") if p.is_file())
    print(f"corpus: {files} files in {root}; encoder {args.encoder}", flush=True)
    figures = {"index kills": 0, "index runs that ended before the kill": 0, "forget refused while index ran": 0,
               "forget went through": 0, "forget other errors": 0, "race rounds": 0, "writers that wrote at once (max)": 0,
               "rows stored twice right after a race (max)": 0, "watch kills": 0,
               "unchanged files without segments after a kill": 0}

    # 1. index, killed at random moments; a few edits between runs, forget part way every fourth run
    for k in range(args.index_kills):
        proc = run.index()
        forget = None
        delay = rng.uniform(0.5, 8.0)
        if k % 4 == 3:
            time.sleep(delay / 2)
            forget = run.start("forget", rng.choice(edits.notes), "--db", str(db), "--quiet")
            time.sleep(delay / 2)
        else:
            time.sleep(delay)
        if run.kill(proc):
            figures["index kills"] += 1
        else:
            figures["index runs that ended before the kill"] += 1
        if forget is not None:
            code, err = run.finish(forget, "forget")
            refused = "being written by" in err
            key = "forget went through" if code == 0 else "forget refused while index ran" if refused else "forget other errors"
            figures[key] += 1
            if key == "forget other errors":
                print(f"  forget exited {code}: {err.strip().splitlines()[0] if err.strip() else '(no message)'}", flush=True)
        for _ in range(rng.randint(0, 3)):
            edits.one()
        print(f"  index round {k + 1}: killed after {delay:.1f} s", flush=True)

    # 2. racing writers over a stale lock file
    for r in range(args.races):
        for _ in range(rng.randint(2, 10)):
            edits.one()
        stale = json.dumps({"pid": DEAD_PID, "host": os.uname().nodename, "command": "index"}) if r % 2 == 0 else ""
        lock_file.write_text(stale)
        procs = [run.index() for _ in range(args.writers)]
        codes = [run.finish(p, f"race {r}")[0] for p in procs]
        figures["race rounds"] += 1
        figures["writers that wrote at once (max)"] = max(figures["writers that wrote at once (max)"], codes.count(0))
        twice = "rows stored twice right after a race (max)"
        figures[twice] = max(figures[twice], duplicated(segment_rows(db)))
        print(f"  race {r + 1}: exit codes {codes}", flush=True)

    # 3. watch, a burst of edits, SIGKILL
    for k in range(args.watch_kills):
        before = searchable_paths(db)
        proc = run.start("watch", str(root), "--db", str(db), "--quiet")
        time.sleep(rng.uniform(1.0, 3.0))
        touched = {edits.one() for _ in range(rng.randint(3, 15))}
        time.sleep(rng.uniform(0.2, 4.0))
        if run.kill(proc):
            figures["watch kills"] += 1
        still = {p for p in before if p not in touched and Path(p).exists()}
        figures["unchanged files without segments after a kill"] += len(still - searchable_paths(db))
        print(f"  watch round {k + 1}: {len(touched)} files edited", flush=True)

    # 4. the resume, then a clean index of the same folder
    code, err = run.finish(run.index(), "resume")
    assert code == 0, err
    resume_s = time.monotonic()
    code, err = Runner(root, clean_db, env).finish(Runner(root, clean_db, env).index(), "clean")
    assert code == 0, err
    clean_s = time.monotonic() - resume_s

    faulted, clean = segment_rows(db), segment_rows(clean_db)
    key = lambda r: (r["stream_id"], r["position"])  # noqa: E731
    by_key_f = {key(r): r for r in faulted}
    by_key_c = {key(r): r for r in clean}
    common = by_key_f.keys() & by_key_c.keys()
    diffs = [float(np.abs(np.asarray(by_key_f[k]["vector"]) - np.asarray(by_key_c[k]["vector"])).max()) for k in common]
    src_f, src_c = source_rows(db), source_rows(clean_db)
    queries = QUERIES + questions
    dense_f, ask_f = top10(db, queries)
    dense_c, ask_c = top10(clean_db, queries)
    repaired = [line for line in run.log if "stored twice" in line]

    rows = [
        *((name, value) for name, value in figures.items()),
        ("kills in all", figures["index kills"] + figures["watch kills"]),
        ("sources: faulted / clean / differing", f"{len(src_f)} / {len(src_c)} / {len(set(src_f.items()) ^ set(src_c.items()))}"),
        ("segment rows: faulted / clean", f"{len(faulted)} / {len(clean)}"),
        ("duplicated rows at the end", duplicated(faulted)),
        ("lost segments (in clean, not in faulted)", len(by_key_c.keys() - by_key_f.keys())),
        ("extra segments (in faulted, not in clean)", len(by_key_f.keys() - by_key_c.keys())),
        ("segments with different text", sum(by_key_f[k]["content_hash"] != by_key_c[k]["content_hash"] for k in common)),
        ("vectors: max abs difference", f"{max(diffs, default=0.0):.3g}"),
        ("vectors differing by more than 1e-5", sum(d > 1e-5 for d in diffs)),
        (f"identical top 10, vector search: in order / up to ties (of {len(queries)})", identical(dense_f, dense_c)),
        (f"identical top 10, ask: in order / up to ties (of {len(queries)})", identical(ask_f, ask_c)),
        ("duplicate repairs reported by index", len(repaired)),
        ("clean index time (s)", f"{clean_s:.0f}"),
        ("total time (s)", f"{time.monotonic() - started:.0f}"),
    ]
    print("\n| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
