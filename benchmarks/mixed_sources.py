"""Notes and chats in one index: does `ask` find a passage whichever kind of source holds it?

    python benchmarks/mixed_sources.py [--workdir DIR] [--questions N] [--doc-tokens N]

LoCoMo (../shared/bench/locomo10.json, read in place), each conversation split by session: odd
sessions stay a chat (JSON Lines, as benchmarks/quality.py writes it), even sessions become a dated
note each (`conv-26-s02-2023-05-25.md`: a heading, then one paragraph per message, "Speaker: text"),
as a person keeps a transcript or minutes in their notes folder. Both are indexed into one index
through the product path; every question is asked over its conversation's chat and notes together.

A note's section is scored by the messages whose paragraphs its line range covers, so it spends
as much of the first 10 messages as a chat segment of those messages does. Turn-level Recall@10,
split by where the question's evidence lies (all in notes, all in chats, both), for the shipped
fusion and for variants that weigh the two kinds against each other (replayed on the same
candidates through `search.ranked_as_asked`: fusion, `ask`'s closer look, an order word's bonus). The shipped fusion lets a note's
section compete with chat turns in two ways (`search.fuse`): it counts as its own chat neighbour, and
BM25 past its level counts for it as for them; the variants take either away or scale a section's
score instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from closer_look import Memo  # noqa: E402
from quality import add_doc_tokens, build_index, use_doc_tokens  # noqa: E402
from retrieval_metrics import turn_recall_at_k  # noqa: E402

K = 10


def write_mixed(conversion, out: Path) -> dict[str, list[tuple[int, str]]]:
    """The chats and notes under out; returns note path -> [(line, message id)] of its paragraphs."""
    out.mkdir(parents=True, exist_ok=True)
    lines_of: dict[str, list[tuple[int, str]]] = {}
    for sample_id, turns in conversion.turns.items():
        sessions: dict[str, list] = {}
        for turn in turns:  # ids are D<session>:<n>
            sessions.setdefault(turn.id.split(":")[0], []).append(turn)
        chat = []
        for name, session in sessions.items():
            number = int(name[1:])
            if number % 2:
                chat.extend(session)
                continue
            day = datetime.fromisoformat(session[0].ts).date().isoformat()
            path = out / f"{sample_id}-s{number:02d}-{day}.md"
            text, paragraph_lines = [f"# {sample_id}, session {number}", ""], []
            for turn in session:
                paragraph_lines.append((len(text) + 1, turn.id))
                text += [f"{turn.speaker}: {turn.text}", ""]
            path.write_text("\n".join(text), encoding="utf-8")
            lines_of[str(path)] = paragraph_lines
        with open(out / f"{sample_id}.jsonl", "w", encoding="utf-8") as f:
            for turn in chat:
                f.write(json.dumps(turn.to_json(), ensure_ascii=False) + "\n")
    return lines_of


def row_messages(row: dict, lines_of: dict[str, list[tuple[int, str]]]) -> list[str]:
    """A result row's message ids: a chat's own, or the paragraphs a note's line range covers."""
    if row["message_ids"]:
        return list(row["message_ids"])
    return [mid for line, mid in lines_of.get(row["path"], []) if row["line_start"] <= line <= row["line_end"]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the corpus and index here: a second run reuses them")
    parser.add_argument("--questions", type=int, default=None, help="only the first N questions (quick runs)")
    add_doc_tokens(parser)
    args = parser.parse_args(argv)
    use_doc_tokens(args.doc_tokens)
    from evosearch import search
    from evosearch.encoder import load_encoder
    from evosearch.store.reader import open_for_search

    work = (args.workdir or Path(tempfile.mkdtemp(prefix="mixed-"))).resolve()
    conversion = locomo_to_jsonl.load(args.locomo)
    lines_of = write_mixed(conversion, work / "corpus")
    encoder = load_encoder()
    db = work / "db"
    if not db.exists():
        _, seconds, segments = build_index(work / "corpus", db, encoder)
        print(f"indexed {segments} segments in {seconds:.0f} s", flush=True)
    store = open_for_search(str(db))
    notes = {mid for pairs in lines_of.values() for _, mid in pairs}
    questions = conversion.questions[: args.questions]
    gathered = []
    for q in questions:
        now = datetime.fromisoformat(q.now)
        gathered.append(search.gather(store, encoder, q.question, now=now, limit=K, source=f"*{q.sample_id}*"))
    rows = search._read_once(store.rows)  # each row read once across every variant
    words = Memo(encoder)  # the closer look's word states, each text's computed once

    def recall(ranked: list[dict], q) -> float:
        found = rows([r["_rowid"] for r in ranked[:K]])
        return turn_recall_at_k([row_messages(found[r["_rowid"]], lines_of) for r in ranked[:K]], set(q.evidence), K)

    def where(q) -> str:
        inside = [e in notes for e in q.evidence]
        return "notes" if all(inside) else "chats" if not any(inside) else "both"

    groups = ["notes", "chats", "both"]
    counts = {g: sum(where(q) == g for q in questions) for g in groups}
    print(f"{len(questions)} questions; evidence in notes {counts['notes']}, in chats {counts['chats']}, in both {counts['both']}")

    def sections_scaled(factor: float):
        """A section's evidence as before either term that lets it compete (BM25 past its level, being its
        own neighbour), x factor; chat turns as shipped."""

        def fuse(c):
            fused = search.fuse(c)
            for entry in fused.values():
                if not entry.get("message_ids"):
                    e = entry["explain"]
                    entry["fused"] = (entry["fused"] - e.get("section", 0.0) - e.get("text_excess", 0.0)) * factor
            return fused

        return fuse

    def own_neighbour_only(c):
        """A section as its own neighbour, without BM25 past its level."""
        fused = sections_scaled(1.0)(c)
        for entry in fused.values():
            if not entry.get("message_ids") and entry["fused"] > 0:
                entry["fused"] *= 1 + c.fusion.neighbour_weight
        return fused

    variants = {
        "shipped: both": search.fuse,
        "shipped, no closer look": search.fuse,
        "a section as its own neighbour only": own_neighbour_only,
        "neither (a section's own score)": sections_scaled(1.0),
        "no neighbours for either": lambda c: search.fuse(replace(c, fusion=replace(c.fusion, neighbour_weight=0.0))),
        "neither, a section's score x1.5": sections_scaled(1.5),
        "neither, a section's score x2": sections_scaled(2.0),
    }
    print(f"{'variant':<48} {'all':>6} {'notes':>6} {'chats':>6} {'both':>6}   (turn-level R@10)")
    for name, fuse in variants.items():
        looking = object() if "no closer look" in name else words  # closer_look passes over an encoder without word states
        scores = [recall(search.ranked_as_asked(g, K, looking, rows, fuse), q) for g, q in zip(gathered, questions)]
        by = {grp: [s for s, q in zip(scores, questions) if where(q) == grp] for grp in groups}
        cells = " ".join(f"{100 * sum(v) / max(1, len(v)):6.1f}" for v in [scores, *by.values()])
        print(f"{name:<48} {cells}", flush=True)
    # What each kind's passages can reach at all: every question answered from its evidence's kind alone.
    alone = []
    for g, q in zip(gathered, questions):
        kind = where(q)
        ranked = search.rank(g, 100, order=False)
        if kind != "both":
            ranked = [r for r in ranked if bool(r.get("message_ids")) == (kind == "chats")]
        ranked = search.closer_look(ranked, g.text, words, rows, firm=g.firm)
        alone.append((kind, recall(search.order_by_time(ranked, g, 100), q)))
    columns = [[v for _, v in alone], *([v for k, v in alone if k == grp] for grp in groups)]
    label = "reference: the evidence's kind searched alone"
    print(f"{label:<48} " + " ".join(f"{100 * sum(v) / max(1, len(v)):6.1f}" for v in columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
