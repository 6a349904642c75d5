"""How much should BM25 weigh in `ask`? LoCoMo, LongMemEval_S dev and the lexical decoys, one run.

    python benchmarks/text_weight.py [--lme-questions 50] [--workdir DIR]

The shipped fusion is cosine + w x BM25 + chat neighbours (search.fuse). Its w = 0.03 was chosen
on LoCoMo as the largest weight that keeps tests/test_fusion_model.py's four lexical decoys below
their answers (docs/benchmarks.md, "Fusion"). benchmarks/stream_query.py found that LongMemEval
wants far more. This replays, on candidates gathered once per query (search.gather, as `ask`):
  - cosine + w x BM25 + 0.15 x neighbours, over w;
  - cosine + w x cosine x BM25 + neighbours (a shared word counts in proportion to relatedness);
  - cosine + w x BM25 only where the cosine reaches a share of the query's best + neighbours.
LoCoMo: each question within its own conversation (as benchmarks/quality.py), turn-level R@10,
with the two folds by conversation; LongMemEval_S dev: the first half's questions, each in its
own haystack; decoys: how many of the four cases put the answer first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the decoy cases live in tests/
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from fusion import K, Scorer, _union, cosine_plus_bm25, gather_all, lme_questions, lme_recall, locomo_questions, locomo_recall, mean, with_neighbours  # noqa: E402
from quality import LME_DEFAULT, build_index  # noqa: E402
from tests.test_fusion_model import CASES, NOTES  # noqa: E402

from evosearch import search  # noqa: E402

NEIGHBOURS = 0.15  # the shipped neighbour weight (search.FUSION["minilm"])


def cosine_scaled(weight: float):
    def fuse(c):
        out = _union(c)
        for e in out.values():
            e["fused"] = e["similarity"] + weight * max(e["similarity"], 0.0) * e["bm25"]
        return out

    return fuse


def relative_floor(weight: float, share: float):
    def fuse(c):
        out = _union(c)
        best = max((e["similarity"] for e in out.values()), default=0.0)
        for e in out.values():
            e["fused"] = e["similarity"] + (weight * e["bm25"] if e["similarity"] >= share * best else 0.0)
        return out

    return fuse


def excess(weight: float, threshold: float):
    """The shipped cosine + 0.03 x BM25, plus weight x the BM25 above a threshold: a hit that shares
    several or rare words with the query (a high BM25) gains more than one sharing a common word."""

    def fuse(c):
        out = _union(c)
        for e in out.values():
            e["fused"] = e["similarity"] + 0.03 * e["bm25"] + weight * max(0.0, e["bm25"] - threshold)
        return out

    return fuse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    parser.add_argument("--lme-questions", type=int, default=50)
    parser.add_argument("--lme-second-half", action="store_true", help="LongMemEval dev's second half: an out-of-sample check of weights chosen on the first")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the indexes here: a second run only re-checks them")
    args = parser.parse_args(argv)
    from evosearch.encoder import load_encoder

    encoder = load_encoder()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = args.workdir or Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        lq = locomo_questions(args.locomo, tmp)
        locomo, _, _ = build_index(tmp / "locomo", tmp / "locomo-db", encoder)
        lme_q = lme_questions(args.longmemeval, args.lme_questions, tmp / "lme", args.lme_second_half)
        lme, _, _ = build_index(tmp / "lme", tmp / "lme-db", encoder)
        notes = tmp / "decoy-notes"
        notes.mkdir(exist_ok=True)
        for name, text in NOTES.items():
            (notes / name).write_text(text)
        decoy_store, _, _ = build_index(notes, tmp / "decoy-db", encoder)
        cases = [{"query": c[0], "now": datetime.fromisoformat(c[1]).replace(tzinfo=timezone.utc), "answer": str(notes / c[2])} for c in CASES]

        sets = {
            "locomo": (gather_all(locomo, encoder, lq), lq, Scorer(locomo), locomo_recall),
            "lme": (
                gather_all(lme, encoder, lme_q),
                lme_q,
                Scorer(lme),
                lme_recall,
            ),
            "decoys": (gather_all(decoy_store, encoder, cases), cases, Scorer(decoy_store), lambda rows, q: rows[0]["path"] == q["answer"]),
        }

        def score(fuse, name):
            gathered, queries, scorer, one = sets[name]
            return [one(scorer.top_rows(search.rank(g, K, fuse)), q) for g, q in zip(gathered, queries)]

        variants = {"shipped (search.fuse)": search.fuse}
        for w in (0.03, 0.045, 0.06, 0.09, 0.12, 0.18, 0.24):
            variants[f"cosine + {w} x BM25"] = with_neighbours(cosine_plus_bm25(w), NEIGHBOURS)
        for w in (0.06, 0.12, 0.24, 0.48):
            variants[f"cosine + {w} x cosine x BM25"] = with_neighbours(cosine_scaled(w), NEIGHBOURS)
        for w in (0.06, 0.12, 0.24):
            for share in (0.5, 0.7):
                variants[f"cosine + {w} x BM25 where cosine >= {share} x best"] = with_neighbours(relative_floor(w, share), NEIGHBOURS)

        for w in (0.03, 0.06, 0.12, 0.24):
            for threshold in (4.0, 6.0, 8.0, 10.0):
                variants[f"cosine + 0.03 x BM25 + {w} x (BM25 - {threshold})+"] = with_neighbours(excess(w, threshold), NEIGHBOURS)
        for neighbours in (0.25, 0.3):  # benchmarks/fusion.py chose these with the excess term on LoCoMo
            variants[f"cosine + 0.03 x BM25 + 0.24 x (BM25 - 8.0)+, {neighbours} x neighbours"] = with_neighbours(excess(0.24, 8.0), neighbours)
        samples = sorted({q["sample_id"] for q in lq})
        fold_a = set(samples[: len(samples) // 2])
        half = "second" if args.lme_second_half else "first"
        print(f"LoCoMo {len(lq)} questions, LongMemEval_S dev {len(lme_q)} ({half} half), decoy cases {len(cases)}; encoder {encoder.model_id}\n")
        print("| fusion (with 0.15 x chat neighbours unless it says) | LoCoMo R@10 | fold A | fold B | LongMemEval R@10 | decoys |")
        print("|---|---|---|---|---|---|")
        for name, fuse in variants.items():
            loc = score(fuse, "locomo")
            a = [r for r, q in zip(loc, lq) if q["sample_id"] in fold_a]
            b = [r for r, q in zip(loc, lq) if q["sample_id"] not in fold_a]
            print(
                f"| {name} | {mean(loc):.1f} | {mean(a):.1f} | {mean(b):.1f} | {mean(score(fuse, 'lme')):.1f} | "
                f"{sum(score(fuse, 'decoys'))}/{len(cases)} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
