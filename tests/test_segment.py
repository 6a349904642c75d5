from dataclasses import replace
from datetime import datetime, timezone

import hashlib
import re

from evosearch.config import CHAT_PIECE_TOKENS, CHAT_SEGMENT_MAX_MESSAGES, DOC_SEGMENT_TOKENS, MAX_SEGMENT_TOKENS
from evosearch.encoder.wordpieces import count_wordpieces
from evosearch.segment import approx_tokens, reads_ahead_along, segment_stream
from evosearch.sources.base import Stream, Unit

T1 = datetime(2026, 11, 1, tzinfo=timezone.utc)
T2 = datetime(2026, 11, 2, tzinfo=timezone.utc)


def test_chat_segments_hold_a_few_messages_in_order_with_speakers():
    units = [Unit(f"message number {i}", T1, speaker="Ana" if i % 2 else "Ben", message_id=f"m{i}") for i in range(10)]
    segs = segment_stream(Stream("s", "/x", "jsonl-chat", "t", units))
    assert [m for s in segs for m in s.message_ids] == [f"m{i}" for i in range(10)]
    assert all(len(s.message_ids) <= CHAT_SEGMENT_MAX_MESSAGES for s in segs)
    assert segs[0].text.splitlines()[0] == "Ben: message number 0"
    assert segs[0].speakers == ("Ben", "Ana")


def test_document_segments_respect_budget_and_dates():
    para = "word " * 60
    units = [Unit(para, T1, line_start=i * 2 + 1, line_end=i * 2 + 1) for i in range(6)]
    units += [Unit("a new dated section", T2, line_start=20, line_end=20)]
    segs = segment_stream(Stream("d", "/d.md", "markdown", "d", units))
    assert all(n <= DOC_SEGMENT_TOKENS for n in count_wordpieces([s.text for s in segs]))
    assert segs[-1].text == "a new dated section" and segs[-1].time == T2
    assert segs[0].line_start == 1 and segs[-2].line_end == 11


def test_an_oversized_unit_is_split_and_keeps_its_place():
    units = [Unit("token " * 2000, T1, line_start=3, line_end=9)]
    segs = segment_stream(Stream("d", "/d.md", "text", "d", units))
    assert len(segs) > 1
    assert all(s.line_start == 3 and s.line_end == 9 for s in segs)
    assert sum(len(s.text.split()) for s in segs) == 2000


def test_technical_document_segments_fit_the_encoder_window_and_lose_nothing():
    """Hashes, ARNs and identifiers split into many more word pieces than English words: counted
    as words, 6% of AWS CLI example segments overflowed the 256-piece window (their tails never
    reached the vector). Counted as word pieces, none does."""
    hashes = " ".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(40))
    arns = " ".join(f"arn:aws:iam::123456789012:role/service-role/MyRole_{i}_{i * 7919}" for i in range(40))
    blob = "x9Zq" * 900  # one 3,600-character word, as in a minified line
    units = [Unit(t, T1, line_start=i, line_end=i) for i, t in enumerate([hashes, "Then run the command.", arns, blob])]
    segs = segment_stream(Stream("d", "/d.md", "markdown", "d", units))
    assert max(count_wordpieces([s.text for s in segs])) + 2 <= MAX_SEGMENT_TOKENS
    assert "".join(s.text for s in segs).replace(" ", "").replace("\n", "") == "".join(u.text for u in units).replace(" ", "")
    assert approx_tokens(hashes) < DOC_SEGMENT_TOKENS < count_wordpieces([hashes])[0]  # what the word count missed


def test_content_hash_tracks_text_and_time():
    a = segment_stream(Stream("d", "/d", "text", "d", [Unit("same", T1)]))[0]
    b = segment_stream(Stream("d", "/d", "text", "d", [Unit("same", T2)]))[0]
    c = segment_stream(Stream("d", "/d", "text", "d", [Unit("same", T1)]))[0]
    assert a.content_hash != b.content_hash and a.content_hash == c.content_hash


def _marks(text: str) -> int:
    """Words and punctuation marks: a piece's budget counts each word's own tokens, at least one per mark."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def _long_turn(*sentences: str) -> list[Unit]:
    return [
        Unit("Can you help me plan a presentation?", T1, speaker="user", message_id="m0"),
        Unit(" ".join(sentences), T1, speaker="user", message_id="m1"),
    ]


def test_a_long_chat_message_is_cut_where_its_sentences_end_each_piece_its_own_segment():
    """A side remark inside a long turn gets a vector of its own, not a share of the turn's mean."""
    sentences = [
        "I'm looking to create a presentation about our quarterly marketing results for the board.",
        "By the way, I've been in marketing for a while now, started as a Marketing Coordinator.",
        "The slides should cover the campaign budget, the channel mix and the lead numbers.",
        "Could you suggest a structure that keeps it under twenty minutes?",
    ]
    segs = segment_stream(Stream("s", "/x", "jsonl-chat", "t", _long_turn(*sentences)))
    pieces = [s for s in segs if s.message_ids == ("m1",)]
    assert len(pieces) >= 2 and segs[0].message_ids == ("m0",)  # the first piece does not join the message before it
    assert all(_marks(s.text.removeprefix("user: ")) <= CHAT_PIECE_TOKENS for s in pieces)
    assert all(s.speakers == ("user",) and s.text.startswith("user: ") for s in pieces)
    texts = [s.text.removeprefix("user: ") for s in pieces]
    assert all(t.endswith((".", "?")) for t in texts)  # cut only where a sentence ends
    assert " ".join(texts) == " ".join(sentences)  # nothing lost, nothing repeated
    assert any(t == sentences[1] or t.startswith(sentences[1]) or t.endswith(sentences[1]) for t in texts)


def test_a_chat_sentence_over_the_piece_budget_starts_a_piece_and_is_cut_between_words():
    run_on = " ".join(f"word{i}" for i in range(120))
    segs = segment_stream(Stream("s", "/x", "jsonl-chat", "t", _long_turn("A short opening.", run_on, "The end.")))
    texts = [s.text.removeprefix("user: ") for s in segs if s.message_ids == ("m1",)]
    assert texts[0] == "A short opening."
    assert texts[-1].endswith("The end.")
    assert " ".join(texts).split() == f"A short opening. {run_on} The end.".split()
    assert all(_marks(t) <= CHAT_PIECE_TOKENS for t in texts)


def test_a_chat_message_s_lines_are_cut_where_they_end():
    items = [f"- item {i}: buy the {i}th thing on the list for the party on saturday" for i in range(8)]
    segs = segment_stream(Stream("s", "/x", "jsonl-chat", "t", _long_turn("\n".join(items))))
    texts = [s.text.removeprefix("user: ") for s in segs if s.message_ids == ("m1",)]
    assert len(texts) > 1
    assert [line for t in texts for line in t.split("\n")] == items  # whole lines, in order


def test_short_chat_messages_and_document_paragraphs_are_not_cut_into_pieces():
    words = " ".join(f"w{i}" for i in range(40))  # over the piece budget, under the chat segment budget
    chat = segment_stream(Stream("s", "/x", "jsonl-chat", "t", [Unit(words, T1, speaker="Ana", message_id="m0")]))
    assert [s.text for s in chat] == [f"Ana: {words}"] and approx_tokens(words) > CHAT_PIECE_TOKENS
    doc = segment_stream(Stream("d", "/d.md", "text", "d", [Unit("One sentence. " * 20, T1, line_start=1, line_end=1)]))
    assert len(doc) == 1  # documents keep their 128-token budget and are not cut at sentences


def test_an_assistant_s_long_reply_keeps_the_segment_budget_and_a_speakerless_message_is_a_person_s():
    """Cut into pieces too, an AI assistant's replies doubled an assistant chat's segments and were found less."""
    reply = " ".join(f"Step {i}: open the settings page and check the backup option number {i}." for i in range(4))
    units = [Unit(reply, T1, speaker="assistant", message_id="a0"), Unit(reply, T1, speaker=None, message_id="p0")]
    segs = segment_stream(Stream("s", "/x", "jsonl-chat", "t", units))
    assert _marks(reply) > CHAT_PIECE_TOKENS and approx_tokens(f"assistant: {reply}") <= 96
    assert segs[0].text == f"assistant: {reply}"  # whole
    assert [s.message_ids for s in segs] == [("a0",), ("p0",), ("p0",)]  # the same words from no named speaker: cut
    assert " ".join(s.text for s in segs[1:]) == reply


def test_a_heading_starts_a_document_segment_with_budget_left():
    units = [
        Unit("## Groceries\nEggs and milk.", T1, line_start=1, line_end=2, opens_section=True),
        Unit("And bread.", T1, line_start=4, line_end=4),
        Unit("## Call with Jo\nWe agreed on Lisbon.", T1, line_start=6, line_end=7, opens_section=True),
        Unit("She books the flights.", T1, line_start=9, line_end=9),
    ]
    segs = segment_stream(Stream("d", "/d.md", "markdown", "d", units))
    assert [(s.line_start, s.line_end) for s in segs] == [(1, 4), (6, 9)]
    assert [s.opens_section for s in segs] == [False, True]  # a stream's first segment has nothing before it
    # The segment before a section is not read ahead into it, which is part of what it encoded.
    assert reads_ahead_along([s.speakers for s in segs], [s.opens_section for s in segs]) == [False]
    assert reads_ahead_along([s.speakers for s in segs]) == [True]
    assert segs[1].content_hash != replace(segs[1], opens_section=False).content_hash


def test_a_segment_is_named_by_its_first_unit_s_section_which_is_part_of_its_hash():
    units = [
        Unit("## Costs\n" + "Forty for the seeds. " * 30, T1, line_start=1, line_end=2, opens_section=True, section="Garden › Costs"),
        Unit("Compost is extra.", T1, line_start=4, line_end=4, section="Garden › Costs"),
    ]
    segs = segment_stream(Stream("d", "/d.md", "markdown", "d", units))
    assert len(segs) >= 2 and {s.section for s in segs} == {"Garden › Costs"}  # a long unit's pieces keep it
    # Renamed above it, a segment's row is rewritten: an index from before sections had names gets them.
    assert segs[-1].content_hash != replace(segs[-1], section=None).content_hash
    chat = segment_stream(Stream("c", "/c.jsonl", "jsonl-chat", "c", [Unit("hi", T1, speaker="Jo", message_id="1")]))
    assert chat[0].section is None and chat[0].content_hash == replace(chat[0], section=None).content_hash


def test_a_new_date_opens_a_section_and_a_full_budget_does_not():
    units = [Unit("word " * 70, T1, line_start=i, line_end=i) for i in range(1, 4)] + [Unit("next day", T2, line_start=9, line_end=9)]
    segs = segment_stream(Stream("d", "/d.md", "markdown", "d", units))
    assert [s.opens_section for s in segs] == [False] * (len(segs) - 1) + [True]
    assert len(segs) > 2


def test_a_long_headed_unit_s_later_pieces_keep_packing():
    long = Unit("## Essay\n" + "Sentence after sentence here. " * 60, T1, line_start=1, line_end=2, opens_section=True)
    segs = segment_stream(Stream("d", "/d.md", "markdown", "d", [long, Unit("Short tail.", T1, line_start=4, line_end=4)]))
    assert segs[0].text.startswith("## Essay")
    assert segs[-1].text.endswith("Short tail.") and segs[-1].line_start == 1  # packed with the last piece


def test_a_heading_alone_joins_its_first_subsections_first_paragraph():
    """An HTML <h1> right before an <h2> (or a PDF chapter's title before its first section's) was a
    passage with no text under it; it joins the subsection, as markdown's headings join their
    paragraph. A heading before a sibling section, or one with text under it, stays as it is."""
    units = [
        Unit("Garden", T1, line_start=1, line_end=1, opens_section=True, section="Garden"),
        Unit("Roof", T1, line_start=2, line_end=2, opens_section=True, section="Garden › Roof"),
        Unit("The roof will be green sedum.", T1, line_start=3, line_end=3, section="Garden › Roof"),
        Unit("Costs", T1, line_start=4, line_end=4, opens_section=True, section="Garden › Costs"),
        Unit("Paint", T1, line_start=5, line_end=5, opens_section=True, section="Garden › Paint"),
        Unit("Red, as the door.", T1, line_start=6, line_end=6, section="Garden › Paint"),
        Unit("Shed", T1, line_start=7, line_end=7, opens_section=True, section="Shed"),
        Unit("Door", T1, line_start=8, line_end=8, opens_section=True, section="Shed › Door"),
        Unit("Hinges", T1, line_start=9, line_end=9, opens_section=True, section="Shed › Door › Hinges"),
        Unit("Brass ones.", T1, line_start=10, line_end=10, section="Shed › Door › Hinges"),
    ]
    segs = segment_stream(Stream("d", "/d.html", "html", "d", units))
    assert [(s.text, s.section, s.line_start) for s in segs] == [
        ("Garden\nRoof\n\nThe roof will be green sedum.", "Garden › Roof", 1),
        ("Costs", "Garden › Costs", 4),  # an empty section before a sibling: nothing to join
        ("Paint\n\nRed, as the door.", "Garden › Paint", 5),
        ("Shed\nDoor\nHinges\n\nBrass ones.", "Shed › Door › Hinges", 7),  # a chain of headings, to the first text
    ]
