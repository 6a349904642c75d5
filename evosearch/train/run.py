"""`evosearch train` end to end: gather samples, compute base vectors, train, evaluate, write weights."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, replace
from pathlib import Path

from .samples import Sample


def build_samples(
    files: list[Path],
    self_supervised: bool,
    db: str | None,
    longmemeval: Path | None,
    sessions: int,
    synthetic: int,
    rng: random.Random,
) -> list[Sample]:
    from .samples import load_samples

    samples: list[Sample] = []
    for path in files:
        samples += load_samples(path)
    if longmemeval is not None:
        from ..errors import EvosearchError
        from .recipes import longmemeval_filler

        try:
            samples += longmemeval_filler(longmemeval, sessions, rng)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise EvosearchError(
                f"{longmemeval}: not a readable LongMemEval file ({e})",
                "pass longmemeval_s_dev100.json.gz",
            ) from None
    if synthetic:
        from .synthetic import synthetic_samples

        samples += synthetic_samples(synthetic, rng)
    if self_supervised:
        samples += index_samples(db, rng)
    return [s for s in samples if s.segments]


def index_samples(db: str | None, rng: random.Random) -> list[Sample]:
    """Every indexed stream of 3+ segments, with sentences held out as queries."""
    from ..config import db_uri
    from ..segment import reads_ahead_along
    from ..store import Store
    from .pseudo_queries import hold_out_sentences

    store = Store.open(db_uri(db))
    samples = []
    for rows in store.stream_texts().values():
        if len(rows) >= 3:
            sample = hold_out_sentences([text for text, _, _ in rows], rng)
            # A segment whose section is named otherwise than the one before it opens a section, as
            # `index` read it; two sections of the same name in a row read as one.
            opens = [n > 0 and section != rows[n - 1][2] for n, (_, _, section) in enumerate(rows)]
            sample.ahead = reads_ahead_along([speakers for _, speakers, _ in rows], opens)
            if sample.queries:
                samples.append(sample)
    return samples


def run_training(
    samples: list[Sample],
    out: Path,
    *,
    steps: int,
    resume: bool,
    seed: int,
    progress=None,
    encoder=None,
    feature_progress=None,
) -> dict:
    """Train the latent memory on `samples`; writes <out>/memory.safetensors and <out>/config.json.
    A model that reads context instead (the shipped model/) has its reading's weights chosen (context_fit.py).
    Returns the held-out figures ("evaluation": name -> {"r@1", "r@10"}) and a one-line "summary"."""
    import torch
    from safetensors.torch import save_file

    from ..encoder import load_training_encoder
    from ..encoder.memory import LatentMemory
    from ..encoder.common import MEMORY_WEIGHTS, EncoderConfig
    from .features import compute_features
    from .loop import TrainConfig, Trainer

    torch.manual_seed(seed)
    encoder = encoder or load_training_encoder()  # only its memory-free pooled vectors are read
    if getattr(encoder, "context", None) is not None:  # nothing to train by gradient: its weights are chosen
        from .context_fit import fit_context

        return fit_context(samples, encoder, out, seed=seed, progress=feature_progress)
    config = EncoderConfig(dim=encoder.dim, memory_slots=encoder.memory_slots)
    features = compute_features(samples, encoder, out / "checkpoints", feature_progress)
    memory = LatentMemory(config.dim, config.memory_slots, config.latents_per_segment)
    trainer = Trainer(memory, features, samples, TrainConfig(steps=steps, seed=seed), out / "checkpoints")
    if resume:
        trainer.resume()
    trainer.fit(progress)
    if trainer.best[1]:
        trainer.resume("best")  # early stopping: the held-out best, not the last step
    evaluation = trainer.evaluate() | {"best_step": trainer.best[1] or trainer.step}
    weights = out / MEMORY_WEIGHTS
    save_file(
        {k: v.detach().contiguous() for k, v in memory.state_dict().items()},
        str(weights),
    )
    trained = replace(config, memory_in_embedding=True, version=f"evo-1-{_digest(weights)}")
    (out / "training.json").write_text(
        json.dumps(
            {
                "train": asdict(trainer.config),
                "samples": len(samples),
                "evaluation": evaluation,
            },
            indent=1,
        )
    )
    trained.save(out / "config.json")  # last: a folder with a config is one `index` uses
    summary = f"kept the weights of step {evaluation['best_step']} (best held-out R@10); wrote {weights}"
    return {"weights": weights, "evaluation": evaluation, "summary": summary}


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha1(path.read_bytes()).hexdigest()[:8]
