"""The encoder `index` uses on a CPU: MiniLM int8 through ONNX Runtime (onnx_models.py), the memory in numpy.

No torch in the process: importing it holds 190 MB and 1.3 s, and the torch fp32 model another
106 MB, neither used by this path once the int8 model is cached (its build runs in a child
process). Queries are embedded fp32, as `ask` embeds them (query_onnx.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import CALL_TOKENS_CPU, MEMORY_WEIGHTS, EncoderConfig, base_model_dir, length_groups, load_tokenizer, pad_rows, unit
from .memory_numpy import NumpyMemory


class Int8Encoder:
    def __init__(self, folder: Path):
        """folder: the model (config.json, and memory weights when the config reads memory)."""
        self.folder = folder
        self.config = EncoderConfig.load(folder / "config.json")
        self.model_id, self.dim, self.memory_slots = self.config.model_id, self.config.dim, self.config.memory_slots
        self.tokenizer = load_tokenizer(self.config.max_tokens)
        self.memory = NumpyMemory(folder / MEMORY_WEIGHTS) if self.config.memory_in_embedding else None
        self.call_tokens = CALL_TOKENS_CPU
        self._session = None  # loaded at the first segment: a run with nothing to encode never pays for it
        self._queries = None

    def tokenize(self, texts: list[str]) -> list:
        return self.tokenizer.encode_batch(texts)

    def _pool(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(B, T) ids and mask -> (B, D) mean-pooled MiniLM, int8."""
        if self._session is None:
            from .onnx_models import load_session

            self._session = load_session(base_model_dir())
        return self._session.run(None, {"ids": ids, "mask": mask})[0]

    def _pooled(self, texts: list[str]) -> np.ndarray:
        """(N, D) mean-pooled vectors in input order, pooled in length groups (common.length_groups)."""
        encodings = self.tokenize(texts)
        out = np.empty((len(encodings), self.dim), dtype=np.float32)
        for rows in length_groups([len(e.ids) for e in encodings], self.call_tokens):
            out[rows] = self._pool(*pad_rows([encodings[r] for r in rows]))
        return out

    def empty_memory(self, n: int) -> np.ndarray:
        return np.zeros((n, self.memory_slots, self.dim), dtype=np.float32)

    def encode(self, texts: list[str], memory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pooled = self._pooled(texts)
        memory = np.asarray(memory, dtype=np.float32)
        if self.memory is None:  # memory carried, not read (minilm.py's module docstring)
            return unit(pooled), memory  # float32 in, float32 out
        return self.memory(pooled, memory)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if self._queries is None:
            from .query_onnx import load_minilm_query_encoder

            self._queries = load_minilm_query_encoder(self.folder)
        return self._queries.encode_queries(texts)
