"""Memory as context read, not learned: each segment is also read by MiniLM after the content words
its stream said just before it, and pooled over its own word pieces only (late chunking, Günther et
al. 2024, arXiv:2409.04701). No trained weights: the base model attends from "it" and "the plan" to
what was named before.

A segment's vector is unit(static + WEIGHT x that reading + PREVIOUS x the previous segment's static
direction) (EncoderConfig.context_weight, previous_weight). The memory a stream carries is (Q, D)
float32: row 0 the previous segment's static direction, row 1 [n, the last n content word pieces]
(piece ids are below 2^24, exact in float32). An empty memory gives the static vector exactly.

Only content words travel (ContentFilter): 32 of them span about three times the text 32 raw
pieces do, and on LoCoMo read nearly as well as 254 raw pieces for a third of the second pass's
cost (benchmarks/late_context.py --content-only, and --speed; docs/benchmarks.md, "Context read").

With EncoderConfig.context_after, the reading also runs on into the first content pieces of the
segment after it (late chunking reads a whole document both ways); `index` then re-encodes the
segment before any change in its stream (benchmarks/late_context.py --after).

The reading's row is [CLS] context segment [after] [SEP], masked 2 (attended, not pooled) over the context
and 1 elsewhere: the pooling graph (minilm.py's pool) averages only where the mask is 1. Plain
segments are all 1, so the same graph serves both. numpy only: int8_encoder.py never imports torch.

A base model other than MiniLM describes its pieces with a Layout: e5-small (e5.py) has other
special ids, a SentencePiece vocabulary, and its "passage: " prefix, which stays at the row's head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .common import unit

ATTEND_ONLY = 2  # mask value: the token is attended to but not pooled


@dataclass(frozen=True)
class Layout:
    """How a base model's tokenizer lays out a segment: its first and last special ids, how many
    pieces of a fixed prefix follow the first (they stay ahead of the context), and the mark its
    vocabulary puts on a word's first piece (None: WordPiece, which marks the pieces after it "##")."""

    first: int = 101  # MiniLM's [CLS]
    last: int = 102  # [SEP]
    lead: int = 0
    word_start: str | None = None


MINILM = Layout()
FILLER = frozenset(
    # stopwords and chat filler: what a later segment never needs to be tied to
    "the and for with from about that this these those there here then than what when where which who whom whose why "
    "how does did are was were has have had its they them their his her she you your our been being into would could "
    "should will can may might after before during since until while some any more most other such only own same very "
    "just also ever never yet still one two first last like kind not but thats yeah yes okay really well too lot get got going "
    "gonna know think thing things good great nice cool wow sure thanks thank hey hello love glad sounds".split()
)


class ContentFilter:
    """Which word pieces belong to content words: a word (a piece and the ## pieces after it, or with
    Layout.word_start, a marked piece and the unmarked ones after it) of 3+ letters or digits that
    is not in FILLER. Decided once per vocabulary entry."""

    def __init__(self, tokenizer, word_start: str | None = None):
        size = tokenizer.get_vocab_size()
        tokens = [tokenizer.id_to_token(i) or "" for i in range(size)]
        if word_start is None:
            self.continues = [t.startswith("##") for t in tokens]
            self.text = [t.removeprefix("##") for t in tokens]
        else:
            self.continues = [not t.startswith(word_start) for t in tokens]
            self.text = [t.removeprefix(word_start) for t in tokens]

    def __call__(self, ids: list[int]) -> list[int]:
        keep: list[int] = []
        word: list[int] = []

        def close() -> None:
            text = "".join(self.text[i] for i in word)
            if len(text) >= 3 and text.isalnum() and text.lower() not in FILLER:
                keep.extend(word)

        for i in ids:
            if word and self.continues[i]:
                word.append(i)
                continue
            if word:
                close()
            word = [i]
        if word:
            close()
        return keep


class Row(NamedTuple):
    """One call's tokens, shaped like a tokenizers Encoding where the encoders read it."""

    ids: list[int]
    attention_mask: list[int]


def context_read(config, tokenizer, layout: Layout = MINILM) -> "ContextRead | None":
    """The ContextRead an EncoderConfig asks for, or None when its context read is off."""
    if not config.context_pieces:
        return None
    return ContextRead(tokenizer, config.context_pieces, config.context_weight, config.previous_weight, config.max_tokens, config.context_after, layout)


def mix(static: np.ndarray, read: np.ndarray, previous: np.ndarray, weight: float, previous_weight: float) -> np.ndarray:
    """(N, D) unit vectors: unit(static + weight x read + previous_weight x previous); a segment with
    nothing before it (read is its static direction, previous zeros) keeps its static vector bit for
    bit, not rescaled."""
    mixed = unit(static + weight * read + previous_weight * previous).astype(np.float32)
    first = ~previous.any(axis=1) & (read == static).all(axis=1)
    mixed[first] = static[first]
    return mixed


def following_encodings(encoder, following: list[str | None] | None) -> list | None:
    """The encodings of the segments after a call's segments (None at a stream's end), where the
    encoder reads ahead; None where it does not or was given none (Encoder.encode's `following`)."""
    if not encoder.reads_ahead or following is None:
        return None
    texts = [t for t in following if t is not None]
    encoded = iter(encoder.tokenize(texts) if texts else [])
    return [next(encoded) if t is not None else None for t in following]


class ContextRead:
    """The arithmetic around the model: which rows to read, how to mix, what memory to carry."""

    def __init__(self, tokenizer, pieces: int, weight: float, previous: float, max_tokens: int, after: int = 0, layout: Layout = MINILM):
        self.content = ContentFilter(tokenizer, layout.word_start)
        self.pieces, self.weight, self.previous, self.max_tokens, self.after = pieces, weight, previous, max_tokens, after
        self.layout = layout

    @staticmethod
    def carried(memory: np.ndarray) -> list[int]:
        """The content pieces a memory row carries (row 1: [n, ids...])."""
        n = int(memory[1, 0])
        return memory[1, 1 : 1 + n].astype(np.int64).tolist()

    def row(self, own: list[int], before: list[int], after: list[int] = ()) -> Row | None:
        """The call that reads own (a segment's pieces, without [CLS]/[SEP]; its prefix first) after as
        many of the pieces before it as fit, and before as many of the `after` pieces as then fit;
        None when none do (then the reading is the static vector)."""
        own = own[: self.max_tokens - 2]
        room = self.max_tokens - 2 - len(own)
        before = before[-min(self.pieces, room) :] if room > 0 else []
        after = list(after[: min(self.after, room - len(before))])
        if not before and not after:
            return None
        lead, first, last = self.layout.lead, self.layout.first, self.layout.last
        ids = [first, *own[:lead], *before, *own[lead:], *after, last]
        mask = [1] * (1 + lead) + [ATTEND_ONLY] * len(before) + [1] * (len(own) - lead) + [ATTEND_ONLY] * len(after) + [1]
        return Row(ids, mask)

    def said(self, encoding) -> list[int]:
        """A segment's own pieces: its encoding without the specials and the prefix."""
        return encoding.ids[1 + self.layout.lead : -1]

    def ahead(self, encodings: list) -> list[list[int]]:
        """The pieces each segment is read before: the first content pieces of the segment after it
        (an encoding, or None at its stream's end; nothing when this read is causal)."""
        return [self.content(self.said(e))[: self.after] if self.after and e is not None else [] for e in encodings]

    def encode(self, encodings: list, pooled: np.ndarray, memory: np.ndarray, pool, following: list | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The Encoder.encode result for segments' encodings (with [CLS]/[SEP]), their raw pooled
        static vectors (N, D) and memories (N, Q, D); pool(rows) -> (n, D) raw pooled vectors of Rows;
        following: the encoding of the segment after each (None at a stream's end), where it reads ahead."""
        static, read, previous, after = self.parts(encodings, pooled, memory, pool, following)
        return mix(static, read, previous, self.weight, self.previous), after

    def parts(self, encodings: list, pooled: np.ndarray, memory: np.ndarray, pool, following: list | None = None) -> tuple[np.ndarray, ...]:
        """What a segment's vector is mixed from, (N, D) each: its static direction, its reading in
        context (the static direction where nothing came before or after) and the previous segment's
        static direction (zeros for a stream's first); and the memories after (N, Q, D). `evosearch
        train` re-mixes them with other weights (train/context_fit.py)."""
        static = unit(pooled)
        own = [e.ids[1:-1] for e in encodings]
        ahead = self.ahead(following or [None] * len(own))
        rows = [self.row(o, self.carried(m), a) for o, m, a in zip(own, memory, ahead)]
        read = static.copy()  # with nothing before or after it, a segment read in context is itself
        wanted = [i for i, r in enumerate(rows) if r is not None]
        if wanted:
            read[wanted] = unit(pool([rows[i] for i in wanted]))
        after = np.stack([self.memory_after(self.said(e), s, m) for e, s, m in zip(encodings, static, memory)]) if len(own) else memory
        return static, read, memory[:, 0].copy(), after.astype(np.float32)

    def memory_after(self, own: list[int], static: np.ndarray, memory: np.ndarray) -> np.ndarray:
        """The memory (Q, D) after a segment (own: its pieces without a prefix): its static direction,
        and the last content pieces."""
        tail = (self.carried(memory) + self.content(own))[-self.pieces :]
        new = np.zeros_like(memory)
        new[0] = static
        new[1, 0] = len(tail)
        new[1, 1 : 1 + len(tail)] = tail
        return new
