"""Token-level memory on the CPU's ONNX path: does it export, how close are its vectors, how fast is it?

    python benchmarks/token_memory_onnx.py [--segments 120] [--queue 32] [--latents 4]

Issue 23 asks that token-level fusion run through the same ONNX CPU path as the base, each
segment's vector independent of its batch neighbours. This exports
evosearch.encoder.token_memory.TokenMemory, (ids, mask, queue) -> (embedding, next queue), with the
exporter `index` uses for MiniLM (onnx_models.export_pooled's settings), quantises it with the
shipped int8 recipe (onnx_models.quantize: per-channel weights, activations per call, feed-forward
outputs fp32), and runs one real chat stream (LoCoMo's first conversation, 4-message segments as
`index` makes them) through torch fp32, ONNX fp32 and ONNX int8, each segment alone in its call
(batch 1: nothing else in the call, so no neighbour can move its vector), each path carrying its
own queue. Printed: cosine of each path's vectors to torch's, and segments/s against plain MiniLM
int8 (the shipped `index` path's model, one segment per call) and plain torch fp32 in batches of 32
(the issue's baseline) on the same segments, alternating. The module's weights are untrained (latents at their start): the
arithmetic, not what it learned, is what this measures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import locomo_to_jsonl  # noqa: E402

from evosearch.encoder.bert import load_bert  # noqa: E402
from evosearch.encoder.common import base_model_dir, load_tokenizer, pad_rows  # noqa: E402
from evosearch.encoder.onnx_models import load_session, open_session, quantize  # noqa: E402
from evosearch.encoder.token_memory import TokenMemory, TokenMemoryConfig  # noqa: E402


def segments_of_first_conversation(limit: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        locomo_to_jsonl.write(locomo_to_jsonl.load(locomo_to_jsonl.DEFAULT_INPUT), Path(tmp))
        first = sorted(Path(tmp).glob("conv-*.jsonl"))[0]
        lines = [json.loads(line) for line in first.read_text().splitlines()]
    turns = [f"{m['speaker']}: {m['text']}" for m in lines]
    return ["\n".join(turns[i : i + 4]) for i in range(0, len(turns), 4)][:limit]


def export(module: TokenMemory, out: Path, queue_tokens: int) -> None:
    class Step(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.module = module

        def forward(self, ids, mask, queue):
            return self.module(ids, mask, queue)

    ids = torch.randint(1000, 2000, (1, 20))
    sample = (ids, torch.ones_like(ids), module.empty_queue(1))
    axes = {"ids": {1: "tokens"}, "mask": {1: "tokens"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Step(), sample, out, input_names=["ids", "mask", "queue"], output_names=["embedding", "next_queue"], dynamic_axes=axes, dynamo=False
        )


def run_torch(module, encodings, queue_tokens) -> tuple[np.ndarray, float]:
    queue, out = module.empty_queue(1), []
    start = time.perf_counter()
    with torch.inference_mode():
        for e in encodings:
            ids = torch.tensor([e.ids])
            embedding, queue = module(ids, torch.ones_like(ids), queue)
            out.append(embedding[0].numpy())
    return np.stack(out), len(encodings) / (time.perf_counter() - start)


def run_onnx(session, encodings, queue_tokens, dim) -> tuple[np.ndarray, float]:
    queue, out = np.zeros((1, queue_tokens, dim), dtype=np.float32), []
    start = time.perf_counter()
    for e in encodings:
        ids = np.asarray([e.ids], dtype=np.int64)
        embedding, queue = session.run(None, {"ids": ids, "mask": np.ones_like(ids), "queue": queue})
        out.append(embedding[0])
    return np.stack(out), len(encodings) / (time.perf_counter() - start)


def plain_rates(bert, session, encodings) -> tuple[float, float]:
    """Plain MiniLM: torch fp32 in padded batches of 32 (the issue's baseline, as benchmarks/quality.py
    times it), and the shipped int8 model one segment per call."""
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(encodings), 32):
            ids, mask = (torch.from_numpy(a) for a in pad_rows(encodings[i : i + 32]))
            out = bert(ids, mask)
            (out * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    torch_rate = len(encodings) / (time.perf_counter() - start)
    start = time.perf_counter()
    for e in encodings:
        ids = np.asarray([e.ids], dtype=np.int64)
        session.run(None, {"ids": ids, "mask": np.ones_like(ids)})
    return torch_rate, len(encodings) / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=120)
    parser.add_argument("--queue", type=int, default=32)
    parser.add_argument("--latents", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    bert = load_bert(base_model_dir()).eval()
    module = TokenMemory(bert, TokenMemoryConfig(queue_tokens=args.queue, latent_tokens=args.latents, lora_rank=0)).eval()
    encodings = load_tokenizer(256).encode_batch(segments_of_first_conversation(args.segments))
    dim = bert.config.hidden_size
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "memory-fp32.onnx", Path(tmp) / "memory-int8.onnx"
        started = time.perf_counter()
        export(module, fp32, args.queue)
        quantize(fp32, int8)
        built = time.perf_counter() - started
        sessions = {"ONNX fp32": open_session(fp32, threads), "ONNX int8": open_session(int8, threads)}
        plain_int8 = load_session(base_model_dir(), threads=threads)
        reference, _ = run_torch(module, encodings, args.queue)
        vectors = {name: run_onnx(s, encodings, args.queue, dim)[0] for name, s in sessions.items()}
        rates: dict[str, list[float]] = {k: [] for k in ("plain torch fp32, batches of 32", "plain int8 (shipped)", "memory torch fp32", "memory ONNX fp32", "memory ONNX int8")}
        for _ in range(args.rounds):
            t, i = plain_rates(bert, plain_int8, encodings)
            rates["plain torch fp32, batches of 32"].append(t)
            rates["plain int8 (shipped)"].append(i)
            rates["memory torch fp32"].append(run_torch(module, encodings, args.queue)[1])
            for name, s in sessions.items():
                rates[f"memory {name}"].append(run_onnx(s, encodings, args.queue, dim)[1])
    print(f"{len(encodings)} segments of one LoCoMo conversation, one per call, in stream order; queue {args.queue}, latents {args.latents}; {threads} threads")
    print(f"export + int8 quantisation: {built:.1f} s\n")
    print("| path | cosine to torch fp32: min / mean |")
    print("|---|---|")
    for name, v in vectors.items():
        cos = (v * reference).sum(1)
        print(f"| memory {name} | {cos.min():.4f} / {cos.mean():.4f} |")
    base = statistics.median(rates["plain torch fp32, batches of 32"])
    print(f"\n| path | segments/s (median of {args.rounds}) | x plain torch fp32 |")
    print("|---|---|---|")
    for name, r in rates.items():
        print(f"| {name} | {statistics.median(r):.1f} | {statistics.median(r) / base:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
