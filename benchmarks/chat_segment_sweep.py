"""How many messages per chat segment? LoCoMo turn-level recall of `ask` for a few settings.

    python benchmarks/chat_segment_sweep.py [--conversations conv-26,conv-30,...] [--settings 1:96,2:96,4:96,6:128,8:192]

Each setting is MAX_MESSAGES:TOKENS. Recall counts the first k distinct message ids (a
passage of four messages spends four of the k), so bigger segments only win if they rank
the right turns higher.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import locomo_to_jsonl  # noqa: E402
from retrieval_metrics import turn_recall_at_k  # noqa: E402


def run(conversion, max_messages: int, tokens: int) -> tuple[int, float, float]:
    import evosearch.segment as segment
    from evosearch.api import open_index
    from evosearch.indexer import index_paths
    from evosearch.search import ask

    segment.CHAT_SEGMENT_MAX_MESSAGES, segment.CHAT_SEGMENT_TOKENS = max_messages, tokens
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        locomo_to_jsonl.write(conversion, data)
        (data / "questions.jsonl").unlink()
        store, encoder = open_index(str(Path(tmp) / "db"), write=True)
        report = index_paths([data], store, encoder, print)
        r5 = r10 = 0.0
        for q in conversion.questions:
            answer = ask(store, encoder, q.question, now=datetime.fromisoformat(q.now), limit=10, source=f"{q.sample_id}.jsonl")
            ranked = [r["message_ids"] for r in answer["results"]]
            r5 += turn_recall_at_k(ranked, set(q.evidence), 5)
            r10 += turn_recall_at_k(ranked, set(q.evidence), 10)
    n = len(conversion.questions)
    return report.segments_encoded, 100 * r5 / n, 100 * r10 / n


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--conversations", default="", help="comma-separated sample ids (default: all ten)")
    parser.add_argument("--settings", default="1:96,2:96,4:96,6:128,8:192")
    args = parser.parse_args(argv)
    conversion = locomo_to_jsonl.load(args.data)
    keep = set(args.conversations.split(",")) if args.conversations else set(conversion.turns)
    conversion.turns = {k: v for k, v in conversion.turns.items() if k in keep}
    conversion.questions = [q for q in conversion.questions if q.sample_id in keep]
    print(f"{len(conversion.questions)} questions from {', '.join(sorted(keep))}")
    print(f"{'messages':>8} {'tokens':>6} {'segments':>8} {'R@5':>6} {'R@10':>6}")
    for setting in args.settings.split(","):
        messages, tokens = (int(x) for x in setting.split(":"))
        segments, r5, r10 = run(conversion, messages, tokens)
        print(f"{messages:>8} {tokens:>6} {segments:>8} {r5:>6.1f} {r10:>6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
