"""Encoders turn segments plus carried memory into embeddings plus new memory.

The interface is numpy in, numpy out, with no hidden state: the caller owns every
stream's memory and passes it back in with that stream's next segment.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np


class Encoder(Protocol):
    model_id: str  # stored in the index; a different id means the vectors are incomparable
    dim: int  # embedding width D
    memory_slots: int  # queue length Q; memory arrays are (N, Q, D)

    def empty_memory(self, n: int) -> np.ndarray:
        """(n, Q, D) zeros: the memory before a stream's first segment."""
        ...

    def encode(self, texts: list[str], memory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Embed texts[i] under memory[i]. Returns ((N, D) unit vectors, (N, Q, D) memory after each)."""
        ...

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """(N, D) unit vectors for queries, encoded without memory (the first retrieval stage)."""
        ...


ENCODER_ENV = "EVOSEARCH_ENCODER"


def load_encoder(name: str | None = None) -> Encoder:
    """The bundled MiniLM memory encoder, or the `hashing` encoder (no model, instant, lexical)
    when EVOSEARCH_ENCODER=hashing: tests and quick trials use it."""
    name = name or os.environ.get(ENCODER_ENV, "minilm")
    if name == "hashing":
        from .hashing import HashingEncoder

        return HashingEncoder()
    if name == "minilm":
        from .minilm import load_minilm_encoder

        return load_minilm_encoder()
    from ..errors import EvosearchError

    raise EvosearchError(
        f"unknown encoder {name!r} in ${ENCODER_ENV}",
        "use 'minilm' (default) or 'hashing'",
    )


def load_query_encoder(name: str | None = None):
    """What `ask` needs (model_id, dim, encode_queries), as cheaply as possible: for MiniLM fp32 in
    ONNX Runtime (numpy before the first `index`), so answering a question never imports torch."""
    name = name or os.environ.get(ENCODER_ENV, "minilm")
    if name == "minilm":
        from .query_onnx import load_minilm_query_encoder

        return load_minilm_query_encoder()
    return load_encoder(name)


def load_training_encoder(name: str | None = None):
    """What `train` reads pooled vectors from: for MiniLM the torch fp32 model (index's CPU
    encoder is int8 and has no torch; training needs torch anyway)."""
    name = name or os.environ.get(ENCODER_ENV, "minilm")
    if name == "minilm":
        from .minilm import load_torch_encoder

        return load_torch_encoder()
    return load_encoder(name)
