from datetime import datetime, timezone

import hashlib

from evosearch.config import CHAT_SEGMENT_MAX_MESSAGES, DOC_SEGMENT_TOKENS, MAX_SEGMENT_TOKENS
from evosearch.encoder.wordpieces import count_wordpieces
from evosearch.segment import approx_tokens, segment_stream
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
