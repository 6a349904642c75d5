"""int8 MiniLM one segment per call (today's `index` on a CPU) against batched calls (before issue 17).

    python benchmarks/int8_rows.py [--data ../shared/bench/locomo10.json] [--pairs 3] [--questions N]
        [--resamples 10000] [--speed-only]

ONNX Runtime's int8 model sets its activation scales per call, so a segment batched with others got
a vector that depended on them. encoder/int8_encoder.py now gives every segment a call of its own,
the calls spread over threads; the old path is rebuilt here: rows grouped by length into calls of
CALL_TOKENS_CPU padded tokens, one session with ONNX Runtime's default thread pool. From one run:

- batch independence: each path's vectors for the first 200 segments encoded alone against the
  same segments inside all of LoCoMo's segments (max abs difference);
- faithfulness: cosine of each path's vectors to torch fp32 MiniLM's over about 600 segments
  spread through LoCoMo (mean, min), each path pooling them together as `index` would;
- speed: the encoder calls `index` makes (encode.encode_streams) for LoCoMo's chats as they are
  (10 streams: calls of up to 10 segments) and with every segment a file of its own (calls of
  32), each call made by both paths back to back, first one then the other first; --pairs
  passes, the ratio new/old per pass and their median;
- quality: LoCoMo indexed through the product (indexer.index_paths) with each path, then asked
  every question: dense Recall@10 (vector search only) and `ask` Recall@10 (hybrid, time handling),
  turn level as benchmarks/quality.py scores it, and a paired bootstrap over questions of the
  difference (new - old): its 95% interval, and the share of resamples on the other side of 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

import locomo_to_jsonl
from retrieval_metrics import turn_recall_at_k


def batched_encoder(folder: Path):
    """Int8Encoder as it was before issue 17: length-grouped padded calls in one multi-threaded session."""
    from evosearch.encoder.int8_encoder import Int8Encoder
    from evosearch.encoder.common import CALL_TOKENS_CPU, base_model_dir, length_groups, pad_rows
    from evosearch.encoder.onnx_models import load_session

    class BatchedInt8Encoder(Int8Encoder):
        def pool_rows(self, encodings: list) -> np.ndarray:
            if self._session is None:
                self._session = load_session(base_model_dir(), threads=0)  # one per physical core
            out = np.empty((len(encodings), self.dim), dtype=np.float32)
            for rows in length_groups([len(e.ids) for e in encodings], CALL_TOKENS_CPU):
                ids, mask = pad_rows([encodings[r] for r in rows])
                out[rows] = self._session.run(None, {"ids": ids, "mask": mask})[0]
            return out

    return BatchedInt8Encoder(folder)


def segment_texts(data_dir: Path) -> list[str]:
    from evosearch.segment import segment_stream
    from evosearch.sources.detect import read_source

    return [s.text for f in sorted(data_dir.glob("*.jsonl")) for st in read_source(f, print) for s in segment_stream(st)]


def independence(encoder, encodings: list, count: int = 200) -> float:
    together = encoder.pool_rows(encodings)
    alone = np.concatenate([encoder.pool_rows([e]) for e in encodings[:count]])
    return float(np.abs(alone - together[:count]).max())


def cosine_to_fp32(encoders: dict, texts: list[str]) -> dict[str, tuple[float, float]]:
    """(mean, min) cosine of each path's unit vectors to torch fp32 MiniLM's, over texts pooled together."""
    from evosearch.encoder.memory_numpy import unit
    from evosearch.encoder.minilm import load_torch_encoder

    reference = unit(load_torch_encoder("cpu").pooled(texts))
    out = {}
    for name, encoder in encoders.items():
        cosines = (unit(encoder.pool_rows(encoder.tokenize(texts))) * reference).sum(1)
        out[name] = (float(cosines.mean()), float(cosines.min()))
    return out


def product_calls(data_dir: Path, one_per_file: bool) -> list[list[str]]:
    """The text batches `index` hands the encoder (encode.encode_streams, STREAM_BATCH streams side
    by side): LoCoMo's chats as they are, or each segment as a file of its own (a folder of notes)."""
    from evosearch.encode import StreamJob, encode_streams
    from evosearch.segment import segment_stream
    from evosearch.sources.detect import read_source

    streams = [[s.text for s in segment_stream(st)] for f in sorted(data_dir.glob("*.jsonl")) for st in read_source(f, print)]
    if one_per_file:
        streams = [[t] for texts in streams for t in texts]
    calls = []

    class Recorder:
        def encode(self, texts, memory):
            calls.append(list(texts))
            return np.zeros((len(texts), 1), np.float32), memory

    jobs = [StreamJob(i, texts, 0, np.zeros((1, 1), np.float32)) for i, texts in enumerate(streams)]
    for _ in encode_streams(jobs, Recorder()):
        pass
    return calls


def speed_pairs(old, new, calls: list[list[str]], passes: int) -> list[tuple[float, float]]:
    """(old, new) segments/s per pass over the calls. Each call is encoded by both paths back to
    back, the first alternating, so a change in the machine's load (it is shared) falls on both."""
    segments = sum(len(c) for c in calls)
    out = []
    for p in range(passes):
        seconds = {"old": 0.0, "new": 0.0}
        for c, texts in enumerate(calls):
            for name in ("old", "new") if (p + c) % 2 == 0 else ("new", "old"):
                encoder = old if name == "old" else new
                began = time.perf_counter()
                encoder.encode(texts, encoder.empty_memory(len(texts)))
                seconds[name] += time.perf_counter() - began
        out.append((segments / seconds["old"], segments / seconds["new"]))
    return out


def index_and_ask(data_dir: Path, db: Path, encoder, questions: list[dict]) -> dict[str, list[float]]:
    """Per-question Recall@10, dense and `ask`."""
    from quality import build_index, dense, hybrid

    store, _, _ = build_index(data_dir, db, encoder)
    recall = {"dense": [], "ask": []}
    for q in questions:
        gold = set(q["evidence"])
        source = f"{q['sample_id']}.jsonl"
        recall["dense"].append(turn_recall_at_k(dense(store, encoder, q["question"], source), gold, 10))
        recall["ask"].append(turn_recall_at_k(hybrid(store, encoder, q, source), gold, 10))
    store.close()
    return recall


def paired_bootstrap(old: list[float], new: list[float], resamples: int, seed: int = 0) -> tuple[float, float, float, float]:
    """(mean difference, 2.5th and 97.5th percentile of resampled means, share of resamples with the other sign), in points."""
    diff = 100 * (np.asarray(new) - np.asarray(old))
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(1)
    mean = float(diff.mean())
    other_side = float((means <= 0).mean() if mean > 0 else (means >= 0).mean())
    return mean, float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)), other_side


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--pairs", type=int, default=3, help="speed passes, each call made by both paths")
    parser.add_argument("--questions", type=int, default=None, help="only the first N questions (quick runs)")
    parser.add_argument("--resamples", type=int, default=10000, help="bootstrap resamples")
    parser.add_argument("--speed-only", action="store_true", help="no indexing and no questions")
    args = parser.parse_args(argv)

    from evosearch.encoder.int8_encoder import Int8Encoder
    from evosearch.encoder.common import model_dir

    started = time.monotonic()
    new, old = Int8Encoder(model_dir()), batched_encoder(model_dir())
    print(f"encoder: {new.model_id}; new path: {new.workers} threads, one segment per call")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "locomo"
        locomo_to_jsonl.write(locomo_to_jsonl.load(args.data), data_dir)
        (data_dir / "questions.jsonl").rename(tmp / "questions.jsonl")
        questions = [json.loads(line) for line in (tmp / "questions.jsonl").read_text().splitlines()][: args.questions]
        encodings = new.tokenize(segment_texts(data_dir))
        tokens = sum(len(e.ids) for e in encodings)
        print(f"LoCoMo: {len(encodings)} segments, {tokens} tokens, {len(questions)} questions\n")

        print("batch independence (200 segments alone vs inside all segments), max abs difference:")
        print(f"  old (batched calls): {independence(old, encodings):.3g}   new (one per call): {independence(new, encodings):.3g}\n")

        texts = segment_texts(data_dir)[:: max(1, len(encodings) // 600)]
        faithful = cosine_to_fp32({"old": old, "new": new}, texts)
        cosines = ", ".join(f"{k} {m:.5f} / {n:.4f}" for k, (m, n) in faithful.items())
        print(f"cosine to torch fp32 over {len(texts)} segments (mean / min): {cosines}\n")

        for shape, one_per_file in (("LoCoMo's 10 chats", False), ("every segment a file of its own", True)):
            calls = product_calls(data_dir, one_per_file)
            pairs = speed_pairs(old, new, calls, args.pairs)
            print(f"speed, {shape} ({len(calls)} calls of at most {max(map(len, calls))} segments), tokenising included:")
            print("| pass | old seg/s | new seg/s | new/old |\n|---|---|---|---|")
            for p, (o, n) in enumerate(pairs, 1):
                print(f"| {p} | {o:.1f} | {n:.1f} | {n / o:.2f}x |")
            print(f"median new/old: {statistics.median(n / o for o, n in pairs):.2f}x\n")
        if args.speed_only:
            return 0
        recall_old = index_and_ask(data_dir, tmp / "db-old", old, questions)
        recall_new = index_and_ask(data_dir, tmp / "db-new", new, questions)
        print("| LoCoMo Recall@10 | old | new | new - old | 95% bootstrap interval | resamples on the other side of 0 |")
        print("|---|---|---|---|---|---|")
        for kind in ("dense", "ask"):
            mean, low, high, other = paired_bootstrap(recall_old[kind], recall_new[kind], args.resamples)
            o, n = 100 * np.mean(recall_old[kind]), 100 * np.mean(recall_new[kind])
            changed = sum(a != b for a, b in zip(recall_old[kind], recall_new[kind]))
            print(f"| {kind} ({changed} questions differ) | {o:.1f} | {n:.1f} | {mean:+.2f} | [{low:+.2f}, {high:+.2f}] | {other:.2f} |")
    print(f"\n({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
