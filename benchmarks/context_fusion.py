"""Does re-tuning `ask`'s fusion for model/context's vectors win back LongMemEval dev's held-out half?

    python benchmarks/context_fusion.py --workdir DIR --first-half-workdir DIR1

A diagnostic over indexes benchmarks/context_text.py built with --model model/context and kept in
its --workdir: DIR with --lme-second-half (LoCoMo and the dev split's second half), DIR1 without
(the first half). Every point of a grid (window share, both BM25 weights x a scale, chat-neighbour
weight, lexical-memory weight) is replayed on LoCoMo and on the first half. The point is chosen on
LoCoMo among those that keep the first half at or above memory off's 78.6 (per fold and on all),
and only then is the second half scored: for that point, for model/context as it is, and for the
reading without the lexical memory.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["EVOSEARCH_MODEL"] = str(Path(__file__).resolve().parents[1] / "model" / "context")

import context_text as ct  # noqa: E402
from fusion import conversation_folds, lme_questions, lme_recall, locomo_recall, mean, read_locomo_questions  # noqa: E402
from quality import LME_DEFAULT, build_index  # noqa: E402

from evosearch import search  # noqa: E402

MEMORY_OFF_FIRST_HALF = 78.6  # `ask` with the default model on the first half (docs/benchmarks.md, "Lexical memory")
LEVEL = 8.0
GRID = list(itertools.product((0.6, 0.0, 0.7, 0.8), (1.0, 1.5, 2.0), (0.15, 0.0), (0.0, 0.03)))  # share, BM25 scale, neighbours, lexical
AS_IT_IS, READING_ALONE = (0.6, 1.0, 0.15, 0.03), (0.6, 1.0, 0.15, 0.0)


def replay(s: ct.Set, hits: list[dict], point: tuple) -> list[float]:
    """Per-question R@10 of `ask` on set s under one grid point. The window share is read from the
    candidates' Fusion by search.rank, so every candidate list gets the point's Fusion, restored after."""
    share, scale, neighbours, lexical = point
    saved = []
    for g in s.gathered:
        for c in (g.candidates, g.inside):
            if c is not None:
                saved.append((c, c.fusion))
                c.fusion = replace(
                    c.fusion, context_weight=0.0, window_share=share, neighbour_weight=neighbours, text_weight=0.03 * scale, text_excess_weight=0.24 * scale
                )

    def fuse_for(i):
        def fuse(c):
            fused = search.fuse(c)
            for row, entry in fused.items():
                if entry.get("message_ids"):
                    entry["fused"] += lexical * max(0.0, hits[i].get(row, 0.0) - LEVEL)
            return fused

        return fuse

    try:
        return s.score(fuse_for)
    finally:
        for c, fusion in saved:
            c.fusion = fusion


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True, help="context_text.py --model model/context --lme-second-half's workdir")
    parser.add_argument("--first-half-workdir", type=Path, required=True, help="context_text.py --model model/context's workdir")
    args = parser.parse_args(argv)
    from evosearch.encoder import load_encoder
    from evosearch.store import open_for_search

    encoder = load_encoder()
    lq = read_locomo_questions(args.workdir)
    folds = conversation_folds(lq)
    store, _, _ = build_index(args.workdir / "locomo", args.workdir / "locomo-db", encoder)
    sets = {"locomo": ct.Set(store, encoder, lq, locomo_recall)}
    for name, work, half in (("first", args.first_half_workdir, False), ("second", args.workdir, True)):
        questions = lme_questions(LME_DEFAULT, 50, work / "lme", half)
        sets[name] = ct.Set(open_for_search(str(work / "lme-db")), encoder, questions, lme_recall)  # read only: the vectors as built
    hits = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, s in sets.items():
            ds = ct.context_dataset(s.every, ct.context_texts(s.every, 3), Path(tmp) / name)
            hits[name] = [ct.context_hits(ds, g.text, s.wheres[q["source"]]) for g, q in zip(s.gathered, s.questions)]

    scores = {p: {n: replay(sets[n], hits[n], p) for n in ("locomo", "first")} for p in GRID}
    print("| window share | BM25 × | neighbours | lexical | LoCoMo | fold A / B | LongMemEval first half |")
    print("|---|---|---|---|---|---|---|")
    for p, r in scores.items():
        loc = r["locomo"]
        print(f"| {' | '.join(f'{v:g}' for v in p)} | {mean(loc):.1f} | {mean(loc[i] for i in folds[0]):.1f} / {mean(loc[i] for i in folds[1]):.1f} | {mean(r['first']):.1f} |")
    allowed = [p for p in GRID if mean(scores[p]["first"]) >= MEMORY_OFF_FIRST_HALF]
    for f in (0, 1):
        print(f"fold {'AB'[f]} picks {max(allowed, key=lambda p: mean(scores[p]['locomo'][i] for i in folds[f]))}")
    pick = max(allowed, key=lambda p: mean(scores[p]["locomo"]))
    print(f"chosen on all of LoCoMo: {pick}, LoCoMo {mean(scores[pick]['locomo']):.1f}, first half {mean(scores[pick]['first']):.1f}")
    for label, p in (("chosen", pick), ("model/context as it is", AS_IT_IS), ("the reading alone", READING_ALONE)):
        print(f"LongMemEval dev, second half, {label} {p}: {mean(replay(sets['second'], hits['second'], p)):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
