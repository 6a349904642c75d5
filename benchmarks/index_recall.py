"""Does the vector index of a real evosearch index, as `index` left it (in parts), find what the
exact scan finds? Recall on real questions.

    python benchmarks/index_recall.py --db PATH [--queries 300]

Queries: LoCoMo and LongMemEval questions (../shared/bench), encoded as `ask` encodes them. Each
is searched through the lance reader as `ask` searches (every part of the vector index, plus the
rows not yet in it, scanned exactly) and by the exact scan over every row (the baseline);
printed: the index's parts, recall@10 and recall@50 of the index (the share of the exact top k
it returns), and p50 latency of both.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from ann_recall import report  # noqa: E402
from locomo_to_jsonl import DEFAULT_INPUT as LOCOMO  # noqa: E402
from quality import LME_DEFAULT  # noqa: E402


def questions(count: int) -> list[str]:
    """count real questions, drawn evenly from LoCoMo's and LongMemEval's."""
    locomo = [qa["question"] for conversation in json.loads(LOCOMO.read_text()) for qa in conversation["qa"]]
    lme = [item["question"] for item in json.loads(gzip.decompress(LME_DEFAULT.read_bytes()))]
    rng = np.random.default_rng(0)
    picked = [*rng.choice(lme, min(len(lme), count // 2), replace=False)]
    return picked + [*rng.choice(locomo, count - len(picked), replace=False)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="an index written by `evosearch index`")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    from evosearch.encoder import load_query_encoder
    from evosearch.store import SEGMENTS
    from evosearch.store.maintenance import vector_index_parts
    from evosearch.store import open_for_search

    reader = open_for_search(args.db)
    dataset = reader._datasets[SEGMENTS]
    parts = vector_index_parts(dataset)
    rows = dataset.count_rows()
    vectors = load_query_encoder().encode_queries(questions(args.queries))

    def search(vector: np.ndarray, use_index: bool) -> tuple[list[str], float]:
        nearest = {"column": "vector", "q": vector.astype(np.float32), "k": 50, "metric": "cosine", "use_index": use_index}
        started = time.perf_counter()
        ids = dataset.to_table(nearest=nearest, columns=["id"]).column("id").to_pylist()
        return ids, 1000 * (time.perf_counter() - started)

    approx = [search(v, True) for v in vectors]
    exact = [search(v, False) for v in vectors]
    print(f"{rows} segments; vector index in {len(parts)} parts of {parts} rows, {rows - sum(parts)} rows scanned exactly")
    print(f"{len(vectors)} real questions (LongMemEval, LoCoMo), the index against the exact scan: {report(approx, exact)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
