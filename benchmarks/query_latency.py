"""`ask` latency on a large index: query encoding vs search, warm, with and without a time phrase.

    python benchmarks/query_latency.py [--segments 10000,100000] [--queries 50] [--lexical]

The index is filled directly (real text from /usr/share/doc and similar, random unit vectors
of MiniLM's width), so building 100k segments takes seconds instead of half an hour of CPU
encoding; the search path (LanceDB vector scan, full-text, fusion, time shaping) is the real
one, and queries are encoded by the real MiniLM encoder. Prints p50/p95 per setting.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

QUERIES = [
    "how do I configure the network interface", "what did we decide about the launch last week", "license terms for redistribution",
    "the latest change to the default settings", "memory leak in the parser", "install instructions for the server",
    "which option disables the cache", "bug fixed in the previous release", "what happened in March", "error when the disk is full",
]


def real_texts(limit: int) -> list[str]:
    """Paragraphs of real English from documentation on this machine."""
    texts: list[str] = []
    for path in sorted(Path("/usr/share/doc").rglob("*")):
        if len(texts) >= limit:
            break
        try:
            raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
            continue
        texts.extend(p.strip() for p in text.split("\n\n") if 40 < len(p.strip()) < 1200)
    return texts


def synthetic_rows(start: int, count: int, texts: list[str], rng, dim: int, chats: bool = False, context: bool = False) -> list[dict]:
    """Segment rows start..start+count-1: real paragraph texts, random unit vectors, a time every
    7 minutes, 50 segments per stream; with chats, every other stream a chat (a turn is a
    paragraph's first 160 characters); with context, its turns also hold the text of the 3 before
    them, as the lexical memory stores it (segment.turn_context)."""
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    first = datetime(2025, 1, 1, tzinfo=timezone.utc)
    rows = []
    for i, v in enumerate(vectors, start):
        t = first + timedelta(minutes=7 * i)
        rows.append({
            "id": f"s{i // 50}@{i % 50}", "stream_id": f"s{i // 50}", "path": f"/docs/f{i // 50}.md", "position": i % 50,
            "title": "doc", "format": "markdown", "text": texts[i % len(texts)], "vector": v,
            "time": t, "time_end": t, "speaker": None, "message_ids": [], "line_start": 1, "line_end": 2, "content_hash": str(i),
        })
        chat = chats and (i // 50) % 2 == 1
        if chat:
            rows[-1] |= {"speaker": "Ana", "message_ids": [f"m{i}"], "text": texts[i % len(texts)][:160]}
        if context:
            rows[-1]["context"] = "\n".join(texts[j % len(texts)][:160] for j in range(max(i - i % 50, i - 3), i)) if chat else ""
    return rows


def build(uri: str, encoder, n: int, texts: list[str], chats: bool = False, context: bool = False):
    from evosearch.store import Store

    store = Store.open(uri, model_id=encoder.model_id, dim=encoder.dim, memory_shape=(encoder.memory_slots, encoder.dim), context=context)
    rng = np.random.default_rng(0)
    for lo in range(0, n, 10_000):
        store.add_segments(synthetic_rows(lo, min(n, lo + 10_000) - lo, texts, rng, encoder.dim, chats, context))
    store.finish_writes()
    return store


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", default="10000,100000")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--lexical", action="store_true", help="half the streams chats; each size twice, without and then with their turns' context (a lexical memory); the reader only")
    args = parser.parse_args(argv)
    from evosearch.encoder import load_encoder, load_query_encoder
    from evosearch.store import open_for_search

    encoder = load_query_encoder()  # what `ask` uses
    writer = load_encoder("hashing")  # only its model id and width matter for filling the index
    writer.model_id, writer.dim = encoder.model_id, encoder.dim
    texts = real_texts(20_000)
    print(f"{len(texts)} real paragraphs; encoder {encoder.model_id}, queries through {type(encoder).__name__}")
    for n in (int(x) for x in args.segments.split(",")):
        for context in (False, True) if args.lexical else (False,):
            with tempfile.TemporaryDirectory() as tmp:
                writer_store = build(str(Path(tmp) / "db"), writer, n, texts, args.lexical, context)
                reader = open_for_search(writer_store.uri)  # what `ask` opens
                stores = (("lance reader (ask)", reader),) if args.lexical else (("lance reader (ask)", reader), ("LanceDB tables", writer_store))
                for label, store in stores:
                    kind = (", with the lexical memory" if context else ", without the lexical memory") if args.lexical else ""
                    print(f"{n:>7} segments{kind}, {label}: " + measure(store, encoder, args.queries), flush=True)
    return 0


def measure(store, encoder, n_queries: int) -> str:
    from evosearch.search import ask

    now = datetime(2026, 3, 20, tzinfo=timezone.utc)
    queries = [QUERIES[i % len(QUERIES)] for i in range(n_queries)]
    ask(store, encoder, "warm up", now=now)
    encode_ms, total_ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        encoder.encode_queries([q])
        t1 = time.perf_counter()
        ask(store, encoder, q, now=now)
        t2 = time.perf_counter()
        encode_ms.append(1000 * (t1 - t0))
        total_ms.append(1000 * (t2 - t1))
    p = lambda xs, q: statistics.quantiles(xs, n=20)[18] if q == 95 else statistics.median(xs)  # noqa: E731
    timed = [t for q, t in zip(queries, total_ms) if "week" in q or "March" in q]
    return (
        f"ask p50 {p(total_ms, 50):.0f} ms, p95 {p(total_ms, 95):.0f} ms "
        f"(query encoding alone p50 {p(encode_ms, 50):.0f} ms; with a time phrase p50 {statistics.median(timed):.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
