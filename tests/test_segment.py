from datetime import datetime, timezone

from evosearch.config import CHAT_SEGMENT_MAX_MESSAGES, DOC_SEGMENT_TOKENS
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
    assert all(approx_tokens(s.text) <= DOC_SEGMENT_TOKENS + 5 for s in segs)
    assert segs[-1].text == "a new dated section" and segs[-1].time == T2
    assert segs[0].line_start == 1 and segs[-2].line_end == 11


def test_an_oversized_unit_is_split_and_keeps_its_place():
    units = [Unit("token " * 2000, T1, line_start=3, line_end=9)]
    segs = segment_stream(Stream("d", "/d.md", "text", "d", units))
    assert len(segs) > 1
    assert all(s.line_start == 3 and s.line_end == 9 for s in segs)
    assert sum(len(s.text.split()) for s in segs) == 2000


def test_content_hash_tracks_text_and_time():
    a = segment_stream(Stream("d", "/d", "text", "d", [Unit("same", T1)]))[0]
    b = segment_stream(Stream("d", "/d", "text", "d", [Unit("same", T2)]))[0]
    c = segment_stream(Stream("d", "/d", "text", "d", [Unit("same", T1)]))[0]
    assert a.content_hash != b.content_hash and a.content_hash == c.content_hash
