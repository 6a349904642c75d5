"""How many messages per chat segment? LoCoMo turn-level recall of `ask` for a few settings.

    python benchmarks/chat_segment_sweep.py [--conversations conv-26,conv-30,...] [--settings 1:96,2:96,4:96,6:128,8:192] [--bursts]

Each setting is MAX_MESSAGES:TOKENS. Recall counts the first k distinct message ids (a
passage of four messages spends four of the k), so bigger segments only win if they rank
the right turns higher.

--bursts sends each LoCoMo turn as one message per sentence, as people type in a messaging
app (several short messages in a row), so a setting tuned on LoCoMo's long turns is tried on
short ones. Recall still counts LoCoMo's turns: a passage spends one of the k per turn it
touches, and a turn is found when any of its sentences is.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import locomo_to_jsonl  # noqa: E402
from retrieval_metrics import turn_recall_at_k  # noqa: E402


def as_bursts(conversion) -> int:
    """Each turn becomes one message per sentence, ids `<turn id>#<n>`, a millisecond apart; returns the message count."""
    from evosearch.sources.base import SENTENCE_END

    count = 0
    for sample_id, turns in conversion.turns.items():
        messages = []
        for turn in turns:
            sentences = [s for s in SENTENCE_END.split(turn.text) if s.strip()] or [turn.text]
            start = datetime.fromisoformat(turn.ts)
            for n, sentence in enumerate(sentences):
                ts = (start + timedelta(milliseconds=n)).isoformat()
                messages.append(replace(turn, id=f"{turn.id}#{n}", ts=ts, text=sentence))
        conversion.turns[sample_id] = messages
        count += len(messages)
    return count


def as_turns(passages: list[list[str]]) -> list[list[str]]:
    """A passage's message ids as the LoCoMo turns they belong to (`D1:3#2` → `D1:3`), in order."""
    return [list(dict.fromkeys(m.split("#")[0] for m in ids)) for ids in passages]


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
            ranked = as_turns([r["message_ids"] for r in answer["results"]])
            r5 += turn_recall_at_k(ranked, set(q.evidence), 5)
            r10 += turn_recall_at_k(ranked, set(q.evidence), 10)
    n = len(conversion.questions)
    return report.segments_encoded, 100 * r5 / n, 100 * r10 / n


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--conversations", default="", help="comma-separated sample ids (default: all ten)")
    parser.add_argument("--settings", default="1:96,2:96,4:96,6:128,8:192")
    parser.add_argument("--bursts", action="store_true", help="one message per sentence (see above)")
    args = parser.parse_args(argv)
    conversion = locomo_to_jsonl.load(args.data)
    keep = set(args.conversations.split(",")) if args.conversations else set(conversion.turns)
    conversion.turns = {k: v for k, v in conversion.turns.items() if k in keep}
    conversion.questions = [q for q in conversion.questions if q.sample_id in keep]
    turns = conversion.turn_count
    messages = as_bursts(conversion) if args.bursts else turns
    print(f"{len(conversion.questions)} questions from {', '.join(sorted(keep))}; {turns} turns sent as {messages} messages")
    print(f"{'messages':>8} {'tokens':>6} {'segments':>8} {'R@5':>6} {'R@10':>6}")
    for setting in args.settings.split(","):
        messages, tokens = (int(x) for x in setting.split(":"))
        segments, r5, r10 = run(conversion, messages, tokens)
        print(f"{messages:>8} {tokens:>6} {segments:>8} {r5:>6.1f} {r10:>6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
