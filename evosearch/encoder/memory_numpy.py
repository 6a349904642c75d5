"""The latent memory (memory.py) in numpy, for `index` on a CPU, which never imports torch.

Same arithmetic as LatentMemory.forward, read from the same safetensors file; a test holds it
to the torch module with trained weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import layer_norm, unit

LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm's default, which LatentMemory uses


class NumpyMemory:
    def __init__(self, weights: Path):
        from safetensors.numpy import load_file

        self.w = {k: v.astype(np.float32) for k, v in load_file(str(weights)).items()}

    def read(self, pooled: np.ndarray, memory: np.ndarray) -> np.ndarray:
        """pooled (B, D), memory (B, Q, D) -> a mix of earlier segments' directions (B, D)."""
        w = self.w
        query = layer_norm(pooled, w["norm.weight"], w["norm.bias"], LAYER_NORM_EPS) @ w["query.weight"].T + w["query.bias"]  # (B, K)
        keys = memory @ w["key.weight"].T + w["key.bias"]  # (B, Q, K)
        scores = np.einsum("bqk,bk->bq", keys, query) / np.sqrt(query.shape[1]) + w["age"]  # (B, Q)
        scores = np.where(np.abs(memory).sum(-1) > 0, scores, -np.inf)  # empty slots are never read
        scores = np.concatenate([np.broadcast_to(w["null"], (len(scores), 1)), scores], axis=1)  # (B, 1+Q)
        weights = np.exp(scores - scores.max(1, keepdims=True))
        weights = (weights / weights.sum(1, keepdims=True))[:, 1:]  # the null slot reads nothing
        return (weights[..., None] * memory).sum(1)

    def __call__(self, pooled: np.ndarray, memory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As LatentMemory.forward: (B, D) unit embeddings and the memory after this segment (B, Q, D)."""
        base = unit(pooled)
        embedding = unit(base + self.w["gate"] * self.read(pooled, memory))
        return embedding.astype(np.float32), np.concatenate([memory[:, 1:], base[:, None]], axis=1).astype(np.float32)
