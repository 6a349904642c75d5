"""The latent memory: what a segment reads from the stream before it, and what it leaves behind.

MiniLM stays frozen and reads each segment alone (mean-pooled, 384-d). Around that pooled
vector sits a small trainable module:

- read: the segment's pooled vector attends (4 heads) over the queue of latents left by the
  segments before it, plus a learned "nothing relevant" slot, with a learned embedding per
  queue position (how long ago); the result is added to the segment's own direction through
  a zero-initialised output projection, so untrained weights give static MiniLM exactly;
- write: the segment's latent is a projection of its own vector and what it read, so a fact
  can travel further than the queue is long; it is pushed onto the queue, the oldest latent
  drops out.

One pass of the base model per segment, and the memory costs two small matrix products on
top: indexing speed stays that of static MiniLM. Queries are embedded without memory (the
same base vector through the same pooling), so one query works against every stream.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

HEADS = 4


class LatentMemory(nn.Module):
    def __init__(self, dim: int, slots: int, latents_per_segment: int = 1):
        super().__init__()
        self.dim, self.slots, self.latents = dim, slots, latents_per_segment
        self.norm = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.age = nn.Parameter(torch.zeros(slots, dim))  # slot 0 is the oldest
        self.null_key = nn.Parameter(torch.zeros(1, dim))
        self.null_value = nn.Parameter(torch.zeros(1, dim))
        self.out = nn.Linear(dim, dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.write = nn.Linear(2 * dim, latents_per_segment * dim)
        self.write_norm = nn.LayerNorm(dim)

    def read(self, pooled: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """pooled (B, D), memory (B, Q, D) -> what the segment reads (B, D). Empty slots are all-zero."""
        b, q, d = memory.shape
        h = d // HEADS
        filled = memory.abs().sum(-1) > 0  # (B, Q)
        keys = self.key(memory) + self.age  # (B, Q, D)
        keys = torch.cat([self.null_key.expand(b, 1, d), keys], dim=1)  # (B, 1+Q, D)
        values = torch.cat([self.null_value.expand(b, 1, d), self.value(memory)], dim=1)
        mask = torch.cat([filled.new_ones(b, 1), filled], dim=1)  # (B, 1+Q)
        query = self.query(self.norm(pooled)).view(b, HEADS, 1, h)
        keys = keys.view(b, q + 1, HEADS, h).transpose(1, 2)  # (B, H, 1+Q, h)
        values = values.view(b, q + 1, HEADS, h).transpose(1, 2)
        read = F.scaled_dot_product_attention(
            query, keys, values, attn_mask=mask[:, None, None, :]
        )
        return read.reshape(b, d)

    def forward(
        self, pooled: torch.Tensor, memory: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """pooled (B, D) raw mean-pooled MiniLM; memory (B, Q, D).
        Returns the unit embedding (B, D) and the memory after this segment (B, Q, D)."""
        read = self.read(pooled, memory)
        base = F.normalize(pooled, dim=-1)
        embedding = F.normalize(base + self.out(read), dim=-1)
        latent = self.write_norm(
            self.write(torch.cat([self.norm(pooled), read], dim=-1)).view(
                -1, self.latents, self.dim
            )
        )
        new_memory = torch.cat([memory[:, self.latents :], latent], dim=1)
        return embedding, new_memory

    def forward_static(self, pooled: torch.Tensor) -> torch.Tensor:
        return F.normalize(pooled, dim=-1)
