"""Token-budget segmentation: pack a stream's units into segments the encoder reads one at a time."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime

from .config import CHAT_PIECE_TOKENS, CHAT_SEGMENT_MAX_MESSAGES, CHAT_SEGMENT_TOKENS, DOC_SEGMENT_TOKENS
from .sources.base import SECTION_JOIN, SENTENCE_END, Stream, Unit

# Names how a file becomes segments; change it whenever the same file would give other segments:
# segment_stream cutting a stream differently (a heading alone joined to its subsection), or a
# reader giving other units (PDF running headers, HTML's code blocks). A source's stored hash carries
# it (indexer._file_hash), so after an upgrade `index` reads each file again and re-encodes the
# streams whose segments changed, from the first change.
SEGMENTATION = "person-pieces-48-docs-128-named-sections-headings-joined"

_WORDISH = re.compile(r"\w+|[^\w\s]")
# WordPiece splits English into about 1.3 pieces per word or punctuation mark; counting
# this way keeps segmentation independent of the model and fast.
_PIECES_PER_WORD = 1.3


def approx_tokens(text: str) -> int:
    return int(len(_WORDISH.findall(text)) * _PIECES_PER_WORD) + 1


@dataclass(frozen=True)
class Segment:
    text: str  # what the encoder reads; chat lines are "Speaker: text"
    time: datetime | None  # of the first unit
    time_end: datetime | None  # of the last unit
    speakers: tuple[str, ...]
    message_ids: tuple[str, ...]
    line_start: int | None
    line_end: int | None
    # Its time is the file's modification time (sources.Stream.modified), which every save changes:
    # left out of the hash, so an edit re-encodes from the passage it changed, and a kept row gets the
    # new time written into it instead (indexer.Indexer._refresh_kept).
    timed_by_file: bool = False
    # A document's segment that starts at a heading, a chapter or a new date: the one before it is
    # not read ahead into it (reads_ahead_along), so it is part of what was encoded.
    opens_section: bool = False
    # The heading of the section it lies in (sources.base.Unit.section). Not encoded, but part of the
    # hash, so that an index from before sections had names re-writes its documents' rows with them
    # (re-encoding them once). A renamed heading changes the text of the segment holding it, which
    # re-encodes the stream from there on anyway.
    section: str | None = None

    @property
    def content_hash(self) -> str:
        """Identity of what was encoded; a changed hash means this segment (and its successors) must be re-encoded."""
        h = hashlib.sha1(self.text.encode())
        if not self.timed_by_file:
            h.update(str(self.time).encode())
        h.update("\x1f".join(self.message_ids).encode())
        if self.opens_section:
            h.update(b"\x1esection")
        if self.section is not None:
            h.update(b"\x1d" + self.section.encode())
        return h.hexdigest()


# Speaker names taken for an AI assistant, in any case: ChatGPT and Claude exports write "assistant";
# chat logs written from an API's roles may say "model" (Gemini) or "ai"; chat tools "bot". A person
# could be called Claude or Gemini, so the products' names are not in it.
ASSISTANTS = frozenset({"assistant", "model", "ai", "bot", "chatbot"})


def by_assistant(speakers) -> bool:
    """Whether a segment's speakers are an AI assistant alone."""
    return bool(speakers) and all(s.casefold() in ASSISTANTS for s in speakers)


def reads_ahead_into(speakers, after) -> bool:
    """Whether a segment by these speakers may be read before the one after it, by `after`'s
    (EncoderConfig.context_after): not across a person's and an assistant's turns, whose words
    would blur each other's."""
    return by_assistant(speakers) == by_assistant(after)


def reads_ahead_along(speakers: list, opens_section: list[bool] | None = None) -> list[bool]:
    """For a stream's segments, by their speakers (and whether each opens a section) in order:
    whether each but the last may be read before the next (reads_ahead_into), never into a new
    section, whose first words are another topic's (docs/benchmarks.md, "A heading starts a
    segment"); what `index` and `train` pass as StreamJob/Sample.ahead."""
    opens = opens_section or [False] * len(speakers)
    return [reads_ahead_into(a, b) and not new for a, b, new in zip(speakers, speakers[1:], opens[1:])]


def turn_context(segments: list[Segment], i: int, turns: int) -> str:
    """The text of the `turns` segments before segments[i] when it is a person's chat turn, else "":
    what an index with a lexical memory (EncoderConfig.context_turns) stores beside the turn, so
    full text finds a reply that answers without naming what the turns before it named. An
    assistant's turn gets none: it restates its subject anyway, and lifted by the question's words
    in the turn before it, it pushed the person's own statements out of LongMemEval's top ten
    (benchmarks/two_cosines.py; docs/benchmarks.md, "Lexical memory")."""
    if not segments[i].message_ids or by_assistant(segments[i].speakers):
        return ""
    return "\n".join(s.text for s in segments[max(0, i - turns) : i])


def _unit_line(unit: Unit) -> str:
    return f"{unit.speaker}: {unit.text}" if unit.speaker else unit.text


def _costs(texts: list[str], is_chat: bool) -> list[int]:
    """Token cost of each text. Chats keep the word count: a 96-token budget against a 256-token
    window leaves room for any undercount. Documents count real word pieces: 200 against 256 does not."""
    if is_chat:
        return [approx_tokens(t) for t in texts]
    from .encoder.wordpieces import count_wordpieces

    return count_wordpieces(texts)


_WORD_AND_SPACE = re.compile(r"\S+\s*")


def _words(text: str, budget: int, is_chat: bool) -> tuple[list[str], list[int]]:
    """The text's words (each with the whitespace after it) and their costs; a word alone over
    the budget (a hash, a minified line) is cut into character runs that fit."""
    words, costs = [], []
    raw = _WORD_AND_SPACE.findall(text)
    for word, cost in zip(raw, _costs(raw, is_chat)):
        if is_chat:
            cost -= 1  # approx_tokens adds 1 per call
        if cost <= budget:
            words.append(word)
            costs.append(cost)
            continue
        step = max(1, len(word) * budget // (2 * cost))  # half the budget's share of characters: fits even if pieces bunch up
        runs = [word[i : i + step] for i in range(0, len(word), step)]
        words.extend(runs)
        costs.extend(c - 1 if is_chat else c for c in _costs(runs, is_chat))
    return words, costs


# A chat message's sentences, and its lines: a list item ends where its line does.
_SENTENCE_OR_LINE = re.compile(rf"{SENTENCE_END.pattern}|\n+")


def _sentences(text: str) -> list[str]:
    """The text's sentences and lines, each with the whitespace after it, in order."""
    ends = [m.end() for m in _SENTENCE_OR_LINE.finditer(text)]
    return [text[a:b] for a, b in zip([0, *ends], [*ends, len(text)]) if text[a:b].strip()]


def _split_long(unit: Unit, budget: int, is_chat: bool) -> list[Unit]:
    """A unit above the budget is cut into pieces that fit; each piece keeps the unit's place.
    A chat message's pieces hold whole sentences (or lines), a sentence alone over the budget
    starting a piece and cut at word boundaries; a document's paragraph is cut at word boundaries."""
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for chunk in _sentences(unit.text) if is_chat else [unit.text]:
        words, costs = _words(chunk, budget, is_chat)
        if is_chat and sum(costs) <= budget:
            words, costs = ["".join(words)], [sum(costs)]
        elif is_chat and current:
            pieces.append("".join(current))
            current, used = [], 0
        for word, cost in zip(words, costs):
            if current and used + cost > budget:
                pieces.append("".join(current))
                current, used = [], 0
            current.append(word)
            used += cost
    if current:
        pieces.append("".join(current))
    return [Unit(**{**unit.__dict__, "text": text.strip()}) for text in pieces if text.strip()]


def _make_segment(units: list[Unit], is_chat: bool, opens_section: bool) -> Segment:
    sep = "\n" if is_chat else "\n\n"
    speakers = tuple(dict.fromkeys(u.speaker for u in units if u.speaker))
    times = [u.time for u in units if u.time is not None]
    lines = [u.line_start for u in units if u.line_start is not None]
    ends = [u.line_end for u in units if u.line_end is not None]
    return Segment(
        text=sep.join(_unit_line(u) for u in units),
        time=times[0] if times else None,
        time_end=times[-1] if times else None,
        speakers=speakers,
        message_ids=tuple(dict.fromkeys(u.message_id for u in units if u.message_id is not None)),
        line_start=min(lines) if lines else None,
        line_end=max(ends) if ends else None,
        opens_section=opens_section,
        section=units[0].section,
    )


def _heading_alone(unit: Unit) -> bool:
    """Whether unit is a heading alone: it opens a section, and its text is that section's name."""
    return unit.opens_section and bool(unit.section) and " ".join(unit.text.split()) == unit.section.split(SECTION_JOIN)[-1]


def _opens_subsection(heading: Unit, unit: Unit) -> bool:
    """Whether unit opens a subsection of heading's section ("Garden" -> "Garden › Roof")."""
    if not (unit.opens_section and heading.section and unit.section):
        return False
    under = unit.section.split(SECTION_JOIN)
    return len(under) > 1 and under[-2] == heading.section.split(SECTION_JOIN)[-1]


def _headings_joined(units: list[Unit]) -> list[Unit]:
    """A document's units with each heading alone joined to its first subsection's first unit (a
    chain of them, h1 h2 h3, to the first text under the last), as markdown's headings join the
    paragraph after them: alone, it was a passage with no text under it (an HTML <h1> right before an
    <h2>, a PDF chapter's title before its first section's)."""
    out: list[Unit] = []
    headings_only: list[bool] = []  # per unit of out: whether it holds headings and nothing else
    for unit in units:
        only = _heading_alone(unit)
        if out and headings_only[-1] and _opens_subsection(out[-1], unit):
            heading = out.pop()
            headings_only.pop()
            unit = replace(unit, text=f"{heading.text}\n{unit.text}", line_start=heading.line_start if heading.line_start is not None else unit.line_start)
        out.append(unit)
        headings_only.append(only)
    return out


def segment_stream(stream: Stream) -> list[Segment]:
    """Consecutive units packed up to the budget; paragraph and message boundaries are never cut
    unless one unit alone is over budget. A person's chat message over CHAT_PIECE_TOKENS is cut
    into pieces, each the start of its own segment. Documents also break at a heading and where
    the date changes, so a segment never spans two sections."""
    is_chat = stream.is_chat
    budget = CHAT_SEGMENT_TOKENS if is_chat else DOC_SEGMENT_TOKENS
    max_units = CHAT_SEGMENT_MAX_MESSAGES if is_chat else 10**9
    segments: list[Segment] = []
    current: list[Unit] = []
    used = 0
    opening = False  # whether `current` starts a section
    units = stream.units if is_chat else _headings_joined(stream.units)
    for unit, unit_cost in zip(units, _costs([u.text for u in units], is_chat)):
        # An AI assistant's reply keeps the segment budget: cut into pieces as well, it doubled an
        # assistant chat's segments and found less (docs/benchmarks.md, "A long turn's pieces").
        person = is_chat and not (unit.speaker and by_assistant((unit.speaker,)))
        unit_budget = CHAT_PIECE_TOKENS if person else budget
        pieces = _split_long(unit, unit_budget, is_chat) if unit_cost > unit_budget else [unit]
        alone = person and len(pieces) > 1
        for n, (piece, cost) in enumerate(zip(pieces, _costs([_unit_line(p) for p in pieces], is_chat))):
            new_section = not is_chat and ((unit.opens_section and n == 0) or (current and current[-1].time != piece.time))
            if current and (alone or used + cost > budget or len(current) >= max_units or new_section):
                segments.append(_make_segment(current, is_chat, opening))
                current, used, opening = [], 0, bool(new_section)
            current.append(piece)
            used += cost
    if current:
        segments.append(_make_segment(current, is_chat, opening))
    if stream.modified is not None:
        segments = [replace(s, timed_by_file=True) if s.time == stream.modified else s for s in segments]
    return segments
