"""Where does `ask` lose LoCoMo's evidence: in finding it, or in ranking what it found? And do cheap
second looks at the ranked candidates help?

    python benchmarks/rerank_probe.py [--locomo ../shared/bench/locomo10.json] [--top 60]

LoCoMo is indexed through the product path (quality.build_index, the shipped encoder) and each
question is gathered and ranked once as `ask` ranks it before its closer look (search.gather,
search.rank; benchmarks/closer_look.py measures that step). Then:

- found in the top N: Recall@10 if the passages holding evidence among `ask`'s top N were moved to
  the front (what a perfect reranker of those N could reach);
- reranks of the top N, each with its weight chosen on one fold of conversations and scored on the
  other (fusion.out_of_fold; folds as benchmarks/fusion.py):
  - same day: a passage loses `d` for each higher-ranked passage of the same conversation and day
    (multi-hop questions gather evidence from several sessions);
  - nearby: it loses `d` for each higher-ranked passage within 2 positions of it;
  - best message: it gains `b` x the best cosine between the question and one of its messages read
    alone (MiniLM without memory, each message as `Speaker: text`; a 4-message passage's vector
    blurs a one-line answer);
  - second model: it gains `b` x multilingual-e5-small's cosine between the question and the passage
    (`index --model e5-small`'s CPU encoder, the passage read alone): a second bi-encoder's opinion,
    the cheapest ensemble.

Metric: turn-level Recall@10 (benchmarks/retrieval_metrics.py), overall and per category.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from fusion import K, conversation_folds, gather_all, locomo_questions, mean, out_of_fold  # noqa: E402
from quality import build_index  # noqa: E402
from retrieval_metrics import CATEGORY_NAMES, turn_recall_at_k  # noqa: E402

from evosearch import search  # noqa: E402


def recall(passages: list[dict], q: dict) -> float:
    return turn_recall_at_k([p["message_ids"] for p in passages], set(q["evidence"]), K)


def found(passages: list[dict], q: dict) -> float:
    gold = set(q["evidence"])
    return recall([p for p in passages if gold & set(p["message_ids"])], q)


def penalised(passages: list[dict], penalty: Callable[[dict, dict], bool], d: float) -> list[dict]:
    """Greedy: each next passage is the best by score less d per chosen passage `penalty` pairs it with."""
    left, out = list(passages), []
    while left:
        best = max(left, key=lambda p: p["score"] - d * sum(penalty(p, c) for c in out))
        left.remove(best)
        out.append(best)
    return out


def same_day(a: dict, b: dict) -> bool:
    return a["stream_id"] == b["stream_id"] and a["time"] is not None and b["time"] is not None and a["time"].date() == b["time"].date()


def nearby(a: dict, b: dict) -> bool:
    return a["stream_id"] == b["stream_id"] and abs(a["position"] - b["position"]) <= 2


def messages_by_id(folder: Path) -> dict[tuple[str, str], str]:
    """(conversation, message id) -> "Speaker: text", from the converted LoCoMo chats."""
    out = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            m = json.loads(line)
            if "id" in m:
                out[(m["conversation"], m["id"])] = f"{m['speaker']}: {m['text']}"
    return out


def row(name: str, scores: list[float], questions: list[dict], chosen: str = "") -> str:
    cats = " | ".join(f"{mean(s for s, q in zip(scores, questions) if q['category'] == c):.1f}" for c in CATEGORY_NAMES)
    return f"| {name} | {chosen} | {mean(scores):.1f} | {cats} |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--top", type=int, default=60, help="candidates a rerank reorders")
    args = parser.parse_args(argv)
    from evosearch.encoder import load_encoder

    encoder = load_encoder()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        questions = locomo_questions(args.locomo, tmp)
        store, _, segments = build_index(tmp / "locomo", tmp / "locomo-db", encoder)
        ranked = [search.rank(g, K)[: args.top] for g in gather_all(store, encoder, questions)]
        rows = store.rows(sorted({r["_rowid"] for passages in ranked for r in passages}))
        messages = messages_by_id(tmp / "locomo")
    for passages in ranked:
        for p in passages:
            p["message_ids"] = list(rows[p["_rowid"]]["message_ids"] or [])
            p["conversation"] = p["stream_id"].rsplit("#", 1)[-1]

    keys = sorted({(p["conversation"], m) for passages in ranked for p in passages for m in p["message_ids"]})
    vectors = dict(zip(keys, np.asarray(encoder.encode_queries([messages[k] for k in keys]))))
    asked = np.asarray(encoder.encode_queries([q["query"] for q in questions]))
    for passages, qv in zip(ranked, asked):
        for p in passages:
            p["best_message"] = max((float(vectors[(p["conversation"], m)] @ qv) for m in p["message_ids"]), default=0.0)
    second = load_encoder("e5-small")
    order = sorted(rows)
    passages_e5 = dict(zip(order, second.encode_passages([rows[i]["text"] for i in order])))
    for passages, qv in zip(ranked, second.encode_queries([q["query"] for q in questions])):
        for p in passages:
            p["second_model"] = float(passages_e5[p["_rowid"]] @ qv)

    folds = conversation_folds(questions)
    shipped = [recall(p, q) for p, q in zip(ranked, questions)]
    head = f"| | chosen (fold A / fold B) | R@10 | {' | '.join(CATEGORY_NAMES.values())} |"
    lines = [head, "|" + "---|" * (head.count("|") - 1), row("`ask` before its closer look", shipped, questions)]
    for n in (10, 20, 40, args.top):
        lines.append(row(f"found in the top {n} (a perfect rerank of them)", [found(p[:n], q) for p, q in zip(ranked, questions)], questions))
    grids: dict[str, dict] = {
        "same day, -d each": {d: [recall(penalised(p, same_day, d), q) for p, q in zip(ranked, questions)] for d in (0.01, 0.02, 0.04, 0.08, 0.15)},
        "nearby, -d each": {d: [recall(penalised(p, nearby, d), q) for p, q in zip(ranked, questions)] for d in (0.02, 0.05, 0.1)},
        "best message, +b x its cosine": {
            b: [recall(sorted(p, key=lambda r: -(r["score"] + b * r["best_message"])), q) for p, q in zip(ranked, questions)]
            for b in (0.1, 0.2, 0.3, 0.5, 1.0)
        },
        # e5's cosines sit in a narrow band near 1, so its weights run higher
        "second model, +b x e5-small's cosine": {
            b: [recall(sorted(p, key=lambda r: -(r["score"] + b * r["second_model"])), q) for p, q in zip(ranked, questions)]
            for b in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
        },
    }
    for name, grid in grids.items():
        oof, chosen, _ = out_of_fold(grid, folds)
        lines.append(row(name, oof, questions, f"{chosen[0]} / {chosen[1]}"))
    print(f"LoCoMo: {len(questions)} questions over {segments} segments; encoder {encoder.model_id}; {time.monotonic() - started:.0f} s\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
