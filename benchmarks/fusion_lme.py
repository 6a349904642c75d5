"""The shipped fusion's parts on LongMemEval_S dev: do chat neighbours and the window share hold
on a second conversational set? One index, `ask` replayed with each part switched off.

    python benchmarks/fusion_lme.py [--questions 50] [--second-half] [--workdir DIR]

LongMemEval_S dev's first half (the questions training never reads; as benchmarks/quality.py),
or with --second-half the other one,
each question's haystack sessions as JSON Lines chats (user and assistant turns), indexed once
with the default encoder; every question asked restricted to its own haystack, under each
variant of search.FUSION for that model. Turn-level Recall@10 and session Recall@10, per
category and overall.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from quality import LME_DEFAULT, build_index, hybrid, recall_rows, session_recall, write_longmemeval  # noqa: E402
from retrieval_metrics import table  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--second-half", action="store_true", help="the dev split's other questions")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the index here (as quality.py's lme and lme-db): a second run reuses it")
    args = parser.parse_args(argv)
    from evosearch import search
    from evosearch.encoder import load_encoder, model_name

    encoder = load_encoder()
    name = model_name(encoder.model_id)
    shipped = search.FUSION[name]
    variants = {
        f"shipped {shipped}": shipped,
        "no window shares (every passage in the window gains its boost)": replace(shipped, window_share=0.0, chat_window_share=0.0),
        "no neighbours": replace(shipped, neighbour_weight=0.0),
        **{f"neighbour weight {w}": replace(shipped, neighbour_weight=w) for w in (0.15, 0.3, 0.4, 0.5) if w != shipped.neighbour_weight},
        "neither (cosine + BM25 only)": replace(shipped, neighbour_weight=0.0, window_share=0.0, chat_window_share=0.0),
        "shipped, every part of a long message ranked (no search.distinct_messages)": shipped,
        "shipped, copies shown apart (no search.distinct_texts)": shipped,
        "shipped, no closer look (no search.closer_look)": shipped,
        **{f"assistant weight {w}": replace(shipped, assistant_weight=w) for w in (0.0, 0.1, 0.2, 0.5) if w != shipped.assistant_weight},
    }
    distinct, folded, look = search.distinct_messages, search.distinct_texts, search.closer_look

    def apart(ranked, rows, limit):  # the top passages as they rank, copies or not
        stored = rows([r["_rowid"] for r in ranked[:limit]])
        return [{**stored[r["_rowid"]], **r, "also": []} for r in ranked[:limit] if r["_rowid"] in stored]

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = args.workdir or Path(tmp_name)
        questions, _ = write_longmemeval(args.longmemeval, args.questions, tmp / "lme", args.second_half)
        store, _, _ = build_index(tmp / "lme", tmp / "lme-db", encoder)
        segments = store.table("segments").count_rows()
        rows, sessions = {}, {}
        for label, fusion in variants.items():
            search.FUSION[name] = fusion
            search.distinct_messages = (lambda ranked: ranked) if "every part" in label else distinct
            search.distinct_texts = apart if "copies" in label else folded
            search.closer_look = (lambda ranked, *_, **__: ranked) if "closer look" in label else look
            ranked = [hybrid(store, encoder, q, f"*/{q['sample_id']}/*") for q in questions]
            rows[label], sessions[label] = recall_rows(questions, ranked), session_recall(questions, ranked)
        search.FUSION[name], search.distinct_messages, search.distinct_texts, search.closer_look = shipped, distinct, folded, look
    print(f"{len(questions)} questions over {segments} segments; encoder {encoder.model_id}")
    print(table("LongMemEval_S dev (turn level), `ask`", rows, sorted({q["category"] for q in questions}), sessions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
