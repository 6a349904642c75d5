"""Where the bundled weights' training data comes from (see model/DATA.md).

- LongMemEval_S filler sessions (MIT): the ShareGPT and UltraChat conversations that pad
  each question's haystack. Only sessions of the dev split's second half are used, never one
  that holds an answer or appears in a haystack of the first half (the half that benchmarks
  read), and never the questions.
- Synthetic chats written by `synthetic.py`.
- The Chit-Chat Challenge corpus (BYU PCC lab, MIT; PyPI `chitchat-dataset`): 7,168 conversations
  between two people, written as chats, not with an assistant.
All become samples through the hold-out recipe of `pseudo_queries.py` (and, for synthetic
chats, their own questions).
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

from ..segment import segment_stream
from ..sources.base import Stream, Unit
from .pseudo_queries import hold_out_sentences
from .samples import Sample

# Questions [0, BENCHMARK_QUESTIONS) of the dev split are kept for benchmarks.
BENCHMARK_QUESTIONS = 50


def segment_texts_with_owners(
    turns: list[tuple[str, str]],
) -> tuple[list[str], dict[int, int]]:
    """Chat turns (speaker, text) segmented as `index` would; also which segment holds each turn."""
    units = [Unit(text=text, time=None, speaker=speaker, message_id=str(i)) for i, (speaker, text) in enumerate(turns) if text.strip()]
    segments = segment_stream(Stream("s", "s", "train", "s", units))
    owner = {int(m): n for n, s in enumerate(segments) for m in s.message_ids}
    return [s.text for s in segments], owner


def longmemeval_filler(path: Path, sessions: int, rng: random.Random) -> list[Sample]:
    items = json.loads(gzip.decompress(path.read_bytes()))
    held_back = {sid for item in items[:BENCHMARK_QUESTIONS] for sid in item["haystack_session_ids"]}
    answers = {sid for item in items for sid in item["answer_session_ids"]}
    pool: dict[str, list] = {}
    for item in items[BENCHMARK_QUESTIONS:]:
        for sid, session in zip(item["haystack_session_ids"], item["haystack_sessions"]):
            if sid in held_back or sid in answers or any(turn.get("has_answer") for turn in session):
                continue
            pool.setdefault(sid, session)
    chosen = rng.sample(sorted(pool), min(sessions, len(pool)))
    samples = []
    for sid in chosen:
        segments, _ = segment_texts_with_owners([(turn["role"], turn["content"]) for turn in pool[sid]])
        sample = hold_out_sentences(segments, rng)
        if sample.queries and len(segments) >= 3:
            samples.append(sample)
    return samples


CHITCHAT_SESSIONS = 12  # at most this many conversations of one pair of people make one stream


def chitchat_conversations(count: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """`count` streams drawn at random from the Chit-Chat Challenge corpus, as (speaker, text) turns,
    one per message. The conversations of one pair of people, in the order they were held, make one
    stream (up to CHITCHAT_SESSIONS; the rest start another), as a chat export holds them. Each sender
    gets a first name (the corpus has ids), so segments read "Name: text" as `index` writes chat lines."""
    from chitchat_dataset import Dataset  # MIT; the bench extra installs it

    from .synthetic import NAMES

    by_pair: dict[frozenset, list[dict]] = {}
    for conversation in Dataset().values():
        senders = frozenset(m["sender"] for group in conversation["messages"] for m in group)
        by_pair.setdefault(senders, []).append(conversation)
    streams = []
    for pair in sorted(by_pair, key=lambda p: sorted(p)):
        held = sorted(by_pair[pair], key=lambda c: c.get("start") or "")
        streams += [held[i : i + CHITCHAT_SESSIONS] for i in range(0, len(held), CHITCHAT_SESSIONS)]
    out = []
    for conversations in rng.sample(streams, min(count, len(streams))):
        names: dict[str, str] = {}
        people = rng.sample(NAMES, 2)
        turns = []
        for conversation in conversations:
            for group in conversation["messages"]:
                for message in group:
                    speaker = names.setdefault(message["sender"], people[len(names) % 2])
                    if message["text"].strip():
                        turns.append((speaker, message["text"].strip()))
        out.append(turns)
    return out


def chitchat_samples(count: int, rng: random.Random) -> list[Sample]:
    """Chit-chat conversations through the hold-out recipe (pseudo_queries.py)."""
    samples = []
    for turns in chitchat_conversations(count, rng):
        segments, _ = segment_texts_with_owners(turns)
        sample = hold_out_sentences(segments, rng)
        if sample.queries and len(segments) >= 3:
            samples.append(sample)
    return samples
