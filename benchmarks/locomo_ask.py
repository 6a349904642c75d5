"""LoCoMo through the real product path: convert -> `index` -> `ask`, next to BM25 and static MiniLM.

    python benchmarks/locomo_ask.py [--data ../shared/bench/locomo10.json] [--questions N]

Prints, from one run:
- indexing throughput of evosearch (segments/s, turns/s) and, as a ratio, plain MiniLM batch
  encoding of the same segment texts (mean pooling, batch 64);
- turn-level Recall@5/@10 over the 1,535 answerable questions, per category, for BM25 and
  static MiniLM (each turn its own document) and for `ask` (hybrid, with time handling).
  `ask` rows are scored two ways: "budget" counts the first k distinct message ids in rank
  order (a passage of 4 messages spends 4 of the k), "passages" counts every message of
  the top-k passages (a reader who opens k passages).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from retrieval_metrics import CATEGORY_NAMES, table, turn_recall_at_k  # noqa: E402


def plain_minilm_rate(texts: list[str]) -> float:
    """segments/s of static MiniLM over the same texts (no memory, no streams, no writes), the way
    sentence-transformers encodes: texts sorted by length, batch 64, mean pooling; same tokenizer,
    truncation and BERT weights (torch fp32; loading it is not timed)."""
    import torch

    from evosearch.encoder.minilm import load_torch_encoder

    encoder = load_torch_encoder()
    bert = encoder.module.bert
    ordered = sorted(texts, key=len)
    started = time.monotonic()
    with torch.inference_mode():
        for i in range(0, len(ordered), 64):
            ids, mask = encoder.padded(encoder.tokenize(ordered[i : i + 64]))
            hidden = bert(ids, mask)
            m = mask.unsqueeze(-1).float()
            torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1), dim=-1)
    return len(texts) / (time.monotonic() - started)


def run_evosearch(data_dir: Path, db: Path, questions: list[dict]):
    from evosearch.api import open_index
    from evosearch.indexer import index_paths
    from evosearch.search import ask

    store, encoder = open_index(str(db), write=True)
    # The same segment texts the product will produce, so the baseline encodes exactly that work.
    from evosearch.segment import segment_stream
    from evosearch.sources.detect import read_source

    texts = [s.text for f in sorted(data_dir.glob("*.jsonl")) for st in read_source(f, print) for s in segment_stream(st)]
    # Baseline before and after the product run, averaged: the machine's speed drifts over minutes.
    plain_before = plain_minilm_rate(texts)
    report = index_paths([data_dir], store, encoder, lambda m: print("warning:", m, file=sys.stderr))
    index_rate = report.segments_encoded / report.seconds
    plain_rate = (plain_before + plain_minilm_rate(texts)) / 2
    rankings = []
    started = time.monotonic()
    for q in questions:
        answer = ask(store, encoder, q["question"], now=datetime.fromisoformat(q["now"]), limit=10, source=f"{q['sample_id']}.jsonl")
        rankings.append([r["message_ids"] for r in answer["results"]])
    query_s = (time.monotonic() - started) / max(len(questions), 1)
    stats = {
        "segments": report.segments_encoded,
        "index_seconds": report.seconds,
        "index_segments_per_s": index_rate,
        "plain_minilm_segments_per_s": plain_rate,
        "ask_ms": query_s * 1000,
    }
    return rankings, stats


def score(questions, rankings, flatten_passages: bool):
    out = []
    for q, ranked in zip(questions, rankings):
        gold = set(q["evidence"])
        if flatten_passages:  # every message of the top-k passages
            r5 = len(gold & {m for p in ranked[:5] for m in p}) / len(gold)
            r10 = len(gold & {m for p in ranked[:10] for m in p}) / len(gold)
        else:
            r5, r10 = turn_recall_at_k(ranked, gold, 5), turn_recall_at_k(ranked, gold, 10)
        out.append((q["category"], r5, r10))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--questions", type=int, default=None, help="only the first N questions (quick runs)")
    parser.add_argument("--index-only", action="store_true", help="throughput figures only, no questions")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(os.cpu_count() or 2)
    conversion = locomo_to_jsonl.load(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "locomo"
        locomo_to_jsonl.write(conversion, data_dir)
        (data_dir / "questions.jsonl").rename(Path(tmp) / "questions.jsonl")
        questions = [json.loads(l) for l in (Path(tmp) / "questions.jsonl").read_text().splitlines()]
        questions = questions[: args.questions] if args.questions else questions
        questions = [] if args.index_only else questions
        rankings, stats = run_evosearch(data_dir, Path(tmp) / "db", questions)
        turns = conversion.turn_count
        rows = {}
        if questions:
            import baselines

            rows["BM25 (each turn alone)"] = score(questions, [[[t] for t in r] for r in baselines.bm25_rankings(data_dir, questions)], False)
            rows["static MiniLM (each turn alone)"] = score(
                questions, [[[t] for t in r] for r in baselines.minilm_rankings(data_dir, questions)], False
            )
            rows["evosearch ask, budget (k msgs)"] = score(questions, rankings, False)
            rows["evosearch ask, passages (k segs)"] = score(questions, rankings, True)
    print(
        f"indexing: {stats['segments']} segments ({turns} turns) in {stats['index_seconds']:.1f}s = "
        f"{stats['index_segments_per_s']:.1f} segments/s, {turns / stats['index_seconds']:.0f} turns/s; "
        f"plain MiniLM on the same segments: {stats['plain_minilm_segments_per_s']:.1f} segments/s "
        f"(ratio {stats['index_segments_per_s'] / stats['plain_minilm_segments_per_s']:.2f}x)"
    )
    if rows:
        print(f"ask: {stats['ask_ms']:.0f} ms per question (in-process, warm)")
        print(table("method", rows, list(CATEGORY_NAMES)))
    if args.json:
        args.json.write_text(json.dumps({"stats": stats, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
