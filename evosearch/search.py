"""The query pipeline, as plain functions over an IndexReader: shared by `ask`, `--queries` and the benchmarks.

1. Time: a phrase in the query ("last week", "in March") becomes a window; words like
   "latest" or "originally" ask for the newest or oldest match.
2. Retrieval: dense (cosine over segment vectors) and full-text (BM25) candidates,
   fused by their scores: cosine + a per-model weight x BM25 (Fusion), so a passage that shares a word
   with the question but little meaning does not outrank one that answers it in other words.
3. Time shaping: candidates inside the query's window rank ahead of the rest (a boost,
   not a filter: a phrase in free text is a guess, so nothing is hidden because of it);
   --since/--until are explicit and filter strictly. An order word adds a bonus for
   recency (or age) among the best matches.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import numpy as np

from .encoder import Encoder
from .errors import QueryError
from .filters import conversation_where, source_where, speaker_where, time_where, where_all
from .segment import by_assistant
from .store import CONTEXT, IndexReader
from .store.schema import stored_speakers
from .timephrases import TimeIntent, TimeWindow, parse_time_intent
from .timeline import best_matches, timeline_buckets

MIN_CANDIDATES = 50  # per retriever; more candidates, better fusion, slower
ORDER_BONUS = 0.5  # recency bonus for "latest"/"first", as a share of the best fused score
ORDER_MIN_SIMILARITY_SHARE = 0.6  # the order bonus goes only to candidates this close (dense cosine) to the best one
# What ranking reads of each candidate: the time (for "latest"/"first"), its place in its
# stream (chat neighbours; documents have no message ids), and who spoke it (speakers a question names).
RANKING_COLUMNS = ["time", "stream_id", "position", "message_ids", "speaker"]
# Added to passages inside the query's time window. Inside a firm window ("last week", "in March")
# they also rank first whatever their score; inside a vague one ("recently") a passage outside that
# matches far better can still lead (docs/benchmarks.md, "Time phrases", "recently").
WINDOW_BOOST = 1.0


@dataclass(frozen=True)
class Fusion:
    """How `ask` weighs its evidence, per base model: a model's cosines have their own spread
    (e5-small's sit in a narrow band near 1, MiniLM's spread over 0-1). Each value is the one
    benchmarks/fusion.py chose on all of LoCoMo for that model (docs/benchmarks.md, "Fusion")."""

    # What one BM25 point adds to a cosine; for MiniLM also the largest weight that keeps
    # tests/test_fusion_model.py's lexical decoys below their answers.
    text_weight: float
    # A chat turn whose neighbouring turns (just before or after it in its conversation) are also
    # candidates gains this share of the better neighbour's score: the question's context lies
    # around its answer. A document's section counts as its own neighbour (fuse). An AI assistant's
    # turns neither gain nor give: a reply echoes the topic of the turn before it whether or not that
    # turn holds what is asked (docs/benchmarks.md, "An assistant's turn").
    neighbour_weight: float
    # The time window's boost goes only to document sections whose cosine reaches this share of the
    # best one's: a date in a question may describe the content, not when it was written
    # (docs/benchmarks.md, "Time phrases").
    window_share: float
    # BM25 past this level (the hit shares several words, or rare ones, with the question) counts this
    # much more per point. LongMemEval's answers are found by full text at low cosines and want a far
    # larger weight than text_weight; a lexical decoy shares one common word and stays below the level
    # (benchmarks/text_weight.py). Chat turns only: on documents it cost Recall@1 (benchmarks/fusion.py).
    # 0: no such term.
    text_excess_weight: float = 0.0
    text_excess_from: float = 0.0
    # The lexical memory, where the index holds it (store.holds_context): a chat turn gains this
    # much per point of its context's BM25 (the turns just before it) past the level, so a reply that
    # answers without naming its subject is found by the subject named before it. Past a level, as
    # the excess term: context shares a common word with nearly every question. Chosen with
    # benchmarks/context_text.py (docs/benchmarks.md, "Lexical memory").
    context_weight: float = 0.0
    context_from: float = 0.0
    # Added to a segment spoken only by people the question names ("what did Caroline say about
    # the adoption"): a question about a person is answered by what that person said, not by the
    # other side of the conversation repeating its words. MiniLM's: the smaller of two tied best
    # values (benchmarks/fusion.py; docs/benchmarks.md, "A speaker the question names").
    speaker_weight: float = 0.0
    # window_share's counterpart for chat turns: the window's boost goes only to turns whose fused score
    # reaches this share of the best candidate's. A turn is dated when it was said, and its cosine
    # alone withheld the boost from turns that answer in few words (docs/benchmarks.md, "Time
    # phrases", "Which passages gain").
    chat_window_share: float = 0.0
    # Subtracted from an AI assistant's turn when the question is about the asker ("how long have I
    # been in my current role?": in the first person, and not addressing "you"): the person's own
    # turns hold their facts, and an assistant's long replies repeat the topic's words around them
    # (docs/benchmarks.md, "An assistant's turn, for a question about the asker").
    assistant_weight: float = 0.0


_MINILM = Fusion(
    text_weight=0.03,
    neighbour_weight=0.3,
    window_share=0.6,
    text_excess_weight=0.24,
    text_excess_from=8.0,
    context_weight=0.09,
    context_from=8.0,
    speaker_weight=0.2,
    chat_window_share=0.2,
    assistant_weight=0.3,
)
FUSION = {
    "minilm": _MINILM,
    # No neighbours: e5's scores sit so close together that the term rewards having a neighbour
    # at all, and it lost at every weight tried. The window share has no effect on its cosines.
    # No BM25 excess: not tuned on e5.
    # Its speaker weight is MiniLM's scaled as its text weight is (a quarter).
    "e5-small": Fusion(text_weight=0.0075, neighbour_weight=0.0, window_share=0.0, speaker_weight=0.05),
    # The test encoder: MiniLM's weights, and no window share for documents (its word-count cosines
    # withheld the boost from right answers: benchmarks/time_phrases.py --encoder hashing).
    "hashing": replace(_MINILM, window_share=0.0),
}


@dataclass
class Candidates:
    """What one search returns before fusion: the dense list (each row with its cosine `similarity`)
    and the full-text list (each row with its `bm25` and, read from its stored vector, its cosine
    `similarity` to the query too, so fusion can weigh how related a full-text-only hit really is)."""

    dense: list[dict]
    text: list[dict]
    fusion: Fusion = FUSION["minilm"]  # the index's base model's
    context: dict[int, float] = field(default_factory=dict)  # row id -> its context's BM25 (the lexical memory's hits)
    named: frozenset[str] = frozenset()  # the candidates' speakers the question names, lower case (named_speakers)
    about_the_asker: bool = False  # in the first person, not addressing "you", not asking for advice (about_the_asker)


@dataclass
class Gathered:
    """Everything ranking needs for one query, read from the store: the query's time reading, its
    candidates, and (when it names a time) the candidates inside its window."""

    intent: TimeIntent
    text: str
    candidates: Candidates
    inside: Candidates | None

    @property
    def firm(self) -> bool:
        """Whether the question names a firm time window ("last week"; not "recently"): its passages rank first."""
        return self.intent.window is not None and self.intent.window.firm


def fuse(c: Candidates) -> dict[int, dict]:
    """row id -> row with its `fused` score and in `explain` the parts it was built from: the
    evidence (fuse_evidence), plus for a person's chat turn the neighbour weight x the better evidence
    of the people's turns just before and after it, where they are candidates too, and for a
    document's section the neighbour weight x its own evidence."""
    fused = fuse_evidence(c)
    if not c.fusion.neighbour_weight:
        return fused
    people = [e for e in fused.values() if e.get("message_ids") and not by_assistant(stored_speakers(e.get("speaker")))]
    by_place = {(e["stream_id"], e["position"]): e["fused"] for e in people}
    for entry in people:
        near = max(by_place.get((entry["stream_id"], entry["position"] + step), 0.0) for step in (-1, 1))
        if near > 0:
            entry["fused"] += c.fusion.neighbour_weight * near
            entry["explain"].update(neighbours=round(c.fusion.neighbour_weight * near, 4), fused=round(entry["fused"], 4))
    # A section holds the context around its answer that a chat turn's neighbours hold for it: it counts
    # as its own neighbour, so notes and chats in one index are weighed alike (a turn whose neighbour
    # matches as well as it does scores the same). Order among sections alone does not change.
    for entry in fused.values():
        if not entry.get("message_ids") and entry["fused"] > 0:
            share = c.fusion.neighbour_weight * entry["fused"]
            entry["fused"] += share
            entry["explain"].update(section=round(share, 4), fused=round(entry["fused"], 4))
    return fused


def fuse_evidence(c: Candidates) -> dict[int, dict]:
    """row id -> row with its `fused` score, cosine + the text weight x BM25 (0 where the text does not
    match) + for a chat turn (and a section among chat turns) the excess weight x the BM25 above its
    level + for a chat turn the context weight x its context's BM25 above its level (where the index
    holds context) + the speaker weight where only people the question names speak (named_speakers)
    - the assistant weight for an AI assistant's turn when the question is about the asker
    (about_the_asker), and in `explain` the parts it was built from. Scores, not ranks: reciprocal rank fusion gave a full-text #1 with cosine 0.2
    the same credit as one with 0.6 (issue 22)."""
    fused: dict[int, dict] = {}
    for rank, row in enumerate(c.dense, 1):
        fused[row["_rowid"]] = {**row, "bm25": 0.0, "explain": {"dense_rank": rank}}
    for rank, row in enumerate(c.text, 1):
        entry = fused.setdefault(row["_rowid"], {**row, "explain": {}})
        entry["bm25"] = row["bm25"]
        entry["explain"].update(text_rank=rank, bm25=round(row["bm25"], 4), text_weight=c.fusion.text_weight)
    f = c.fusion
    # BM25 past its level is a chat turn's term: on sections alone it cost the documents' set R@1. Where
    # chat turns are among the candidates, sections take it too, or they could not compete with them
    # (docs/benchmarks.md, "Notes and chats in one index").
    among_chats = any(e.get("message_ids") for e in fused.values())
    for i, entry in fused.items():
        chat = bool(entry.get("message_ids"))
        excess = f.text_excess_weight * max(0.0, entry["bm25"] - f.text_excess_from) if chat or among_chats else 0.0
        context = f.context_weight * max(0.0, c.context.get(i, 0.0) - f.context_from) if chat else 0.0
        text_part = f.text_weight * entry["bm25"] + excess
        speaker = f.speaker_weight if c.named and spoken_by(entry.get("speaker"), c.named) else 0.0
        assistant = f.assistant_weight if c.about_the_asker and by_assistant(stored_speakers(entry.get("speaker"))) else 0.0
        entry["fused"] = entry["similarity"] + text_part + context + speaker - assistant
        entry["explain"].update(dense_similarity=round(entry["similarity"], 4), text_part=round(text_part, 4), fused=round(entry["fused"], 4))
        if excess:
            entry["explain"].update(text_excess=round(excess, 4), text_excess_weight=f.text_excess_weight, text_excess_from=f.text_excess_from)
        if context:
            entry["explain"].update(
                context_bm25=round(c.context[i], 4), context=round(context, 4), context_weight=f.context_weight, context_from=f.context_from
            )
        if speaker:
            entry["explain"]["speaker"] = speaker
        if assistant:
            entry["explain"]["assistant"] = -assistant
    return fused


# Words that name a speaker in some exports ("Me", "You") or are names as well ("Will", "May"),
# but in a question are nearly always the plain word.
_PLAIN_WORDS = frozenset("i me my you your we us our he him she her they them it will may can".split())


def named_speakers(text: str, rows: list[dict]) -> frozenset[str]:
    """The speakers of rows (their `speaker` column) that the question names, lower case: a speaker is
    named when a word of their name (Maya of "Maya Chen", of "maya.chen@example.com" before its @)
    is a word of the question, in any case; digits (a phone number) and single letters name no one."""
    words = set(re.findall(r"\w+", text.lower())) - _PLAIN_WORDS
    named = set()
    for row in rows:
        for name in stored_speakers(row.get("speaker")):
            if words & {w for w in re.findall(r"\w+", name.lower().split("@")[0]) if len(w) > 1 and not w.isdigit()}:
                named.add(name.lower())
    return frozenset(named)


_FIRST_PERSON = frozenset("i me my mine myself i'm i've i'd i'll".split())
_SECOND_PERSON = frozenset("you your yours yourself you're you've you'd you'll".split())


# "How do I back up my database?", "should I repot it?": asking for advice, which an assistant's reply holds.
_ASKS_ADVICE = re.compile(r"\b(?:how\s+(?:do|can|could|should|would)|should|can|could|what\s+should)\s+i\b")


def about_the_asker(text: str) -> bool:
    """Whether a question is about the person asking: in the first person ("what did I…", "my
    trip"), not addressing someone ("what did you suggest for my trip" asks for a reply), and not
    asking for advice."""
    text = text.lower().replace("’", "'")
    words = set(re.findall(r"[\w']+", text))
    return bool(words & _FIRST_PERSON) and not words & _SECOND_PERSON and not _ASKS_ADVICE.search(text)


def spoken_by(speaker: str | None, named: frozenset[str]) -> bool:
    """Whether a row's `speaker` column names only speakers in named (and at least one)."""
    names = stored_speakers(speaker)
    return bool(names) and all(n.lower() in named for n in names)


def _retrieve(store: IndexReader, vector, text: str, pool: int, where: str | None) -> Candidates:
    """Candidates carry only their row id, score and time (full-text hits also their vector, for
    their cosine): ranking needs nothing more, and reading every candidate's text cost more than
    both searches; the results' rows are read once ranked (see ask). The searches run one after
    the other: on two cores, a thread for the full-text search measured slower. The lexical
    memory's search only scores candidates the other two found: its own hits, added as
    candidates, lost (benchmarks/context_text.py --add)."""
    dense = store.vector_search(vector, pool, where, RANKING_COLUMNS)
    words = _fts_text(text)
    text_hits = store.text_search(words, pool, where, [*RANKING_COLUMNS, "vector"])
    for row in text_hits:
        row["similarity"] = float(np.dot(row.pop("vector"), vector))  # stored vectors are unit length, as is the query's
    fusion = fusion_for(store.model_id)
    context = {}
    if fusion.context_weight and store.holds_context:
        context = {r["_rowid"]: r["bm25"] for r in store.text_search(words, pool, where, ["position"], field=CONTEXT)}
    return Candidates(dense, text_hits, fusion, context, named_speakers(text, [*dense, *text_hits]), about_the_asker(text))


def fusion_for(model_id: str) -> Fusion:
    """FUSION for the base model that wrote an index."""
    from .encoder import model_name

    return FUSION[model_name(model_id)]


# A question about how much time passed ("how many days ago did I meet Emma?", "how many weeks
# passed between …") is answered by dated passages that say what happened, never how long ago; its
# unit word matched any passage about days or weeks. Full text only: read by the dense encoder too,
# it cost a question (docs/benchmarks.md, "How much time passed").
_ELAPSED = re.compile(
    r"\bhow\s+many\s+(?:minute|hour|day|night|week|weekend|month|year)s?\s+(?:ago|(?:had|have|has)\s+passed|passed|(?:had|have)\s+gone\s+by)\b"
    r"|\bhow\s+long\s+(?:ago|(?:has|had)\s+it\s+been)\b",
    re.I,
)


def _fts_text(text: str) -> str:
    # The full-text parser gives meaning to quotes, colons and operators; a person's question is plain words.
    words = re.findall(r"\w+", _ELAPSED.sub(" ", text))
    return " ".join(words or re.findall(r"\w+", text))


def _window_json(window: TimeWindow | None) -> dict | None:
    if window is None:
        return None
    return {
        "phrase": window.phrase,
        "start": window.start.isoformat() if window.start else None,
        "end": window.end.isoformat() if window.end else None,
        "firm": window.firm,
    }


def _apply_order(ranked: list[dict], order: str, limit: int, window_first: bool) -> list[dict]:
    """Among the best max(limit, 10) matches, add a bonus growing with recency ("newest") or age ("oldest").

    Only candidates about the thing asked for take part: "the first time I went to the dentist"
    orders dentist notes, and an unrelated old article in the top 10 of a small index must not
    win on its age (docs/benchmarks.md, "Time phrases")."""
    head, tail = ranked[: max(limit, 10)], ranked[max(limit, 10) :]
    best = max((r.get("similarity", 0.0) for r in head), default=0.0)
    eligible = [r for r in head if r["time"] is not None and r.get("similarity", 0.0) >= ORDER_MIN_SIMILARITY_SHARE * best]
    times = [r["time"].timestamp() for r in eligible]
    if len(times) < 2 or max(times) == min(times):
        return ranked
    lo, hi = min(times), max(times)
    # half the best score before time: fused, and what the closer look added (it comes first, so that
    # its word-by-word differences between notes on one topic do not outweigh the order asked for)
    top = max(0.0, *(r["fused"] + r["explain"].get("closer_look", 0.0) for r in head))  # a cosine can be negative; a bonus never is
    for r in eligible:
        age = (r["time"].timestamp() - lo) / (hi - lo)
        bonus = ORDER_BONUS * top * (age if order == "newest" else 1.0 - age)
        r["score"] += bonus
        r["explain"]["order_bonus"] = round(bonus, 5)
    head.sort(key=lambda r: (window_first and not r["in_window"], -r["score"]))  # a firm window's passages stay ahead, bonus or not
    return head + tail


def locator(row: dict) -> str:
    """Where a passage sits in its source: message ids, a line (or page) range, or its position."""
    ids = row["message_ids"] or []
    if ids:
        return ids[0] if len(ids) == 1 else f"{ids[0]}..{ids[-1]}"
    if row["line_start"] is not None:
        # PDFs keep page numbers in the line fields, e-books chapters, Word and ODT block numbers
        prefix = {"pdf": "p", "epub": "ch", "docx": "¶", "odt": "¶"}.get(row["format"], "L")
        if row["line_end"] in (None, row["line_start"]):
            return f"{prefix}{row['line_start']}"  # one line, page or chapter
        return f"{prefix}{row['line_start']}-{row['line_end']}"
    return f"#{row['position']}"


def passage(row: dict) -> dict:
    """One stored segment as `ask`, `show` and `recent` print it in --json; `ref` is what
    `evosearch show` and the MCP `show` tool take."""
    return {
        "ref": row["id"],
        "path": row["path"],
        "locator": locator(row),
        "position": row["position"],
        "time": row["time"].isoformat() if row["time"] else None,
        "time_end": row["time_end"].isoformat() if row["time_end"] else None,
        "speaker": row["speaker"],
        "title": row["title"],
        "format": row["format"],
        "stream_id": row["stream_id"],
        "line_start": row["line_start"],
        "line_end": row["line_end"],
        "section": row.get("section"),  # None in an index from before sections had names (store.schema.SECTION)
        "message_ids": list(row["message_ids"] or []),
        "text": row["text"],
    }


def _result(rank: int, row: dict) -> dict:
    return {"rank": rank, "score": round(row["score"], 6), **passage(row), "also": row["also"], "explain": row["explain"]}


def gather(
    store: IndexReader,
    encoder: Encoder,
    query: str,
    *,
    now: datetime,
    limit: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    speaker: list[str] | None = None,
    conversation: str | None = None,
) -> Gathered:
    """The store's side of a query: its time reading and the candidates of both searches, unfused.
    Every search reads the version store is at: `ask` passes store.latest()."""
    intent = parse_time_intent(query, now)
    text = intent.rest.strip() or query
    base = where_all(
        time_where(since, until), source_where(store, source) if source else None, speaker_where(speaker), conversation_where(conversation)
    )
    pool = max(MIN_CANDIDATES, 5 * limit)
    vector = encoder.encode_queries([text])[0]
    candidates = _retrieve(store, vector, text, pool, base)
    inside = None
    if intent.window is not None:
        inside = _retrieve(store, vector, text, pool, where_all(base, time_where(intent.window.start, intent.window.end)))
    return Gathered(intent, text, candidates, inside)


def _close_to_the_best(f: Fusion, rows: list[dict]) -> set[int]:
    """The row ids close enough to the best match for a time window's boost: a chat turn by its fused
    score (a short turn that answers has a low cosine, carried by its words and neighbours), a
    document's section by its cosine (docs/benchmarks.md, "Time phrases", "Which passages gain")."""

    def floor(share: float, best: float) -> float:
        return share * best if share else float("-inf")  # a cosine can be negative

    by_cosine = floor(f.window_share, max((r.get("similarity", 0.0) for r in rows), default=0.0))
    by_fused = floor(f.chat_window_share, max((r["fused"] for r in rows), default=0.0))
    return {r["_rowid"] for r in rows if (r["fused"] >= by_fused if r.get("message_ids") else r.get("similarity", 0.0) >= by_cosine)}


def rank(gathered: Gathered, limit: int, fusion: Callable[[Candidates], dict[int, dict]] = fuse, order: bool = True) -> list[dict]:
    """Candidates fused and shaped by time, best first, one passage per message (pure: benchmarks/fusion.py
    replays it per fusion). order=False leaves out an order word's bonus (order_by_time): `ask` adds it after its closer look."""
    ranked = sorted(fusion(gathered.candidates).values(), key=lambda r: -r["fused"])
    for row in ranked:
        row["score"], row["in_window"] = row["fused"], False
    if gathered.inside is not None:
        inside = fusion(gathered.inside)
        close = _close_to_the_best(gathered.candidates.fusion, [*ranked, *inside.values()])
        boosted = {i: r for i, r in inside.items() if i in close}
        for row in boosted.values():
            row["score"], row["in_window"] = row["fused"] + WINDOW_BOOST, True
            row["explain"]["window_boost"] = WINDOW_BOOST
        rest = {r["_rowid"]: r for r in ranked if r["_rowid"] not in boosted}
        for i, row in inside.items():  # found only inside the window, and not close enough for its boost
            if i not in boosted and i not in rest:
                row["score"], row["in_window"] = row["fused"], False
                rest[i] = row
        # a firm window's boosted passages rank first whatever their score
        ranked = sorted([*boosted.values(), *rest.values()], key=lambda r: (gathered.firm and not r["in_window"], -r["score"]))
    ranked = distinct_messages(ranked)
    return order_by_time(ranked, gathered, limit) if order else ranked


def ranked_as_asked(gathered: Gathered, limit: int, encoder: Encoder, rows: Callable[[list[int]], dict[int, dict]], fusion: Callable[[Candidates], dict[int, dict]] = fuse) -> list[dict]:
    """The candidates in `ask`'s order: fused and shaped by time (rank), its closer look, then an
    order word's bonus (benchmarks replay it per fusion). rows: as distinct_texts'."""
    ranked = closer_look(rank(gathered, limit, fusion, order=False), gathered.text, encoder, rows, firm=gathered.firm)
    return order_by_time(ranked, gathered, limit)


def order_by_time(ranked: list[dict], gathered: Gathered, limit: int) -> list[dict]:
    """ranked with an order word's bonus ("latest", "first"; _apply_order), or as it is without one."""
    if not gathered.intent.order:
        return ranked
    return _apply_order(ranked, gathered.intent.order, limit, window_first=gathered.firm)


# A closer look at the best candidates, word by word: each passage, read alone, gains
# CLOSER_LOOK_WEIGHT x how well the question's words meet its words, three parts, and its words the
# question's, one part (each the mean over one side's word pieces of the best cosine to one of the
# other side's, MiniLM's last-layer states; as BERTScore compares two texts, here from the unchanged
# model). The pooled vector blurs a one-line answer into its passage; word by word it stands out.
# The passage's side keeps a passage that merely holds the question's words among others from
# winning on them (tests/test_fusion_model.py's decoys: the question's side alone lost one, and so
# did 0.9 of it; 0.8-0.5 kept all four, and LoCoMo falls below 0.7). The weight: LoCoMo's folds
# chose 6, LongMemEval dev's first half loses R@5 past 5. An AI assistant's turn does not gain: it
# repeats the question's words whatever it answers (that half's R@10: 93.6 -> 88.9 with it, 94.0
# without). benchmarks/closer_look.py, benchmarks/fusion_lme.py; docs/benchmarks.md, "A closer look".
CLOSER_LOOK_TOP = 30
CLOSER_LOOK_WEIGHT = 5.0
CLOSER_LOOK_QUESTION_SHARE = 0.75


def closer_look(ranked: list[dict], text: str, encoder: Encoder, rows: Callable[[list[int]], dict[int, dict]], firm: bool) -> list[dict]:
    """ranked with its first CLOSER_LOOK_TOP passages rescored by their words against the question's
    `text` (an assistant's turns left as they are) and sorted again (a firm window's passages stay
    ahead), or as it is for an encoder without token states (e5-small). rows: as distinct_texts'."""
    states = getattr(encoder, "token_states", None)
    head, tail = ranked[:CLOSER_LOOK_TOP], ranked[CLOSER_LOOK_TOP:]
    if states is None or not head:
        return ranked
    stored = rows([r["_rowid"] for r in head])
    looked = [r for r in head if r["_rowid"] in stored and not by_assistant(stored_speakers(r.get("speaker")))]
    question, *passages = states([text, *(stored[r["_rowid"]]["text"] for r in looked)])
    for row, words in zip(looked, passages):
        cosines = question @ words.T  # (question's pieces, passage's pieces)
        met = CLOSER_LOOK_QUESTION_SHARE * cosines.max(1).mean() + (1 - CLOSER_LOOK_QUESTION_SHARE) * cosines.max(0).mean()
        gain = CLOSER_LOOK_WEIGHT * float(met)  # word_states keeps a row for every text, so neither side is empty
        row["score"] += gain
        row["explain"]["closer_look"] = round(gain, 5)
    head.sort(key=lambda r: (firm and not r["in_window"], -r["score"]))
    return head + tail


def distinct_messages(ranked: list[dict]) -> list[dict]:
    """ranked without the chat passages whose messages all rank higher already: a long message is
    stored in parts, and its second and third best parts took 2.8 of LongMemEval's top 10 on
    average, pushing other evidence out (docs/benchmarks.md, "One passage per message")."""
    seen: set[str] = set()
    out = []
    for row in ranked:
        ids = set(row.get("message_ids") or ())
        if ids and ids <= seen:
            continue
        seen |= ids
        out.append(row)
    return out


# Two passages in different files whose words (as a multiset) overlap at least this much are one
# passage in two places: a page kept as HTML and as markdown (their markup leaves a few words apart),
# a note copied into a second folder, a chat exported twice. Within one file only the very same words
# count: there, passages this close are a template's variants (AWS CLI's example pages write each
# example to one pattern, its passages 0.90-0.96 alike), each its own answer (benchmarks/copies.py;
# docs/benchmarks.md, "One passage per text").
SAME_TEXT = 0.9


def same_words(a: Counter, b: Counter, share: float) -> bool:
    """Whether two passages' word counts overlap by `share` or more (weighted Jaccard: shared counts
    over all counts)."""
    na, nb = a.total(), b.total()
    if min(na, nb) < share * max(na, nb):  # lengths alone rule it out: the usual case, and cheap
        return False
    both = sum(min(n, b[w]) for w, n in a.items() if w in b)
    return both > 0 and both >= share * (na + nb - both)


def words_of(text: str) -> Counter:
    return Counter(re.findall(r"\w+", text.lower()))


def is_copy(words: Counter, path: str, other: Counter, other_path: str) -> bool:
    """Whether a passage (its words_of and source path) copies another: SAME_TEXT of the same words
    in another file, all of them in its own."""
    return same_words(words, other, SAME_TEXT if path != other_path else 1.0)


def distinct_texts(ranked: list[dict], rows: Callable[[list[int]], dict[int, dict]], limit: int) -> list[dict]:
    """The first `limit` passages of ranked, each with its stored row, leaving out a copy of one above
    it (is_copy): the one above lists it in `also` ({ref, path, locator}), so ten copies of one page
    do not fill the answer. rows: row ids -> stored rows (IndexReader.rows); the first call asks for
    `limit` rows, as an answer without copies needs, later ones for twice the one before (a remote
    index answers each call with requests of its own)."""
    kept: list[tuple[dict, Counter]] = []
    start, size = 0, limit
    while start < len(ranked) and len(kept) < limit:
        part = ranked[start : start + size]
        start, size = start + size, 2 * size
        stored = rows([r["_rowid"] for r in part])
        for row in part:
            if row["_rowid"] not in stored:
                continue
            full = {**stored[row["_rowid"]], **row}
            words = words_of(full["text"])
            first = next((k for k, w in kept if is_copy(words, full["path"], w, k["path"])), None)
            if first is not None:
                first["also"].append({"ref": full["id"], "path": full["path"], "locator": locator(full)})
            elif len(kept) < limit:
                full["also"] = []
                kept.append((full, words))
    return [k for k, _ in kept]


def _read_once(rows: Callable[[list[int]], dict[int, dict]]) -> Callable[[list[int]], dict[int, dict]]:
    """rows, each row read from the index once: the closer look and distinct_texts read the same first rows."""
    read: dict[int, dict] = {}

    def cached(ids: list[int]) -> dict[int, dict]:
        if missing := [i for i in ids if i not in read]:
            read.update(rows(missing))
        return {i: read[i] for i in ids if i in read}

    return cached


def ask(
    store: IndexReader,
    encoder: Encoder,
    query: str,
    *,
    now: datetime | None = None,
    limit: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    speaker: list[str] | None = None,
    conversation: str | None = None,
    timeline: bool = False,
) -> dict:
    """Answer one query. The returned dict is exactly what `evosearch ask --json` prints."""
    if not query.strip():
        raise QueryError("empty query", 'ask a question: evosearch ask "what did I decide about the launch"')
    if limit < 1:
        raise QueryError(f"--limit must be at least 1, not {limit}")
    if since and until and since >= until:  # nothing can match: say so instead of an empty answer
        raise QueryError(f"--since {since.isoformat()} is not before --until {until.isoformat()}", "swap them, or widen the range")
    now = now or datetime.now(timezone.utc).astimezone()
    store = store.latest()  # both searches and the rows they name come from one version
    gathered = gather(
        store, encoder, query, now=now, limit=limit, since=since, until=until, source=source, speaker=speaker, conversation=conversation
    )
    rows = _read_once(store.rows)
    ranked = ranked_as_asked(gathered, limit, encoder, rows)
    shown = distinct_texts(ranked, rows, limit)
    results = [_result(i, row) for i, row in enumerate(shown, 1)]
    intent, text = gathered.intent, gathered.text
    return {
        "query": query,
        "search_text": text,
        "now": now.isoformat(),
        "window": _window_json(intent.window),
        "order": intent.order,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "source": source,
        "speaker": list(speaker or []),
        "conversation": conversation,
        "results": results,
        # where the best matches fall in time (`ask --timeline`); None when not asked for
        "timeline": timeline_buckets([r["time"] for r in best_matches(ranked, limit)], [r["time"] for r in shown], intent.window, now)
        if timeline
        else None,
    }
