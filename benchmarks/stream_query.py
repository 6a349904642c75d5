"""Queries that know the stream (issue 23, section 2): rescore `ask`'s candidates with what each
candidate's stream holds as a whole. One run, every variant replayed on the same candidates.

    python benchmarks/stream_query.py [--lme-questions 50] [--files 150]

EvoEmbedding encodes a query with the stream's final memory. `ask` searches many streams, so the
memory-free first stage stays (search.gather), and each candidate is rescored with a term from its
own stream's final state:

- "stream mean": + w x cos(query, unit mean of every segment vector of the stream): a memory that
  carries a running sum, read once at the end;
- "last 32 mean": + w x cos(query, unit mean of the stream's last 32 segment vectors): what a FIFO
  queue of 32 slots (the shape of model/evo-1's snapshots) holds at the end;
- "evo-1 query": the candidate's cosine recomputed with the query read through model/evo-1's
  memory over that queue (its trained read and gate, as a segment would be), w mixing it in;
  "31 before" / "16 before 15 after": the same over the queue around the candidate instead of
  the stream's end (a long chat's end says nothing about a turn months earlier);
- "untrained read": the same with a plain softmax over cosines in place of evo-1's trained read;
- a control: the shipped fusion with its BM25 weight scaled. Reading the query through a
  neighbourhood that holds the candidate compresses cosines, which weighs BM25 more; a variant
  that beats the shipped row but not this control gains nothing from the stream.

Sets, each indexed once through the product path with the default encoder (memory off):
LoCoMo with all ten conversations in one index and every question searched across all of them
(what a person with many chats does; searched within its own conversation, a per-stream term
cannot reorder anything, since there is one stream); LongMemEval_S dev's first half (each question
in its own haystack of about 50 sessions, one stream each); the AWS CLI document set of
benchmarks/doc_quality.py (one stream per file). The weight is chosen out of fold on LoCoMo
(two folds by conversation) and used unchanged on the other sets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from doc_quality import default_docs, hits, write_corpus  # noqa: E402
from fusion import K, Scorer, gather_all, locomo_recall, mean, out_of_fold  # noqa: E402
from quality import LME_DEFAULT, build_index, session_recall, write_longmemeval  # noqa: E402
from retrieval_metrics import turn_recall_at_k  # noqa: E402

from evosearch import search  # noqa: E402

QUEUE = 32  # model/evo-1's memory slots
WEIGHTS = (0.05, 0.1, 0.2, 0.3, 0.5)
EVO_WEIGHTS = (0.25, 0.5, 1.0, 2.0)


class Streams:
    """Every stream's final state, from the index's stored vectors (unit MiniLM directions)."""

    def __init__(self, store):
        rows = store.scan(None, ["stream_id", "position", "vector"])
        by_stream: dict[str, list] = defaultdict(list)
        for r in rows:
            by_stream[r["stream_id"]].append((r["position"], np.asarray(r["vector"], dtype=np.float32)))
        self.vector: dict[tuple[str, int], np.ndarray] = {}
        self.index: dict[tuple[str, int], int] = {}
        self.mean, self.last_mean, self.queue, self.ordered = {}, {}, {}, {}
        for sid, items in by_stream.items():
            items.sort(key=lambda x: x[0])
            vectors = np.stack([v for _, v in items])
            for i, ((p, _), v) in enumerate(zip(items, vectors)):
                self.vector[(sid, p)] = v
                self.index[(sid, p)] = i
            self.mean[sid] = _unit(vectors.mean(0))
            last = vectors[-QUEUE:]
            self.last_mean[sid] = _unit(last.mean(0))
            self.queue[sid] = _queue(last, vectors.shape[1])
            self.ordered[sid] = vectors
        self.count = len(by_stream)

    def window(self, sid: str, position: int, before: int | None) -> np.ndarray:
        """The queue a segment near `position` sees: `before` segments up to it and the rest after it
        (None: the stream's final queue)."""
        if before is None:
            return self.queue[sid]
        vectors = self.ordered[sid]
        index = self.index[(sid, position)]
        start = max(0, index - before)
        return _queue(vectors[start : start + QUEUE], vectors.shape[1])


def _queue(vectors: np.ndarray, dim: int) -> np.ndarray:
    queue = np.zeros((QUEUE, dim), dtype=np.float32)
    if len(vectors):
        queue[QUEUE - len(vectors) :] = vectors  # slot 0 is the oldest, as the memory keeps it
    return queue


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def with_query(gathered, encoder) -> None:
    """Each gathered query keeps its query vector, which the variants read."""
    vectors = encoder.encode_queries([g.text for g in gathered])
    for g, v in zip(gathered, vectors):
        for c in (g.candidates, g.inside):
            if c is not None:
                c.query = v


def prior_fuse(summary: dict, weight: float):
    def fuse(c):
        fused = search.fuse(c)
        for e in fused.values():
            e["fused"] += weight * float(np.dot(c.query, summary[e["stream_id"]]))
        return fused

    return fuse


def evo1_fuse(streams: Streams, memory, weight: float):
    def fuse(c):
        fused = search.fuse(c)
        sids = sorted({e["stream_id"] for e in fused.values()})
        if not sids:
            return fused
        queues = np.stack([streams.queue[s] for s in sids])
        read = memory(np.repeat(c.query[None], len(sids), 0), queues)[0]  # the query as the stream's next segment
        conditioned = dict(zip(sids, read))
        for e in fused.values():
            seg = streams.vector[(e["stream_id"], e["position"])]
            e["fused"] += weight * (float(np.dot(conditioned[e["stream_id"]], seg)) - e["similarity"])
        return fused

    return fuse


def window_fuse(streams: Streams, read, weight: float, before: int):
    """As evo1_fuse, with the queue each candidate's own neighbourhood in its stream holds, not the stream's end."""

    def fuse(c):
        fused = search.fuse(c)
        entries = list(fused.values())
        if not entries:
            return fused
        queues = np.stack([streams.window(e["stream_id"], e["position"], before) for e in entries])
        conditioned = read(np.repeat(c.query[None], len(entries), 0), queues)
        for e, q in zip(entries, conditioned):
            seg = streams.vector[(e["stream_id"], e["position"])]
            e["fused"] += weight * (float(np.dot(q, seg)) - e["similarity"])
        return fused

    return fuse


def plain_read(gate: float, temperature: float = 0.05):
    """evo-1's read without its training: softmax over cosines with the query, the same gate."""

    def read(query: np.ndarray, queues: np.ndarray) -> np.ndarray:
        scores = np.einsum("bqd,bd->bq", queues, query) / temperature
        scores = np.where(np.abs(queues).sum(-1) > 0, scores, -np.inf)
        weights = np.exp(scores - scores.max(1, keepdims=True))
        weights /= weights.sum(1, keepdims=True)
        mixed = query + gate * (weights[..., None] * queues).sum(1)
        return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)

    return read


def text_weight_fuse(factor: float):
    """The shipped fusion with its BM25 weight scaled: a control, since reading a query through a
    segment's own neighbourhood also compresses cosines and so weighs BM25 more."""

    def fuse(c):
        shipped = c.fusion
        c.fusion = replace(shipped, text_weight=shipped.text_weight * factor)
        try:
            return search.fuse(c)
        finally:
            c.fusion = shipped

    return fuse


def run(fuse, gathered, queries, scorer, score_one) -> list:
    return [score_one(scorer.top_rows(search.rank(g, K, fuse)), q) for g, q in zip(gathered, queries)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    parser.add_argument("--lme-questions", type=int, default=50)
    parser.add_argument("--docs", type=Path, default=default_docs())
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the indexes here: a second run only re-checks them")
    args = parser.parse_args(argv)

    from evosearch.encoder import load_encoder
    from evosearch.encoder.memory_numpy import NumpyMemory

    encoder = load_encoder()
    evo1 = NumpyMemory(Path(__file__).resolve().parents[1] / "model" / "evo-1" / "memory.safetensors")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = args.workdir or Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        sets = {}

        data_dir = tmp / "locomo"
        locomo_to_jsonl.write(locomo_to_jsonl.load(args.locomo), data_dir)
        (data_dir / "questions.jsonl").replace(tmp / "questions.jsonl")
        lq = [json.loads(line) for line in (tmp / "questions.jsonl").read_text().splitlines()]
        for q in lq:
            q["query"], q["now"] = q["question"], datetime.fromisoformat(q["now"])  # no source: across all ten
        store, _, n = build_index(data_dir, tmp / "locomo-db", encoder)
        sets["LoCoMo, all conversations"] = (store, lq, locomo_recall, n)

        lme_dir = tmp / "lme"
        questions, _ = write_longmemeval(args.longmemeval, args.lme_questions, lme_dir)
        for q in questions:
            q["query"], q["now"], q["source"] = q["question"], datetime.fromisoformat(q["now"]), f"*/{q['sample_id']}/*"
        store, _, n = build_index(lme_dir, tmp / "lme-db", encoder)

        def lme_recall(rows, q):
            return turn_recall_at_k([list(r["message_ids"] or []) for r in rows], set(q["evidence"]), K)

        sets["LongMemEval_S dev"] = (store, questions, lme_recall, n)

        corpus = tmp / "docs"
        corpus.mkdir(exist_ok=True)
        dq = write_corpus(args.docs, args.files, corpus)
        for q in dq:
            q["now"] = datetime.now(timezone.utc)
        store, _, n = build_index(corpus, tmp / "docs-db", encoder)
        sets["documents"] = (store, dq, lambda rows, q: any(hits(rows, q)), n)

        prepared = {}
        for name, (store, qs, score_one, n) in sets.items():
            gathered = gather_all(store, encoder, qs)
            with_query(gathered, encoder)
            prepared[name] = (gathered, qs, Scorer(store), score_one, Streams(store), n)
        print(f"indexed and gathered in {time.monotonic() - started:.0f} s; encoder {encoder.model_id}")

        def variants(streams):
            out = {"shipped `ask` (no stream term)": {0.0: search.fuse}}
            out["BM25 weight x factor (control)"] = {f: text_weight_fuse(f) for f in (2.0, 4.0, 8.0, 16.0)}
            out["stream mean"] = {w: prior_fuse(streams.mean, w) for w in WEIGHTS}
            out["last 32 mean"] = {w: prior_fuse(streams.last_mean, w) for w in WEIGHTS}
            out["evo-1 query"] = {w: evo1_fuse(streams, evo1, w) for w in EVO_WEIGHTS}
            trained = lambda q, m: evo1(q, m)[0]  # noqa: E731
            out["evo-1 query, 31 before"] = {w: window_fuse(streams, trained, w, 31) for w in EVO_WEIGHTS}
            out["evo-1 query, 16 before 15 after"] = {w: window_fuse(streams, trained, w, 16) for w in EVO_WEIGHTS}
            untrained = plain_read(float(evo1.w["gate"][0]))
            out["untrained read, 16 before 15 after"] = {w: window_fuse(streams, untrained, w, 16) for w in EVO_WEIGHTS}
            out["untrained read, stream end"] = {w: window_fuse(streams, untrained, w, None) for w in EVO_WEIGHTS}
            return out

        scores: dict[str, dict[str, dict[float, list]]] = {}
        cost: dict[str, float] = {}
        for name, (gathered, qs, scorer, score_one, streams, _) in prepared.items():
            scores[name] = {}
            for label, grid in variants(streams).items():
                scores[name][label] = {}
                for w, fuse in grid.items():
                    t0 = time.perf_counter()
                    scores[name][label][w] = run(fuse, gathered, qs, scorer, score_one)
                    if name == "LoCoMo, all conversations":
                        cost[f"{label} {w}"] = (time.perf_counter() - t0) / len(qs)
            if name == "LongMemEval_S dev":
                lme_sessions = {
                    label: {w: session_recall(qs, [[list(r["message_ids"] or []) for r in scorer.top_rows(search.rank(g, K, f))] for g in gathered]) for w, f in grid.items()}
                    for label, grid in variants(streams).items()
                }

    samples = sorted({q["sample_id"] for q in lq})
    fold = {s: int(i >= len(samples) / 2) for i, s in enumerate(samples)}
    folds = [[i for i, q in enumerate(lq) if fold[q["sample_id"]] == f] for f in (0, 1)]
    loc = scores["LoCoMo, all conversations"]
    print(
        "\n" + ", ".join(f"{name}: {len(p[1])} queries, {len(p[4].vector)} segments, {p[4].count} streams" for name, p in prepared.items())
    )
    print("\nWeight chosen out of fold on LoCoMo (fold by conversation); the other sets use the weight chosen on all LoCoMo.\n")
    print("| variant | weight (fold A / B; all) | LoCoMo R@10, out of fold | LongMemEval R@10 | LME sessions @10 | documents R@10 |")
    print("|---|---|---|---|---|---|")
    for label, grid in loc.items():
        oof, chosen, ship = out_of_fold(grid, folds)
        lme = scores["LongMemEval_S dev"][label][ship]
        docs = scores["documents"][label][ship]
        print(
            f"| {label} | {chosen[0]} / {chosen[1]}; {ship} | {mean(oof):.1f} | {mean(lme):.1f} | "
            f"{lme_sessions[label][ship]:.1f} | {mean(docs):.1f} |"
        )
    print("\nEvery weight (in-sample, for the record)\n")
    print("| variant | weight | LoCoMo all | LongMemEval | documents | rescoring ms/query (LoCoMo) |")
    print("|---|---|---|---|---|---|")
    for label, grid in loc.items():
        for w in grid:
            print(
                f"| {label} | {w} | {mean(grid[w]):.1f} | {mean(scores['LongMemEval_S dev'][label][w]):.1f} | "
                f"{mean(scores['documents'][label][w]):.1f} | {1000 * cost[f'{label} {w}']:.1f} |"
            )
    print(f"\nall in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
