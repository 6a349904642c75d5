"""MiniLM's pooled vectors through ONNX Runtime with int8 weights: how `index` encodes on CPU.

Measured in one run on this project's 2-core CPU (benchmarks/locomo_ask.py, LoCoMo through
the product path): 131 segments/s against 61 for plain torch fp32 MiniLM on the same segments
(2.16x), `ask` Recall@10 59.5 against 59.8 with fp32 vectors. benchmarks/cpu_paths.py compares
the other paths tried: ONNX Runtime fp32 (0.99-1.04x: torch is already at the hardware's fp32
speed), torch dynamic int8 (per-tensor weight scales: neighbours drift, top-10 overlap 0.71).
Weights are quantised per output channel; activations per call (dynamic), so a vector depends a
little on the batch it was encoded in (cosine 0.987-0.993 between a segment alone and in a batch,
about as far as int8 is from fp32); the Recall figure above is measured with that batching.

The quantised model is built once from the installed base weights (export, then quantise: a
few seconds) and cached in <data dir>/cache, keyed by the weights and library versions.
Queries stay fp32 (numpy, query_numpy.py); CUDA stays torch fp32.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import EvosearchError


def _cache_file(base: Path) -> Path:
    import onnxruntime
    import torch

    from ..config import home_dir

    weights = base / "model.safetensors"
    stat = weights.stat()
    key = hashlib.sha1(f"{weights}:{stat.st_size}:{stat.st_mtime_ns}:{onnxruntime.__version__}:{torch.__version__}".encode()).hexdigest()
    return Path(home_dir()) / "cache" / f"minilm-int8-{key[:16]}.onnx"


def _build(module, tokens, out: Path) -> None:
    """Export the pooling pass (ids, mask) -> (B, D) to ONNX, quantise its weights to int8."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.module = module

        def forward(self, ids, mask):
            return self.module.pool(ids, mask)

    out.parent.mkdir(parents=True, exist_ok=True)
    fp32 = out.with_suffix(f".fp32.{os.getpid()}.onnx")
    partial = out.with_suffix(f".{os.getpid()}.partial")
    try:
        axes = {"ids": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"}, "pooled": {0: "batch"}}
        with warnings.catch_warnings():  # the TorchScript exporter announces its own deprecation
            warnings.simplefilter("ignore")
            torch.onnx.export(Pooled(), tokens, fp32, input_names=["ids", "mask"], output_names=["pooled"], dynamic_axes=axes, dynamo=False)
        quantize_dynamic(fp32, partial, weight_type=QuantType.QInt8, per_channel=True)
        os.replace(partial, out)  # whole or absent: a killed build leaves no half-written model
    finally:
        for f in (fp32, partial):
            f.unlink(missing_ok=True)


class Int8Pooler:
    """(ids, mask) int64 arrays -> (B, D) float32 mean-pooled MiniLM vectors, int8 weights."""

    def __init__(self, module, tokens, base: Path, threads: int):
        import onnxruntime as ort

        path = _cache_file(base)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # warnings about the exporter's names are noise here
        for attempt in (1, 2):
            if not path.exists():
                _build(module, tokens, path)
            try:
                self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                return
            except Exception as e:  # a cache file damaged on disk: rebuild it once
                path.unlink(missing_ok=True)
                if attempt == 2:
                    raise EvosearchError(
                        f"cannot load the int8 encoder built at {path}: {e}", "report this; delete the file to rebuild it"
                    ) from e

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"ids": ids, "mask": mask})[0]
