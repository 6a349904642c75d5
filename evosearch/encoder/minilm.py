"""The memory-carrying encoder on all-MiniLM-L6-v2, in torch (CUDA `index`, training, the reference
the other paths are tested against; the shared pieces are in common.py).

A stream is read one segment at a time. Each call takes the memory queue carried from
the stream's earlier segments, embeds the segment, and returns the queue with the
segment's latent pushed on (oldest latent dropped): shapes never change, and the module
holds no state between calls.

Until trained memory weights exist in model/ (`memory_in_embedding` false in
model/config.json), the queue is carried and snapshotted but not read, so embeddings
equal static MiniLM (mean pooling, unit length).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import (
    CALL_TOKENS_CPU,
    CALL_TOKENS_CUDA,
    MEMORY_WEIGHTS,
    EncoderConfig,
    base_model_dir,
    length_groups,
    load_bert_weights,
    load_tokenizer,
    model_dir,
    pad_rows,
    word_states,
)
from .context_read import context_read, following_encodings


def memory_module_class():
    """The torch module class (torch imported only when called): MiniLM, pooling, the latent memory."""
    import torch
    from torch import nn

    from .memory import LatentMemory

    class MemoryEncoder(nn.Module):
        """Frozen MiniLM, mean pooling, then the latent memory (static MiniLM when it is switched off)."""

        def __init__(self, bert: nn.Module, config: EncoderConfig):
            super().__init__()
            self.bert = bert
            self.config = config
            self.memory = LatentMemory(config.dim, config.memory_slots, config.latents_per_segment)

        def pool(self, input_ids, attention_mask):
            return self.pool_states(self.bert(input_ids, attention_mask), attention_mask)

        @staticmethod
        def pool_states(hidden, attention_mask):
            # hidden: (B, T, D) MiniLM's last layer; attention_mask: 0 padding, 1 attended and
            # pooled, 2 attended only (context_read.py)
            mask = (attention_mask == 1).unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, D)

        def forward(self, input_ids, attention_mask, memory):
            # input_ids, attention_mask: (B, T); memory: (B, Q, D)
            return self.embed(self.pool(input_ids, attention_mask), memory)

        def embed(self, pooled, memory):
            # pooled: (B, D) mean-pooled MiniLM; memory: (B, Q, D)
            if not self.config.memory_in_embedding:
                return torch.nn.functional.normalize(pooled, dim=-1), memory
            return self.memory(pooled, memory)

    return MemoryEncoder


def load_memory_weights(module, path: Path) -> None:
    from safetensors.torch import load_file

    from ..errors import EvosearchError

    try:
        module.memory.load_state_dict(load_file(str(path)))
    except (OSError, RuntimeError, ValueError) as e:
        raise EvosearchError(
            f"cannot load the memory weights {path}: {e}",
            "restore model/ from the release, or retrain",
        ) from e


class MiniLMEncoder:
    """The encoder in torch fp32: on a CUDA GPU for `index`, and wherever torch is the point
    (training reads pooled(); the exactness tests hold the other paths to it). On a CPU `index`
    uses Int8Encoder (int8_encoder.py), which never imports torch."""

    def __init__(self, config: EncoderConfig, device: str | None = None, weights: Path | None = None):
        import torch

        self.config = config
        self.model_id = config.model_id
        self.dim = config.dim
        self.memory_slots = config.memory_slots
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = load_tokenizer(config.max_tokens)
        self.context = context_read(config, self.tokenizer)
        self.reads_ahead = bool(config.context_after)
        self.context_turns = config.context_turns
        module = memory_module_class()(load_bert_weights(base_model_dir()), config)
        if config.memory_in_embedding:
            load_memory_weights(module, weights or model_dir() / MEMORY_WEIGHTS)
        self.module = module.to(self.device).eval()
        self._torch = torch
        self.call_tokens = CALL_TOKENS_CPU if self.device == "cpu" else CALL_TOKENS_CUDA

    def tokenize(self, texts: list[str]) -> list:
        """Unpadded encodings (truncated to max_tokens)."""
        return self.tokenizer.encode_batch(texts)

    def padded(self, encodings: list):
        """(ids, mask), each (B, T) int64 on the device, T the longest row."""
        return tuple(self._torch.from_numpy(a).to(self.device) for a in pad_rows(encodings))

    def _pooled_by_length(self, encodings: list):
        """(B, D) mean-pooled vectors in input order, pooled in length groups (length_groups)."""
        out = self._torch.empty((len(encodings), self.dim), device=self.device)
        for rows in length_groups([len(e.ids) for e in encodings], self.call_tokens):
            out[rows] = self.module.pool(*self.padded([encodings[r] for r in rows])).to(out.dtype)
        return out

    def pool_rows(self, encodings: list) -> np.ndarray:
        """(B, D) raw mean-pooled vectors, in numpy, of Encodings or context_read Rows."""
        with self._torch.inference_mode():
            return self._pooled_by_length(encodings).float().cpu().numpy()

    def pooled(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """(N, D) raw mean-pooled base vectors: what the memory module reads (training caches these)."""
        out = [self.pool_rows(self.tokenize(texts[i : i + batch_size])) for i in range(0, len(texts), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def empty_memory(self, n: int) -> np.ndarray:
        return np.zeros((n, self.memory_slots, self.dim), dtype=np.float32)

    def encode(self, texts: list[str], memory: np.ndarray, following: list[str | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        encodings = self.tokenize(texts)
        if self.context is not None:
            memory = np.asarray(memory, dtype=np.float32)
            return self.context.encode(encodings, self.pool_rows(encodings), memory, self.pool_rows, following_encodings(self, following))
        with self._torch.inference_mode():
            mem = self._torch.from_numpy(np.ascontiguousarray(memory, dtype=np.float32)).to(self.device)
            embedding, new_memory = self.module.embed(self._pooled_by_length(encodings), mem)
        return embedding.float().cpu().numpy(), new_memory.float().cpu().numpy()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        embedding, _ = self.encode(texts, self.empty_memory(len(texts)))
        return embedding

    def token_states(self, texts: list[str]) -> list[np.ndarray]:
        """Each text's word states (common.word_states), each alone in its call."""
        out = []
        with self._torch.inference_mode():
            for encoding in self.tokenize(texts):
                ids = self._torch.tensor([encoding.ids], device=self.device)
                out.append(word_states(self.module.bert(ids, self._torch.ones_like(ids))[0].float().cpu().numpy()))
        return out


def load_torch_encoder(device: str | None = None, folder: Path | None = None) -> MiniLMEncoder:
    """The model in torch fp32 (training, benchmarks' baselines); folder: a model's (default model_dir())."""
    folder = folder or model_dir()
    return MiniLMEncoder(EncoderConfig.load(folder / "config.json"), device=device, weights=folder / MEMORY_WEIGHTS)
