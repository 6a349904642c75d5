"""Which training data makes the late-fusion memory (evosearch/encoder/memory.py) win on LoCoMo? One CPU run.

    python benchmarks/memory_data.py [--steps 600] [--chitchat 1500] [--sessions 400] [--synthetic 300]
        [--variants lme+synthetic,chitchat,chitchat+lme+synthetic,locomo]
        [--cache /tmp/evosearch-memory-data] [--locomo ../shared/bench/locomo10.json]

For each training set the same module is trained (evosearch.train.loop.Trainer, early stopping on
its own held-out split) and scored on LoCoMo's 1,535 questions, dense only, turn-level Recall@10
(first 10 distinct turns; segments of 4 messages as `index` makes them), next to static MiniLM
and the fixed rule (add 0.2 x the previous segment's direction) from the same run:

  lme+synthetic   evo-1's recipe (LongMemEval_S filler sessions, hold-out sentences; synthetic chats)
  chitchat        the Chit-Chat Challenge corpus (two people chatting; MIT), hold-out sentences
  chitchat-kept   the same conversations, but KEPT (0.7) of the chosen sentences stay in their segment and
                  their query is about half of their words: with that share, a query shares a content word
                  with its evidence as often as LoCoMo's questions do (72.7% against 78.3%; --overlap prints it)
  chitchat-context  as chitchat-kept, but a CONTEXT (0.3) share of the queries also carry 2-3 content words of
                  one of the 3 segments before that its own segment lacks: the subject was named earlier,
                  and only the memory can tie the segment to it
  chitchat+lme+synthetic
  locomo 2-fold   diagnostic: train on 5 LoCoMo conversations (its questions), test on the other 5, then swap;
                  those weights are thrown away (non-commercial licence, and LoCoMo is the test)

Base vectors (MiniLM fp32, mean pooled) are computed once and cached under --cache.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from evosearch.train.samples import Query, Sample  # noqa: E402
from retrieval_metrics import key_words, needs_earlier_context  # noqa: E402

FIXED_RULE = 0.2
KEPT, CONTEXT = 0.7, 0.3


def matched_samples(conversations, rng: random.Random, context: float) -> list[Sample]:
    """Chats through the hold-out recipe, except that KEPT of the chosen sentences stay in their
    segment with about half their words as the query, and a `context` share of those queries also
    name 2-3 content words that one of the 3 segments before says and this one does not."""
    from evosearch.train.pseudo_queries import hold_out_sentences
    from evosearch.train.recipes import segment_texts_with_owners

    samples = []
    for turns in conversations:
        segments, _ = segment_texts_with_owners(turns)
        if len(segments) < 3:
            continue
        texts, queries = list(segments), []
        held = hold_out_sentences(segments, rng)  # the segments it would change and their sentences
        for q in held.queries:
            i = q.evidence[0]
            if rng.random() >= KEPT:
                texts[i] = held.segments[i]
                queries.append(q)
                continue
            words = q.text.split()
            part = " ".join(words[k] for k in sorted(rng.sample(range(len(words)), max(3, len(words) // 2))))
            earlier = [n for n in range(max(0, i - 3), i) if key_words(segments[n]) - key_words(segments[i])]
            if earlier and rng.random() < context:
                named = sorted(key_words(segments[rng.choice(earlier)]) - key_words(segments[i]))
                part = " ".join(rng.sample(named, min(len(named), rng.randint(2, 3)))) + " " + part
            queries.append(Query(part, [i]))
        if queries:
            samples.append(Sample(texts, queries))
    return samples


def overlap(samples: list[Sample]) -> tuple[float, float]:
    """(% of queries sharing a content word with their evidence, % sharing none but with one of the segments before)."""
    share = context = n = 0
    for s in samples:
        speakers = {line.split(":")[0] for seg in s.segments for line in seg.split("\n") if ":" in line}
        for q in s.queries:
            n += 1
            key = key_words(q.text, speakers)
            if any(key & key_words(s.segments[e]) for e in q.evidence):
                share += 1
            elif needs_earlier_context(q.text, s.segments, q.evidence, speakers):
                context += 1
    return round(100 * share / max(1, n), 1), round(100 * context / max(1, n), 1)


def locomo_samples(path: Path) -> tuple[list[Sample], list[dict]]:
    """LoCoMo conversations as samples (questions with evidence segments) and, per conversation,
    what turn-level scoring needs: turn ids per segment, and per question its gold turns and category."""
    from token_memory_data import locomo_records

    samples, meta = [], []
    for r in locomo_records(path):
        owner = {t: n for n, ts in enumerate(r["turns"]) for t in ts}
        speakers = {line.split(":")[0] for seg in r["segments"] for line in seg.split("\n") if ":" in line}
        queries, golds = [], []
        for q in r["questions"]:
            gold = [t for t in q["evidence"] if t in owner]
            if gold:
                evidence = sorted({owner[t] for t in gold})
                queries.append(Query(q["text"], evidence))
                golds.append((gold, needs_earlier_context(q["text"], r["segments"], evidence, speakers)))
        samples.append(Sample(r["segments"], queries))
        meta.append({"turns": r["turns"], "golds": golds})
    return samples, meta


def turn_recall(vectors: list[np.ndarray], queries: list[np.ndarray], meta: list[dict], k: int = 10, context: bool = False) -> float:
    """Turn-level Recall@k; with `context`, only over the questions whose evidence needs an earlier segment."""
    scores = []
    for vec, qv, m in zip(vectors, queries, meta):
        order = np.argsort(-(qv @ vec.T), axis=1)
        for row, (gold, needs_context) in zip(order, m["golds"]):
            if context and not needs_context:
                continue
            seen: list[str] = []
            for n in row:
                seen += [t for t in m["turns"][n] if t not in seen]
                if len(seen) >= k:
                    break
            scores.append(len(set(seen[:k]) & set(gold)) / len(gold))
    return round(100 * float(np.mean(scores)), 2)


def both(vectors, queries, meta) -> dict:
    return {"r@10": turn_recall(vectors, queries, meta), "context": turn_recall(vectors, queries, meta, context=True)}


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def with_memory(memory, pooled: np.ndarray, on: bool) -> np.ndarray:
    import torch

    seg = torch.from_numpy(pooled)
    queue = torch.zeros(1, memory.slots, memory.dim)
    out = []
    memory.eval()
    with torch.no_grad():
        for t in range(len(seg)):
            emb, new = memory(seg[t : t + 1], queue if on else torch.zeros_like(queue))
            queue = new
            out.append(emb[0])
    return torch.stack(out).numpy()


def train(samples, features, steps: int, seed: int, out: Path):
    import torch

    from evosearch.encoder.memory import LatentMemory
    from evosearch.train.loop import TrainConfig, Trainer

    torch.manual_seed(seed)
    memory = LatentMemory(384, 32)
    trainer = Trainer(memory, features, samples, TrainConfig(steps=steps, seed=seed), out, log=lambda *a: None)
    trainer.fit()
    if trainer.best[1]:
        trainer.resume("best")
    return memory, trainer.best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--chitchat", type=int, default=1500)
    p.add_argument("--sessions", type=int, default=400)
    p.add_argument("--synthetic", type=int, default=300)
    p.add_argument("--variants", default="lme+synthetic,chitchat,chitchat+lme+synthetic,locomo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=Path("/tmp/evosearch-memory-data"))
    p.add_argument("--locomo", type=Path, default=ROOT.parent / "shared" / "bench" / "locomo10.json")
    p.add_argument("--longmemeval", type=Path, default=ROOT.parent / "shared" / "bench" / "longmemeval_s_dev100.json.gz")
    a = p.parse_args()

    from evosearch.encoder import load_training_encoder
    from evosearch.train.features import compute_features
    from evosearch.train.recipes import chitchat_conversations, chitchat_samples, longmemeval_filler
    from evosearch.train.synthetic import synthetic_samples

    encoder = load_training_encoder()
    t0 = time.time()
    locomo, meta = locomo_samples(a.locomo)
    lf = compute_features(locomo, encoder, a.cache)
    static = [unit(s) for s in lf.segments]
    queries = [unit(q) for q in lf.queries]
    fixed = [unit(s + FIXED_RULE * np.vstack([np.zeros_like(s[:1]), s[:-1]])) for s in static]
    rows = {"static MiniLM": both(static, queries, meta), "fixed rule": both(fixed, queries, meta)}
    print(f"LoCoMo features in {time.time() - t0:.0f}s; static {rows['static MiniLM']}, fixed rule {rows['fixed rule']}", flush=True)

    def score(memory) -> dict:
        on = [with_memory(memory, s, True) for s in lf.segments]
        return {"memory": both(on, queries, meta)}

    sources = {
        "lme+synthetic": lambda rng: longmemeval_filler(a.longmemeval, a.sessions, rng) + synthetic_samples(a.synthetic, rng),
        "chitchat": lambda rng: chitchat_samples(a.chitchat, rng),
        "chitchat-kept": lambda rng: matched_samples(chitchat_conversations(a.chitchat, rng), rng, 0.0),
        "chitchat-context": lambda rng: matched_samples(chitchat_conversations(a.chitchat, rng), rng, CONTEXT),
        "chitchat+lme+synthetic": lambda rng: chitchat_samples(a.chitchat, rng)
        + longmemeval_filler(a.longmemeval, a.sessions, rng)
        + synthetic_samples(a.synthetic, rng),
    }
    results = {"baselines": rows}
    print(f"LoCoMo: queries sharing a content word with their evidence / none but earlier: {overlap(locomo)}", flush=True)
    for name, build in sources.items():
        if name not in a.variants.split(","):
            continue
        t = time.time()
        samples = build(random.Random(a.seed))
        print(f"{name}: queries sharing a content word with their evidence / none but earlier: {overlap(samples)}", flush=True)
        features = compute_features(samples, encoder, a.cache)
        memory, best = train(samples, features, a.steps, a.seed, a.cache / f"run-{name}")
        results[name] = score(memory) | {"held-out best r@10": round(best[0], 2), "best step": best[1], "streams": len(samples)}
        print(f"{name}: {json.dumps(results[name])} ({time.time() - t:.0f}s)", flush=True)

    if "locomo" not in a.variants.split(","):
        print(json.dumps(results, indent=1))
        return
    folds = []
    half = len(locomo) // 2
    for k, (tr, te) in enumerate([(range(half), range(half, len(locomo))), (range(half, len(locomo)), range(half))]):
        from evosearch.train.features import Features

        tr, te = list(tr), list(te)
        feats = Features([lf.segments[i] for i in tr], [lf.queries[i] for i in tr])
        memory, _ = train([locomo[i] for i in tr], feats, a.steps, a.seed, a.cache / f"run-fold{k}")
        on = [with_memory(memory, lf.segments[i], True) for i in te]
        sub = [meta[i] for i in te]
        qs = [queries[i] for i in te]
        folds.append(
            {
                "memory": both(on, qs, sub),
                "static": both([static[i] for i in te], qs, sub),
                "fixed rule": both([fixed[i] for i in te], qs, sub),
            }
        )
        print(f"LoCoMo fold {k} out of fold: {json.dumps(folds[-1])}", flush=True)
    results["locomo 2-fold"] = folds
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
