"""Are the approximate vector index's similarities cosines? What refining its results costs and gains.

    python benchmarks/ann_refine.py [--workdir DIR] [--lme-second-half] [--factors none 1 2 4]

An index of LongMemEval_S dev's haystacks (one folder per question, about 65k segments: past
maintenance.ANN_MIN_SEGMENTS, so it has the IVF_HNSW_SQ index) is built through the product path,
or reused from --workdir (quality.py's and context_text.py's `lme-db`). For each refine factor
(reader.REFINE_FACTOR; none: the index's own distances), over every question's query vector:

- filtered (the question's own haystack, as `ask --source` and quality.py search) and unfiltered
  (the whole index): overlap of the top 50 with the exact scan's, the mean and largest gap between
  the reported similarity and the exact cosine of the same row, and p50 latency;
- `ask` Recall@10 on the questions, with the product's fusion.

Without refining, LanceDB reports the squared L2 distance of the normalized vectors (twice the
cosine distance; lancedb issue 3530), so `ask` added 2 cos - 1 for dense candidates to exact
cosines for full-text hits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fusion import K, Scorer, gather_all, lme_questions, lme_recall, mean  # noqa: E402
from quality import LME_DEFAULT, build_index  # noqa: E402

from evosearch import search  # noqa: E402
from evosearch.filters import source_where  # noqa: E402
from evosearch.store import reader  # noqa: E402

TOP = 50


def nearest(ds, vector, where, factor, use_index=True):
    query = {"column": "vector", "q": vector, "k": TOP, "metric": "cosine", "use_index": use_index}
    if factor is not None:
        query["refine_factor"] = factor
    started = time.perf_counter()
    table = ds.to_table(nearest=query, filter=where, prefilter=bool(where), with_row_id=True, columns=["vector", "_distance"])
    ms = 1000 * (time.perf_counter() - started)
    vectors = np.stack(table["vector"].to_numpy(zero_copy_only=False)) if table.num_rows else np.zeros((0, len(vector)))
    gaps = np.abs((1.0 - np.asarray(table["_distance"].to_pylist())) - vectors @ vector)
    return table["_rowid"].to_pylist(), gaps, ms


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--lme-second-half", action="store_true")
    parser.add_argument("--factors", nargs="+", default=["none", "1", "2", "4"])
    parser.add_argument("--workdir", type=Path, default=None, help="keep the index here: a second run reuses it")
    args = parser.parse_args(argv)
    from evosearch.encoder import load_encoder

    encoder = load_encoder()
    with tempfile.TemporaryDirectory() as tmp_name:
        work = args.workdir or Path(tmp_name)
        questions = lme_questions(args.longmemeval, args.questions, work / "lme", args.lme_second_half)
        store, _, _ = build_index(work / "lme", work / "lme-db", encoder)
        store = store.latest()
        ds = store.dataset(reader.SEGMENTS)
        indexed = any("IVF" in str(i.get("type", "")).upper() for i in ds.list_indices())
        vectors = encoder.encode_queries([q["query"] for q in questions])
        wheres = [source_where(store, q["source"]) for q in questions]
        exact = {
            scope: [nearest(ds, v, w if scope == "filtered" else None, None, use_index=False)[0] for v, w in zip(vectors, wheres)]
            for scope in ("filtered", "unfiltered")
        }
        print(
            f"LongMemEval_S dev {'second' if args.lme_second_half else 'first'} half: {len(questions)} questions, "
            f"{ds.count_rows()} segments, vector index: {'yes' if indexed else 'no'}; encoder {encoder.model_id}\n"
        )
        print("| refine factor | search | top-50 overlap with exact | mean / largest gap to exact cosine | p50 ms |")
        print("|---|---|---|---|---|")
        recall = {}
        saved = reader.REFINE_FACTOR
        try:
            for name in args.factors:
                factor = None if name == "none" else int(name)
                for scope in ("filtered", "unfiltered"):
                    runs = [nearest(ds, v, w if scope == "filtered" else None, factor) for v, w in zip(vectors, wheres)]
                    overlap = mean(len(set(ids) & set(e)) / max(1, len(e)) for (ids, _, _), e in zip(runs, exact[scope]))  # mean() gives %
                    gaps = np.concatenate([g for _, g, _ in runs])
                    ms = statistics.median(m for _, _, m in runs)
                    print(f"| {name} | {scope} | {overlap:.1f}% | {gaps.mean():.4f} / {gaps.max():.4f} | {ms:.1f} |")
                reader.REFINE_FACTOR = factor
                scorer = Scorer(store)
                gathered = gather_all(store, encoder, questions)
                recall[name] = mean(lme_recall(scorer.top_rows(search.rank(g, K)), q) for g, q in zip(gathered, questions))
        finally:
            reader.REFINE_FACTOR = saved
    print("\n| refine factor | `ask` R@10 |\n|---|---|")
    for name, r in recall.items():
        print(f"| {name} | {r:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
