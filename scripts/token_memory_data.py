"""Write what `scripts/train_token_memory.py` reads into one folder (the GPU machine gets only that).

    python scripts/token_memory_data.py OUT [--sessions 5000] [--synthetic 2000] [--chitchat 4000] [--seed 0]
        [--longmemeval ../shared/bench/longmemeval_s_dev100.json.gz] [--locomo ../shared/bench/locomo10.json]

OUT/train.jsonl.gz   training streams (model/DATA.md's sources: LongMemEval_S filler sessions of
                     the dev split's second half and Chit-Chat Challenge conversations, hold-out
                     recipe; synthetic chats), one {"source": "lme" | "chitchat" | "synthetic",
                     "segments": [...], "queries": [{"text", "evidence": [segment indices]}]} a line
OUT/locomo.jsonl.gz  LoCoMo, a test set only (non-commercial licence: never committed, never shipped):
                     one conversation a line, segmented as `index` segments chats:
                     {"id", "segments", "turns": [turn ids per segment], "questions": [{"text", "category", "evidence": [turn ids]}]}
OUT/minilm/          all-MiniLM-L6-v2 (config, tokenizer, weights in float16: the machine has no model hub)

OUT must be a folder git ignores (the data's licences forbid committing LoCoMo; the rest is rebuilt by this command).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
BENCH = ROOT.parent / "shared" / "bench"


def write_gz(path: Path, records) -> int:
    n = 0
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
            n += 1
    return n


def training_records(longmemeval: Path, sessions: int, synthetic: int, chitchat: int, seed: int):
    from evosearch.train.recipes import chitchat_samples, longmemeval_filler
    from evosearch.train.synthetic import synthetic_samples

    rng = random.Random(seed)
    sources = [
        ("lme", longmemeval_filler(longmemeval, sessions, rng)),
        ("synthetic", synthetic_samples(synthetic, rng)),
        ("chitchat", chitchat_samples(chitchat, rng) if chitchat else []),
    ]
    for source, samples in sources:
        for s in samples:
            if s.queries:
                yield {"source": source, "segments": s.segments, "queries": [{"text": q.text, "evidence": q.evidence} for q in s.queries]}


def locomo_records(locomo: Path):
    from baselines import load_locomo

    from evosearch.train.recipes import segment_texts_with_owners

    conversations, questions = load_locomo(locomo)
    for sid, turns in conversations.items():
        texts, owner = segment_texts_with_owners([(t["speaker"], t["text"]) for t in turns])
        kept = [n for n, t in enumerate(turns) if t["text"].strip()]
        ids = [[] for _ in texts]
        for n in kept:
            ids[owner[n]].append(turns[n]["id"])
        yield {
            "id": sid,
            "segments": texts,
            "turns": ids,
            "questions": [
                {"text": q["question"], "category": q["category"], "evidence": q["evidence"]} for q in questions if q["sample_id"] == sid
            ],
        }


def copy_minilm(out: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    from evosearch.encoder.common import base_model_dir

    src = base_model_dir()
    out.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(src / name, out / name)
    state = load_file(str(src / "model.safetensors"))
    save_file({k: v.to(torch.float16).contiguous() for k, v in state.items() if not k.startswith("pooler.")}, str(out / "model.safetensors"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--sessions", type=int, default=5000)
    p.add_argument("--synthetic", type=int, default=2000)
    p.add_argument("--chitchat", type=int, default=4000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--longmemeval", type=Path, default=BENCH / "longmemeval_s_dev100.json.gz")
    p.add_argument("--locomo", type=Path, default=BENCH / "locomo10.json")
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    n = write_gz(a.out / "train.jsonl.gz", training_records(a.longmemeval, a.sessions, a.synthetic, a.chitchat, a.seed))
    m = write_gz(a.out / "locomo.jsonl.gz", locomo_records(a.locomo))
    copy_minilm(a.out / "minilm")
    size = sum(f.stat().st_size for f in a.out.rglob("*") if f.is_file()) / 2**20
    print(f"{n} training streams, {m} LoCoMo conversations, {size:.1f} MiB in {a.out}")


if __name__ == "__main__":
    main()
