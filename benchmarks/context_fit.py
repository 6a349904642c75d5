"""Does `evosearch train` choose the context read's weights that real questions would? A diagnostic on
LoCoMo (train/context_fit.py; LoCoMo's weights are never kept).

    python benchmarks/context_fit.py --db LOCOMO_DB [--locomo ../shared/bench/locomo10.json] [--seed 0]

LOCOMO_DB: an index of LoCoMo as benchmarks/locomo_to_jsonl.py writes it (`evosearch index` of that
folder; any model: only its segments' texts and message ids are read). Each conversation is one
stream of those segments. Two sets of queries over the same streams:
- LoCoMo's questions, each with the segments holding its evidence messages;
- what `train --self-supervised` makes of the streams: sentences held out of their segments.
For each, train/context_fit.choose picks the weights on one half of the conversations (and, beside
it, the grid's best mean reciprocal rank outright, without its one-standard-error rule), and they are
scored on the other half's LoCoMo questions (two folds by conversation, as benchmarks/fusion.py
splits them); the bundled weights (model/context) and memory off are scored beside them. Figures:
dense retrieval within a conversation, segment level (a hit: a segment holding an evidence message),
R@1, R@10 and mean reciprocal rank, out of fold.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("EVOSEARCH_MODEL", "context")

from evosearch.train.context_fit import choose, read_streams, recall  # noqa: E402
from evosearch.train.pseudo_queries import hold_out_sentences  # noqa: E402
from evosearch.train.samples import Query, Sample  # noqa: E402


def locomo_streams(db: str, questions_file: Path) -> tuple[list[str], list[Sample]]:
    """(conversation ids, one Sample per conversation with LoCoMo's questions as queries)."""
    import json

    from evosearch.store import open_for_search

    rows = open_for_search(db).scan(None, ["stream_id", "position", "message_ids", "text"])
    streams: dict[str, list[dict]] = {}
    for r in rows:
        streams.setdefault(r["stream_id"].rsplit("#", 1)[-1], []).append(r)
    questions = [json.loads(line) for line in questions_file.read_text().splitlines() if line.strip()]
    names, samples = sorted(streams), []
    for name in names:
        segments = sorted(streams[name], key=lambda r: r["position"])
        queries = []
        for q in questions:
            if q["sample_id"] != name:
                continue
            evidence = [i for i, s in enumerate(segments) if set(s["message_ids"] or []) & set(q["evidence"])]
            if evidence:
                queries.append(Query(q["question"], evidence))
        samples.append(Sample([s["text"] for s in segments], queries))
    return names, samples


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--questions", type=Path, help="locomo_to_jsonl.py's questions.jsonl (default: converted from --locomo)")
    parser.add_argument("--locomo", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "bench" / "locomo10.json")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    questions = args.questions
    if questions is None:
        import tempfile

        import locomo_to_jsonl

        folder = Path(tempfile.mkdtemp())
        locomo_to_jsonl.write(locomo_to_jsonl.load(args.locomo), folder)
        questions = folder / "questions.jsonl"
    from evosearch.encoder import load_training_encoder

    encoder = load_training_encoder("minilm")
    names, real = locomo_streams(args.db, questions)
    rng = random.Random(args.seed)
    held = [hold_out_sentences(s.segments, rng) for s in real]  # as index_samples builds them
    print(f"{len(real)} conversations, {sum(len(s.segments) for s in real)} segments, "
          f"{sum(len(s.queries) for s in real)} questions, {sum(len(s.queries) for s in held)} held-out sentences", file=sys.stderr)
    real_parts, held_parts = read_streams(real, encoder), read_streams(held, encoder)
    folds = [list(range(len(names) // 2)), list(range(len(names) // 2, len(names)))]
    bundled = (encoder.config.context_weight, encoder.config.previous_weight)
    rows: dict[str, list] = {"memory off": [], f"bundled {bundled[0]}/{bundled[1]}": []}
    chosen: dict[str, list] = {}
    for fold, other in ((0, 1), (1, 0)):
        test = folds[other]
        rows["memory off"].append(recall(real, real_parts, test, 0.0, 0.0))
        rows[f"bundled {bundled[0]}/{bundled[1]}"].append(recall(real, real_parts, test, *bundled))
        for source, (samples, parts) in (("LoCoMo's questions", (real, real_parts)), ("held-out sentences", (held, held_parts))):
            w, p, grid = choose(samples, parts, folds[fold], bundled)
            chosen.setdefault(f"chosen on {source} (as `train`)", []).append(((w, p), recall(real, real_parts, test, w, p)))
            w, p = max(grid, key=lambda wp: grid[wp]["mrr"])  # without the one-standard-error rule
            chosen.setdefault(f"best MRR on {source}, outright", []).append(((w, p), recall(real, real_parts, test, w, p)))
    print("| weights | picked (fold A / B) | R@1 | R@10 | MRR |\n|---|---|---|---|---|")

    def pooled(figures: list[dict]) -> str:
        n = sum(f["queries"] for f in figures)
        return " | ".join(f"{sum(f[k] * f['queries'] for f in figures) / n:.1f}" for k in ("r@1", "r@10", "mrr"))

    for label, figures in rows.items():
        print(f"| {label} | | {pooled(figures)} |")
    for label, picks in chosen.items():
        names_ = " / ".join(f"{w}/{p}" for (w, p), _ in picks)
        print(f"| {label} | {names_} | {pooled([f for _, f in picks])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
