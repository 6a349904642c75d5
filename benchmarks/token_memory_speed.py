"""What token-level memory costs at indexing time on a CPU, by queue length (issue 23, section 2).

    python benchmarks/token_memory_speed.py [--queues 0 16 32 64 128 256] [--latents 4] [--rounds 3]

Issue 23 asks that token-level fusion index at >= 0.5x plain torch fp32 MiniLM on a CPU. This
times evosearch.encoder.token_memory.TokenMemory's forward (inference mode, fp32, untrained
weights: the cost does not depend on them), each segment read as [queue | segment | latents],
against plain MiniLM reading the segment alone, on the same batches: 32 streams side by side (one
segment of each per call, as `index` batches streams), 96-token segments (a 4-message chat
segment). Rounds alternate plain and each queue length (A B A B), medians reported.
Not measured: the int8 ONNX path, which has no export of the token memory yet.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evosearch.encoder.bert import load_bert  # noqa: E402
from evosearch.encoder.common import base_model_dir  # noqa: E402
from evosearch.encoder.token_memory import TokenMemory, TokenMemoryConfig  # noqa: E402


def plain_rate(bert, ids, mask, calls: int) -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        for _ in range(calls):
            out = bert(ids, mask)
            (out * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    return calls * ids.shape[0] / (time.perf_counter() - start)


def memory_rate(module, ids, mask, calls: int) -> float:
    queue = module.empty_queue(ids.shape[0])
    start = time.perf_counter()
    with torch.inference_mode():
        for _ in range(calls):
            _, queue = module(ids, mask, queue)  # the queue fills as a stream's would
    return calls * ids.shape[0] / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queues", type=int, nargs="+", default=[0, 16, 32, 64, 128, 256])
    parser.add_argument("--latents", type=int, default=4)
    parser.add_argument("--streams", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    bert = load_bert(base_model_dir()).eval()
    ids = torch.randint(1000, 20000, (args.streams, args.tokens))
    mask = torch.ones_like(ids)
    modules = {}
    for q in args.queues:
        latents = args.latents if q else 0
        config = TokenMemoryConfig(queue_tokens=q or args.latents, latent_tokens=args.latents, lora_rank=0)
        modules[q] = (TokenMemory(bert, config).eval(), latents)
    plain_rate(bert, ids, mask, 1)  # warm up
    rates: dict[object, list[float]] = {"plain": [], **{q: [] for q in args.queues}}
    for _ in range(args.rounds):
        for q, (module, latents) in modules.items():
            rates["plain"].append(plain_rate(bert, ids, mask, args.calls))
            if q == 0:  # the module with an empty queue and no latents: its own overhead only
                rates[q].append(memory_rate_no_latents(module, ids, mask, args.calls))
            else:
                rates[q].append(memory_rate(module, ids, mask, args.calls))
    plain = statistics.median(rates["plain"])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.streams} streams x {args.tokens} tokens per call")
    print(f"plain MiniLM fp32: {plain:.1f} segments/s (median of {len(rates['plain'])})\n")
    print("| queue tokens | latents | sequence | segments/s | x plain |")
    print("|---|---|---|---|---|")
    for q, (_, latents) in modules.items():
        r = statistics.median(rates[q])
        print(f"| {q} | {latents} | {q + args.tokens + latents} | {r:.1f} | {r / plain:.2f} |")
    return 0


def memory_rate_no_latents(module, ids, mask, calls: int) -> float:
    queue = torch.zeros(ids.shape[0], 0, module.bert.config.hidden_size)
    module.slot.data = module.slot.data[:0]
    start = time.perf_counter()
    with torch.inference_mode():
        for _ in range(calls):
            module(ids, mask, queue, with_latents=False)
    return calls * ids.shape[0] / (time.perf_counter() - start)


if __name__ == "__main__":
    raise SystemExit(main())
