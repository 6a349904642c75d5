"""Speed in one run: indexing against plain MiniLM, stage shares, peak memory, cold and warm ask.

    python benchmarks/speed.py [--docs 200] [--conversations 4] [--latency 10000,100000] [--skip-incremental]

1. Indexing. A corpus of real text: documentation files from /usr/share/doc (--docs of them)
   and LoCoMo conversations as chats (../shared/bench). `evosearch index` runs end to end in
   this process with its stages timed (reading + segmenting, tokenising, encoding, writing);
   then plain MiniLM (sentence-transformers style: sorted by length, batch 64, mean pooling; no
   memory, no writes) encodes the same segment texts. Both as segments/s and tokens/s, and their ratio.
2. Peak RSS: `evosearch index` (first in a fresh data dir, which builds the int8 model, then with
   it cached) and `evosearch ask`, as separate processes (/usr/bin/time %M).
3. Cold `ask`: a new `evosearch ask` process, 5 runs, median.
4. Warm `ask` at 10k and 100k segments: benchmarks/query_latency.py.
5. One appended message on a 100k-segment index: benchmarks/incremental.py.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from locomo_ask import plain_minilm_rate  # noqa: E402

EVOSEARCH = str(Path(sys.executable).parent / "evosearch")
MAX_DOC_CHARS = 40_000  # long changelogs would make the corpus (and the run) mostly one kind of text


def write_corpus(out: Path, docs: int, conversations: int) -> None:
    (out / "docs").mkdir(parents=True)
    written = 0
    for path in sorted(Path("/usr/share/doc").rglob("*")):
        if written == docs:
            break
        try:
            raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
            continue
        if not 2000 <= len(text) <= MAX_DOC_CHARS or "\0" in text:
            continue
        (out / "docs" / f"{written:04d}-{path.name.removesuffix('.gz')}.txt").write_text(text)
        written += 1
    conversion = locomo_to_jsonl.load(locomo_to_jsonl.DEFAULT_INPUT)
    chats = out / "chats"
    locomo_to_jsonl.write(conversion, chats)
    (chats / "questions.jsonl").unlink()
    for extra in sorted(chats.glob("*.jsonl"))[conversations:]:
        extra.unlink()


class StageClock:
    """Wraps the indexer's stage functions to add up their wall time."""

    def __init__(self):
        self.seconds = defaultdict(float)

    def wrap(self, owner, name: str, stage: str):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - started

        setattr(owner, name, timed)


def index_in_process(corpus: Path, db: Path) -> dict:
    from evosearch import indexer
    from evosearch.encoder import context_turns, load_encoder
    from evosearch.store import Store

    encoder = load_encoder("minilm")
    clock = StageClock()
    clock.wrap(indexer, "read_source", "reading + segmenting")
    clock.wrap(indexer, "segment_stream", "reading + segmenting")
    clock.wrap(encoder, "tokenize", "tokenising")
    clock.wrap(encoder, "pool_rows", "encoding")
    for name in (
        "add_segments",
        "replace_segments",
        "mark_replacing",
        "add_snapshots",
        "put_sources",
        "finish_writes",
        "delete_streams_from",
        "delete_stream_tails",
    ):
        clock.wrap(Store, name, "writing")
    store = Store.open(str(db), model_id=encoder.model_id, dim=encoder.dim, memory_shape=(encoder.memory_slots, encoder.dim), context=context_turns(encoder) > 0)
    report = indexer.index_paths([corpus], store, encoder, lambda m: None)
    from evosearch.segment import segment_stream
    from evosearch.sources.detect import read_source

    texts = [s.text for f in sorted(corpus.rglob("*")) if f.is_file() for st in read_source(f, lambda m: None) for s in segment_stream(st)]
    tokens = sum(len(e.ids) for e in encoder.tokenizer.encode_batch(texts))
    plain = plain_minilm_rate(texts)
    return {"report": report, "stages": dict(clock.seconds), "segments": len(texts), "tokens": tokens, "plain": plain}


def timed_process(args: list[str], env: dict) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of a command."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *args], env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, int(done.stderr.strip().splitlines()[-1]) // 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=4)
    parser.add_argument("--latency", default="10000,100000", help="index sizes for warm ask latency ('' to skip)")
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(os.cpu_count() or 2)
    device = "cuda" if torch.cuda.is_available() else f"CPU, {os.cpu_count()} cores"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "corpus"
        write_corpus(corpus, args.docs, args.conversations)
        result = index_in_process(corpus, tmp / "db")
        report, stages = result["report"], result["stages"]
        rate = report.segments_encoded / report.seconds
        print(f"device: {device}")
        print(
            f"corpus: {args.docs} documentation files + {args.conversations} LoCoMo conversations = {result['segments']} segments, {result['tokens']} tokens"
        )
        print(
            f"index end to end: {rate:.1f} segments/s, {result['tokens'] / report.seconds:.0f} tokens/s; "
            f"plain MiniLM batch 64: {result['plain']:.1f} segments/s, {result['tokens'] * result['plain'] / result['segments']:.0f} tokens/s; "
            f"ratio {rate / result['plain']:.2f}x"
        )
        accounted = sum(stages.values())
        shares = ", ".join(f"{k} {100 * v / report.seconds:.0f}%" for k, v in stages.items())
        print(f"time shares: {shares}, other {100 * (report.seconds - accounted) / report.seconds:.0f}%")

        env = {**os.environ, "EVOSEARCH_HOME": str(tmp / "home")}
        # A fresh data dir: the first index builds the int8 model in a child process, whose peak
        # /usr/bin/time counts too; then a second fresh index with that model cached: index alone.
        wall, rss = timed_process([EVOSEARCH, "index", str(corpus), "-q", "--db", str(tmp / "first")], env)
        print(f"peak RSS: first `evosearch index` in a fresh data dir (int8 model built) {rss} MB ({wall:.0f} s)")
        wall, rss = timed_process([EVOSEARCH, "index", str(corpus), "-q"], env)
        print(f"peak RSS: `evosearch index` (separate process, {result['segments']} segments, model cached) {rss} MB ({wall:.0f} s)")
        colds = []
        for _ in range(5):
            wall, rss = timed_process([EVOSEARCH, "ask", "what did they decide about the adoption agency", "-n", "5"], env)
            colds.append(wall)
        print(f"cold `evosearch ask` (new process): median {statistics.median(colds):.2f} s over 5 runs; peak RSS {rss} MB")
    if args.latency:
        import query_latency

        query_latency.main(["--segments", args.latency])
    if not args.skip_incremental:
        import incremental

        incremental.main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
