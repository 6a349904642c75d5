"""Pseudo-relevance feedback for `ask`'s dense search: does moving the query towards its own best
results (Rocchio, 1971) find more of what a question asks?

    python benchmarks/query_feedback.py [--workdir DIR] [--lme-questions N] [--lme-second-half]

Each question is asked once as `ask` asks it (search.gather, search.rank). Then its query vector q
becomes q' = unit(q + beta x c), c the unit mean of the vectors of `ask`'s top k results, and the
question is gathered again with q' (the full-text search is unchanged) and ranked with the shipped
fusion. Two scales for the cosine that fusion adds to BM25: q'.d as it is ("unit"), or
(q.d + beta c.d) / (1 + beta) ("mix": the cosine keeps q's scale, so BM25 weighs as much as in the
shipped fusion). k 0 is the shipped `ask`.

LoCoMo is indexed once through the product path (the default encoder); (k, beta) is chosen on one
fold of conversations and scored on the other. LongMemEval_S dev, each question in its own
haystack, is scored at every point (and at the point LoCoMo chose). Metric: turn-level Recall@10.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from fusion import K, Scorer, conversation_folds, lme_questions, lme_recall, locomo_questions, locomo_recall, mean, out_of_fold  # noqa: E402
from quality import LME_DEFAULT, build_index  # noqa: E402
from retrieval_metrics import CATEGORY_NAMES  # noqa: E402

from evosearch import search  # noqa: E402
from evosearch.store.schema import SEGMENTS  # noqa: E402

KS = (1, 2, 3, 5)
BETAS = (0.1, 0.2, 0.35, 0.5)


class FixedQuery:
    """An encoder whose query vector is given: gather() then searches with it."""

    def __init__(self, vector):
        self.vector = vector

    def encode_queries(self, texts):
        return [self.vector]


def all_vectors(store) -> dict[int, np.ndarray]:
    table = store.dataset(SEGMENTS).to_table(columns=["vector"], with_row_id=True)
    vectors = table.column("vector").combine_chunks().flatten().to_numpy().reshape(table.num_rows, -1)
    return dict(zip(table.column("_rowid").to_pylist(), vectors))


def gather(store, encoder, q: dict, vector=None):
    return search.gather(store, FixedQuery(vector) if vector is not None else encoder, q["query"], now=q["now"], limit=K, source=q.get("source"))


def scaled(gathered, s: float):
    for c in (gathered.candidates, gathered.inside):
        if c is None:
            continue
        for row in (*c.dense, *c.text):
            row["similarity"] *= s
    return gathered


def run(store, encoder, questions: list[dict], score_one, label: str) -> dict:
    """{(k, beta, scale): [score per question]}, (0, 0, "-") the shipped `ask`."""
    vectors, scorer = all_vectors(store), Scorer(store)
    grid: dict[tuple, list[float]] = {(0, 0.0, "-"): []}
    for k in KS:
        for b in BETAS:
            grid[(k, b, "unit")], grid[(k, b, "mix")] = [], []
    started = time.monotonic()
    for n, q in enumerate(questions, 1):
        query = encoder.encode_queries([q["query"]])[0]
        first = search.rank(gather(store, encoder, q, query), K)
        grid[(0, 0.0, "-")].append(score_one(scorer.top_rows(first), q))
        for k in KS:
            top = [vectors[r["_rowid"]] for r in first[:k]]
            if not top:
                for b in BETAS:
                    grid[(k, b, "unit")].append(grid[(0, 0.0, "-")][-1])
                    grid[(k, b, "mix")].append(grid[(0, 0.0, "-")][-1])
                continue
            c = np.mean(top, axis=0)
            c /= np.linalg.norm(c)
            for b in BETAS:
                moved = query + b * c
                norm = float(np.linalg.norm(moved))
                again = gather(store, encoder, q, (moved / norm).astype(np.float32))
                grid[(k, b, "unit")].append(score_one(scorer.top_rows(search.rank(again, K)), q))
                grid[(k, b, "mix")].append(score_one(scorer.top_rows(search.rank(scaled(again, norm / (1 + b)), K)), q))
        if n % 200 == 0:
            print(f"  {label}: {n}/{len(questions)} questions, {time.monotonic() - started:.0f} s", file=sys.stderr)
    return grid


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    parser.add_argument("--lme-questions", type=int, default=0)
    parser.add_argument("--lme-second-half", action="store_true")
    parser.add_argument("--no-locomo", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the indexes here: a second run reuses them")
    args = parser.parse_args(argv)

    from evosearch.encoder import load_encoder
    from evosearch.store.reader import open_for_search

    encoder = load_encoder()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = args.workdir or Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)

        def index(name: str):
            db = tmp / f"{name}-db"
            if not db.exists():
                build_index(tmp / name, db, encoder)
            return open_for_search(str(db))

        chosen = None
        if not args.no_locomo:
            questions = locomo_questions(args.locomo, tmp)
            store = index("locomo")
            grid = run(store, encoder, questions, locomo_recall, "LoCoMo")
            folds = conversation_folds(questions)
            oof, per_fold, chosen = out_of_fold(grid, folds)
            print(f"LoCoMo, {len(questions)} questions, turn-level R@10; encoder {encoder.model_id}; {time.monotonic() - started:.0f} s")
            print(f"shipped `ask`: {mean(grid[(0, 0.0, '-')]):.1f}; chosen on each fold {per_fold}, out of fold {mean(oof):.1f}; on all {chosen}")
            cats = sorted({q['category'] for q in questions})
            header = " | ".join(CATEGORY_NAMES.get(c, str(c)) for c in cats)
            print(f"| k | beta | scale | LoCoMo | fold A / B | {header} |")
            for point, scores in grid.items():
                by_cat = " | ".join(f"{mean(s for s, q in zip(scores, questions) if q['category'] == c):.1f}" for c in cats)
                a, b = (mean(scores[i] for i in f) for f in folds)
                print(f"| {point[0]} | {point[1]} | {point[2]} | {mean(scores):.1f} | {a:.1f} / {b:.1f} | {by_cat} |")
        if args.lme_questions:
            lme_q = lme_questions(args.longmemeval, args.lme_questions, tmp / "lme", args.lme_second_half)
            lme_store = index("lme")
            grid = run(lme_store, encoder, lme_q, lme_recall, "LongMemEval")
            half = "second" if args.lme_second_half else "first"
            print(f"\nLongMemEval_S dev, {half} half, {len(lme_q)} questions, turn-level R@10; {time.monotonic() - started:.0f} s")
            print(f"shipped `ask`: {mean(grid[(0, 0.0, '-')]):.1f}" + (f"; at LoCoMo's choice {chosen}: {mean(grid[chosen]):.1f}" if chosen else ""))
            for point, scores in grid.items():
                print(f"| {point[0]} | {point[1]} | {point[2]} | {mean(scores):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
