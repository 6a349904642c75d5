"""Does the lexical memory find what the chat-neighbour term cannot? `ask` with the two terms combined
in other ways than search.fuse's sum.

    python benchmarks/neighbour_memory.py --pair STATIC_WORKDIR CONTEXT_WORKDIR NAME [--pair ...]

Pairs as benchmarks/two_cosines.py takes them (workdirs of benchmarks/context_text.py; NAME locomo,
lme or lme-second). Each question is gathered once from the model/context index and replayed through
search.rank with a fusion that scores the evidence as search.fuse_evidence does without the lexical
memory, then adds, for a chat turn, its neighbour credit N (the neighbour weight x the better fused
evidence of the turns just before and after it, where they are candidates) and its lexical memory
L (the context weight x its context's BM25 past 8):

- sum: N + L (what `ask` runs, except that `ask`'s neighbour credit also carries the neighbour's own
  lexical memory: its row differs from `ask` by about 0.1);
- max: the larger of N and L (both credit the turns around the evidence: count it once);
- alone: L only where neither neighbour is a candidate (what neighbours cannot reach);
- after none: L only where the turn before is not a candidate;
- asymmetric neighbours: credit from the turn before and from the turn after weighted apart, on the
  static index and on the context index (with or without L).

Figures: turn-level Recall@10 per set, LoCoMo also per fold of conversations.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fusion import K, mean  # noqa: E402
from quality import LME_DEFAULT  # noqa: E402
from two_cosines import load_pairs  # noqa: E402

from evosearch import search  # noqa: E402

LEVEL = 8.0  # the lexical memory's level, as shipped (search.Fusion.context_from)


def fusion(combine: str, before: float, after: float, lexical: float):
    """A search.rank fusion: evidence without the lexical memory, then combine (sum, max, alone,
    after-none) of the neighbour credit (before x the turn before's evidence, after x the turn after's;
    the better one counts) and the lexical memory at weight `lexical`."""

    def fuse(c: search.Candidates) -> dict[int, dict]:
        fused = search.fuse_evidence(replace(c, fusion=replace(c.fusion, context_weight=0.0)))
        at = {(e["stream_id"], e["position"]): e["fused"] for e in fused.values()}
        for i, e in fused.items():
            if not e.get("message_ids"):
                continue
            prev, nxt = (at.get((e["stream_id"], e["position"] + s), 0.0) for s in (-1, 1))
            near = max(before * max(prev, 0.0), after * max(nxt, 0.0))
            memory = lexical * max(0.0, c.context.get(i, 0.0) - LEVEL)
            if combine == "max":
                e["fused"] += max(near, memory)
            elif combine == "alone":
                e["fused"] += near + (memory if prev <= 0 and nxt <= 0 else 0.0)
            elif combine == "after none":
                e["fused"] += near + (memory if prev <= 0 else 0.0)
            else:
                e["fused"] += near + memory
        return fused

    return fuse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pair", nargs=3, action="append", metavar=("STATIC", "CONTEXT", "NAME"), required=True)
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    args = parser.parse_args(argv)
    pairs, folds = load_pairs(args.pair, args.longmemeval)
    shipped = search.FUSION["minilm"]
    n, w = shipped.neighbour_weight, shipped.context_weight
    variants = [("static", f"memory off: neighbours {n}", fusion("sum", n, n, 0.0))]
    variants.append(("context", f"model/context: neighbours {n} + lexical {w} (sum)", fusion("sum", n, n, w)))
    variants.append(("context", f"the reading alone: neighbours {n}", fusion("sum", n, n, 0.0)))
    for combine in ("max", "alone", "after none"):
        for lexical in (0.03, 0.06, 0.1, 0.15):
            variants.append(("context", f"{combine}: neighbours {n}, lexical {lexical}", fusion(combine, n, n, lexical)))
    for before, after in ((0.2, 0.2), (0.2, 0.3), (0.3, 0.2), (0.4, 0.3), (0.5, 0.3), (0.15, 0.3)):
        variants.append(("static", f"memory off: neighbours {before} before / {after} after", fusion("sum", before, after, 0.0)))
        for lexical in (0.0, 0.03, 0.06):
            variants.append(("context", f"model/context: neighbours {before} before / {after} after, lexical {lexical}", fusion("sum", before, after, lexical)))
    names = list(pairs)
    print(f"| index | fusion | {' | '.join(names)}{' | LoCoMo fold A / B' if folds else ''} |\n|" + "---|" * (3 + len(names) + bool(folds)))
    for side, label, fuse in variants:
        cells, locomo = [], None
        for name, pair in pairs.items():
            s = pair.s if side == "static" else pair.c
            scores = []
            for i, q in enumerate(pair.questions):
                ranked = search.rank(s.gathered[i], K, fuse)[:K]
                if side == "context":
                    ranked = [{**r, "_rowid": pair.s.rowid[pair.c.key[r["_rowid"]]]} for r in ranked]
                scores.append(pair.score_one(pair.scorer.top_rows(ranked), q))
            cells.append(f"{mean(scores):.1f}")
            if name == "locomo":
                locomo = scores
        if folds and locomo is not None:
            cells.append(f"{mean(locomo[i] for i in folds[0]):.1f} / {mean(locomo[i] for i in folds[1]):.1f}")
        print(f"| {side} | {label} | {' | '.join(cells)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
