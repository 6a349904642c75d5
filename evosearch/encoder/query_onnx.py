"""Query embeddings through ONNX Runtime fp32: how `ask` embeds a question, and reads the word
states of it and its best passages (search.closer_look).

Queries are embedded without memory (see memory.py): MiniLM, mean pooling, unit length. The fp32
model is cached by the first `index` or `ask` on this machine (onnx_models.py); where it cannot be
built or loaded, queries go through numpy (query_numpy.py), which gives the same vectors about 4x
slower, and the closer look's word states seconds slower.
benchmarks/query_paths.py compares the two (8 queries x 40 rounds on this project's 2-core CPU):
p50 3.6 ms here against 14.2 ms in numpy, vectors equal to 1.1e-7; importing onnxruntime (36 ms)
and opening the session (167 ms) against loading numpy's weights (149 ms).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import EncoderConfig, base_model_dir, load_tokenizer, model_dir, usable_cpus, word_states


class OnnxQueryEncoder:
    """The query half of the Encoder interface (model_id, dim, encode_queries), without torch."""

    def __init__(self, session, folder: Path):
        config = EncoderConfig.load(folder / "config.json")
        self.model_id, self.dim, self.memory_slots = config.model_id, config.dim, config.memory_slots
        self.tokenizer = load_tokenizer(config.max_tokens)
        self.session = session

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """(N, D) unit vectors, each query on its own (no padding to mask)."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(texts)):
            ids = np.array([encoding.ids], dtype=np.int64)
            pooled = self.session.run(["pooled"], {"ids": ids, "mask": np.ones_like(ids)})[0][0]
            out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out

    def token_states(self, texts: list[str]) -> list[np.ndarray]:
        """Each text's word states (common.word_states), each alone in its call, the calls side by side."""
        from concurrent.futures import ThreadPoolExecutor

        def one(encoding) -> np.ndarray:
            ids = np.array([encoding.ids], dtype=np.int64)
            return word_states(self.session.run(["tokens"], {"ids": ids, "mask": np.ones_like(ids)})[0][0])

        with ThreadPoolExecutor(usable_cpus()) as threads:
            return list(threads.map(one, self.tokenizer.encode_batch(texts)))


def load_minilm_query_encoder(folder: Path | None = None):
    """ONNX Runtime fp32 (its model built first, in a child process, when missing), else numpy; never imports torch."""
    from .onnx_models import load_query_session

    folder = folder or model_dir()
    session = load_query_session(base_model_dir())
    if session is not None:
        return OnnxQueryEncoder(session, folder)
    from .query_numpy import NumpyQueryEncoder

    return NumpyQueryEncoder(folder)
