"""Train token-level memory fusion (evosearch/encoder/token_memory.py) for a fixed wall-clock budget.

    python scripts/train_token_memory.py DATA OUT [--seconds 150] [--diagnostic-seconds 0]
        [--queue 32] [--latents 4] [--rank 16] [--streams 96] [--window 16] [--burn-in 8] [--limit N]

DATA is what scripts/token_memory_data.py writes (training streams, LoCoMo as a test set, MiniLM
in float16); nothing is downloaded. One self-contained run, made for the GPU machine (CUDA and
bf16 when present, else the CPU in float32 at tiny scale):

1. LoCoMo, static MiniLM (each segment alone) and the fixed rule (add 0.2 x the previous
   segment's direction): the baselines, measured in the same run.
2. With --diagnostic-seconds S: can the design learn context at all? Train on 5 LoCoMo
   conversations for S seconds and test on the other 5, then swap; out-of-fold figures with
   memory and with the same weights' queue emptied (memory off). Those weights are thrown away
   (LoCoMo's licence is non-commercial, and it is the test).
3. Train on DATA/train.jsonl.gz (90% of streams; 10% held out) for --seconds; the held-out split
   is scored every checkpoint and the best checkpoint is kept (LoCoMo is reported, never used
   to choose). Writes OUT/config.json, OUT/lora.safetensors, OUT/memory.safetensors (each well
   under 16 MiB) and OUT/results.json with every figure printed.

Loss: InfoNCE (temperature 0.05) of each query against every segment of its own window (the
evidence segment positive), weighted by log(1 + negatives) as in EvoEmbedding; truncated
backprop through `window` segments after `burn-in` segments without gradients.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from evosearch.encoder.bert import load_bert  # noqa: E402
from evosearch.encoder.token_memory import TokenMemory, TokenMemoryConfig, lora_state, memory_state  # noqa: E402
from retrieval_metrics import needs_earlier_context  # noqa: E402

SEGMENT_TOKENS, QUERY_TOKENS = 160, 64
FIXED_RULE = 0.2
LOG = []


def say(*parts) -> None:
    line = " ".join(str(p) for p in parts)
    LOG.append(line)
    print(line, flush=True)


def read_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Tokens:
    def __init__(self, model_dir: Path):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.no_padding()

    def __call__(self, texts: list[str], limit: int) -> list[list[int]]:
        self.tok.enable_truncation(max_length=limit)
        return [e.ids for e in self.tok.encode_batch(texts)]


def pad(rows: list[list[int]], device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids.to(device), mask.to(device)


# ---- streams ---------------------------------------------------------------------------------


class Stream:
    """Tokenized segments and queries of one conversation; evidence as segment indices."""

    def __init__(self, segments, queries, turns=None):
        self.segments = segments  # list[list[int]]
        self.queries = queries  # list[(ids, [segment indices], category or None, [gold turn ids] or None, needs earlier context)]
        self.turns = turns  # list[list[str]] per segment (LoCoMo)


def training_streams(records: list[dict], tokens: Tokens) -> list[Stream]:
    seg_ids = tokens([s for r in records for s in r["segments"]], SEGMENT_TOKENS)
    q_ids = tokens([q["text"] for r in records for q in r["queries"]], QUERY_TOKENS)
    streams, a, b = [], 0, 0
    for r in records:
        n, m = len(r["segments"]), len(r["queries"])
        queries = [(q_ids[b + j], q["evidence"], None, None, False) for j, q in enumerate(r["queries"])]
        streams.append(Stream(seg_ids[a : a + n], queries))
        a, b = a + n, b + m
    return streams


def locomo_streams(records: list[dict], tokens: Tokens) -> list[Stream]:
    out = []
    for r in records:
        owner = {t: n for n, ts in enumerate(r["turns"]) for t in ts}
        speakers = {line.split(":")[0] for seg in r["segments"] for line in seg.split("\n") if ":" in line}
        queries = []
        q_ids = tokens([q["text"] for q in r["questions"]], QUERY_TOKENS)
        for q, ids in zip(r["questions"], q_ids):
            gold = [t for t in q["evidence"] if t in owner]
            if gold:
                evidence = sorted({owner[t] for t in gold})
                context = needs_earlier_context(q["text"], r["segments"], evidence, speakers)
                queries.append((ids, evidence, q["category"], gold, context))
        out.append(Stream(tokens(r["segments"], SEGMENT_TOKENS), queries, r["turns"]))
    return out


# ---- embedding whole streams -----------------------------------------------------------------


@torch.no_grad()
def embed_streams(model: TokenMemory, streams: list[Stream], device, memory: bool, batch: int = 512) -> list[torch.Tensor]:
    """Every segment of every stream, streams side by side, one position at a time. (n_i, D) each, on the CPU."""
    model.eval()
    out = []
    for s in range(0, len(streams), batch):
        group = streams[s : s + batch]
        queue = model.empty_queue(len(group), device)
        longest = max(len(g.segments) for g in group)
        vecs = [torch.zeros(len(g.segments), model.bert.config.hidden_size) for g in group]
        for t in range(longest):
            rows = [i for i, g in enumerate(group) if t < len(g.segments)]
            ids, mask = pad([group[i].segments[t] for i in rows], device)
            q = queue[rows] if memory else model.empty_queue(len(rows), device)
            with autocast(device):
                emb, new = model(ids, mask, q, with_latents=memory)
            if memory:
                queue[rows] = new.to(queue.dtype)
            emb = emb.float().cpu()  # one copy per position, not one per stream
            for j, i in enumerate(rows):
                vecs[i][t] = emb[j]
        out += vecs
    return out


@torch.no_grad()
def embed_queries(model: TokenMemory, queries: list[list[int]], device, batch: int = 1024) -> torch.Tensor:
    model.eval()
    out = []
    for s in range(0, len(queries), batch):
        ids, mask = pad(queries[s : s + batch], device)
        with autocast(device):
            emb, _ = model(ids, mask, model.empty_queue(len(ids), device), with_latents=False)
        out.append(emb.float().cpu())
    return torch.cat(out) if out else torch.zeros(0, model.bert.config.hidden_size)


def fixed_rule(vectors: list[torch.Tensor]) -> list[torch.Tensor]:
    out = []
    for v in vectors:
        prev = torch.cat([torch.zeros_like(v[:1]), v[:-1]])
        out.append(F.normalize(v + FIXED_RULE * prev, dim=-1))
    return out


def recall(streams: list[Stream], vectors: list[torch.Tensor], qvecs: torch.Tensor, k: int = 10) -> dict:
    """Turn-level Recall@k (first k distinct turns in rank order) where streams carry turns, else
    segment-level; overall, per LoCoMo category, and on the questions whose evidence lacks their
    content words named earlier in the stream (retrieval_metrics.needs_earlier_context)."""
    scores, by_cat, q = [], {}, 0
    for stream, vec in zip(streams, vectors):
        for ids, evidence, category, gold, context in stream.queries:
            order = torch.argsort(vec @ qvecs[q], descending=True).tolist()
            q += 1
            if gold is None:
                r = len(set(order[:k]) & set(evidence)) / len(evidence)
            else:
                seen: list[str] = []
                for n in order:
                    seen += [t for t in stream.turns[n] if t not in seen]
                    if len(seen) >= k:
                        break
                r = len(set(seen[:k]) & set(gold)) / len(gold)
            scores.append(r)
            if category is not None:
                by_cat.setdefault(category, []).append(r)
            if context:
                by_cat.setdefault("context", []).append(r)
    result = {"r@10": round(100 * sum(scores) / max(1, len(scores)), 2), "queries": len(scores)}
    for c, v in sorted(by_cat.items(), key=lambda kv: str(kv[0])):
        result[c if c == "context" else f"cat{c}"] = round(100 * sum(v) / len(v), 2)
    return result


def evaluate(model, streams, device, static_vectors=None) -> dict:
    queries = embed_queries(model, [qq[0] for s in streams for qq in s.queries], device)
    res = {
        "memory": recall(streams, embed_streams(model, streams, device, True), queries),
        "memory off": recall(streams, embed_streams(model, streams, device, False), queries),
    }
    return res


# ---- training --------------------------------------------------------------------------------


def autocast(device):
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)


def new_model(model_dir: Path, config: TokenMemoryConfig, device, lora: bool) -> TokenMemory:
    bert = load_bert(model_dir).float()
    for p in bert.parameters():
        p.requires_grad_(False)
    if lora and config.lora_rank:
        from peft import LoraConfig, inject_adapter_in_model

        bert = inject_adapter_in_model(
            LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.0, target_modules=list(config.lora_targets)),
            bert,
        )
    return TokenMemory(bert, config).to(device)


class Batches:
    """Windows of consecutive segments around some query's evidence."""

    def __init__(self, streams: list[Stream], window: int, burn_in: int, rng: random.Random):
        self.streams = [s for s in streams if s.queries]
        self.window, self.burn_in, self.rng = window, burn_in, rng

    def sample(self, n: int):
        picks = []
        for _ in range(n):
            s = self.rng.choice(self.streams)
            evidence = self.rng.choice(s.queries)[1]
            e = self.rng.choice(evidence)
            start = max(0, min(e - self.rng.randrange(self.window), len(s.segments) - self.window))
            stop = min(len(s.segments), start + self.window)
            queries = [(q[0], [x - start for x in q[1] if start <= x < stop]) for q in s.queries]
            queries = [(ids, ev) for ids, ev in queries if ev]
            picks.append((s, max(0, start - self.burn_in), start, stop, queries))
        return picks


def train_step(model, batch, device, temperature: float = 0.05) -> torch.Tensor:
    B, W = len(batch), max(stop - start for _, _, start, stop, _ in batch)
    queue = model.empty_queue(B, device)
    with torch.no_grad():  # burn-in: the memory before the window, without gradients
        longest = max(start - burn for _, burn, start, _, _ in batch)
        for t in range(longest):
            rows = [i for i, (_, burn, start, _, _) in enumerate(batch) if start - burn > longest - 1 - t]
            if not rows:
                continue
            segs = [batch[i][0].segments[batch[i][2] - (longest - t)] for i in rows]
            ids, mask = pad(segs, device)
            with autocast(device):
                _, new = model(ids, mask, queue[rows])
            queue[rows] = new.float()
    embeddings, valid = [], torch.zeros(B, W, dtype=torch.bool)
    for t in range(W):
        rows = [i for i, (_, _, start, stop, _) in enumerate(batch) if start + t < stop]
        valid[rows, t] = True
        segs = [batch[i][0].segments[batch[i][2] + t] if i in rows else [101, 102] for i in range(B)]
        ids, mask = pad(segs, device)
        with autocast(device):
            emb, new = model(ids, mask, queue)
        keep = valid[:, t].clone().to(device).view(B, 1, 1)
        queue = torch.where(keep, new.float(), queue)
        embeddings.append(emb.float())
    emb = torch.stack(embeddings, 1)  # (B, W, D)
    qrows, qids, positives = [], [], []
    for i, (_, _, _, _, queries) in enumerate(batch):
        for ids, ev in queries:
            for e in ev:  # one term per evidence segment
                qrows.append(i)
                qids.append(ids)
                positives.append(e)
    ids, mask = pad(qids, device)
    with autocast(device):
        q, _ = model(ids, mask, model.empty_queue(len(qids), device), with_latents=False)
    rows = torch.tensor(qrows, device=device)
    logits = torch.einsum("qd,qwd->qw", q.float(), emb[rows]) / temperature  # (Nq, W): its own window only
    v = valid.to(device)[rows]
    logits = logits.masked_fill(~v, -1e4)
    target = torch.tensor(positives, device=device)
    weight = torch.log(v.sum(1).float())  # log(1 + negatives)
    return (F.cross_entropy(logits, target, reduction="none") * weight).mean()


def fit(model, streams, device, seconds: float, args, held_out=None, report=None) -> dict:
    rng = random.Random(args.seed)
    batches = Batches(streams, args.window, args.burn_in, rng)
    lora = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("bert.")]
    own = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("bert.")]
    opt = torch.optim.AdamW([{"params": lora, "lr": args.lr_lora}, {"params": own, "lr": args.lr}], weight_decay=0.01)
    base = [g["lr"] for g in opt.param_groups]
    start, step, best, history = time.time(), 0, (-1.0, None, 0), []
    next_check = args.check_seconds
    while True:
        elapsed = time.time() - start
        if elapsed >= seconds:
            break
        scale = min(1.0, (step + 1) / 20) * 0.5 * (1 + math.cos(math.pi * elapsed / seconds))
        for g, lr in zip(opt.param_groups, base):
            g["lr"] = lr * scale
        model.train()
        loss = train_step(model, batches.sample(args.streams), device)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lora + own, 1.0)
        opt.step()
        step += 1
        if step % 20 == 0:
            say(f"  step {step} {elapsed:.0f}s loss {loss.item():.3f}")
        if held_out is not None and (time.time() - start >= next_check):
            next_check += args.check_seconds
            point = checkpoint(model, held_out, device, step, report)
            history.append(point)
            if point["held_out"]["memory"]["r@10"] > best[0]:
                best = (point["held_out"]["memory"]["r@10"], {k: v.detach().clone() for k, v in model.state_dict().items()}, step)
    if held_out is not None and (not history or history[-1]["step"] != step):
        point = checkpoint(model, held_out, device, step, report)
        history.append(point)
        if point["held_out"]["memory"]["r@10"] > best[0]:
            best = (point["held_out"]["memory"]["r@10"], None, step)
    if held_out is not None and best[1] is not None and best[2] != step:
        model.load_state_dict(best[1])
    return {"steps": step, "seconds": round(time.time() - start, 1), "best_step": best[2], "history": history}


def checkpoint(model, held_out, device, step, report) -> dict:
    point = {"step": step, "held_out": evaluate(model, held_out, device)}
    if report is not None:
        point["locomo"] = evaluate(model, report, device)
    say(f"  check step {step}: " + json.dumps({k: v for k, v in point.items() if k != "step"}))
    return point


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--seconds", type=float, default=150)
    p.add_argument("--diagnostic-seconds", type=float, default=0)
    p.add_argument("--check-seconds", type=float, default=30)
    p.add_argument("--queue", type=int, default=32)
    p.add_argument("--latents", type=int, default=4)
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--streams", type=int, default=96)
    p.add_argument("--window", type=int, default=16)
    p.add_argument("--burn-in", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-lora", type=float, default=2e-4)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training streams and 2 LoCoMo conversations (a CPU smoke run)")
    p.add_argument("--sources", default="", help="train only on these sources of train.jsonl.gz, comma-separated (chitchat, lme, synthetic)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(2)
    config = TokenMemoryConfig(queue_tokens=args.queue, latent_tokens=args.latents, lora_rank=args.rank)
    model_dir = args.data / "minilm"
    tokens = Tokens(model_dir)
    t0 = time.time()
    records = read_gz(args.data / "train.jsonl.gz")
    if args.sources:
        records = [r for r in records if r.get("source") in args.sources.split(",")]
    locomo_records = read_gz(args.data / "locomo.jsonl.gz")
    if args.limit:
        random.Random(args.seed).shuffle(records)
        records = records[: args.limit]
        locomo_records = [{**r, "segments": r["segments"][:40], "turns": r["turns"][:40]} for r in locomo_records[:2]]
    train_all = training_streams(records, tokens)
    locomo = locomo_streams(locomo_records, tokens)
    order = list(range(len(train_all)))
    random.Random(args.seed).shuffle(order)
    cut = max(1, len(order) // 10)
    held_out = [train_all[i] for i in order[:cut]]
    train = [train_all[i] for i in order[cut:]]
    say(f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}), torch {torch.__version__}")
    say(f"{len(train)} training streams, {len(held_out)} held out, {len(locomo)} LoCoMo conversations, "
        f"{sum(len(s.queries) for s in locomo)} LoCoMo questions; data read in {time.time() - t0:.1f}s")
    results: dict = {"config": config.to_dict(), "args": {k: str(v) for k, v in vars(args).items()}}

    static = new_model(model_dir, config, device, lora=False)
    sq = embed_queries(static, [q[0] for s in locomo for q in s.queries], device)
    sv = embed_streams(static, locomo, device, memory=False)
    results["locomo_static"] = recall(locomo, sv, sq)
    results["locomo_fixed_rule"] = recall(locomo, fixed_rule(sv), sq)
    say("LoCoMo static MiniLM:", json.dumps(results["locomo_static"]))
    say("LoCoMo fixed rule:   ", json.dumps(results["locomo_fixed_rule"]))
    del static

    if args.diagnostic_seconds > 0:
        halves = [locomo[: len(locomo) // 2], locomo[len(locomo) // 2 :]]
        folds = []
        for k in (0, 1):
            say(f"diagnostic fold {k}: train on LoCoMo half {k}, test on half {1 - k}, {args.diagnostic_seconds:.0f}s")
            model = new_model(model_dir, config, device, lora=True)
            run = fit(model, halves[k], device, args.diagnostic_seconds, args)
            res = evaluate(model, halves[1 - k], device)
            svh = embed_streams_static(model_dir, config, device, halves[1 - k])
            res["static"] = recall(halves[1 - k], svh[0], svh[1])
            res["fixed rule"] = recall(halves[1 - k], fixed_rule(svh[0]), svh[1])
            res["in fold (trained on)"] = evaluate(model, halves[k], device)
            say(f"  fold {k} out of fold: " + json.dumps(res))
            folds.append({"run": {k2: v for k2, v in run.items() if k2 != "history"}, "result": res})
            del model
        results["diagnostic"] = folds

    say(f"training on {len(train)} streams for {args.seconds:.0f}s")
    model = new_model(model_dir, config, device, lora=True)
    results["before"] = {"held_out": evaluate(model, held_out, device), "locomo": evaluate(model, locomo, device)}
    say("before training: " + json.dumps(results["before"]))
    results["training"] = fit(model, train, device, args.seconds, args, held_out=held_out, report=locomo)
    results["after"] = {"held_out": evaluate(model, held_out, device), "locomo": evaluate(model, locomo, device)}
    say("after training (best held-out checkpoint): " + json.dumps(results["after"]))

    from safetensors.torch import save_file

    args.out.mkdir(parents=True, exist_ok=True)
    save_file(lora_state(model.bert), str(args.out / "lora.safetensors"))
    save_file(memory_state(model), str(args.out / "memory.safetensors"))
    (args.out / "config.json").write_text(json.dumps({"token_memory": config.to_dict(), "base": "all-MiniLM-L6-v2"}, indent=1) + "\n")
    results["log"] = LOG
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    say(f"wrote {args.out}; total {time.time() - t0:.0f}s")


def embed_streams_static(model_dir, config, device, streams):
    static = new_model(model_dir, config, device, lora=False)
    return embed_streams(static, streams, device, memory=False), embed_queries(static, [q[0] for s in streams for q in s.queries], device)


if __name__ == "__main__":
    main()
