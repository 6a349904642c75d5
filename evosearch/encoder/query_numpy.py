"""Query embeddings in numpy: how `ask` embeds a question where the fp32 ONNX model (query_onnx.py,
about 4x faster) cannot be built or loaded, without importing torch.

Queries are embedded without memory (see memory.py), which is MiniLM, mean pooling and
unit length, nothing else: a forward pass over a dozen tokens, 14.2 ms in numpy here (benchmarks/query_paths.py).
Importing torch costs about 1.3 s of every cold `evosearch ask`; this path costs about 0.15 s
(numpy and the tokenizer). Tests check it equals the torch encoder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .common import EncoderConfig, base_model_dir, layer_norm, load_tokenizer, model_dir, word_states


def _erf(x: np.ndarray) -> np.ndarray:
    """erf within 1.5e-7 (Abramowitz and Stegun, formula 7.1.26): numpy has no erf, and MiniLM's
    exact GELU needs it."""
    sign = np.sign(x)
    a = np.abs(x).astype(np.float64)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(x.dtype)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0).astype(x.dtype)))


class NumpyQueryEncoder:
    """The query half of the Encoder interface (model_id, dim, encode_queries), without torch."""

    def __init__(self, folder: Path | None = None):
        from safetensors.numpy import load_file

        folder = folder or model_dir()
        config = EncoderConfig.load(folder / "config.json")
        base = base_model_dir()
        self.model_id, self.dim, self.memory_slots = config.model_id, config.dim, config.memory_slots
        bert = json.loads((base / "config.json").read_text())
        self.heads, self.eps = bert["num_attention_heads"], bert.get("layer_norm_eps", 1e-12)
        self.layers = bert["num_hidden_layers"]
        # Linear weights transposed once at load, so every product is a plain (T, in) @ (in, out).
        self.w = {
            k: np.ascontiguousarray(v.T if v.ndim == 2 and not k.startswith("embeddings.") else v, dtype=np.float32)
            for k, v in load_file(str(base / "model.safetensors")).items()
        }
        self.tokenizer = load_tokenizer(config.max_tokens)  # one query at a time: no padding

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _embed_one(self, ids: list[int]) -> np.ndarray:
        pooled = self._states(ids).mean(0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def _states(self, ids: list[int]) -> np.ndarray:
        """(T, D): MiniLM's last layer for one text."""
        w, T = self.w, len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T]
        x = layer_norm(
            x + w["embeddings.token_type_embeddings.weight"][0], w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        D = x.shape[-1]
        h = D // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q, k, v = (
                self._linear(x, f"{p}.attention.self.{n}").reshape(T, self.heads, h).transpose(1, 0, 2) for n in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(h)  # (H, T, T)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attended = (scores / scores.sum(-1, keepdims=True)) @ v  # (H, T, h)
            attended = attended.transpose(1, 0, 2).reshape(T, D)
            x = layer_norm(self._linear(attended, f"{p}.attention.output.dense") + x, *self._ln(f"{p}.attention.output.LayerNorm"))
            inner = _gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = layer_norm(self._linear(inner, f"{p}.output.dense") + x, *self._ln(f"{p}.output.LayerNorm"))
        return x

    def _ln(self, name: str) -> tuple[np.ndarray, np.ndarray, float]:
        return self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """(N, D) unit vectors, each query on its own (no padding to mask)."""
        return np.stack([self._embed_one(e.ids) for e in self.tokenizer.encode_batch(texts)]).astype(np.float32)

    def token_states(self, texts: list[str]) -> list[np.ndarray]:
        """Each text's word states (common.word_states)."""
        return [word_states(self._states(e.ids)) for e in self.tokenizer.encode_batch(texts)]
