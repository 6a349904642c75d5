"""Token-level memory fusion (EvoEmbedding's design, sized for a CPU) on MiniLM.

Each segment is read as one sequence `[queue | segment | latents]`:

- queue (Q, D): the last layer's outputs of the latent tokens of earlier segments, FIFO; a
  slot is empty (all zeros, masked out) until the stream has said enough;
- segment (T): the segment's own word pieces, positions 0..T-1 exactly as plain MiniLM reads them;
- latents (L, D): learned input vectors. Their outputs are pushed onto the queue (the oldest L
  slots drop out) and are what the next segments read.

Segment tokens attend to the queue and to each other, never to the latents, so with an empty
queue a segment's vector is the (adapted) base model's own: the memory-off embedding and the
query embedding are the same function. The embedding is the mean of the segment tokens' outputs
(MiniLM's pooling), unit length. Queries are read with an empty queue.

The base may carry LoRA adapters (trained with peft); at run time they are merged into its
weights (`merge_lora`), so inference needs neither peft nor extra matrix products.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class TokenMemoryConfig:
    queue_tokens: int = 32  # Q: slots of the FIFO queue, a multiple of latent_tokens
    latent_tokens: int = 4  # L: latents appended to each segment, pushed onto the queue after it
    lora_rank: int = 16  # 0: the base stays frozen
    lora_alpha: int = 32
    lora_targets: tuple[str, ...] = ("query", "key", "value", "dense")

    def to_dict(self) -> dict:
        return asdict(self) | {"lora_targets": list(self.lora_targets)}

    @classmethod
    def from_dict(cls, raw: dict) -> "TokenMemoryConfig":
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        if "lora_targets" in known:
            known["lora_targets"] = tuple(known["lora_targets"])
        return cls(**known)


class TokenMemory(nn.Module):
    """The memory's own parameters around a BERT body (`bert`, evosearch.encoder.bert.Bert)."""

    def __init__(self, bert: nn.Module, config: TokenMemoryConfig):
        super().__init__()
        if config.queue_tokens % config.latent_tokens:
            raise ValueError("queue_tokens must be a multiple of latent_tokens")
        self.bert, self.config = bert, config
        dim = bert.config.hidden_size
        emb = bert.embeddings
        with torch.no_grad():
            start = emb.LayerNorm(emb.word_embeddings.weight[101] + emb.token_type_embeddings.weight[0])  # like [CLS]
        self.latents = nn.Parameter(start.expand(config.latent_tokens, dim).clone() + 0.02 * torch.randn(config.latent_tokens, dim))
        self.queue_in = nn.Linear(dim, dim)  # the last layer's space -> the input space
        with torch.no_grad():
            self.queue_in.weight.copy_(torch.eye(dim))
            self.queue_in.bias.zero_()
        self.slot = nn.Parameter(torch.zeros(config.queue_tokens, dim))  # how long ago, per queue slot

    def empty_queue(self, n: int, device=None, dtype=torch.float32) -> torch.Tensor:
        return torch.zeros(n, self.config.queue_tokens, self.bert.config.hidden_size, device=device, dtype=dtype)

    def forward(self, input_ids, attention_mask, queue, with_latents: bool = True):
        """input_ids, attention_mask (B, T); queue (B, Q, D), zero rows empty.
        Returns (embedding (B, D) unit vectors, queue after this segment (B, Q, D))."""
        B, T = input_ids.shape
        Q, L = queue.shape[1], (self.config.latent_tokens if with_latents else 0)
        seg = self.bert.embeddings(input_ids)  # (B, T, D)
        filled = queue.abs().sum(-1) > 0  # (B, Q)
        parts = [self.queue_in(queue.to(seg.dtype)) + self.slot.to(seg.dtype), seg]  # (B, Q, D), (B, T, D)
        if L:
            parts.append(self.latents.to(seg.dtype).expand(B, L, -1))  # (B, L, D)
        x = torch.cat(parts, 1)  # (B, Q+T+L, D)
        keys = torch.cat([filled, attention_mask.bool(), torch.ones(B, L, dtype=torch.bool, device=seg.device)], 1)  # (B, S)
        allowed = keys[:, None, :].expand(B, Q + T + L, Q + T + L).clone()  # (B, S, S): query row may read key column
        allowed[:, : Q + T, Q + T :] = False  # queue and segment never read the latents
        bias = torch.zeros(allowed.shape, dtype=x.dtype, device=x.device).masked_fill(~allowed, torch.finfo(x.dtype).min)
        bias = bias[:, None]  # (B, 1, S, S)
        for layer in self.bert.encoder.layer:
            x = layer(x, bias)
        tokens = x[:, Q : Q + T]  # (B, T, D)
        mask = attention_mask[..., None].to(x.dtype)  # (B, T, 1)
        embedding = F.normalize(((tokens * mask).sum(1) / mask.sum(1).clamp(min=1.0)).float(), dim=-1)
        if not L:
            return embedding, queue
        new_queue = torch.cat([queue[:, L:], x[:, Q + T :].to(queue.dtype)], 1)  # (B, Q, D)
        return embedding, new_queue


def lora_state(bert: nn.Module) -> dict[str, torch.Tensor]:
    """Each LoRA-adapted linear's low-rank update as two factors, scale folded into B:
    `<name>.lora_A` (r, in) and `<name>.lora_B` (out, r), with delta W = B @ A."""
    out = {}
    for name, module in bert.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            a = module.lora_A["default"].weight
            b = module.lora_B["default"].weight * module.scaling["default"]
            out[f"{name}.lora_A"] = a.detach().float().cpu().contiguous()
            out[f"{name}.lora_B"] = b.detach().float().cpu().contiguous()
    return out


def merge_lora(bert: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Add the low-rank updates of `lora_state` into a plain BERT body's weights, in place."""
    modules = dict(bert.named_modules())
    for key in [k for k in state if k.endswith(".lora_A")]:
        name = key[: -len(".lora_A")]
        linear = modules[name]
        with torch.no_grad():
            linear.weight += (state[f"{name}.lora_B"] @ state[key]).to(linear.weight.dtype)


def memory_state(module: TokenMemory) -> dict[str, torch.Tensor]:
    """The memory's own parameters (latents, queue_in, slot), without the base."""
    return {k: v.detach().float().cpu().contiguous() for k, v in module.state_dict().items() if not k.startswith("bert.")}
