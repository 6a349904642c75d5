"""How should dense and full-text candidates be fused? Every variant side by side, one run.

    python benchmarks/fusion.py [--locomo ../shared/bench/locomo10.json] [--docs DIR] [--files 150]
        [--questions N]

Both sets are indexed once through the product path (`evosearch.indexer`, the default encoder);
each query is gathered once by `evosearch.search.gather` (time reading, the dense and full-text
candidates, and the ones inside a time window), and every fusion below is replayed on those same
candidates through `evosearch.search.rank`, the function `ask` ranks with. The baseline row is
reciprocal rank fusion (k=60), what `ask` did before issue 22; the "shipped" row is
`evosearch.search.fuse`, and the script checks that replaying it reproduces `ask` exactly, up to
`ask`'s closer look at the ranked passages (search.closer_look; benchmarks/closer_look.py).
The last column counts tests/test_fusion_model.py's lexical-decoy cases that put the answer first.

Parameters are never chosen on the figures they are reported with: LoCoMo's ten conversations
are split in two folds (first five, last five, by sample id); a variant's grid point is chosen on
one fold and scored on the other, and the "LoCoMo" columns are those out-of-fold scores (both
folds together, 1,535 questions). The document column (benchmarks/doc_quality.py's AWS CLI set)
uses the grid point chosen on all of LoCoMo, which is the one that would ship. A second table
lists every grid point (in-sample, for the record).

Metric: LoCoMo turn-level Recall@10, first 10 distinct message ids in rank order (as
benchmarks/quality.py), overall and per category; documents: Recall@1/@10 (a passage in the top k
overlaps the query's section).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the regression cases live in tests/
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from doc_quality import default_docs, hits, write_corpus  # noqa: E402
from quality import build_index, write_longmemeval  # noqa: E402
from retrieval_metrics import CATEGORY_NAMES, turn_recall_at_k  # noqa: E402
from tests.test_fusion_model import CASES, NOTES  # noqa: E402

from evosearch import search  # noqa: E402
from evosearch.search import Candidates  # noqa: E402

K = 10
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al., 2009), what `ask` used before this benchmark

# ---- the variants ------------------------------------------------------------------------------
# Each is Candidates -> {row id: entry with "fused" and "explain"}, the shape search.rank takes.


def _union(c: Candidates) -> dict[int, dict]:
    """Every candidate once, with its cosine (known for all: full-text hits carry theirs), its BM25
    (0 where the text did not match: that is BM25's own value there) and its rank in each list."""
    out: dict[int, dict] = {}
    for rank, row in enumerate(c.dense, 1):
        out[row["_rowid"]] = {**row, "bm25": 0.0, "dense_rank": rank, "text_rank": None, "explain": {}}
    for rank, row in enumerate(c.text, 1):
        entry = out.setdefault(row["_rowid"], {**row, "dense_rank": None, "explain": {}})
        entry["bm25"], entry["text_rank"] = row["bm25"], rank
    return out


def rrf_fuse(c: Candidates) -> dict[int, dict]:
    """The baseline: reciprocal rank fusion of the two lists, k=60, as `ask` fused before issue 22."""
    return weighted_rrf(1.0)(c)


def weighted_rrf(w_text: float, floor: float | None = None) -> Callable:
    """RRF with the full-text list weighted by w_text; with a floor, a full-text rank counts only for
    a candidate whose cosine to the query reaches it (a shared word is not evidence on its own)."""

    def fuse(c: Candidates) -> dict[int, dict]:
        out = _union(c)
        for e in out.values():
            d = 1.0 / (RRF_K + e["dense_rank"]) if e["dense_rank"] else 0.0
            t = w_text / (RRF_K + e["text_rank"]) if e["text_rank"] else 0.0
            if floor is not None and e["similarity"] < floor:
                t = 0.0
            e["fused"] = d + t
        return out

    return fuse


def _minmax(values: list[float]) -> list[float]:
    lo, hi = min(values), max(values)
    return [0.0] * len(values) if hi == lo else [(v - lo) / (hi - lo) for v in values]


def _z(values: list[float]) -> list[float]:
    mean, sd = statistics.fmean(values), statistics.pstdev(values)
    return [0.0] * len(values) if sd == 0 else [(v - mean) / sd for v in values]


def combination(norm: str, w_dense: float) -> Callable:
    """w_dense * norm(cosine) + (1 - w_dense) * norm(BM25), normalised over this query's candidates.
    norm "minmax" or "z"; "cosmax": the cosine as it is and BM25 divided by the query's best BM25
    (both then lie in [0, 1] with 0 meaning unrelated, whatever the other candidates are)."""

    def fuse(c: Candidates) -> dict[int, dict]:
        out = _union(c)
        if not out:
            return out
        entries = list(out.values())
        sims, bm25 = [e["similarity"] for e in entries], [e["bm25"] for e in entries]
        if norm == "minmax":
            sims, bm25 = _minmax(sims), _minmax(bm25)
        elif norm == "z":
            sims, bm25 = _z(sims), _z(bm25)
        else:
            top = max(bm25)
            bm25 = [b / top if top > 0 else 0.0 for b in bm25]
        for e, s, b in zip(entries, sims, bm25):
            e["fused"] = w_dense * s + (1.0 - w_dense) * b
        return out

    return fuse


def cosine_plus_bm25(weight: float, saturation: float | None = None) -> Callable:
    """cosine + weight * BM25 on BM25's own scale (saturation None), or + weight * BM25 / (BM25 +
    saturation): a scale fixed in advance, so the query's best full-text hit gets no full credit just
    for being the best of a few (what the max and min-max normalisations give it)."""

    def fuse(c: Candidates) -> dict[int, dict]:
        out = _union(c)
        for e in out.values():
            b = e["bm25"] if saturation is None else e["bm25"] / (e["bm25"] + saturation)
            e["fused"] = e["similarity"] + weight * b
        return out

    return fuse


def cosine_bm25_floor(weight: float, floor: float) -> Callable:
    """cosine + weight * BM25, the BM25 part counted only where the cosine reaches the floor."""

    def fuse(c: Candidates) -> dict[int, dict]:
        out = _union(c)
        for e in out.values():
            e["fused"] = e["similarity"] + (weight * e["bm25"] if e["similarity"] >= floor else 0.0)
        return out

    return fuse


def with_neighbours(base: Callable, weight: float, chats_only: bool = True) -> Callable:
    """A candidate's fused score plus `weight` times the better of its neighbours' (the segments just
    before and after it in the same stream, when they are candidates too): a turn whose context also
    matches is more likely the one asked about. chats_only: documents' sections are left alone."""

    def fuse(c: Candidates) -> dict[int, dict]:
        out = base(c)
        by_place = {(e["stream_id"], e["position"]): e["fused"] for e in out.values()}
        for e in out.values():
            if chats_only and not e.get("message_ids"):
                continue
            near = max(by_place.get((e["stream_id"], e["position"] + d), 0.0) for d in (-1, 1))
            e["neighbours"] = weight * near
        for e in out.values():
            e["fused"] += e.pop("neighbours", 0.0)
        return out

    return fuse


def window_share(field: str, share: float) -> Callable:
    """The shipped fusion, with the time window's boost only for candidates close enough to the best
    one: Fusion.window_share (a document section's cosine) or chat_window_share (a chat turn's fused
    score), which rank reads from the candidates after fusing them: main restores the shipped value
    afterwards."""

    def fuse(c: Candidates) -> dict[int, dict]:
        c.fusion = replace(c.fusion, **{field: share})
        return search.fuse(c)

    return fuse


def shipped_with(**changes) -> Callable:
    """search.fuse with some of the index's Fusion values replaced (the candidates keep theirs)."""

    def fuse(c: Candidates) -> dict[int, dict]:
        return search.fuse(replace(c, fusion=replace(c.fusion, **changes)))

    return fuse


def scaled_text(s: float) -> Callable:
    """The shipped fusion with its text weight and its excess weight both x s: where an encoder's
    cosines spread less (a vector mixed with its context), BM25 should count for less."""
    f = search.fusion_for("all-MiniLM-L6-v2")
    return shipped_with(text_weight=f.text_weight * s, text_excess_weight=f.text_excess_weight * s)


GRIDS: dict[str, tuple[str, list, Callable]] = {
    "weighted RRF (text weight)": ("w_text", [0.25, 0.5, 0.75, 1.0, 1.5, 2.0], lambda w: weighted_rrf(w)),
    "RRF, cosine floor for text ranks": ("floor", [0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35], lambda f: weighted_rrf(1.0, f)),
    "min-max combination (dense weight)": ("w_dense", [0.3, 0.4, 0.5, 0.6, 0.7, 0.8], lambda a: combination("minmax", a)),
    "z-score combination (dense weight)": ("w_dense", [0.3, 0.4, 0.5, 0.6, 0.7, 0.8], lambda a: combination("z", a)),
    "cosine + BM25/max (dense weight)": ("w_dense", [0.5, 0.6, 0.7, 0.8, 0.9], lambda a: combination("cosmax", a)),
    "cosine + w*BM25 (w)": ("w", [0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.07], lambda w: cosine_plus_bm25(w)),
    "cosine + w*BM25, cosine floor for BM25 (w, floor)": (
        "w, floor",
        [(w, f) for w in (0.03, 0.05) for f in (0.1, 0.2, 0.3)],
        lambda wf: cosine_bm25_floor(*wf),
    ),
    "cosine + w*BM25/(BM25+c) (w, c)": (
        "w, c",
        [(w, c) for w in (0.1, 0.2, 0.3, 0.4) for c in (2.0, 5.0, 10.0)],
        lambda wc: cosine_plus_bm25(*wc),
    ),
    "RRF + chat neighbours (weight)": ("weight", [0.05, 0.1, 0.2, 0.3], lambda g: with_neighbours(rrf_fuse, g)),
    "cosine + shipped w*BM25 + chat neighbours (weight)": (
        "weight",
        [0.05, 0.1, 0.15, 0.2, 0.25, 0.3],
        lambda g: with_neighbours(search.fuse_evidence, g),
    ),
    "cosine + w*BM25 + chat neighbours (w, weight)": (
        "w, weight",
        [(w, g) for w in (0.03, 0.05) for g in (0.05, 0.1, 0.2, 0.3)],
        lambda wg: with_neighbours(cosine_plus_bm25(wg[0]), wg[1]),
    ),
    "shipped, a document's window boost only above a cosine share (share)": (
        "share", [0.0, 0.5, 0.6, 0.7, 0.8], lambda s: window_share("window_share", s)
    ),
    "shipped, a chat turn's window boost only above a fused-score share (share)": (
        "share", [0.0, 0.1, 0.2, 0.3, 0.4, 0.6], lambda s: window_share("chat_window_share", s)
    ),
    "shipped, both BM25 weights x s (s)": ("s", [0.5, 0.75, 1.0, 1.25, 1.5, 2.0], lambda s: scaled_text(s)),
    "shipped, neighbour weight (weight)": ("weight", [0.0, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5], lambda g: shipped_with(neighbour_weight=g)),
    "shipped, speaker weight (weight)": ("weight", [0.0, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5], lambda g: shipped_with(speaker_weight=g)),
}


# ---- gathering and scoring -----------------------------------------------------------------------


def gather_all(store, encoder, queries: list[dict]) -> list:
    return [
        search.gather(store, encoder, q["query"], now=q["now"], limit=K, source=q.get("source"))
        for q in queries
    ]


class Scorer:
    """Top-k rows for a ranking, fetched once per row id and cached (the rows, not the ranking, hold
    the message ids and lines that the gold answers are matched against)."""

    def __init__(self, store):
        self.store, self.cache = store, {}

    def top_rows(self, ranked: list[dict]) -> list[dict]:
        ids = [r["_rowid"] for r in ranked[:K]]
        missing = [i for i in ids if i not in self.cache]
        if missing:
            self.cache.update(self.store.rows(missing))
        return [self.cache[i] for i in ids]


def locomo_recall(rows: list[dict], q: dict) -> float:
    return turn_recall_at_k([list(r["message_ids"] or []) for r in rows], set(q["evidence"]), K)


lme_recall = locomo_recall  # both score turns by their message ids


def locomo_questions(locomo: Path, folder: Path) -> list[dict]:
    """LoCoMo converted into folder/locomo (its chats, to index) and folder/questions.jsonl; the
    questions as read_locomo_questions gives them."""
    data_dir = folder / "locomo"
    locomo_to_jsonl.write(locomo_to_jsonl.load(locomo), data_dir)
    (data_dir / "questions.jsonl").replace(folder / "questions.jsonl")
    return read_locomo_questions(folder)


def read_locomo_questions(folder: Path) -> list[dict]:
    """folder/questions.jsonl, each question with what `ask` is given: its query, its `now` and its
    conversation's file as the source filter."""
    questions = [json.loads(line) for line in (folder / "questions.jsonl").read_text().splitlines()]
    for q in questions:
        q["query"], q["now"], q["source"] = q["question"], datetime.fromisoformat(q["now"]), f"{q['sample_id']}.jsonl"
    return questions


def conversation_folds(questions: list[dict]) -> list[list[int]]:
    """Indices of the questions of the first half of the conversations (by sample id), then of the rest."""
    samples = sorted({q["sample_id"] for q in questions})
    fold_of = {s: int(i >= len(samples) / 2) for i, s in enumerate(samples)}
    return [[i for i, q in enumerate(questions) if fold_of[q["sample_id"]] == f] for f in (0, 1)]


def lme_questions(path: Path, count: int, folder: Path, second_half: bool = False) -> list[dict]:
    """quality.write_longmemeval's questions (their haystacks written under folder), each with what
    `ask` is given: its query, its `now` and its own haystack as the source filter."""
    questions, _ = write_longmemeval(path, count, folder, second_half)
    for q in questions:
        q["query"], q["now"], q["source"] = q["question"], datetime.fromisoformat(q["now"]), f"*/{q['sample_id']}/*"
    return questions


def run_variant(fuse, gathered, queries, scorer, score_one) -> list:
    return [score_one(scorer.top_rows(search.rank(g, K, fuse)), q) for g, q in zip(gathered, queries)]


def mean(values) -> float:
    values = list(values)
    return 100 * sum(values) / len(values) if values else float("nan")


def out_of_fold(grid: dict, folds: list[list[int]]) -> tuple[list[float], list, object]:
    """For per-query scores of each parameter value ({value: [score per query]}) and two folds of
    query indices: (each query's score under the value chosen on the other fold, the value chosen
    on each fold, the value chosen on all queries)."""
    oof = [0.0] * len(next(iter(grid.values())))
    chosen = []
    for f in (0, 1):
        best = max(grid, key=lambda v: mean(grid[v][i] for i in folds[f]))
        chosen.append(best)
        for i in folds[1 - f]:
            oof[i] = grid[best][i]
    return oof, chosen, max(grid, key=lambda v: mean(grid[v]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--docs", type=Path, default=default_docs())
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--questions", type=int, default=None, help="only the first N LoCoMo questions (quick runs)")
    parser.add_argument("--json", type=Path, default=None, help="also write every score here")
    parser.add_argument("--model", type=Path, default=None, help="a model folder to index with (e.g. model/context); default: the shipped one")
    args = parser.parse_args(argv)

    if args.model:
        os.environ["EVOSEARCH_MODEL"] = str(args.model)
    from evosearch.encoder import load_encoder

    encoder = load_encoder()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        lq = locomo_questions(args.locomo, tmp)[: args.questions]
        locomo_store, _, locomo_segments = build_index(tmp / "locomo", tmp / "locomo-db", encoder)
        locomo_gathered = gather_all(locomo_store, encoder, lq)

        corpus = tmp / "docs"
        corpus.mkdir()
        dq = write_corpus(args.docs, args.files, corpus)
        now = datetime.now(timezone.utc)
        for q in dq:
            q["now"] = now
        doc_store, _, doc_segments = build_index(corpus, tmp / "docs-db", encoder)
        doc_gathered = gather_all(doc_store, encoder, dq)
        notes = tmp / "notes"
        notes.mkdir()
        for name, text in NOTES.items():
            (notes / name).write_text(text)
        case_store, _, _ = build_index(notes, tmp / "notes-db", encoder)
        cases = [{"query": c[0], "now": datetime.fromisoformat(c[1]).replace(tzinfo=timezone.utc), "answer": str(notes / c[2])} for c in CASES]
        case_gathered = gather_all(case_store, encoder, cases)
        gathered_s = time.monotonic() - started

        # The replay must be `ask` itself up to its closer look (search.closer_look, which reorders
        # what fusion ranked; benchmarks/closer_look.py measures it): the shipped fusion's top 10
        # equals ask()'s without it, for a sample of queries.
        look, search.closer_look = search.closer_look, lambda ranked, *_, **__: ranked
        for q, g in list(zip(lq, locomo_gathered))[:: max(len(lq) // 40, 1)]:
            got = [r["_rowid"] for r in search.rank(g, K)[:K]]
            want = search.ask(locomo_store, encoder, q["query"], now=q["now"], limit=K, source=q["source"])["results"]
            assert [(r["stream_id"], r["position"]) for r in want] == [
                (locomo_store.rows([i])[i]["stream_id"], locomo_store.rows([i])[i]["position"]) for i in got
            ], q["query"]
        search.closer_look = look

        lscorer, dscorer, cscorer = Scorer(locomo_store), Scorer(doc_store), Scorer(case_store)

        def decoys(fuse) -> int:
            """How many of tests/test_fusion_model.py's cases put the answer first."""
            return sum(run_variant(fuse, case_gathered, cases, cscorer, lambda rows, q: rows[0]["path"] == q["answer"]))

        def locomo(fuse) -> list[float]:
            return run_variant(fuse, locomo_gathered, lq, lscorer, locomo_recall)

        def docs(fuse, k=K) -> tuple[float, float]:
            found = run_variant(fuse, doc_gathered, dq, dscorer, hits)
            return mean(any(h[:1]) for h in found), mean(any(h[:k]) for h in found)

        folds = conversation_folds(lq)
        rows: dict[str, dict] = {}
        grid_rows: list[dict] = []

        def add_row(name: str, per_q: list[float], chosen: str, fuse) -> None:
            d1, d10 = docs(fuse)
            row = {"chosen": chosen, "overall": mean(per_q), "docs_r1": d1, "docs_r10": d10, "decoys": decoys(fuse)}
            for c, cname in CATEGORY_NAMES.items():
                row[cname] = mean(r for r, q in zip(per_q, lq) if q["category"] == c)
            rows[name] = row

        add_row("RRF k=60 (before, baseline)", locomo(rrf_fuse), "-", rrf_fuse)
        shipped = search.fusion_for(encoder.model_id)
        add_row(f"cosine + {shipped.text_weight} x BM25 (search.fuse_evidence)", locomo(search.fuse_evidence), "fixed", search.fuse_evidence)
        add_row(f"shipped: search.fuse, {shipped}", locomo(search.fuse), "fixed", search.fuse)
        for name, (param, grid, make) in GRIDS.items():
            scores = {v: locomo(make(v)) for v in grid}
            for v, s in scores.items():
                grid_rows.append(
                    {
                        "variant": name,
                        param: v,
                        "all": mean(s),
                        "fold A": mean(s[i] for i in folds[0]),
                        "fold B": mean(s[i] for i in folds[1]),
                        "docs_r10": docs(make(v))[1],
                        "decoys": decoys(make(v)),
                        **{cname: mean(r for r, q in zip(s, lq) if q["category"] == c) for c, cname in CATEGORY_NAMES.items()},
                    }
                )
            oof, chosen, ship = out_of_fold({v: scores[v] for v in grid}, folds)
            add_row(name, oof, f"{param}: A {chosen[0]} / B {chosen[1]}; all {ship}", make(ship))
            rows[name]["ship_value"] = ship
            for g in [*locomo_gathered, *doc_gathered, *case_gathered]:  # the window shares changed them
                for c in (g.candidates, g.inside):
                    if c is not None:
                        c.fusion = search.fusion_for(encoder.model_id)

    print(
        f"LoCoMo: {len(lq)} questions over {locomo_segments} segments; documents: {len(dq)} queries over "
        f"{doc_segments} segments of {args.files} files from {args.docs}; encoder {encoder.model_id}; "
        f"gathering {gathered_s:.0f} s, all ({time.monotonic() - started:.0f} s)"
    )
    cats = list(CATEGORY_NAMES.values())
    head = f"| variant | chosen (fold A / fold B; all LoCoMo) | LoCoMo R@10 | {' | '.join(cats)} | docs R@1 | docs R@10 | decoy cases |"
    print("\nOut of fold on LoCoMo (chosen on one fold, scored on the other); documents with the 'all' choice\n")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name, r in rows.items():
        print(
            f"| {name} | {r['chosen']} | {r['overall']:.1f} | "
            + " | ".join(f"{r[c]:.1f}" for c in cats)
            + f" | {r['docs_r1']:.1f} | {r['docs_r10']:.1f} | {r['decoys']}/{len(cases)} |"
        )
    print("\nEvery grid point (LoCoMo R@10 in-sample: all, fold A, fold B, categories; documents R@10)\n")
    print(f"| variant | value | all | fold A | fold B | {' | '.join(cats)} | docs R@10 | decoy cases |")
    print("|" + "---|" * (8 + len(cats)))
    for g in grid_rows:
        value = next(v for k, v in g.items() if k not in ("variant", "all", "fold A", "fold B", "docs_r10", "decoys", *cats))
        print(
            f"| {g['variant']} | {value} | {g['all']:.1f} | {g['fold A']:.1f} | {g['fold B']:.1f} | "
            + " | ".join(f"{g[c]:.1f}" for c in cats)
            + f" | {g['docs_r10']:.1f} | {g['decoys']}/{len(cases)} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "grid": grid_rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
