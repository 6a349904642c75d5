"""Runs many streams through an encoder with chunked sequential batching.

A batch holds the next segment of up to `batch_size` streams, each under its own carried
memory. When a stream ends, its slot is refilled by the next waiting stream, so short and
long files share batches and the encoder stays busy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .encoder import Encoder, reads_ahead

STREAM_BATCH = 32  # streams encoded side by side


@dataclass
class StreamJob:
    key: object  # caller's handle (a stream id)
    texts: list[str]  # the segments still to encode, in order
    start: int  # position of texts[0] in the stream
    memory: np.ndarray  # (Q, D): the memory after segment start-1 (zeros at a stream's start)
    ahead: list[bool] | None = None  # whether texts[i] may be read before texts[i + 1] (None: each may)


@dataclass
class Encoded:
    job: StreamJob
    position: int
    embedding: np.ndarray  # (D,)
    memory: np.ndarray  # (Q, D): the memory after this segment
    last: bool  # the job's final segment
    batch_end: bool  # the last segment of the encoder call it came from (progress advances per call)


def following(texts: list[str], ahead: list[bool] | None, i: int) -> str | None:
    """The text texts[i] is read before, where the encoder reads ahead: the next one in its stream,
    unless `ahead` says not (a person's and an assistant's turns) or texts[i] ends the stream."""
    if i + 1 >= len(texts) or (ahead is not None and not ahead[i]):
        return None
    return texts[i + 1]


def encode_streams(jobs: Iterable[StreamJob], encoder: Encoder, batch_size: int = STREAM_BATCH) -> Iterator[Encoded]:
    """Yield every segment of every job; within a job, in order."""
    waiting = (job for job in jobs if job.texts)
    slots: list[tuple[StreamJob, int, np.ndarray]] = []  # (job, index of its next text, memory)
    while True:
        while len(slots) < batch_size:
            job = next(waiting, None)
            if job is None:
                break
            slots.append((job, 0, job.memory))
        if not slots:
            return
        texts = [job.texts[i] for job, i, _ in slots]
        memory = np.stack([m for _, _, m in slots])  # (B, Q, D)
        if reads_ahead(encoder):  # a job's texts run to its stream's end, so the last has none after it
            after = [following(job.texts, job.ahead, i) for job, i, _ in slots]
            embeddings, new_memory = encoder.encode(texts, memory, after)
        else:
            embeddings, new_memory = encoder.encode(texts, memory)  # (B, D), (B, Q, D)
        refilled = []
        for b, (job, i, _) in enumerate(slots):
            last = i + 1 == len(job.texts)
            yield Encoded(job, job.start + i, embeddings[b], new_memory[b], last, b == len(slots) - 1)
            if not last:
                refilled.append((job, i + 1, new_memory[b]))
        slots = refilled
