"""How to cut a batch of segments into MiniLM calls on a CPU, in one run.

    python benchmarks/call_shapes.py [--segments 1024] [--budgets 256,512,1024,2048,8192]

The stream batcher hands the encoder 32 segments of mixed length (one per stream in flight).
Real paragraphs from /usr/share/doc, in a fixed shuffled order, are pooled 32 at a time:
  one call: the 32 padded to the longest (what `index` did before length groups);
  length groups: sorted by length and cut into calls of at most B tokens (rows x longest row),
  evosearch.encoder.common.length_groups, for each budget B.
Both through the pooling `index` uses on a CPU (ONNX Runtime int8) and through torch fp32.
Prints segments/s and the ratio to one call, and the share of padding tokens.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from query_latency import real_texts  # noqa: E402

BATCH = 32  # evosearch.encode.STREAM_BATCH


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=1024)
    parser.add_argument("--budgets", default="256,512,1024,2048,8192")
    args = parser.parse_args(argv)
    import torch

    from evosearch.encoder.int8_encoder import Int8Encoder
    from evosearch.encoder.common import CALL_TOKENS_CPU, EncoderConfig, length_groups, model_dir, pad_rows
    from evosearch.encoder.minilm import MiniLMEncoder

    encoder = MiniLMEncoder(EncoderConfig.load(model_dir() / "config.json"), device="cpu")
    int8 = Int8Encoder(model_dir())
    texts = real_texts(args.segments * 2)
    random.Random(0).shuffle(texts)
    encodings = encoder.tokenize(texts[: args.segments])
    batches = [encodings[i : i + BATCH] for i in range(0, len(encodings), BATCH)]
    real = sum(len(e.ids) for e in encodings)
    print(f"{len(encodings)} paragraphs, {real / len(encodings):.0f} tokens on average, batches of {BATCH}; shipped budget {CALL_TOKENS_CPU}")

    def one_call(batch):
        return [list(range(len(batch)))]

    def grouped(budget):
        return lambda batch: length_groups([len(e.ids) for e in batch], budget)

    shapes = {"one padded call": one_call, **{f"length groups, {b} tokens": grouped(int(b)) for b in args.budgets.split(",")}}
    def torch_fp32(ids, mask):
        return encoder.module.pool(torch.from_numpy(ids), torch.from_numpy(mask))

    pools = {"ONNX Runtime int8 (index on CPU)": int8._pool, "torch fp32": torch_fp32}
    for pool_name, pool in pools.items():
        print(pool_name)
        baseline = None
        for name, shape in shapes.items():
            calls = [[[batch[r] for r in rows] for rows in shape(batch)] for batch in batches]
            padded = sum(len(group) * max(len(e.ids) for e in group) for groups in calls for group in groups)
            with torch.inference_mode():
                pool(*pad_rows(calls[0][0]))  # warm up (and build the int8 model once)
                started = time.perf_counter()
                for groups in calls:
                    for group in groups:
                        pool(*pad_rows(group))
                rate = len(encodings) / (time.perf_counter() - started)
            baseline = baseline or rate
            print(f"  {name:28s} {rate:7.1f} segments/s  {rate / baseline:5.2f}x  padding {100 * (1 - real / padded):4.1f}% of tokens")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
