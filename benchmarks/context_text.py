"""A lexical memory: does `ask` gain when each chat turn's full-text entry also carries the words its
stream said just before it?

    python benchmarks/context_text.py [--locomo ../shared/bench/locomo10.json] [--questions N]
        [--model model/context] [--lme-questions N] [--lme-second-half] [--workdir DIR] [--chat-messages N]

The context read (encoder/context_read.py) lifts dense retrieval +3.5 on LoCoMo but `ask` only +0.7: full
text already finds most of what it adds (docs/benchmarks.md, "Context read"). What neither finds is
a turn that answers without naming the question's subject, named a few turns earlier. This puts
that subject where full text can see it: a second full-text index over each turn's context (the
text of the k turns before it in its stream; preceding only, so appending to a chat never rewrites
an earlier row), searched with the question beside the two other searches, w x its BM25 past a
level added to a chat turn's fused score. With --add, the hits it brings join as candidates (their
cosine from their stored vector, as full-text hits do). The product ships one grid point of this
(search.Fusion.context_weight, context_from; EncoderConfig.context_turns): the row "`ask` as it is"
checks that the replay of the shipped index reproduces it.

LoCoMo is indexed once through the product path and each question gathered once by
search.gather; every variant replays search.rank on those candidates, without the product's own
context term, with the grid's added (inside a time window too). Figures: turn-level Recall@10,
overall and per category; (k, w, level) chosen on one fold of conversations and scored on the
other (first five, last five sample ids); LongMemEval_S dev, each question in its own haystack.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from fusion import K, Scorer, conversation_folds, gather_all, lme_questions, lme_recall, locomo_questions, locomo_recall, mean, out_of_fold  # noqa: E402
from quality import LME_DEFAULT, build_index  # noqa: E402
from retrieval_metrics import CATEGORY_NAMES  # noqa: E402

from evosearch import search  # noqa: E402
from evosearch.filters import source_where  # noqa: E402
from evosearch.segment import by_assistant  # noqa: E402
from evosearch.store.schema import stored_speakers  # noqa: E402

POOL = 50


def context_texts(rows: list[dict], k: int, skip: int = 0) -> dict[int, str]:
    """row id -> the text of the k segments before it in its stream, leaving out the nearest skip of
    them (chat neighbours already credit the turn just before); none for an assistant's segment,
    as the product stores (segment.turn_context)."""
    by_stream: dict[str, list[dict]] = {}
    for r in rows:
        by_stream.setdefault(r["stream_id"], []).append(r)
    out = {}
    for stream in by_stream.values():
        stream.sort(key=lambda r: r["position"])
        for i, r in enumerate(stream):
            out[r["_rowid"]] = "" if by_assistant(speakers(r)) else " ".join(s["text"] for s in stream[max(0, i - k) : max(0, i - skip)])
    return out


def speakers(row: dict) -> list[str]:
    """A stored row's speakers."""
    return stored_speakers(row["speaker"])


def context_dataset(rows: list[dict], texts: dict[int, str], where_dir: Path):
    import lance
    import pyarrow as pa

    table = pa.table(
        {
            "rowid": pa.array([r["_rowid"] for r in rows], pa.uint64()),
            "path": [r["path"] for r in rows],
            "context": [texts[r["_rowid"]] for r in rows],
        }
    )
    ds = lance.write_dataset(table, str(where_dir))
    ds.create_scalar_index("context", "INVERTED", with_position=False, stem=True, remove_stop_words=True)  # as the store's text index
    return lance.dataset(str(where_dir))


def context_hits(ds, text: str, where: str | None) -> dict[int, float]:
    """main-table row id -> BM25 of the question against that row's context."""
    if not text.strip():
        return {}
    table = ds.to_table(full_text_query=text, limit=POOL, columns=["rowid", "_score"], filter=where, prefilter=bool(where))
    return {int(r): float(s) for r, s in zip(table["rowid"].to_pylist(), table["_score"].to_pylist())}


def without_lexical(c):
    """search.fuse with the product's own lexical-memory term off (an index that holds context)."""
    return search.fuse(replace(c, fusion=replace(c.fusion, context_weight=0.0)))


def with_context(hits: dict[int, float], vectors: dict[int, np.ndarray], qvec: np.ndarray, rows: dict[int, dict], w: float, level: float, add: bool = False):
    """search.fuse plus, for a chat turn, w x its context's BM25 past `level` (as the shipped excess
    term: a context that shares one common word with the question adds nothing; level 0: all of it).
    With add, the context leg's hits join as candidates (their cosine from their stored vector)."""

    def fuse(c):
        fused = without_lexical(c)
        if add:
            for i in hits:
                if i not in fused:
                    sim = float(np.dot(vectors[i], qvec))
                    fused[i] = {**rows[i], "_rowid": i, "similarity": sim, "bm25": 0.0, "fused": sim, "explain": {}}
        for i, entry in fused.items():
            if entry.get("message_ids"):
                entry["fused"] += w * max(0.0, hits.get(i, 0.0) - level)
        return fused

    return fuse


def with_preceding_hits(k: int, w: float, level: float):
    """No stored context: search.fuse plus, for a chat turn, w x (the summed BM25 of the k turns before
    it that are full-text candidates themselves - level)+. Free at query time, but blind to a
    preceding turn outside the full-text pool."""

    def fuse(c):
        fused = without_lexical(c)
        bm25 = {(r["stream_id"], r["position"]): r["bm25"] for r in c.text}
        for entry in fused.values():
            if entry.get("message_ids"):
                near = sum(bm25.get((entry["stream_id"], entry["position"] - j), 0.0) for j in range(1, k + 1))
                entry["fused"] += w * max(0.0, near - level)
        return fused

    return fuse


class Set:
    """One question set on one index: its gathered candidates, stored rows and scorer."""

    def __init__(self, store, encoder, questions: list[dict], score_one):
        self.store, self.questions, self.score_one = store, questions, score_one
        self.gathered = gather_all(store, encoder, questions)
        self.qvecs = encoder.encode_queries([g.text for g in self.gathered])
        self.every = store.scan(None, ["stream_id", "position", "path", "text", "vector", "time", "message_ids", "speaker"])
        self.vectors = {r["_rowid"]: np.asarray(r["vector"], np.float32) for r in self.every}
        self.plain = {r["_rowid"]: {k: r[k] for k in search.RANKING_COLUMNS} for r in self.every}
        self.wheres = {q["source"]: source_where(store, q["source"]) for q in questions}
        self.scorer = Scorer(store)

    def score(self, fuse_for) -> list[float]:
        return [
            self.score_one(self.scorer.top_rows(search.rank(g, K, fuse_for(i))), q)
            for i, (g, q) in enumerate(zip(self.gathered, self.questions))
        ]

    def grid(self, ks, ws, levels, add, folder: Path, leg: str = "stored", skip: int = 0) -> dict:
        """(k, w, level) -> per-question scores."""
        out = {}
        for k in ks:
            if leg == "hits":
                for level in levels:
                    for w in ws:
                        out[(k, w, level)] = self.score(lambda i: with_preceding_hits(k, w, level))
                continue
            ds = context_dataset(self.every, context_texts(self.every, k, skip), folder / f"ctx{k}")
            hits = [context_hits(ds, g.text, self.wheres[q["source"]]) for g, q in zip(self.gathered, self.questions)]
            for level in levels:
                for w in ws:
                    out[(k, w, level)] = self.score(lambda i: with_context(hits[i], self.vectors, self.qvecs[i], self.plain, w, level, add))
        return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    parser.add_argument("--lme-questions", type=int, default=50, help="LongMemEval_S dev's first half; 0: LoCoMo only")
    parser.add_argument("--lme-second-half", action="store_true", help="LongMemEval dev's other half: an out-of-sample check of what the first half chose")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--k", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--w", type=float, nargs="+", default=[0.02, 0.05, 0.08, 0.12])
    parser.add_argument("--level", type=float, nargs="+", default=[0.0, 8.0])
    parser.add_argument("--leg", choices=["stored", "hits"], default="stored", help="stored: a full-text index over each turn's context; hits: the preceding turns' own BM25, where they are full-text candidates")
    parser.add_argument("--add", action="store_true", help="the context leg's hits join as candidates")
    parser.add_argument("--skip", type=int, default=0, help="leave the nearest N of the k turns out of the context")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the indexes here: a second run reuses them")
    parser.add_argument("--chat-messages", type=int, default=None, help="at most this many messages per chat segment (default: the product's)")
    args = parser.parse_args(argv)
    if args.model:
        os.environ["EVOSEARCH_MODEL"] = str(args.model)
    if args.chat_messages:
        import evosearch.segment

        evosearch.segment.CHAT_SEGMENT_MAX_MESSAGES = args.chat_messages
    from evosearch.encoder import load_encoder

    encoder = load_encoder()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = args.workdir or Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        lq = locomo_questions(args.locomo, tmp)
        folds = conversation_folds(lq)
        store, _, _ = build_index(tmp / "locomo", tmp / "locomo-db", encoder)
        locomo = Set(store, encoder, lq, locomo_recall)
        lexical_on = store.latest().holds_context
        ctx = Path(tempfile.mkdtemp(dir=tmp_name))
        loc_grid = locomo.grid(args.k, args.w, args.level, args.add, ctx / "locomo", args.leg, args.skip)
        shipped = {"locomo": locomo.score(lambda i: without_lexical)}
        product = {"locomo": locomo.score(lambda i: search.fuse)}
        print(f"LoCoMo done ({time.monotonic() - started:.0f} s)", file=sys.stderr)
        lme_grid = {}
        if args.lme_questions:
            lme_q = lme_questions(args.longmemeval, args.lme_questions, tmp / "lme", args.lme_second_half)
            lme_store, _, _ = build_index(tmp / "lme", tmp / "lme-db", encoder)
            lme = Set(lme_store, encoder, lme_q, lme_recall)
            lme_grid = lme.grid(args.k, args.w, args.level, args.add, ctx / "lme", args.leg, args.skip)
            shipped["lme"] = lme.score(lambda i: without_lexical)
            product["lme"] = lme.score(lambda i: search.fuse)

    print(f"LoCoMo: {len(lq)} questions; LongMemEval_S dev: {args.lme_questions}; context leg: {args.leg}; encoder {encoder.model_id}; {time.monotonic() - started:.0f} s\n")
    cats = list(CATEGORY_NAMES.values())

    def line(name, s, lme):
        per = " | ".join(f"{mean(r for r, q in zip(s, lq) if q['category'] == c):.1f}" for c in CATEGORY_NAMES)
        return f"| {name} | {mean(s):.1f} | {mean(s[i] for i in folds[0]):.1f} | {mean(s[i] for i in folds[1]):.1f} | {per} | {mean(lme) if lme else float('nan'):.1f} |"

    print(f"| `ask` | LoCoMo | fold A | fold B | {' | '.join(cats)} | LongMemEval |")
    print("|" + "---|" * (5 + len(cats)))
    print(line("without the lexical memory", shipped["locomo"], shipped.get("lme")))
    print(line(f"`ask` as it is (search.fuse; lexical memory: {'on' if lexical_on else 'off'})", product["locomo"], product.get("lme")))
    for (k, w, level), s in loc_grid.items():
        print(line(f"+ {w} x context BM25 past {level:g}, k {k}", s, lme_grid.get((k, w, level))))
    oof, chosen, ship = out_of_fold(loc_grid, folds)
    print(
        f"\nLoCoMo out of fold: {mean(oof):.1f} (chosen (k, w, level): A {chosen[0]}, B {chosen[1]}; all {ship}); without {mean(shipped['locomo']):.1f}"
        + (f"; LongMemEval at the 'all' choice {mean(lme_grid[ship]):.1f}, without {mean(shipped['lme']):.1f}" if lme_grid else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
