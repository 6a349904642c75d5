"""What token-level memory fusion (the paper's design) would cost to train on this CPU.

    python benchmarks/token_fusion_cost.py [--batch 32] [--segment-tokens 96] [--queue-tokens 256] [--latents 16]

EvoEmbedding prepends the memory queue to each segment's tokens inside the backbone and
appends latent query tokens: every training step runs the backbone forward and backward over
[queue | segment | latents]. evosearch's bundled memory (late fusion) trains on cached pooled
vectors instead. This prints, in one run on the same machine, MiniLM segment passes per second
for: the plain forward evosearch pays once per segment (segment tokens only, no grad), and a
training pass of token-level fusion (queue + segment + latents, gradients flowing through all
six layers as LoRA adapters need). It then turns the training rate into how many segment
passes a 2-hour CPU budget buys, against what evo-1's training consumed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evosearch.encoder.bert import load_bert  # noqa: E402
from evosearch.encoder.common import base_model_dir  # noqa: E402

# evo-1's training (model/evo-1/training.json): 1,500 steps x 32 streams x (32 burn-in + 32 trained) segments.
EVO1_SEGMENT_PASSES = 1_500 * 32 * 64
BUDGET_S = 2 * 3600


def passes_per_second(bert, batch: int, tokens: int, train: bool, repeats: int) -> float:
    ids = torch.randint(1000, 20000, (batch, tokens))
    mask = torch.ones_like(ids)
    embeds = bert.embeddings.word_embeddings
    for p in bert.parameters():
        p.requires_grad_(False)
    rates = []
    for _ in range(repeats + 1):  # the first repeat warms up
        start = time.perf_counter()
        if train:
            # Gradients must reach inputs in every layer (as for LoRA on attention/FFN), so backward
            # traverses the whole network; a trainable input offset stands in for adapters and latents.
            offset = torch.zeros(1, tokens, bert.config.hidden_size, requires_grad=True)
            handle = embeds.register_forward_hook(lambda m, i, out: out + offset)
            try:
                bert(ids, mask).mean(1).pow(2).sum().backward()
            finally:
                handle.remove()
        else:
            with torch.inference_mode():
                bert(ids, mask)
        rates.append(batch / (time.perf_counter() - start))
    return sorted(rates[1:])[len(rates[1:]) // 2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--segment-tokens", type=int, default=96, help="a 4-message chat segment")
    parser.add_argument("--queue-tokens", type=int, default=256, help="16 segments x 16 latents: what fits 512 positions")
    parser.add_argument("--latents", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    bert = load_bert(base_model_dir())
    fused = args.queue_tokens + args.segment_tokens + args.latents
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}")
    plain = passes_per_second(bert, args.batch, args.segment_tokens, train=False, repeats=args.repeats)
    fused_fwd = passes_per_second(bert, args.batch, fused, train=False, repeats=args.repeats)
    fused_train = passes_per_second(bert, args.batch, fused, train=True, repeats=args.repeats)
    print(f"plain forward, {args.segment_tokens} tokens (what index pays):        {plain:7.1f} segments/s")
    print(f"token fusion forward, {fused} tokens (queue + segment + latents): {fused_fwd:7.1f} segments/s ({fused_fwd / plain:.2f}x)")
    print(f"token fusion training pass, {fused} tokens, forward + backward:   {fused_train:7.1f} segments/s ({fused_train / plain:.2f}x)")
    budget = fused_train * BUDGET_S
    print(
        f"2-hour CPU budget: {budget:,.0f} training segment passes = {budget / EVO1_SEGMENT_PASSES:.1%} of the "
        f"{EVO1_SEGMENT_PASSES:,} segment passes evo-1's late-fusion training consumed (on cached vectors)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
