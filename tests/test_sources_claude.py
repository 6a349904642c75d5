"""Claude.ai data exports (conversations.json): a realistic export, then every kind of bad input."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.claude import is_claude_export, read_claude
from evosearch.sources.detect import read_source


def claude_export() -> list:
    """Two conversations as claude.ai writes them, plus an untitled one and an empty one."""
    return [
        {
            "uuid": "5f1c2a9e-0001",
            "name": "Café Zürich trip",
            "summary": "",
            "created_at": "2026-03-01T09:00:00.123456Z",
            "updated_at": "2026-03-01T09:05:00.000000Z",
            "account": {"uuid": "acct-1"},
            "chat_messages": [
                {
                    "uuid": "msg-2",
                    "sender": "assistant",
                    "created_at": "2026-03-01T09:00:05.000000Z",
                    "text": "stale duplicate of the blocks",
                    "content": [
                        {"type": "thinking", "thinking": "The user wants a budget plan."},
                        {"type": "tool_use", "name": "web_search", "input": {"query": "Zürich hotels"}},
                        {"type": "tool_result", "name": "web_search", "content": [{"type": "text", "text": "hotel list"}]},
                        {"type": "text", "text": "With 900 euros, stay near the lake.", "citations": []},
                        {"type": "text", "text": "   "},
                        {"type": "text", "text": "Trams are the cheapest way around."},
                    ],
                    "attachments": [],
                    "files": [],
                },
                {
                    "uuid": "msg-1",
                    "sender": "human",
                    "created_at": "2026-03-01T10:00:05+01:00",  # the same instant as the first message, listed second
                    "text": "Plan a weekend in Zürich.",
                    "content": [],
                    "attachments": [
                        {"file_name": "budget.txt", "file_size": 17, "file_type": "txt", "extracted_content": "Budget: 900 euros\n"},
                        {"file_name": "empty.txt", "extracted_content": ""},
                    ],
                    "files": [{"file_name": "map.png"}],
                },
                {
                    "uuid": "msg-3",
                    "sender": "human",
                    "created_at": "2026-03-01T09:04:00Z",
                    "text": "",
                    "content": [{"type": "tool_result", "content": []}],
                    "files": [{"file_name": "receipt.jpg"}],
                },
                {"uuid": "msg-4", "sender": "human", "created_at": "not a date", "content": [{"type": "text", "text": "Thanks!"}]},
            ],
        },
        {
            "uuid": "5f1c2a9e-0002",
            "name": "",
            "created_at": "2026-03-02T08:00:00Z",
            "chat_messages": [
                {"uuid": "msg-5", "sender": "human", "text": "Untitled but not empty", "content": []},
                "a stray string",
            ],
        },
        {"uuid": "5f1c2a9e-0003", "name": "New chat", "created_at": "2026-03-03T08:00:00Z", "chat_messages": []},
    ]


def read(tmp_path: Path, data: object, name: str = "conversations.json"):
    warnings: list[str] = []
    return read_claude(tmp_path / name, data, warnings.append), warnings


def read_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_source(path, lambda _: None)
    assert caught.value.message.startswith(f"{path.resolve()}: ") and "\n" not in caught.value.message
    assert caught.value.hint
    return caught.value


def test_a_realistic_export(tmp_path):
    (trip, untitled), warnings = read(tmp_path, claude_export())
    path = tmp_path / "conversations.json"
    assert trip.stream_id == f"{path}#5f1c2a9e-0001" and trip.path == str(path)
    assert trip.format == "claude" and trip.title == "Café Zürich trip" and trip.is_chat
    # In time order (stable for the tie), content blocks preferred to `text`, tool and thinking blocks left out.
    assert [(u.message_id, u.speaker, u.text) for u in trip.units] == [
        ("msg-2", "assistant", "With 900 euros, stay near the lake.\n\nTrams are the cheapest way around."),
        ("msg-1", "human", "Plan a weekend in Zürich.\n\n[budget.txt]\nBudget: 900 euros"),
        ("msg-4", "human", "Thanks!"),  # an unreadable time: the time of the message before it
    ]
    assert trip.units[0].time == datetime(2026, 3, 1, 9, 0, 5, tzinfo=UTC)
    assert trip.units[1].time == trip.units[2].time == datetime(2026, 3, 1, 9, 0, 5, tzinfo=UTC)
    assert all(u.time.tzinfo is UTC for u in trip.units)
    assert untitled.title == "conversations #2" and [u.text for u in untitled.units] == ["Untitled but not empty"]
    assert untitled.units[0].time == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert warnings == [f"{path}: conversation 2: 1 malformed message skipped (message 2: not a JSON object)"]


def test_messages_sort_by_time_and_undated_ones_follow_their_neighbour(tmp_path):
    messages = [
        {"uuid": "c", "sender": "human", "created_at": "2026-01-01T00:03:00Z", "text": "third"},
        {"uuid": "c2", "sender": "human", "text": "undated, after third"},
        {"uuid": "a", "sender": "human", "created_at": "2026-01-01T00:01:00Z", "text": "first"},
        {"uuid": "b", "sender": "assistant", "created_at": "2026-01-01T00:02:00Z", "text": "second"},
    ]
    [stream], _ = read(tmp_path, {"uuid": "x", "chat_messages": messages})  # one conversation, not in a list
    assert [u.message_id for u in stream.units] == ["a", "b", "c", "c2"]
    assert stream.units[-1].time == datetime(2026, 1, 1, 0, 3, tzinfo=UTC)


def test_malformed_conversations_are_warned_and_skipped(tmp_path):
    good = claude_export()[0]
    streams, warnings = read(tmp_path, [7, {"name": "Broken", "chat_messages": {"oops": 1}}, good])
    assert [s.title for s in streams] == ["Café Zürich trip"]
    path = tmp_path / "conversations.json"
    assert warnings == [
        f"{path}: conversation 1: not a JSON object — skipped",
        f"{path}: conversation 2 ('Broken'): no \"chat_messages\" list — skipped",
    ]


@pytest.mark.parametrize(
    "data, says",
    [
        ([], "no conversations"),
        ([1, "x"], "none of its 2 conversations could be read"),
        ([{"uuid": "a", "name": "New chat", "chat_messages": []}], "no messages with text"),
        (
            [{"uuid": "a", "chat_messages": [{"sender": "assistant", "content": [{"type": "tool_use"}], "text": ""}]}],
            "no messages with text",
        ),
        ("conversations", "not a Claude export"),
    ],
)
def test_nothing_readable_is_a_source_error(tmp_path, data, says):
    with pytest.raises(SourceError) as caught:
        read(tmp_path, data)
    assert caught.value.message.startswith(f"{tmp_path / 'conversations.json'}: ") and says in caught.value.message
    assert "Claude" in caught.value.hint


def test_read_source_finds_it_by_content(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(claude_export()))
    streams = read_source(path, lambda _: None)
    assert [s.format for s in streams] == ["claude", "claude"]


def test_truncated_file(tmp_path):
    text = json.dumps(claude_export(), ensure_ascii=False)
    path = tmp_path / "conversations.json"
    path.write_text(text[: len(text) // 2])
    assert "invalid JSON" in read_error(path).message


def test_a_latin1_export_keeps_its_messages(tmp_path):
    """JSON is UTF-8 by definition: bytes that are not become U+FFFD, counted in one warning (issue 17, item 9)."""
    path = tmp_path / "conversations.json"
    path.write_bytes(json.dumps(claude_export(), ensure_ascii=False).encode("latin-1"))
    warnings = []
    streams = read_source(path, warnings.append)
    assert sum(len(s.units) for s in streams) == sum(len(s.units) for s in read_source(_utf8_copy(path), print))
    assert len([w for w in warnings if "invalid UTF-8 byte sequence" in w]) == 1  # the other: a malformed message in the sample


def _utf8_copy(path: Path) -> Path:
    copy = path.parent / "utf8" / path.name
    copy.parent.mkdir()
    copy.write_text(path.read_bytes().decode("latin-1"))
    return copy


def test_zip_with_junk_members(tmp_path):
    export = json.dumps(claude_export()).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("conversations.json", export)
        archive.writestr("users.json", json.dumps([{"uuid": "u1", "full_name": "Ana", "email_address": "ana@example.com"}]))
        archive.writestr("projects.json", json.dumps([{"uuid": "p1", "name": "Thesis", "docs": []}]))
        archive.writestr("photo.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF")
        archive.writestr("binary.json", b"\x00\xff\xfe\x00garbage")
        archive.writestr("corrupt.json", b"CORRUPTME" * 20)
    data = buffer.getvalue().replace(b"CORRUPTME" * 20, b"XXXXXXXXX" * 20)  # same size, wrong CRC
    path = tmp_path / "data-2026-03-05.zip"
    path.write_bytes(data)
    warnings: list[str] = []
    streams = read_source(path, warnings.append)
    assert [s.title for s in streams] == ["Café Zürich trip", "conversations #2"]
    assert all(s.format == "claude" and s.path == str(path.resolve()) for s in streams)
    assert streams[0].stream_id == f"{path.resolve()}!conversations.json#5f1c2a9e-0001"
    assert any("binary.json" in w for w in warnings) and any("corrupt.json" in w for w in warnings)
    assert not any(name in w for w in warnings for name in ("users.json", "projects.json", "photo.jpg"))


@pytest.mark.parametrize(
    "content, says",
    [
        ("[]", "not a known chat export"),
        ('[{"uuid": "a", "name": "New chat", "chat_messages": []}]', "no messages with text"),
    ],
)
def test_empty_export(tmp_path, content, says):
    path = tmp_path / "conversations.json"
    path.write_text(content)
    assert says in read_error(path).message


def test_look_alikes_are_not_claimed(tmp_path):
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([{"uuid": "a", "name": "x", "messages": [{"sender": "human", "text": "hi"}]}]))
    assert "not a known chat export" in read_error(path).message
    assert not is_claude_export([{"chat_messages": "not a list"}])
    assert not is_claude_export({"messages": []})
    assert not is_claude_export("chat_messages")


def test_other_exports_are_not_claimed():
    chatgpt = [{"title": "t", "mapping": {}, "current_node": None}]
    telegram = {"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "message", "date": "2026-01-01T00:00:00"}]}
    discord = {"guild": {}, "channel": {"id": "1"}, "messages": [{"id": "1", "timestamp": "2026-01-01T00:00:00Z", "content": "hi"}]}
    slack_day = [{"type": "message", "user": "U1", "text": "hi", "ts": "1.0"}]
    users = [{"uuid": "u1", "full_name": "Ana"}]
    for other in (chatgpt, telegram, discord, slack_day, users):
        assert not is_claude_export(other)
    assert is_claude_export(claude_export()) and is_claude_export(claude_export()[0])


KEYS = ["uuid", "name", "created_at", "chat_messages", "sender", "text", "content", "type", "attachments", "file_name", "extracted_content"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.sampled_from(["text", "2026-03-01T09:00:00Z"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
    max_leaves=20,
)

# Conversations with a `chat_messages` list, so the fuzzing reaches the messages.
SHAPED = st.lists(
    st.fixed_dictionaries(
        {"chat_messages": st.lists(JSON_VALUES, max_size=5)}, optional={k: JSON_VALUES for k in ("uuid", "name", "created_at")}
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(JSON_VALUES, SHAPED))
def test_reader_raises_nothing_but_source_error(tmp_path, data):
    path = tmp_path / "conversations.json"
    is_claude_export(data)
    try:
        streams = read_claude(path, data, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    assert streams and all(s.units and s.format == "claude" for s in streams)
    for unit in (u for s in streams for u in s.units):
        assert unit.text.strip() and isinstance(unit.message_id, str)
        assert unit.speaker is None or isinstance(unit.speaker, str)
        assert unit.time is None or unit.time.tzinfo is not None
