"""Context read, not learned: each segment goes through MiniLM after the last C tokens of its stream
before it, and is mean-pooled over its own tokens only ("late chunking", Günther et al. 2024,
arXiv:2409.04701). No weights change; C = 0 is the shipped static embedding exactly.

    python benchmarks/late_context.py [--context 0 64 128 254] [--content-only] [--speed] [--after 8:24 16:16]
        [--locomo ../shared/bench/locomo10.json]

The product's context read (evosearch/encoder/context_read.py, model/context) is the --content-only
reading at C = 32, w 0.5, f 0.2; benchmarks/quality.py measures it through index.

LoCoMo, 1,535 questions within their own conversation, segments of 4 messages as `index` makes them,
dense only, turn-level Recall@10 (first 10 distinct turns) overall, by category, and on the questions
whose evidence needs an earlier segment (retrieval_metrics.needs_earlier_context); the fixed rule
(add 0.2 x the previous segment's direction), the static vector plus w x the one read in context plus
f x the previous segment's static direction ((w, f) in MIXES; --context must start with 0), each also
on the two halves of the conversations (folds A and B), and torch fp32 segments/s of each C, from the
same run. With --speed: the int8 path's cost of each C instead (int8_speed). With --after B:A, also
each segment read between B content pieces before it and the first A of the next segment
(EncoderConfig.context_after), mixed by AHEAD_MIXES, with the point chosen on each fold scored on the other,
and that reading alone (no static pass: half the model calls) plus f x the previous segment's reading.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


MAX_TOKENS = 256
FIXED_RULE = 0.2
MIXES = [(w, f) for f in (0.0, 0.2) for w in (0.25, 0.5, 0.75, 1.0)]
AHEAD_MIXES = [(w, f) for f in (0.0, 0.2) for w in (0.75, 1.0, 1.5, 2.0)]  # a reading both ways weighs more
ONE_PASS_PREVIOUS = (0.0, 0.2, 0.3)  # without the static vector, the previous segment's reading is carried instead


def pool(bert, rows: list[list[int]], skip: list[int], batch: int = 32, ahead: list[int] | None = None) -> np.ndarray:
    """(n, D) unit vectors: each row of word pieces through MiniLM, mean-pooled over [CLS] and what
    follows its first `skip` pieces after [CLS] but its last `ahead` pieces before [SEP] (the context
    it was read after, or before, is attended, not pooled)."""
    ahead = ahead or [0] * len(rows)
    out = np.zeros((len(rows), 384), np.float32)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            group = order[s : s + batch]
            width = max(len(rows[i]) for i in group)
            ids = torch.zeros(len(group), width, dtype=torch.long)
            mask = torch.zeros_like(ids)
            weights = torch.zeros(len(group), width)
            for j, i in enumerate(group):
                ids[j, : len(rows[i])] = torch.tensor(rows[i])
                mask[j, : len(rows[i])] = 1
                weights[j, 0] = 1
                weights[j, 1 + skip[i] : len(rows[i]) - 1 - ahead[i]] = 1  # its own pieces
                weights[j, len(rows[i]) - 1] = 1  # [SEP]
            h = bert(ids, mask)
            out[group] = ((h * weights[..., None]).sum(1) / weights.sum(1, keepdim=True)).numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def read_after(own: list[int], before: list[int], context: int, after: list[int] = (), ahead: int = 0) -> tuple[list[int], int, int]:
    """([CLS] the last pieces of `before` that fit (at most `context`) own, then the first of `after`
    that still fit (at most `ahead`) [SEP], how many of `before`, how many of `after`): the rows
    context_read.ContextRead.row makes."""
    own = own[: MAX_TOKENS - 2]
    room = MAX_TOKENS - 2 - len(own)
    before = before[-min(context, room) :] if room > 0 and context else []
    after = list(after[: max(0, min(ahead, room - len(before)))])
    return [101, *before, *own, *after, 102], len(before), len(after)


def embed_stream(bert, tokenizer, segments: list[str], context: int, content_only: bool = False, ahead: int = 0) -> np.ndarray:
    """(n, D): segment t read after the last `context` word pieces of the stream before it (all that fit
    in MiniLM's window with it; with content_only, only its content words' pieces, as the product's
    context read keeps them), and before the first `ahead` content pieces of segment t + 1 (as
    EncoderConfig.context_after reads), pooled over its own."""
    from evosearch.encoder.context_read import ContentFilter

    pieces = [e.ids[1:-1] for e in tokenizer.encode_batch(segments)]  # without [CLS] and [SEP]
    content = [ContentFilter(tokenizer)(p) for p in pieces]
    before = content if content_only else pieces
    read = [
        read_after(own, [p for seg in before[max(0, t - 48) : t] for p in seg], context, content[t + 1] if t + 1 < len(pieces) else [], ahead)
        for t, own in enumerate(pieces)
    ]
    return pool(bert, [r for r, _, _ in read], [n for _, n, _ in read], ahead=[a for _, _, a in read])


def int8_speed(segments: list[list[str]], contexts: list[int], rounds: int = 3, content_only: bool = False, pairs: list[str] = ()) -> None:
    """Segments/s on the CPU path `index` ships (MiniLM int8, each segment alone in its call) of the
    static pass alone and of the static pass plus the segment read after C word pieces, against plain
    torch fp32 MiniLM (the issue's baseline), rounds alternating; medians. The int8 graph pools over
    all its tokens, so the context rows cost what they would with pooling over their own: speed only."""
    import statistics

    from locomo_ask import plain_minilm_rate

    from evosearch.encoder.common import load_tokenizer, model_dir
    from evosearch.encoder.context_read import ATTEND_ONLY, ContentFilter, Row
    from evosearch.encoder.int8_encoder import Int8Encoder

    encoder = Int8Encoder(model_dir())
    tokenizer = load_tokenizer(100_000)
    flat = [t for stream in segments for t in stream]
    pieces = [[e.ids[1:-1] for e in tokenizer.encode_batch(stream)] for stream in segments]
    rows = {}
    for c in contexts:
        content = ContentFilter(tokenizer)
        before = [[content(p) for p in stream] for stream in pieces] if content_only else pieces
        read = [read_after(own, [p for seg in kept[max(0, t - 48) : t] for p in seg], c) for stream, kept in zip(pieces, before) for t, own in enumerate(stream)]
        rows[c] = [Row(row, [1] + [ATTEND_ONLY] * before + [1] * (len(row) - 1 - before)) for row, before, _ in read if before or not c]  # a stream's first segment is read once
    for pair in pairs:  # read between B content pieces before and the next segment's first A (context_read.ContextRead.row)
        c, ahead = (int(n) for n in pair.split(":"))
        content = ContentFilter(tokenizer)
        kept = [[content(p) for p in stream] for stream in pieces]
        read = [
            read_after(own, [p for seg in k[max(0, t - 48) : t] for p in seg], c, k[t + 1] if t + 1 < len(stream) else [], ahead)
            for stream, k in zip(pieces, kept)
            for t, own in enumerate(stream)
        ]
        rows[pair] = [Row(row, [1] + [ATTEND_ONLY] * b + [1] * (len(row) - 2 - b - a) + [ATTEND_ONLY] * a + [1]) for row, b, a in read if b or a]
        contexts = [*contexts, pair]
    encoder.pool_rows(rows[0][:8])  # the session loads (and the int8 model is built) outside the timing
    rates: dict[str, list[float]] = {}
    for _ in range(rounds):
        rates.setdefault("plain torch fp32", []).append(plain_minilm_rate(flat))
        for c in contexts:
            t = time.perf_counter()
            encoder.pool_rows(rows[0])
            if c:
                encoder.pool_rows(rows[c])
            label = f" + read between {c.replace(':', ' and ')}" if isinstance(c, str) else f" + read after {c}" if c else ""
            rates.setdefault(f"int8, static{label}", []).append(len(flat) / (time.perf_counter() - t))
    base = statistics.median(rates["plain torch fp32"])
    for name, r in rates.items():
        print(f"{name:34s} {statistics.median(r):7.1f} segments/s  {statistics.median(r) / base:5.2f}x plain torch fp32", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--context", type=int, nargs="+", default=[0, 64, 128, 254])
    p.add_argument("--content-only", action="store_true", help="the context keeps only content words' pieces, as the product's context read does (context_read.ContentFilter)")
    p.add_argument("--speed", action="store_true", help="only the int8 path's segments/s for each --context (int8_speed)")
    p.add_argument("--after", nargs="+", default=[], metavar="BEFORE:AFTER", help="also read each segment between BEFORE content pieces before it and the next segment's first AFTER (EncoderConfig.context_after), mixed by AHEAD_MIXES; chosen on one fold, scored on the other")
    p.add_argument("--locomo", type=Path, default=ROOT.parent / "shared" / "bench" / "locomo10.json")
    a = p.parse_args()
    from memory_data import locomo_samples, turn_recall  # noqa: E402

    from evosearch.encoder.bert import load_bert
    from evosearch.encoder.common import base_model_dir, load_tokenizer

    torch.set_num_threads(2)
    samples, meta = locomo_samples(a.locomo)
    if a.speed:
        int8_speed([s.segments for s in samples], a.context, content_only=a.content_only, pairs=a.after)
        return
    bert = load_bert(base_model_dir()).float()
    tokenizer = load_tokenizer(100_000)
    queries = [embed_stream(bert, tokenizer, [q.text for q in s.queries], 0) for s in samples]
    n_segments = sum(len(s.segments) for s in samples)
    half = len(samples) // 2

    def scores(vectors) -> dict:
        """R@10 overall, on the questions needing an earlier segment, and on each half of the conversations."""
        parts = {"all": range(len(samples)), "fold A": range(half), "fold B": range(half, len(samples))}
        out = {k: turn_recall([vectors[i] for i in r], [queries[i] for i in r], [meta[i] for i in r]) for k, r in parts.items()}
        return out | {"context": turn_recall(vectors, queries, meta, context=True)}

    def unit_rows(vectors):
        return [v / np.linalg.norm(v, axis=1, keepdims=True) for v in vectors]

    results = {}
    for c in a.context:
        t = time.perf_counter()
        vectors = [embed_stream(bert, tokenizer, s.segments, c, a.content_only) for s in samples]
        seconds = time.perf_counter() - t
        if c == 0:
            static = vectors
            previous = [np.vstack([np.zeros_like(v[:1]), v[:-1]]) for v in static]
            results["fixed rule"] = scores(unit_rows([v + FIXED_RULE * b for v, b in zip(static, previous)]))
            print("fixed rule", json.dumps(results["fixed rule"]), flush=True)
        results[f"read after {c}"] = scores(vectors) | {"segments/s torch fp32": round(n_segments / seconds, 1)}
        print(f"read after {c}", json.dumps(results[f"read after {c}"]), flush=True)
        for w, f in MIXES if c else ():  # the static vector + w x the one read in context + f x the previous static
            mixed = unit_rows([v + w * x + f * b for v, x, b in zip(static, vectors, previous)])
            results[f"static + {w} x read after {c} + {f} x previous"] = mix = scores(mixed)
            print(f"static + {w} x read after {c} + {f} x previous", json.dumps(mix), flush=True)
    for pair in a.after:  # the static vectors and `previous` come from --context's 0
        c, ahead = (int(n) for n in pair.split(":"))
        vectors = [embed_stream(bert, tokenizer, s.segments, c, True, ahead) for s in samples]
        for w, f in AHEAD_MIXES:
            name = f"static + {w} x read between {c} and {ahead} + {f} x previous"
            results[name] = mix = scores(unit_rows([v + w * x + f * b for v, x, b in zip(static, vectors, previous)])) | {"pair": [c, ahead, w, f]}
            print(name, json.dumps(mix), flush=True)
        for f in ONE_PASS_PREVIOUS:  # the reading alone: one model call per segment instead of two
            carried = [np.vstack([np.zeros_like(v[:1]), v[:-1]]) for v in vectors]
            name = f"read between {c} and {ahead} alone + {f} x previous read"
            results[name] = alone = scores(unit_rows([x + f * b for x, b in zip(vectors, carried)]))
            print(name, json.dumps(alone), flush=True)
    if a.after:
        both = [r for r in results.values() if "pair" in r]
        for chosen_on, scored_on in (("fold A", "fold B"), ("fold B", "fold A")):
            best = max(both, key=lambda r: r[chosen_on])
            print(f"chosen on {chosen_on}: {best['pair']} ({best[chosen_on]}), out of fold on {scored_on}: {best[scored_on]}", flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
