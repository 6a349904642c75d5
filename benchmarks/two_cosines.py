"""Can the context read only add? `ask` over two cosines per segment: its own (static) and its
reading in context (encoder/context_read.py).

    python benchmarks/two_cosines.py --pair STATIC_WORKDIR CONTEXT_WORKDIR NAME [--pair ...] [--neighbour-weight W]

Each pair is two workdirs of benchmarks/context_text.py over the same corpus (`locomo` for LoCoMo;
`lme` for a LongMemEval_S dev half, `lme-second` for the other): one built with the default model,
one with model/context. The context read lifts LoCoMo but costs LongMemEval dev's held-out half
(docs/benchmarks.md, "Lexical memory"); dense alone barely moves there, so the loss is in who its
cosines let pass in fusion. Here each question is gathered from both indexes, the candidates are
joined (by file and position), and every candidate's similarity is a combination of its two
cosines, read from the stored vectors:

- static / context: one cosine (each over the joined candidates);
- bonus λ: static + λ x (context - static)+, so a segment that reads better in context gains and
  none loses: the memory only adds;
- blend α: (1 - α) x static + α x context (α 0.5 is close to what model/context stores);
- the bonus or blend for short turns only (content words at most N; a turn that names its own
  subject needs no context);
- model/context as `ask` runs it (the reading and the lexical memory), and its lexical memory
  gated: only for short turns, only where the 3 segments before are short, only where the turn
  reads closer to the question in context than alone (its reading's cosine past its static one),
  only where the turn's own BM25 stays below a level (it does not name the question's words
  itself), only where its reading moved it (the cosine between its two vectors below a bound:
  known at index time), only for people's turns (not a segment an assistant wrote, as in
  LongMemEval's haystacks and ChatGPT or Claude exports), or at other weights;
- the reading for people's turns only (an assistant's segment keeps its static vector), with or
  without the lexical memory for people's turns.

Figures: turn-level Recall@10 of `ask` (search.rank, the product's fusion, without the lexical
memory unless a row says) per set, with how many questions score better and worse than the static
row, and LoCoMo per fold of conversations; dense retrieval alone on each index.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from context_text import speakers  # noqa: E402
from fusion import K, Scorer, conversation_folds, gather_all, lme_questions, lme_recall, locomo_recall, mean, read_locomo_questions  # noqa: E402
from quality import LME_DEFAULT  # noqa: E402

from evosearch import search  # noqa: E402
from evosearch.encoder.context_read import FILLER  # noqa: E402
from evosearch.segment import by_assistant  # noqa: E402


def content_words(text: str) -> int:
    return sum(1 for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 3 and w not in FILLER)


@dataclass(frozen=True)
class Lexical:
    """The lexical memory as a variant runs it: its weight (None: the index's own) and gates (None: no
    gate): the most content words of the turn itself or of the 3 segments before it; the least its
    reading's cosine to the question exceeds its static one by; the turn's own BM25 below which
    (0 when it is no full-text hit) its context counts; the most cosine between the turn's static
    vector and its reading's; people's turns only (no segment spoken by an assistant alone)."""

    weight: float | None = None
    most_words: int | None = None
    most_before: int | None = None
    least_rise: float | None = None
    own_bm25_below: float | None = None
    most_self_cos: float | None = None
    people_only: bool = False


class Side:
    """One index of a pair: its gathered candidates, its vectors by (file, position) and its row ids."""

    def __init__(self, workdir: Path, db: str, data: str, encoder, questions: list[dict]):
        from evosearch.store import open_for_search

        self.store = open_for_search(str(workdir / db))
        self.gathered = gather_all(self.store, encoder, questions)
        every = self.store.scan(None, ["path", "vector", "text", "speaker", *search.RANKING_COLUMNS])
        root = workdir / data
        self.key = {r["_rowid"]: (str(Path(r["path"]).relative_to(root)), r["position"]) for r in every}
        self.vector = {self.key[r["_rowid"]]: np.asarray(r["vector"], np.float32) for r in every}
        self.rowid = {k: i for i, k in self.key.items()}
        self.plain = {r["_rowid"]: {c: r[c] for c in search.RANKING_COLUMNS} for r in every}
        self.words = {r["_rowid"]: content_words(r["text"]) for r in every}
        self.assistant = {r["_rowid"]: by_assistant(speakers(r)) for r in every}
        # content words of the 3 segments before each (the lexical memory's context)
        place = {(r["stream_id"], r["position"]): r["_rowid"] for r in every}
        self.before = {
            r["_rowid"]: sum(self.words.get(place.get((r["stream_id"], r["position"] - j)), 0) for j in (1, 2, 3)) for r in every
        }


class Pair:
    """A question set on its two indexes; candidates are named by the static index's row ids."""

    def __init__(self, static: Side, context: Side, questions: list[dict], score_one, qvecs: np.ndarray):
        self.s, self.c, self.questions, self.score_one, self.qvecs = static, context, questions, score_one, qvecs
        self.scorer = Scorer(static.store)

    def joined(self, i: int, which: str, combine, lexical: Lexical | None = None) -> search.Candidates | None:
        """Both indexes' candidates as the static index's rows, each with combine's similarity, and
        the context index's lexical-memory hits as `lexical` keeps them (none: without it)."""
        cs, cc = getattr(self.s.gathered[i], which), getattr(self.c.gathered[i], which)
        if cs is None:
            return None
        q = self.qvecs[i]
        ids = [r["_rowid"] for r in cs.dense] + [self.s.rowid[self.c.key[r["_rowid"]]] for r in cc.dense]
        dense, seen = [], set()
        for rid in ids:
            if rid in seen:
                continue
            seen.add(rid)
            dense.append({**self.s.plain[rid], "_rowid": rid, "similarity": self.sim(rid, q, combine)})
        dense.sort(key=lambda r: -r["similarity"])
        text = [{**r, "similarity": self.sim(r["_rowid"], q, combine)} for r in cs.text]
        kept = self.lexical(cc or replace(cs, context={}), lexical, i)
        context = {self.s.rowid[self.c.key[j]]: b for j, b in kept.context.items()}
        return search.Candidates(dense, text, replace(cs.fusion, context_weight=kept.fusion.context_weight), context)

    def sim(self, rid: int, q: np.ndarray, combine) -> float:
        key = self.s.key[rid]
        return combine(float(self.s.vector[key] @ q), float(self.c.vector[key] @ q), self.s.words[rid], self.s.assistant[rid])

    def self_cos(self, i: int) -> float:
        """Cosine between a context-index row's stored vector and the same segment's static one."""
        key = self.c.key[i]
        return float(self.c.vector[key] @ self.s.vector[key])

    def dense(self, side: Side) -> list[float]:
        """Per-question R@10 of the dense search alone (its 10 nearest, as `ask` gathered them)."""
        out = []
        for g, q in zip(side.gathered, self.questions):
            top = [{"_rowid": self.s.rowid[side.key[r["_rowid"]]]} for r in g.candidates.dense[:K]]
            out.append(self.score_one(self.scorer.top_rows(top), q))
        return out

    def score(self, combine, only: str | None = None, lexical: Lexical | None = None) -> list[float]:
        """Per-question R@10 of `ask` with similarities from combine(static, context, content words,
        an assistant's segment); only: 'static' or 'context' for that index's own candidates, as the
        product gathers them; either way with the lexical memory as `lexical` says (None: without it)."""
        out = []
        for i, q in enumerate(self.questions):
            if only:
                g = (self.s if only == "static" else self.c).gathered[i]
                g = replace(g, candidates=self.lexical(g.candidates, lexical, i), inside=self.lexical(g.inside, lexical, i))
                ranked = search.rank(g, K)
                if only == "context":
                    ranked = [{**r, "_rowid": self.s.rowid[self.c.key[r["_rowid"]]]} for r in ranked[:K]]
            else:
                g = self.s.gathered[i]
                g = replace(g, candidates=self.joined(i, "candidates", combine, lexical), inside=self.joined(i, "inside", combine, lexical))
                ranked = search.rank(g, K)
            out.append(self.score_one(self.scorer.top_rows(ranked), q))
        return out

    def lexical(self, c: search.Candidates | None, lexical: Lexical | None, question: int) -> search.Candidates | None:
        """The candidates (of the context index, for that question) with the lexical memory's hits
        kept by its gates and its weight (none when off)."""
        if c is None:
            return None
        if lexical is None:
            return replace(c, fusion=replace(c.fusion, context_weight=0.0), context={})
        fusion = c.fusion if lexical.weight is None else replace(c.fusion, context_weight=lexical.weight)
        q = self.qvecs[question]
        own = {r["_rowid"]: r["bm25"] for r in c.text}

        def rise(i: int) -> float:
            key = self.c.key[i]
            return float(self.c.vector[key] @ q) - float(self.s.vector[key] @ q)

        kept = {
            i: b
            for i, b in c.context.items()
            if (lexical.most_words is None or self.c.words[i] <= lexical.most_words)
            and (lexical.most_before is None or self.c.before[i] <= lexical.most_before)
            and (lexical.least_rise is None or rise(i) >= lexical.least_rise)
            and (lexical.own_bm25_below is None or own.get(i, 0.0) < lexical.own_bm25_below)
            and (lexical.most_self_cos is None or self.self_cos(i) <= lexical.most_self_cos)
            and not (lexical.people_only and self.c.assistant[i])
        }
        return replace(c, fusion=fusion, context=kept)


def load_pairs(pair_args: list[list[str]], longmemeval: Path) -> tuple[dict[str, Pair], list[list[int]] | None]:
    """--pair's (STATIC, CONTEXT, NAME) triples as Pairs by name, and LoCoMo's folds of conversations
    (None without a locomo pair)."""
    from evosearch.encoder import load_encoder

    encoder = load_encoder()  # queries carry no memory: the same query vector serves both indexes
    pairs, folds = {}, None
    for static_dir, context_dir, name in pair_args:
        sd, cd = Path(static_dir), Path(context_dir)
        if name == "locomo":
            questions, score_one, data = read_locomo_questions(sd), locomo_recall, "locomo"
            folds = conversation_folds(questions)
        else:
            questions = lme_questions(longmemeval, 50, sd / "lme", name == "lme-second")
            score_one, data = lme_recall, "lme"
        s = Side(sd, f"{data}-db", data, encoder, questions)
        c = Side(cd, f"{data}-db", data, encoder, questions)
        qvecs = encoder.encode_queries([g.text for g in s.gathered])
        pairs[name] = Pair(s, c, questions, score_one, qvecs)
        print(f"{name}: {len(questions)} questions, {len(s.key)} segments", file=sys.stderr)
    return pairs, folds


def bonus(lam: float, most_words: int | None = None):
    return lambda s, c, n, _: s + lam * max(0.0, c - s) if most_words is None or n <= most_words else s


def blend(alpha: float, most_words: int | None = None):
    return lambda s, c, n, _: (1 - alpha) * s + alpha * c if most_words is None or n <= most_words else s


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pair", nargs=3, action="append", metavar=("STATIC", "CONTEXT", "NAME"), required=True, help="NAME: locomo, lme or lme-second")
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    parser.add_argument("--neighbour-weight", type=float, default=None, help="ask's chat-neighbour weight for MiniLM (default: the shipped one)")
    parser.add_argument("--only", nargs="+", default=None, help="run only the variants whose name holds one of these (the static row always runs)")
    args = parser.parse_args(argv)
    if args.neighbour_weight is not None:
        search.FUSION["minilm"] = replace(search.FUSION["minilm"], neighbour_weight=args.neighbour_weight)
    pairs, folds = load_pairs(args.pair, args.longmemeval)

    variants = {"static, as gathered": (None, "static"), "context, as gathered": (None, "context")}
    variants["context, as gathered, with the lexical memory where held"] = (None, "context", Lexical())
    for most in (8, 16, 32):
        variants[f"context, lexical memory for turns of ≤ {most} content words"] = (None, "context", Lexical(most_words=most))
    for most in (64, 80, 100):
        for w in (0.03, 0.06):
            variants[f"context, lexical memory weight {w} where the 3 segments before hold ≤ {most} content words"] = (None, "context", Lexical(w, most_before=most))
    for w in (0.015, 0.06):
        variants[f"context, lexical memory weight {w}"] = (None, "context", Lexical(w))
    for rise in (0.0, 0.02, 0.05):
        for w in (0.03, 0.06):
            variants[f"context, lexical memory weight {w} where the reading's cosine rises ≥ {rise}"] = (None, "context", Lexical(w, least_rise=rise))
    for most in (0.95, 0.96, 0.97):
        for w in (0.03, 0.06):
            variants[f"context, lexical memory weight {w} where its reading moved the turn (cosine to its static vector ≤ {most})"] = (None, "context", Lexical(w, most_self_cos=most))
    for below in (4.0, 8.0):
        for w in (0.03, 0.06):
            variants[f"context, lexical memory weight {w} where the turn's own BM25 < {below:g}"] = (None, "context", Lexical(w, own_bm25_below=below))
    variants["static, joined"] = (lambda s, c, n, a: s, None)
    variants["context, joined"] = (lambda s, c, n, a: c, None)
    variants["max"] = (lambda s, c, n, a: max(s, c), None)
    people = lambda s, c, n, a: s if a else c  # noqa: E731
    variants["the reading for people's turns only, joined"] = (people, None)
    for w in (0.03, 0.06, 0.09):
        variants[f"the reading and the lexical memory (weight {w}) for people's turns only, joined"] = (people, None, Lexical(w, people_only=True))
        variants[f"context, lexical memory weight {w} for people's turns only"] = (None, "context", Lexical(w, people_only=True))
        variants[f"static, joined, lexical memory weight {w} for people's turns only"] = (lambda s, c, n, a: s, None, Lexical(w, people_only=True))
        for alpha in (0.25, 0.5):
            variants[f"blend {alpha}, lexical memory weight {w} for people's turns only"] = (blend(alpha), None, Lexical(w, people_only=True))
    for lam in (0.25, 0.5, 1.0):
        variants[f"bonus {lam}"] = (bonus(lam), None)
    for alpha in (0.25, 0.5):
        variants[f"blend {alpha}"] = (blend(alpha), None)
    for most in (4, 8, 16):
        variants[f"bonus 0.5, ≤ {most} words"] = (bonus(0.5, most), None)
        variants[f"blend 0.5, ≤ {most} words"] = (blend(0.5, most), None)
    if args.only:
        variants = {k: v for k, v in variants.items() if k == "static, as gathered" or any(o in k for o in args.only)}
    names = list(pairs)
    for label, side in (("dense alone, static", "s"), ("dense alone, context", "c")):
        cells = [f"{mean(p.dense(getattr(p, side))):.1f}" for p in pairs.values()]
        print(f"{label}: " + ", ".join(f"{n} {c}" for n, c in zip(names, cells)))
    head = " | ".join(names) + (" | LoCoMo fold A / B" if folds else "")
    print(f"| similarity | {head} |\n|" + "---|" * (2 + len(names)))
    results = {}
    for label, (combine, only, *lexical) in variants.items():
        results[label] = {n: p.score(combine, only, *lexical) for n, p in pairs.items()}
        base = results["static, as gathered"]

        def cell(n):
            r = results[label][n]
            better = sum(a > b + 1e-9 for a, b in zip(r, base[n]))
            worse = sum(a < b - 1e-9 for a, b in zip(r, base[n]))
            return f"{mean(r):.1f} (+{better}/−{worse})"

        cells = [cell(n) for n in names]
        if folds and "locomo" in results[label]:
            loc = results[label]["locomo"]
            cells.append(f"{mean(loc[i] for i in folds[0]):.1f} / {mean(loc[i] for i in folds[1]):.1f}")
        print(f"| {label} | {' | '.join(cells)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
