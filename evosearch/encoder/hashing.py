"""A deterministic, model-free encoder: hashed word features plus a real memory queue.

It exists so that everything around the encoder (batching, snapshots, resume, search)
can be tested in milliseconds. Its embedding mixes in the mean of the carried memory, so
a segment's vector depends on what came before it, exactly as with the trained encoder:
a resume that restored the wrong memory gives different vectors and fails the tests.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from .common import turns_suffix

_WORD = re.compile(r"\w+")
MEMORY_WEIGHT = 0.25


def _word_vector(word: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-12)


class HashingEncoder:
    def __init__(self, dim: int = 64, memory_slots: int = 4, context_turns: int = 0):
        self.dim = dim
        self.memory_slots = memory_slots
        self.context_turns = context_turns  # as EncoderConfig.context_turns: the rows' lexical memory
        self.model_id = "hashing-v1" + turns_suffix(context_turns)
        self._cache: dict[str, np.ndarray] = {}

    def _bag(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            if word not in self._cache:
                self._cache[word] = _word_vector(word, self.dim)
            v += self._cache[word]
        return _unit(v)

    def pooled(self, texts: list[str]) -> np.ndarray:
        """The memory-free vectors, as `train` reads them from the base model."""
        return np.stack([self._bag(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def empty_memory(self, n: int) -> np.ndarray:
        return np.zeros((n, self.memory_slots, self.dim), dtype=np.float32)

    def encode(self, texts: list[str], memory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        own = np.stack([self._bag(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)  # (N, D)
        context = memory.mean(axis=1)  # (N, D)
        embeddings = _unit(own + MEMORY_WEIGHT * context)
        new_memory = np.concatenate([memory[:, 1:], own[:, None, :]], axis=1)  # (N, Q, D): oldest out, newest in
        return embeddings.astype(np.float32), new_memory.astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._bag(t) for t in texts]).astype(np.float32)
