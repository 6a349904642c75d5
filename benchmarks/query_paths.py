"""How `ask` embeds a query: ONNX Runtime fp32 against numpy, in one run.

    python benchmarks/query_paths.py [--rounds 40]

Both paths embed the same queries (MiniLM, mean pooling, unit length, no memory), alternating
round by round so that load on the machine hits both alike. Prints per path the median and p95
of one query, the start-up cost `ask` pays for it (onnxruntime import and session, against
numpy's weights), the largest difference between the two paths' vectors, and the ratio.
The fp32 ONNX model must be cached: run `evosearch index` on anything first (same data dir).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the CLI sets it
os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUERIES = [
    "what did they decide about the adoption agency",
    "when is the launch",
    "Ana: roll it back?",
    "which vendor did we drop in March and why",
    "notes from the meeting about the shed roof colour last summer",
    "how do I configure the proxy for apt",
    "What did Melanie paint recently?",
    "budget",
]


def timed(make):
    start = time.perf_counter()
    value = make()
    return value, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)

    import numpy as np

    from evosearch.encoder.common import base_model_dir, model_dir
    from evosearch.encoder.query_numpy import NumpyQueryEncoder

    numpy_path, numpy_load = timed(NumpyQueryEncoder)
    _, ort_import = timed(lambda: __import__("onnxruntime"))
    from evosearch.encoder.onnx_models import load_query_session
    from evosearch.encoder.query_onnx import OnnxQueryEncoder

    session, ort_load = timed(lambda: load_query_session(base_model_dir()))
    if session is None:
        print("no fp32 ONNX model in this data dir, and it could not be built: check that torch is installed", file=sys.stderr)
        return 1
    onnx_path = OnnxQueryEncoder(session, model_dir())
    paths = {"numpy": numpy_path, "ONNX Runtime fp32": onnx_path}
    vectors = {name: path.encode_queries(QUERIES) for name, path in paths.items()}  # also warms both up
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, path in paths.items():
            for query in QUERIES:
                _, seconds = timed(lambda: path.encode_queries([query]))
                times[name].append(seconds * 1000)
    print(f"{len(QUERIES)} queries x {args.rounds} rounds, one query per call, paths alternating")
    for name, ms in times.items():
        print(f"  {name:18} p50 {statistics.median(ms):6.2f} ms  p95 {sorted(ms)[int(0.95 * len(ms))]:6.2f} ms")
    ratio = statistics.median(times["numpy"]) / statistics.median(times["ONNX Runtime fp32"])
    print(f"  ratio (numpy p50 / ONNX Runtime p50): {ratio:.1f}x")
    print(f"  largest difference between the paths' vectors: {float(np.abs(vectors['numpy'] - vectors['ONNX Runtime fp32']).max()):.1e}")
    print(f"start-up: numpy weights {numpy_load * 1000:.0f} ms; onnxruntime import {ort_import * 1000:.0f} ms + session {ort_load * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
