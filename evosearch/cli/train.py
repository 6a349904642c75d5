from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from ..options import DbOption, QuietOption
from ..output import info, reports_errors

PLAIN_PROGRESS_EVERY_S = 10.0


@reports_errors
def train(
    data: Annotated[
        list[Path] | None,
        typer.Argument(
            help='Labeled JSON Lines: one {"segments": [...], "queries": [{"text", "evidence"}]} per line.',
            show_default=False,
            metavar="FILE...",
        ),
    ] = None,
    self_supervised: Annotated[
        bool,
        typer.Option(
            "--self-supervised",
            help="Also learn from your own index: sentences held out of its segments become queries.",
        ),
    ] = False,
    longmemeval: Annotated[
        Path | None,
        typer.Option(
            "--longmemeval",
            help="LongMemEval_S dev file: its filler sessions become training streams.",
            metavar="FILE",
        ),
    ] = None,
    synthetic: Annotated[
        int,
        typer.Option(
            "--synthetic",
            min=0,
            help="How many synthetic chats to write and learn from.",
            metavar="N",
        ),
    ] = 0,
    sessions: Annotated[
        int,
        typer.Option("--sessions", min=1, help="How many LongMemEval filler sessions to use.", metavar="N"),
    ] = 800,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where weights and checkpoints go. Default: <data dir>/model.", metavar="FOLDER"),
    ] = None,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Optimiser steps (the latent memory).", metavar="N")] = 1500,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint in --out (the latent memory).")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed for sampling and the held-out split.", metavar="N")] = 0,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Train the encoder's memory on your data (MiniLM stays frozen) and write it where `index` and `ask` find it.

    The shipped memory reads each segment in its stream's context and has how much of that reading
    enters each vector chosen: <out>/config.json. The latent memory (EVOSEARCH_MODEL=evo-1 or
    static, or an index built with one) learns its weights: <out>/memory.safetensors and
    <out>/config.json. Sources of training data can be combined. An index built with another
    model must then be rebuilt (`index --rebuild`)."""
    import random

    from ..api import index_model_folder
    from ..config import home_dir
    from ..errors import EvosearchError
    from ..train.run import build_samples, run_training

    # The memory the person's index was built with (EVOSEARCH_MODEL at its last rebuild, or the default),
    # as `ask`, `index` and `watch` use it without the variable; else the model model_dir() names.
    folder = index_model_folder(db)  # before reading anything: an e5 index is refused
    rng = random.Random(seed)
    samples = build_samples(data or [], self_supervised, db, longmemeval, sessions, synthetic, rng)
    if not samples:
        raise EvosearchError(
            "no training data",
            "pass a JSONL file, --self-supervised, --longmemeval PATH or --synthetic N",
        )
    out = out or Path(home_dir()) / "model"
    if not quiet:
        segments, queries = sum(len(s.segments) for s in samples), sum(len(s.queries) for s in samples)
        info(f"{len(samples)} streams, {segments} segments, {queries} queries; MiniLM reads each once and stays frozen")
    from ..encoder import load_training_encoder

    encoder = load_training_encoder(folder=folder)
    report = run_training(
        samples,
        out,
        encoder=encoder,
        steps=steps,
        resume=resume,
        seed=seed,
        progress=None if quiet else _progress(),
        feature_progress=None if quiet else _feature_progress(),
    )
    if not quiet:
        rows = {name: figures for name, figures in report["evaluation"].items() if isinstance(figures, dict)}
        width = max(map(len, rows), default=0)
        for name, figures in rows.items():
            mrr = f"  MRR {figures['mrr']:5.1f}" if "mrr" in figures else ""
            info(f"held-out {name:<{width}}  R@1 {figures['r@1']:5.1f}  R@10 {figures['r@10']:5.1f}{mrr}")
        info(report["summary"])


def _feature_progress():
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PLAIN_PROGRESS_EVERY_S or done == total:
            last[0] = now
            print(f"read {done}/{total}", file=sys.stderr)

    return show


def _progress():
    last = [0.0]

    def show(step: int, total: int, retrieval: float, queries_per_s: float) -> None:
        now = time.monotonic()
        if now - last[0] >= PLAIN_PROGRESS_EVERY_S or step == total:
            last[0] = now
            print(
                f"step {step}/{total}  retrieval loss {retrieval:.3f}  {queries_per_s:.0f} queries/s",
                file=sys.stderr,
            )

    return show
