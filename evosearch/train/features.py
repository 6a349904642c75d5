"""Base vectors for training, computed once: MiniLM is frozen, so only the memory module learns.

Every segment and query of the training set is read by the base model a single time and
its mean-pooled vector kept (float32, 1.5 KB each); epochs then cost only the memory module.
That is what makes training fit a 2-core CPU.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .samples import Sample


@dataclass
class Features:
    segments: list[np.ndarray]  # per sample: (n_segments, D)
    queries: list[np.ndarray]  # per sample: (n_queries, D)


def _fingerprint(samples: list[Sample], model_id: str) -> str:
    h = hashlib.sha1(model_id.encode())
    for sample in samples:
        for text in sample.segments:
            h.update(text.encode())
        for query in sample.queries:
            h.update(query.text.encode())
    return h.hexdigest()[:16]


def compute_features(samples: list[Sample], encoder, cache_dir: Path | None, progress=None) -> Features:
    """Pooled base vectors of every text, read from `cache_dir` when the same samples were seen before."""
    cache = cache_dir / f"features-{_fingerprint(samples, encoder.model_id)}.npz" if cache_dir else None
    if cache is not None and cache.exists():
        flat = np.load(cache)
        seg_all, query_all = flat["segments"], flat["queries"]
    else:
        seg_texts = [t for s in samples for t in s.segments]
        query_texts = [q.text for s in samples for q in s.queries]
        chunks = []
        texts = seg_texts + query_texts
        step = 512
        for i in range(0, len(texts), step):
            chunks.append(encoder.pooled(texts[i : i + step]))
            if progress:
                progress(min(i + step, len(texts)), len(texts))
        flat_all = np.concatenate(chunks) if chunks else np.zeros((0, encoder.dim), np.float32)
        seg_all, query_all = flat_all[: len(seg_texts)], flat_all[len(seg_texts) :]
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, segments=seg_all, queries=query_all)
    segments, queries, a, b = [], [], 0, 0
    for s in samples:
        segments.append(seg_all[a : a + len(s.segments)])
        queries.append(query_all[b : b + len(s.queries)])
        a += len(s.segments)
        b += len(s.queries)
    return Features(segments, queries)
