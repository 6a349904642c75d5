"""Which base model should `index` default to? MiniLM and e5-small side by side, one run.

    python benchmarks/base_models.py [--models minilm,e5-small] [--conversations N]
        [--lme-questions 10] [--files 150] [--speed-segments 600] [--rounds 2]

Each model indexes the same data through the product (`encoder.load_encoder(name)`: on a CPU
the int8 ONNX path, memory as shipped; minilm-static is MiniLM with its memory off, e5-small+memory
e5-small with MiniLM's context read, e5.CONTEXT, which does not ship) and answers through `search.ask` (dense + full
text + time handling, what `evosearch ask` prints) and through dense search alone:
  LoCoMo (turn-level Recall@5/@10 per category; --conversations N keeps the first N conversations
  and their questions), LongMemEval_S dev (first half, as benchmarks/quality.py), and the
  documentation set of benchmarks/doc_quality.py (section Recall@1/@5/@10).
Speed: the shipped CPU encoder of each model against plain torch fp32 MiniLM (locomo_ask's
plain_minilm_rate) on the same LoCoMo segment texts, in alternating rounds (A B A B), as ratios;
and each LoCoMo index build's end-to-end segments/s against the plain rate measured right after.
Peak RSS of `evosearch index --model NAME` and of `evosearch ask` on the documentation set, each a
process of its own (/usr/bin/time), with the ONNX models already cached.
This is quality.py's comparison across base models; with the variants, also memory on/off.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import locomo_to_jsonl  # noqa: E402
from doc_quality import default_docs, hits, recall  # noqa: E402
from doc_quality import write_corpus as write_docs  # noqa: E402
from locomo_ask import plain_minilm_rate  # noqa: E402
from quality import LME_DEFAULT, build_index, dense, hybrid, recall_rows, session_recall, write_longmemeval  # noqa: E402
from retrieval_metrics import CATEGORY_NAMES, table  # noqa: E402


def say(text: str = "") -> None:
    print(text, flush=True)


def segment_texts(data_dir: Path, pattern: str) -> list[str]:
    from evosearch.segment import segment_stream
    from evosearch.sources.detect import read_source

    return [s.text for f in sorted(data_dir.rglob(pattern)) for st in read_source(f, print) for s in segment_stream(st)]


def load(name: str):
    """`index`'s encoder for a model name; minilm-static: MiniLM with its memory off; e5-small+memory:
    e5-small's passages read in their streams with MiniLM's context read (e5.CONTEXT, not shipped)."""
    from evosearch.encoder import load_encoder

    if name == "e5-small+memory":
        from evosearch.encoder.e5 import CONTEXT
        from evosearch.encoder.e5_onnx import E5Int8Encoder

        return E5Int8Encoder(config=CONTEXT)
    if name == "minilm-static":
        from evosearch.encoder.common import MODEL_DIR

        return load_encoder("minilm", MODEL_DIR / "static")
    return load_encoder(name)


def encode_rate(encoder, texts: list[str], stream: int = 20) -> float:
    """segments/s of encoding texts cut into streams of `stream` segments, side by side as `index`
    encodes files (encode.encode_streams: each read in its stream where the encoder has a memory)."""
    from evosearch.encode import StreamJob, encode_streams

    jobs = [StreamJob(i, texts[i : i + stream], 0, encoder.empty_memory(1)[0]) for i in range(0, len(texts), stream)]
    started = time.monotonic()
    for _ in encode_streams(jobs, encoder):
        pass
    return len(texts) / (time.monotonic() - started)


def speed(encoders: dict, texts: list[str], rounds: int) -> None:
    rates: dict[str, list[float]] = {"torch fp32 MiniLM (plain)": [], **{n: [] for n in encoders}}
    for name, encoder in encoders.items():  # warm-up: sessions open, models built, not timed
        encode_rate(encoder, texts[:16])
    for _ in range(rounds):
        rates["torch fp32 MiniLM (plain)"].append(plain_minilm_rate(texts))
        for name, encoder in encoders.items():
            rates[name].append(encode_rate(encoder, texts))
            rates["torch fp32 MiniLM (plain)"].append(plain_minilm_rate(texts))
    base = sum(rates["torch fp32 MiniLM (plain)"]) / len(rates["torch fp32 MiniLM (plain)"])
    say(f"\nencoding speed, {len(texts)} LoCoMo segments, {rounds} rounds (plain torch between every pair):")
    for name, values in rates.items():
        mean = sum(values) / len(values)
        say(f"  {name:<28} {mean:7.1f} segments/s  ({mean / base:.2f}x plain torch fp32 MiniLM; rounds {', '.join(f'{v:.1f}' for v in values)})")


def peak_rss(models: list[str], corpus: Path, tmp: Path) -> None:
    say("\npeak RSS (separate processes, ONNX models cached; /usr/bin/time %M):")
    cli = [sys.executable, "-c", "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; sys.exit(main())"]
    for name in models:
        db = tmp / f"rss-{name}"
        for label, args in (
            (f"index --model {name}", ["index", "--quiet", "--model", name, str(corpus), "--db", str(db)]),
            ("ask", ["ask", "how do I create a table", "--db", str(db)]),
        ):
            done = subprocess.run(["/usr/bin/time", "-f", "%M %e", *cli, *args], capture_output=True, text=True)
            kb, seconds = done.stderr.strip().splitlines()[-1].split()
            say(f"  {name:<10} {label:<24} {int(kb) / 1024:7.0f} MB  {float(seconds):6.1f} s  (exit {done.returncode})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="minilm,e5-small")
    parser.add_argument("--locomo", type=Path, default=locomo_to_jsonl.DEFAULT_INPUT)
    parser.add_argument("--conversations", type=int, default=None, help="only the first N LoCoMo conversations (and their questions)")
    parser.add_argument("--longmemeval", type=Path, default=LME_DEFAULT)
    parser.add_argument("--lme-questions", type=int, default=10, help="LongMemEval questions (0: skip)")
    parser.add_argument("--docs", type=Path, default=default_docs())
    parser.add_argument("--files", type=int, default=150, help="documents in the documentation set (0: skip)")
    parser.add_argument("--speed-segments", type=int, default=600, help="segments timed per encoder (0: skip the speed figures)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    import torch

    from evosearch.encoder import MODELS
    from evosearch.search import ask

    torch.set_num_threads(os.cpu_count() or 2)
    names = args.models.split(",")
    started = time.monotonic()
    encoders = {name: load(name) for name in names}
    say("encoders: " + ", ".join(f"{n} = {type(e).__name__} ({e.model_id})" for n, e in encoders.items()))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        conversion = locomo_to_jsonl.load(args.locomo)
        keep = list(conversion.turns)[: args.conversations]
        conversion.turns = {k: conversion.turns[k] for k in keep}
        conversion.questions = [q for q in conversion.questions if q.sample_id in conversion.turns]
        data_dir = tmp / "locomo"
        locomo_to_jsonl.write(conversion, data_dir)
        (data_dir / "questions.jsonl").rename(tmp / "questions.jsonl")
        questions = [json.loads(line) for line in (tmp / "questions.jsonl").read_text().splitlines()]
        texts = segment_texts(data_dir, "*.jsonl")
        say(f"LoCoMo: {len(keep)} conversations, {len(questions)} questions, {len(texts)} segments")
        if args.speed_segments:
            speed(encoders, texts[: args.speed_segments], args.rounds)

        rows = {}
        for name, encoder in encoders.items():
            store, seconds, segments = build_index(data_dir, tmp / f"locomo-{name}", encoder)
            line = f"\n{name}: LoCoMo index {segments} segments in {seconds:.0f} s ({segments / seconds:.1f} segments/s end to end"
            if args.speed_segments:
                plain = plain_minilm_rate(texts[: args.speed_segments])
                line += f"; plain torch fp32 MiniLM right after: {plain:.1f}/s, ratio {segments / seconds / plain:.2f}x"
            say(line + ")")
            source = lambda q: f"{q['sample_id']}.jsonl"  # noqa: E731
            rows[f"{name} dense"] = recall_rows(questions, [dense(store, encoder, q["question"], source(q)) for q in questions])
            rows[f"{name} ask"] = recall_rows(questions, [hybrid(store, encoder, q, source(q)) for q in questions])
            say(table("LoCoMo", {k: v for k, v in rows.items() if k.startswith(name)}, list(CATEGORY_NAMES)))
        say()
        say(table("LoCoMo", rows, list(CATEGORY_NAMES)))

        if args.files and args.docs and args.docs.exists():
            corpus = tmp / "docs"
            corpus.mkdir()
            queries = write_docs(args.docs, args.files, corpus)
            found = {}
            for name, encoder in encoders.items():
                store, seconds, segments = build_index(corpus, tmp / f"docs-{name}", encoder)
                found[f"{name} dense"] = [hits(store.vector_search(encoder.encode_queries([q["query"]])[0], 10, None), q) for q in queries]
                found[f"{name} ask"] = [hits(ask(store, encoder, q["query"], limit=10)["results"], q) for q in queries]
            say(f"\ndocuments: {len(queries)} queries over {segments} segments of {args.files} files from {args.docs}")
            say(f"{'method':<20} {'R@1':>6} {'R@5':>6} {'R@10':>6}")
            for label, f in found.items():
                say(f"{label:<20} {recall(f, 1):>6.1f} {recall(f, 5):>6.1f} {recall(f, 10):>6.1f}")
            peak_rss([n for n in names if n in MODELS], corpus, tmp)  # the variants have no `--model` name

        if args.lme_questions:
            lme_dir = tmp / "lme"
            lme_questions, _ = write_longmemeval(args.longmemeval, args.lme_questions, lme_dir)
            lme_rows, sessions = {}, {}
            for name, encoder in encoders.items():
                store, seconds, segments = build_index(lme_dir, tmp / f"lme-{name}", encoder)
                source = lambda q: f"*/{q['sample_id']}/*"  # noqa: E731
                for kind, rank in (("dense", lambda q: dense(store, encoder, q["question"], source(q))), ("ask", lambda q: hybrid(store, encoder, q, source(q)))):
                    ranked = [rank(q) for q in lme_questions]
                    lme_rows[f"{name} {kind}"] = recall_rows(lme_questions, ranked)
                    sessions[f"{name} {kind}"] = session_recall(lme_questions, ranked)
            say()
            say(table("LongMemEval_S dev (turn level)", lme_rows, sorted({q["category"] for q in lme_questions}), sessions))
    say(f"\n({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
