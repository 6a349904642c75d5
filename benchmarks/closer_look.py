"""`ask`'s closer look (search.closer_look): what rescoring the best passages word by word adds on
LoCoMo, at which weight and depth, and what it costs per question.

    python benchmarks/closer_look.py [--locomo ../shared/bench/locomo10.json] [--timed 100]

LoCoMo is indexed through the product path (quality.build_index, the shipped encoder) and each
question gathered and ranked once as `ask` ranks it (search.gather, search.rank). The closer look
is then replayed on those rankings by search.closer_look itself, at each weight and depth, with
every text's token states computed once (the shipped encoder's token_states, memoised): a passage
in the top N gains weight x how well the question's words meet its words (their share) and its
words the question's (the rest; search.closer_look), the share also varied. A weight is chosen on
one fold of conversations and scored on the other
(fusion.out_of_fold; folds as benchmarks/fusion.py). The script checks that the replay at the
shipped weight and depth gives search.ask's own top 10 for a sample of questions.

Cost: `ask` in this process, with and without the closer look, on --timed questions, alternating
(median ms per question, and the ratio).

Metric: turn-level Recall@10 (benchmarks/retrieval_metrics.py), overall and per category.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from fusion import K, conversation_folds, gather_all, locomo_questions, out_of_fold  # noqa: E402
from quality import build_index  # noqa: E402
from rerank_probe import row  # noqa: E402
from retrieval_metrics import CATEGORY_NAMES, turn_recall_at_k  # noqa: E402

from evosearch import search  # noqa: E402

WEIGHTS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
DEPTHS = (10, 20, 30, 40)
SHARES = (1.0, 0.5)  # the question's side alone; both sides alike


class Memo:
    """The encoder's token_states, each text's computed once across every replay."""

    def __init__(self, encoder):
        self.encoder, self.states = encoder, {}

    def token_states(self, texts: list[str]) -> list:
        missing = list(dict.fromkeys(t for t in texts if t not in self.states))
        if missing:
            self.states.update(zip(missing, self.encoder.token_states(missing)))
        return [self.states[t] for t in texts]


def copied(ranked: list[dict]) -> list[dict]:
    """ranked's rows copied: the closer look and the order bonus add to their scores."""
    return [{**r, "explain": dict(r["explain"])} for r in ranked]


def looked(ranked: list[dict], gathered, memo: Memo, rows, firm: bool, weight: float, depth: int, share: float) -> list[dict]:
    """search.closer_look at this weight, depth and question's share, on a copy of ranked (it adds to
    the scores; ranked without the order bonus, which `ask` adds after it: search.order_by_time)."""
    search.CLOSER_LOOK_WEIGHT, search.CLOSER_LOOK_TOP, search.CLOSER_LOOK_QUESTION_SHARE = weight, depth, share
    looked = search.closer_look(copied(ranked), gathered.text, memo, rows, firm)
    return search.order_by_time(looked, gathered, K)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--timed", type=int, default=100, help="questions `ask` is timed on, with and without the closer look")
    args = parser.parse_args(argv)
    from evosearch.encoder import load_encoder

    encoder = load_encoder()
    shipped = search.CLOSER_LOOK_WEIGHT, search.CLOSER_LOOK_TOP, search.CLOSER_LOOK_QUESTION_SHARE
    look = search.closer_look
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        questions = locomo_questions(args.locomo, tmp)
        store, _, segments = build_index(tmp / "locomo", tmp / "locomo-db", encoder)
        gathered = gather_all(store, encoder, questions)
        ranked = [search.rank(g, K, order=False) for g in gathered]
        rows = search._read_once(store.rows)  # as `ask` reads them: each row once, across every replay

        memo = Memo(encoder)
        firm = [g.firm for g in gathered]

        def recall(passages: list[dict], q: dict) -> float:
            found = rows([p["_rowid"] for p in passages[:K]])
            return turn_recall_at_k([list(found[p["_rowid"]]["message_ids"] or []) for p in passages[:K]], set(q["evidence"]), K)

        def replay(weight: float, depth: int, share: float = shipped[2]) -> list[list[dict]]:
            return [looked(r, g, memo, rows, f, weight, depth, share) for r, g, f in zip(ranked, gathered, firm)]

        # The replay must be `ask` itself (closer look and copies folded; LoCoMo has no copies within a conversation).
        for i in range(0, len(questions), max(len(questions) // 40, 1)):
            q = questions[i]
            search.CLOSER_LOOK_WEIGHT, search.CLOSER_LOOK_TOP, search.CLOSER_LOOK_QUESTION_SHARE = shipped
            want = [r["ref"] for r in search.ask(store, encoder, q["query"], now=q["now"], limit=K, source=q["source"])["results"]]
            got = [rows([r["_rowid"]])[r["_rowid"]]["id"] for r in search.distinct_texts(looked(ranked[i], gathered[i], memo, rows, firm[i], *shipped), rows, K)]
            assert got == want, q["query"]

        folds = conversation_folds(questions)
        head = f"| | weight chosen (fold A / fold B) | R@10 | {' | '.join(CATEGORY_NAMES.values())} |"
        lines = [head, "|" + "---|" * (head.count("|") - 1), row("`ask` without the closer look", [recall(search.order_by_time(copied(r), g, K), q) for r, g, q in zip(ranked, gathered, questions)], questions)]
        label = f"weight {shipped[0]:g}, top {shipped[1]}, the question's share {shipped[2]:g}"
        lines.append(row(f"shipped: {label} (in sample)", [recall(r, q) for r, q in zip(replay(*shipped), questions)], questions))
        for depth in DEPTHS:
            grid = {w: [recall(r, q) for r, q in zip(replay(w, depth), questions)] for w in WEIGHTS}
            oof, chosen, _ = out_of_fold(grid, folds)
            lines.append(row(f"top {depth}, weight chosen out of fold", oof, questions, f"{chosen[0]:g} / {chosen[1]:g}"))
        for share in SHARES:
            grid = {w: [recall(r, q) for r, q in zip(replay(w, shipped[1], share), questions)] for w in WEIGHTS}
            oof, chosen, _ = out_of_fold(grid, folds)
            lines.append(row(f"top {shipped[1]}, the question's share {share:g}, weight chosen out of fold", oof, questions, f"{chosen[0]:g} / {chosen[1]:g}"))
        search.CLOSER_LOOK_WEIGHT, search.CLOSER_LOOK_TOP, search.CLOSER_LOOK_QUESTION_SHARE = shipped

        timed = {"with": [], "without": []}
        for q in questions[:: max(len(questions) // args.timed, 1)][: args.timed]:
            for label in ("without", "with"):
                search.closer_look = look if label == "with" else (lambda r, *_, **__: r)
                t = time.perf_counter()
                search.ask(store, encoder, q["query"], now=q["now"], limit=K, source=q["source"])
                timed[label].append(1000 * (time.perf_counter() - t))
        search.closer_look = look
    with_ms, without_ms = statistics.median(timed["with"]), statistics.median(timed["without"])
    print(f"LoCoMo: {len(questions)} questions over {segments} segments; encoder {encoder.model_id}; {time.monotonic() - started:.0f} s\n")
    print("\n".join(lines))
    print(
        f"\n`ask` in one process, {len(timed['with'])} questions: median {without_ms:.0f} ms without the closer look, "
        f"{with_ms:.0f} ms with it ({with_ms / without_ms:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
