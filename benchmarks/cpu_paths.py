"""Faster CPU paths for MiniLM, against torch fp32 MiniLM, in one run.

    python benchmarks/cpu_paths.py [--segments 1536]

Each path encodes the same real paragraphs (from /usr/share/doc), length-sorted in batches of
64 as `index` does, and prints segments/s as a ratio to torch fp32 plus its faithfulness: the
cosine between each segment's vector and the fp32 one, and how many of each segment's 10
nearest neighbours (among the others) stay the same.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from query_latency import real_texts  # noqa: E402


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def neighbour_overlap(reference: np.ndarray, other: np.ndarray, k: int = 10) -> float:
    def top(v):
        sims = v @ v.T
        np.fill_diagonal(sims, -np.inf)
        return np.argsort(-sims, axis=1)[:, :k]

    a, b = top(reference), top(other)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b)]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=1536)
    args = parser.parse_args(argv)
    import torch

    from evosearch.encoder.onnx_models import export_pooled, open_session, quantize
    from evosearch.encoder.common import EncoderConfig, model_dir
    from evosearch.encoder.minilm import MiniLMEncoder

    encoder = MiniLMEncoder(EncoderConfig.load(model_dir() / "config.json"), device="cpu")
    texts = sorted(real_texts(args.segments * 2)[: args.segments], key=len)
    batches = [encoder.padded(encoder.tokenize(texts[i : i + 64])) for i in range(0, len(texts), 64)]

    def timed(run) -> tuple[np.ndarray, float]:
        run(batches[:2])
        start = time.perf_counter()
        out = run(batches)
        return unit(out), len(texts) / (time.perf_counter() - start)

    def torch_path(module):
        def run(bs):
            with torch.inference_mode():
                return np.concatenate([module.pool(ids, mask).numpy() for ids, mask in bs])

        return run

    def torch_bf16(module):
        def run(bs):
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                return np.concatenate([module.pool(ids, mask).float().numpy() for ids, mask in bs])

        return run

    paths = {"torch fp32": torch_path(encoder.module), "torch bf16 (autocast)": torch_bf16(encoder.module)}
    paths["torch dynamic int8 (per tensor)"] = torch_path(
        torch.ao.quantization.quantize_dynamic(encoder.module, {torch.nn.Linear}, dtype=torch.qint8)
    )
    tmp = Path(tempfile.mkdtemp())
    export_pooled(encoder.module, batches[0], tmp / "fp32.onnx")
    quantize(tmp / "fp32.onnx", tmp / "int8.onnx", ffn_outputs_fp32=False)
    quantize(tmp / "fp32.onnx", tmp / "mixed.onnx")
    for name, file in (
        ("onnxruntime fp32, all graph optimisations", "fp32.onnx"),
        ("onnxruntime int8 (dynamic, per channel)", "int8.onnx"),
        ("same, FFN outputs fp32 (what index uses)", "mixed.onnx"),
    ):
        session = open_session(tmp / file, torch.get_num_threads())
        paths[name] = lambda bs, s=session: np.concatenate([s.run(None, {"ids": i.numpy(), "mask": m.numpy()})[0] for i, m in bs])
    reference, base_speed = timed(paths.pop("torch fp32"))
    print(f"{len(texts)} real paragraphs, {torch.get_num_threads()} threads; torch fp32: {base_speed:.1f} segments/s")
    print(f"{'path':<45} {'speed':>7} {'cos mean':>9} {'cos min':>8} {'top-10 kept':>12}")
    for name, run in paths.items():
        vectors, speed = timed(run)
        cos = (vectors * reference).sum(1)
        print(f"{name:<45} {speed / base_speed:>6.2f}x {cos.mean():>9.4f} {cos.min():>8.4f} {neighbour_overlap(reference, vectors):>12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
