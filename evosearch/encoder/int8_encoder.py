"""The encoder `index` uses on a CPU: MiniLM int8 through ONNX Runtime (onnx_models.py), the memory in numpy.

No torch in the process: importing it holds 190 MB and 1.3 s, and the torch fp32 model another
106 MB, neither used by this path once the int8 model is cached (its build runs in a child
process). Queries are embedded fp32, as `ask` embeds them (query_onnx.py).

Each segment goes through the int8 model in a call of its own. The model quantises activations with
one scale per call (onnx_models.py), so a segment batched with others got a vector that depended on
them: a resumed or incremental index differed from a clean one. Alone in its call, unpadded, a
segment's vector depends on its own tokens only, bit for bit. The calls run side by side in a few
threads over one single-threaded session (ONNX Runtime lets threads share a session and releases
the GIL while it runs); benchmarks/int8_rows.py measures speed and Recall against batched calls.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .common import MEMORY_WEIGHTS, EncoderConfig, base_model_dir, load_tokenizer, unit, usable_cpus
from .context_read import context_read, following_encodings
from .memory_numpy import NumpyMemory
from .onnx_models import load_session, pool_each


class Int8Encoder:
    def __init__(self, folder: Path):
        """folder: the model (config.json, and memory weights when the config reads memory)."""
        self.folder = folder
        self.config = EncoderConfig.load(folder / "config.json")
        self.model_id, self.dim, self.memory_slots = self.config.model_id, self.config.dim, self.config.memory_slots
        self.tokenizer = load_tokenizer(self.config.max_tokens)
        self.memory = NumpyMemory(folder / MEMORY_WEIGHTS) if self.config.memory_in_embedding else None
        self.context = context_read(self.config, self.tokenizer)
        self.reads_ahead = bool(self.config.context_after)
        self.context_turns = self.config.context_turns
        self.workers = usable_cpus()
        self._session = None  # loaded at the first segment: a run with nothing to encode never pays for it
        self._threads = None
        self._queries = None

    def tokenize(self, texts: list[str]) -> list:
        return self.tokenizer.encode_batch(texts)

    def _load(self):
        if self._session is None:
            self._session = load_session(base_model_dir(), threads=1)
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="int8") if self.workers > 1 else None
        return self._session

    def _pool(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(B, T) ids and mask -> (B, D) mean-pooled MiniLM, int8, in one call: with B > 1 each row
        depends on the others (one activation scale per call); benchmarks compare against it."""
        return self._load().run(["pooled"], {"ids": ids, "mask": mask})[0]

    def pool_rows(self, encodings: list) -> np.ndarray:
        """(N, D) mean-pooled vectors in input order, each segment alone in its call (module docstring)."""
        return pool_each(self._load(), encodings, self.dim, self._threads)

    def _pooled(self, texts: list[str]) -> np.ndarray:
        """(N, D) mean-pooled vectors in input order."""
        return self.pool_rows(self.tokenize(texts))

    def empty_memory(self, n: int) -> np.ndarray:
        return np.zeros((n, self.memory_slots, self.dim), dtype=np.float32)

    def encode(self, texts: list[str], memory: np.ndarray, following: list[str | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        memory = np.asarray(memory, dtype=np.float32)
        if self.context is not None:
            encodings = self.tokenize(texts)
            return self.context.encode(encodings, self.pool_rows(encodings), memory, self.pool_rows, following_encodings(self, following))
        pooled = self._pooled(texts)
        if self.memory is None:  # memory carried, not read (minilm.py's module docstring)
            return unit(pooled), memory  # float32 in, float32 out
        return self.memory(pooled, memory)

    def _query_encoder(self):
        if self._queries is None:
            from .query_onnx import load_minilm_query_encoder

            self._queries = load_minilm_query_encoder(self.folder)
        return self._queries

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._query_encoder().encode_queries(texts)

    def token_states(self, texts: list[str]) -> list[np.ndarray]:
        return self._query_encoder().token_states(texts)

