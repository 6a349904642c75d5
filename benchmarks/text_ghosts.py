"""What deleted rows left in BM25's statistics cost `ask`: LoCoMo through the product, then a share of
its rows rewritten with the same text (as reading ahead rewrites a stream's last row when a message
arrives) and the full-text index extended rather than rebuilt, so the old rows still count.

    python benchmarks/text_ghosts.py [--shares 0.001,0.01,0.05]

`index` rebuilds the full-text parts that held deleted rows (store/maintenance.py); here that is
turned off. Prints LoCoMo `ask` Recall@10 (turn level, all
1,535 questions, each within its conversation) for the clean index and for each cumulative share of
rewritten rows, and how many questions' top 10 changed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from quality import build_index, hybrid, recall_rows  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shares", default="0.001,0.01,0.05", help="cumulative shares of rows rewritten")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from evosearch.encoder import load_encoder
    from evosearch.store import maintenance
    from evosearch.store.schema import SEGMENTS

    tmp = Path(tempfile.mkdtemp(prefix="evosearch-ghosts-"))
    conversion = locomo_to_jsonl.load(locomo_to_jsonl.DEFAULT_INPUT)
    locomo_to_jsonl.write(conversion, tmp / "locomo")
    (tmp / "locomo" / "questions.jsonl").rename(tmp / "questions.jsonl")
    questions = [json.loads(line) for line in (tmp / "questions.jsonl").read_text().splitlines()]
    encoder = load_encoder("minilm")
    store, _, segments = build_index(tmp / "locomo", tmp / "db", encoder)

    def answer() -> tuple[list, float]:
        ranked = [hybrid(store, encoder, q, f"{q['sample_id']}.jsonl") for q in questions]
        return ranked, 100 * sum(r10 for _, _, r10 in recall_rows(questions, ranked)) / len(questions)

    clean, clean_r10 = answer()
    print(f"LoCoMo, {segments} segments, clean index: ask R@10 {clean_r10:.2f}", flush=True)
    maintenance.holds_ghosts = lambda part, fragments: False  # extend the full-text index, never rebuild a part
    table = store.table(SEGMENTS)
    ids = [r["id"] for r in table.search().select(["id"]).limit(None).to_arrow().to_pylist()]
    order = random.Random(args.seed).sample(ids, len(ids))
    done = 0
    for share in (float(s) for s in args.shares.split(",")):
        pick, done = order[done : int(share * len(ids))], max(done, int(share * len(ids)))
        if pick:
            rows = table.search().where("id IN (" + ", ".join(repr(i) for i in pick) + ")").limit(None).to_arrow().to_pylist()
            table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(rows)  # same text, new row
            store.dirty = True
            store.finish_writes()
        ranked, r10 = answer()
        changed = sum(a != b for a, b in zip(ranked, clean))
        print(f"{done} rows rewritten ({share:.1%}): ask R@10 {r10:.2f} ({r10 - clean_r10:+.2f}); top 10 changed for {changed} of {len(questions)} questions", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
