"""MiniLM as ONNX models for ONNX Runtime: int8 for `index` on a CPU, fp32 for `ask`'s queries.

int8 (what `index` encodes with on a CPU): every matrix product is int8 (weights per output
channel, activations per call) except the six feed-forward output products, whose GELU inputs lose
the most when cut to 8 bits (_fp32_nodes). Measured in one run on this project's 2-core CPU
(benchmarks/quality.py, LoCoMo through the product path, one padded call per batch as then): 152
segments/s against 100 for plain torch fp32 MiniLM on the same segments (1.51x); dense Recall@10
49.7 and `ask` Recall@10 59.9, against 49.1 and 59.8 with fp32 vectors (with every product int8:
2.09x, but dense 47.7 and `ask` 59.3). With length-grouped calls (minilm.py): dense 49.0, `ask`
60.3. benchmarks/cpu_paths.py compares the paths tried: ONNX Runtime fp32 (0.99x: torch is already
at the hardware's fp32 speed), torch dynamic int8 (per-tensor weight scales: neighbours drift,
top-10 overlap 0.71). Activations are quantised per call, so a vector depends a little on the batch
it was encoded in (cosine about 0.99 between a segment alone and in a batch): int8_encoder.py
therefore gives every segment a call of its own (benchmarks/int8_rows.py: speed and Recall of
that against the batched calls the figures above were measured with).

fp32 (queries, query_onnx.py): the export the int8 model is quantised from, kept. A query takes
3.6 ms in it against 14.2 ms in numpy (query_numpy.py; benchmarks/query_paths.py). It also returns
the last layer's token states, `ask`'s closer look (search.closer_look).

Both are built once from the installed base weights (export, then quantise) and cached in
<data dir>/cache, keyed by the weights, library versions and, for int8, RECIPE, for fp32 FP32_OUTPUTS. The build runs in a
child process (`python -m evosearch.encoder.onnx_models INT8 FP32`): it needs torch, and torch once
imported holds 190 MB for the life of the process that imported it, here `index`. `index` builds
what is missing, `ask` the fp32 model alone (a few seconds, once: numpy would take seconds every
time for the closer look's word states). CUDA `index` stays torch fp32.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import sys
import warnings
import importlib.util
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..errors import EvosearchError


RECIPE = "int8-per-channel-ffn-out-fp32"  # part of the cache key: a new recipe builds a new model
# Part of both models' cache key: the pooling graph averages where the mask is 1 (2 marks a context
# read's context: attended, not pooled; context_read.py). A graph from before pooled where it was nonzero.
GRAPH = "pool-where-mask-1"
# Part of the fp32 model's key only: it also returns the token states `ask` reads (search.closer_look).
# The int8 model, quantised from it, pools exactly as one built before; its key stays, so no index rebuilds it.
FP32_OUTPUTS = "pooled+tokens"


def _fp32_nodes(model_file: Path) -> list[str]:
    """The feed-forward output products (GELU activations in, wide range): kept fp32.

    Quantising their inputs to 8 bits per call is where int8 MiniLM loses the most: on 1,536 real
    paragraphs (benchmarks/cpu_paths.py) top-10 neighbours kept 0.86 with every product int8, 0.90
    with these six in fp32, at 1.30x instead of 1.72x torch fp32's speed (one run)."""
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type == "MatMul" and re.search(r"layer\.\d+/output/dense/", n.name)]


def cache_files(base: Path) -> tuple[Path, Path]:
    """(int8 model, fp32 model) for the base weights in base, in <data dir>/cache."""
    from ..config import home_dir

    weights = base / "model.safetensors"
    stat = weights.stat()
    material = f"{weights}:{stat.st_size}:{stat.st_mtime_ns}:{version('onnxruntime')}:{_torch_version()}:{GRAPH}"
    int8, fp32 = (hashlib.sha1(m.encode()).hexdigest()[:16] for m in (f"{material}:{RECIPE}", f"{material}:{FP32_OUTPUTS}"))
    cache = Path(home_dir()) / "cache"
    return cache / f"minilm-int8-{int8}.onnx", cache / f"minilm-fp32-{fp32}.onnx"


def export_pooled(module, tokens, out: Path, token_states: bool = False) -> None:
    """Export module.pool, (ids, mask) -> "pooled" (B, D) mean-pooled vectors, to an fp32 ONNX file;
    with token_states also "tokens", the last layer (B, T, D) they are pooled from (MiniLM's module:
    bert, then pool_states), for search.closer_look."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.module = module

        def forward(self, ids, mask):
            if not token_states:
                return self.module.pool(ids, mask)
            hidden = self.module.bert(ids, mask)
            return self.module.pool_states(hidden, mask), hidden

    outputs = ["pooled", "tokens"] if token_states else ["pooled"]
    axes = {"ids": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"}, "pooled": {0: "batch"}, "tokens": {0: "batch", 1: "tokens"}}
    with warnings.catch_warnings():  # the TorchScript exporter announces its own deprecation
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(), tokens, out, input_names=["ids", "mask"], output_names=outputs, dynamic_axes={k: axes[k] for k in ["ids", "mask", *outputs]}, dynamo=False
        )


def quantize(fp32: Path, out: Path, ffn_outputs_fp32: bool = True, op_types: list[str] | None = None) -> None:
    """int8 weights per output channel, activations per call; the shipped recipe keeps _fp32_nodes.
    op_types: the operators to quantise (None: ONNX Runtime's default set, embeddings' Gather included)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = _fp32_nodes(fp32) if ffn_outputs_fp32 else []
    root = logging.getLogger()  # it advises pre-processing on the root logger: noise in `index`
    quiet = _FromOnnxRuntime()
    root.addFilter(quiet)
    try:
        quantize_dynamic(fp32, out, weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep, op_types_to_quantize=op_types)
    finally:
        root.removeFilter(quiet)


class _FromOnnxRuntime(logging.Filter):
    """Drops the records onnxruntime logs on the root logger; everyone else's still go through."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"{os.sep}onnxruntime{os.sep}" not in record.pathname


def open_session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # warnings about the exporter's names are noise here
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def pool_each(session, encodings: list, dim: int, threads) -> np.ndarray:
    """(N, dim) pooled vectors in input order, each row alone in an unpadded call of session
    (int8 activations are scaled per call, so a vector must not depend on its batch neighbours),
    the calls spread over threads (a ThreadPoolExecutor, or None) longest first so they end together."""
    import numpy as np

    out = np.empty((len(encodings), dim), dtype=np.float32)

    def pool_one(row: int) -> None:
        ids = np.asarray(encodings[row].ids, dtype=np.int64)[None]  # (1, T), no padding
        mask = np.asarray(encodings[row].attention_mask, dtype=np.int64)[None]  # 1s, or a context read's Row
        out[row] = session.run(["pooled"], {"ids": ids, "mask": mask})[0][0]

    longest_first = sorted(range(len(encodings)), key=lambda r: -len(encodings[r].ids))
    if threads is None or len(encodings) < 2:
        for row in longest_first:
            pool_one(row)
    else:
        for _ in threads.map(pool_one, longest_first):  # re-raises a call's error here
            pass
    return out


def _build(module, tokens, int8: Path | None, fp32: Path) -> None:
    """Export fp32, then quantise it to int8 unless int8 is there already (or None: `ask` needs the
    fp32 model only). Each file appears whole or not at all: a killed build leaves no half-written model."""
    fp32.parent.mkdir(parents=True, exist_ok=True)
    partial = fp32.with_suffix(f".{os.getpid()}.partial")
    try:
        export_pooled(module, tokens, partial, token_states=True)
        os.replace(partial, fp32)
        if int8 is not None and not int8.exists():
            quantize(fp32, partial)
            os.replace(partial, int8)
    finally:
        partial.unlink(missing_ok=True)


def _torch_version() -> str:
    """torch's version (the exporter is part of what a cached model was built with), or "none"."""
    try:
        return version("torch")
    except PackageNotFoundError:
        return "none"


def _build_in_child(int8: Path | None, fp32: Path) -> None:
    if importlib.util.find_spec("torch") is None:
        raise EvosearchError(
            "preparing the CPU model (once per machine) needs torch, which is not installed",
            "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
        )
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-m", __name__, str(int8 or "-"), str(fp32)], env=env, capture_output=True, text=True)
    if done.returncode:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise EvosearchError(f"cannot build the ONNX encoder at {int8}: {last}", "check the install (README, Set up); report this if it persists")


def load_session(base: Path, threads: int = 0):
    """An ONNX Runtime session of the cached int8 model; both models are built first if either is
    missing, and the int8 one rebuilt if damaged. threads 0: ONNX Runtime's default, one per physical core."""
    int8, fp32 = cache_files(base)
    for attempt in (1, 2):
        if not (int8.exists() and fp32.exists()):
            _build_in_child(int8, fp32)
        try:
            return open_session(int8, threads)
        except Exception as e:  # a cache file damaged on disk: rebuild it once
            int8.unlink(missing_ok=True)
            if attempt == 2:
                raise EvosearchError(f"cannot load the int8 encoder built at {int8}: {e}", "report this; delete the file to rebuild it") from e


def load_query_session(base: Path):
    """A one-thread session of the cached fp32 model, built first when missing or damaged (in a child
    process, once per machine, a few seconds: `ask` reads its question's and best passages' word
    states from it, search.closer_look, which numpy takes seconds longer for), or None where it cannot
    be built: numpy answers then. One thread per call: `ask` may run beside a busy `index`."""
    fp32 = cache_files(base)[1]
    for _ in (1, 2):
        if not fp32.exists():
            try:
                _build_in_child(None, fp32)
            except EvosearchError:
                return None
        try:
            return open_session(fp32, threads=1)
        except Exception:  # damaged on disk: built again once
            fp32.unlink(missing_ok=True)
    return None


def main(argv: list[str]) -> int:
    """Build the int8 model into argv[0] ("-": none) and the fp32 one into argv[1] (load_session and
    load_query_session run this in a child process)."""
    import torch

    from .common import EncoderConfig, base_model_dir, load_bert_weights
    from .minilm import memory_module_class

    module = memory_module_class()(load_bert_weights(base_model_dir()), EncoderConfig()).eval()
    tokens = torch.ones((1, 8), dtype=torch.int64)
    _build(module, (tokens, tokens), None if argv[0] == "-" else Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
