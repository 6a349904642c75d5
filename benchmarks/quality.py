"""Does the memory help? LoCoMo and LongMemEval through the real product path, one run.

    python benchmarks/quality.py [--locomo ../shared/bench/locomo10.json]
        [--longmemeval ../shared/bench/longmemeval_s_dev100.json.gz] [--lme-questions 10] [--questions N]

Both data sets are converted to JSON Lines chats, indexed by `evosearch.indexer` twice (the
bundled memory, and the same weights with the queue emptied before every segment), and
asked through `evosearch.search`. Printed side by side, turn-level Recall@5/@10 (first k
distinct message ids in rank order) per category for:
  BM25 and static MiniLM, each turn alone (benchmarks/baselines.py);
  evosearch dense, memory off / memory on (vector search only);
  evosearch hybrid, what `ask` does (dense + full text + time handling), memory off / on.
For LongMemEval also session-level Recall@10 (a session counts when any of its passages is
in the top 10). Indexing speed with memory is printed as a ratio to plain MiniLM encoding
of the same segments, measured in this run. LongMemEval uses questions from the first half
of the dev split only (the half that training never reads; see evosearch/train/recipes.py).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import baselines
import locomo_to_jsonl
from locomo_ask import plain_minilm_rate
from retrieval_metrics import CATEGORY_NAMES, table, turn_recall_at_k

LME_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "bench" / "longmemeval_s_dev100.json.gz"


class MemoryOff:
    """The same encoder with the queue emptied before every segment: what memory adds, isolated."""

    def __init__(self, encoder):
        self.inner = encoder
        self.model_id = encoder.model_id + "-memory-off"
        self.dim, self.memory_slots = encoder.dim, encoder.memory_slots

    def empty_memory(self, n):
        return self.inner.empty_memory(n)

    def encode(self, texts, memory):
        embedding, _ = self.inner.encode(texts, self.inner.empty_memory(len(texts)))
        return embedding, memory

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)

    def token_states(self, texts):  # `ask`'s closer look reads each text alone: no memory either way
        return self.inner.token_states(texts)


# ---- LongMemEval as chats --------------------------------------------------------------------


def _lme_time(text: str) -> datetime:
    return datetime.strptime(text.split(" (")[0] + " " + text.split(") ")[-1], "%Y/%m/%d %H:%M").replace(tzinfo=UTC)


def write_longmemeval(path: Path, count: int, out: Path, second_half: bool = False) -> tuple[list[dict], dict[str, list[dict]]]:
    """One folder per question, one JSONL chat per haystack session; returns (questions, turns per question).
    second_half: the dev split's other questions (their filler sessions train the memory, so they
    check what does not involve it, such as fusion weights chosen on the first half)."""
    from evosearch.train.recipes import BENCHMARK_QUESTIONS

    data = json.loads(gzip.decompress(path.read_bytes()))
    half = data[BENCHMARK_QUESTIONS:] if second_half else data[:BENCHMARK_QUESTIONS]
    items = [i for i in half if not i["question_id"].endswith("_abs")]
    questions, conversations = [], {}
    for item in items[:count]:
        qid = item["question_id"]
        folder = out / qid
        folder.mkdir(parents=True, exist_ok=True)
        turns, gold = [], []
        for sid, date, session in zip(
            item["haystack_session_ids"],
            item["haystack_dates"],
            item["haystack_sessions"],
        ):
            ts = _lme_time(date).isoformat()
            lines = []
            for n, turn in enumerate(session):
                mid = f"{sid}:{n}"
                lines.append(
                    json.dumps(
                        {
                            "id": mid,
                            "ts": ts,
                            "speaker": turn["role"],
                            "text": turn["content"],
                        }
                    )
                )
                turns.append({"id": mid, "speaker": turn["role"], "text": turn["content"]})
                if turn.get("has_answer"):
                    gold.append(mid)
            (folder / f"{sid}.jsonl").write_text("\n".join(lines) + "\n")
        if not gold:
            continue
        conversations[qid] = turns
        questions.append(
            {
                "sample_id": qid,
                "question": item["question"],
                "now": _lme_time(item["question_date"]).isoformat(),
                "evidence": gold,
                "sessions": item["answer_session_ids"],
                "category": item["question_type"],
            }
        )
    return questions, conversations


# ---- running the product -----------------------------------------------------------------------


def add_doc_tokens(parser) -> None:
    """--doc-tokens N: a sweep of the document segment size (segment.DOC_SEGMENT_TOKENS)."""
    parser.add_argument("--doc-tokens", type=int, default=None, help="pack documents to this many tokens instead of the shipped budget (a sweep)")


def use_doc_tokens(tokens: int | None) -> None:
    """Pack documents to `tokens` from now on in this process (None: the shipped budget)."""
    if tokens:
        import evosearch.segment

        evosearch.segment.DOC_SEGMENT_TOKENS = tokens


def build_index(data_dir: Path, db: Path, encoder) -> tuple[object, float, int]:
    from evosearch.encoder import context_turns
    from evosearch.indexer import index_paths
    from evosearch.store import Store

    store = Store.open(
        str(db),
        model_id=encoder.model_id,
        dim=encoder.dim,
        memory_shape=(encoder.memory_slots, encoder.dim),
        context=context_turns(encoder) > 0,
    )
    report = index_paths([data_dir], store, encoder, lambda m: print("warning:", m, file=sys.stderr))
    return store, report.seconds, report.segments_encoded


def dense(store, encoder, question: str, source: str, limit: int = 10) -> list[list[str]]:
    from evosearch.filters import source_where

    vector = encoder.encode_queries([question])[0]
    rows = store.vector_search(vector, limit, source_where(store, source))
    return [list(r["message_ids"]) for r in rows]


def hybrid(store, encoder, q: dict, source: str) -> list[list[str]]:
    from evosearch.search import ask

    answer = ask(
        store,
        encoder,
        q["question"],
        now=datetime.fromisoformat(q["now"]),
        limit=10,
        source=source,
    )
    return [r["message_ids"] for r in answer["results"]]


# ---- scoring -------------------------------------------------------------------------------------


def recall_rows(questions, rankings) -> list[tuple[object, float, float]]:
    return [
        (
            q["category"],
            turn_recall_at_k(r, set(q["evidence"]), 5),
            turn_recall_at_k(r, set(q["evidence"]), 10),
        )
        for q, r in zip(questions, rankings)
    ]


def session_recall(questions, rankings) -> float:
    """Share of gold sessions with a passage (or turn) in the top 10, averaged over questions."""
    total = 0.0
    for q, ranked in zip(questions, rankings):
        top = {m.rsplit(":", 1)[0] for item in ranked[:10] for m in ([item] if isinstance(item, str) else item)}
        total += len(set(q["sessions"]) & top) / len(q["sessions"])
    return 100 * total / max(len(questions), 1)


def overlap(recall: dict[str, list[float]]) -> str:
    """Where the memory's dense gain goes: how many questions dense retrieval answers better with
    memory, how many of those `ask` without memory already answers as well, and the ceiling of any
    fusion that picks per question between `ask` without memory and dense with or without it."""
    off, on = recall["evosearch dense, memory off"], recall["evosearch dense, memory on"]
    ask = recall["evosearch hybrid, memory off"]
    gained = [i for i in range(len(on)) if on[i] > off[i]]
    covered = sum(ask[i] >= on[i] for i in gained)
    ceiling = {name: 100 * sum(map(max, dense, ask)) / len(ask) for name, dense in (("off", off), ("on", on))}
    return (
        f"dense with memory beats dense without on {len(gained)} questions (loses on {sum(on[i] < off[i] for i in range(len(on)))}); "
        f"`ask` without memory already does as well on {covered} of them. Per question the better of `ask` without memory "
        f"and dense: {ceiling['off']:.1f} with dense off, {ceiling['on']:.1f} with dense on (R@10)"
    )


def evaluate(
    label: str,
    data_dir: Path,
    questions: list[dict],
    conversations,
    tmp: Path,
    encoder,
    source_of,
    with_speed: bool,
):
    off = MemoryOff(encoder)
    store_on, seconds, segments = build_index(data_dir, tmp / f"{label}-on", encoder)
    speed = None
    if with_speed:
        from evosearch.segment import segment_stream
        from evosearch.sources.detect import read_source

        texts = [s.text for f in sorted(data_dir.rglob("*.jsonl")) for st in read_source(f, print) for s in segment_stream(st)]
        plain = plain_minilm_rate(texts)
        speed = (segments / seconds, plain)
    store_off, _, _ = build_index(data_dir, tmp / f"{label}-off", off)
    rankings = {
        "BM25 (turn alone)": baselines.bm25_rankings(conversations, questions),
        "static MiniLM (turn alone)": baselines.minilm_rankings(conversations, questions),
        "evosearch dense, memory off": [dense(store_off, off, q["question"], source_of(q)) for q in questions],
        "evosearch dense, memory on": [dense(store_on, encoder, q["question"], source_of(q)) for q in questions],
        "evosearch hybrid, memory off": [hybrid(store_off, off, q, source_of(q)) for q in questions],
        "evosearch hybrid, memory on": [hybrid(store_on, encoder, q, source_of(q)) for q in questions],
    }
    return rankings, speed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    parser.add_argument("--lme-questions", type=int, default=10, help="LongMemEval questions (0: skip)")
    parser.add_argument(
        "--model",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "model",
        help="the model folder whose memory to test: the shipped one (model/, the context read and lexical memory; the default) or trained weights (model/evo-1)",
    )
    parser.add_argument("--neighbour-weight", type=float, default=None, help="ask's chat-neighbour weight for MiniLM (default: the shipped one)")
    parser.add_argument(
        "--questions",
        type=int,
        default=None,
        help="only the first N LoCoMo questions (quick runs)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write each question's R@10 under each method here")
    args = parser.parse_args(argv)
    per_question: dict[str, dict] = {}
    import torch

    from evosearch.encoder import load_encoder

    torch.set_num_threads(os.cpu_count() or 2)
    os.environ["EVOSEARCH_MODEL"] = str(args.model)
    if args.neighbour_weight is not None:
        from dataclasses import replace

        from evosearch import search

        search.FUSION["minilm"] = replace(search.FUSION["minilm"], neighbour_weight=args.neighbour_weight)
    encoder = load_encoder("minilm")
    print(f"encoder: {encoder.model_id}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        conversion = locomo_to_jsonl.load(args.locomo)
        data_dir = tmp / "locomo"
        locomo_to_jsonl.write(conversion, data_dir)
        (data_dir / "questions.jsonl").rename(tmp / "questions.jsonl")
        questions = [json.loads(line) for line in (tmp / "questions.jsonl").read_text().splitlines()][: args.questions]
        conversations, _ = baselines.load_locomo(args.locomo)
        rankings, speed = evaluate(
            "locomo",
            data_dir,
            questions,
            conversations,
            tmp,
            encoder,
            lambda q: f"{q['sample_id']}.jsonl",
            True,
        )
        print(
            f"\nindexing LoCoMo with memory: {speed[0]:.1f} segments/s; plain MiniLM on the same segments: "
            f"{speed[1]:.1f} segments/s (ratio {speed[0] / speed[1]:.2f}x)\n"
        )
        print(
            table(
                "LoCoMo",
                {n: recall_rows(questions, r) for n, r in rankings.items()},
                list(CATEGORY_NAMES),
            )
        )
        recall = {n: [r[2] for r in recall_rows(questions, x)] for n, x in rankings.items()}
        print(overlap(recall))
        per_question["locomo"] = {"questions": questions, **recall}
        if args.lme_questions:
            lme_dir = tmp / "lme"
            lme_questions, lme_turns = write_longmemeval(args.longmemeval, args.lme_questions, lme_dir)
            lme_rankings, _ = evaluate(
                "lme",
                lme_dir,
                lme_questions,
                lme_turns,
                tmp,
                encoder,
                lambda q: f"*/{q['sample_id']}/*",
                False,
            )
            categories = sorted({q["category"] for q in lme_questions})
            sessions = {n: session_recall(lme_questions, r) for n, r in lme_rankings.items()}
            recall = {n: [r[2] for r in recall_rows(lme_questions, x)] for n, x in lme_rankings.items()}
            print(overlap(recall))
            per_question["lme"] = {"questions": lme_questions, **recall}
            print()
            print(
                table(
                    "LongMemEval_S dev (turn level)",
                    {n: recall_rows(lme_questions, r) for n, r in lme_rankings.items()},
                    categories,
                    sessions,
                )
            )
    if args.json:
        args.json.write_text(json.dumps(per_question, default=str))
    print(f"\n({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
