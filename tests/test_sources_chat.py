"""Chat readers: JSON Lines chat and ChatGPT exports."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.chatgpt import is_chatgpt_export, read_chatgpt
from evosearch.sources.jsonl_chat import MAX_LINE_WARNINGS, read_jsonl_chat

UTC = timezone.utc


def jsonl(*records) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


def read_jsonl(tmp_path: Path, content: str, name: str = "team.jsonl"):
    warnings: list[str] = []
    streams = read_jsonl_chat(tmp_path / name, content, warnings.append)
    return streams, warnings


# ---- JSON Lines chat ---------------------------------------------------------------------


def test_two_conversations_become_two_streams_in_time_order(tmp_path):
    content = jsonl(
        {"id": "m1", "ts": "2026-11-17T09:00:00Z", "speaker": "ana", "text": "Standup in 5?", "conversation": "general"},
        {"id": "m2", "ts": 1794906000, "speaker": "raj", "text": "Deploy is green.", "conversation": "ops"},
        {"id": "m3", "ts": "2026-11-17T09:01:00+00:00", "speaker": "ben", "text": "On my way.", "conversation": "general"},
    )
    streams, warnings = read_jsonl(tmp_path, content)
    assert warnings == []
    by_id = {s.stream_id: s for s in streams}
    path = tmp_path / "team.jsonl"
    assert set(by_id) == {f"{path}#general", f"{path}#ops"}
    general = by_id[f"{path}#general"]
    assert general.format == "jsonl-chat" and general.title == "general" and general.path == str(path)
    assert general.is_chat
    assert [(u.message_id, u.speaker, u.text) for u in general.units] == [
        ("m1", "ana", "Standup in 5?"),
        ("m3", "ben", "On my way."),
    ]
    assert by_id[f"{path}#ops"].units[0].time == datetime.fromtimestamp(1794906000, tz=UTC)


def test_out_of_order_messages_are_sorted_stably(tmp_path):
    content = jsonl(
        {"id": "late", "ts": 300, "speaker": "a", "text": "third"},
        {"id": "tie-1", "ts": "200", "speaker": "b", "text": "second (first in file)"},
        {"id": "early", "ts": 100.5, "speaker": "a", "text": "first"},
        {"id": "tie-2", "ts": 200, "speaker": "c", "text": "second (second in file)"},
    )
    [stream], _ = read_jsonl(tmp_path, content, "dm.jsonl")
    assert [u.message_id for u in stream.units] == ["early", "tie-1", "tie-2", "late"]
    assert stream.stream_id == str(tmp_path / "dm.jsonl")
    assert stream.title == "dm"
    assert stream.units[0].time == datetime(1970, 1, 1, 0, 1, 40, 500000, tzinfo=UTC)


def test_naive_iso_time_is_local_and_missing_id_is_the_line_number(tmp_path):
    content = "\n" + jsonl({"ts": "2026-11-17 09:30", "speaker": "me", "text": "note to self"})
    [stream], _ = read_jsonl(tmp_path, content)
    [unit] = stream.units
    assert unit.message_id == "2"
    assert unit.time == datetime(2026, 11, 17, 9, 30).astimezone(UTC)


def test_malformed_lines_are_warned_and_skipped(tmp_path):
    content = jsonl(
        {"id": 1, "ts": 1, "speaker": "a", "text": "fine"},
        "{not json",
        {"id": 3, "ts": 3, "speaker": "a"},
        {"id": 4, "ts": "next tuesday-ish", "speaker": "a", "text": "bad time"},
        {"id": 5, "ts": 5, "speaker": "a", "text": "fine too"},
        {"id": 6, "ts": 6, "speaker": "a", "text": "and me"},
        {"id": 7, "ts": 7, "speaker": "a", "text": "and me"},
    )
    [stream], warnings = read_jsonl(tmp_path, content)
    assert [u.message_id for u in stream.units] == ["1", "5", "6", "7"]
    path = tmp_path / "team.jsonl"
    assert warnings == [
        f"{path}:2: not valid JSON (Expecting property name enclosed in double quotes) — skipped",
        f'{path}:3: no "text" string — skipped',
        f'{path}:4: unreadable "ts" "next tuesday-ish" — skipped',
    ]


def test_many_malformed_lines_are_summarised(tmp_path):
    good = [{"ts": i, "speaker": "a", "text": f"message {i}"} for i in range(20)]
    content = jsonl(*good, *(["oops"] * (MAX_LINE_WARNINGS + 3)))
    _, warnings = read_jsonl(tmp_path, content)
    assert len(warnings) == MAX_LINE_WARNINGS + 1
    assert warnings[-1].endswith(": 3 more malformed lines skipped")


def test_mostly_malformed_file_is_a_source_error_without_line_warnings(tmp_path):
    content = jsonl({"ts": 1, "speaker": "a", "text": "lonely"}, "garbage", "[1, 2]", {"text": 5})
    warnings: list[str] = []
    with pytest.raises(SourceError) as caught:
        read_jsonl_chat(tmp_path / "x.jsonl", content, warnings.append)
    assert caught.value.message == f"{tmp_path / 'x.jsonl'}: 3 of 4 lines are not chat messages (line 2: not valid JSON (Expecting value))"
    assert "Chat formats" in caught.value.hint
    assert warnings == []


def test_file_with_no_messages_is_a_source_error(tmp_path):
    with pytest.raises(SourceError):
        read_jsonl(tmp_path, jsonl({"ts": 1, "text": "   "}))


@pytest.mark.parametrize("ts", [True, float("inf"), 10**30, "NaN", "1e400", [], {"a": 1}])
def test_unusable_ts_values_are_malformed(tmp_path, ts):
    content = jsonl({"ts": 1, "text": "ok"}, {"ts": 2, "text": "ok"}, {"ts": ts, "text": "bad"})
    [stream], warnings = read_jsonl(tmp_path, content)
    assert len(stream.units) == 2
    assert len(warnings) == 1 and "unreadable" in warnings[0]


def test_unicode_line_separator_inside_a_message_does_not_split_the_line(tmp_path):
    content = json.dumps({"id": "a", "ts": 1, "text": "one\u2028two"}, ensure_ascii=False) + "\r\n"
    [stream], warnings = read_jsonl(tmp_path, content)
    assert warnings == [] and stream.units[0].text == "one\u2028two"


def test_missing_ts_keeps_file_order(tmp_path):
    content = jsonl({"speaker": "a", "text": "first"}, {"ts": 1, "speaker": "b", "text": "second"})
    [stream], warnings = read_jsonl(tmp_path, content)
    assert warnings == []
    assert [(u.text, u.time) for u in stream.units] == [("first", None), ("second", datetime.fromtimestamp(1, tz=UTC))]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "ts", "text", "speaker", "conversation", "x"]), inner, max_size=5),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.text(max_size=60),
            JSON_VALUES.map(json.dumps),
            st.builds(
                lambda ts, text, conv: json.dumps({"ts": ts, "text": text, "conversation": conv}),
                st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
                st.one_of(st.text(max_size=20), st.integers(), st.none()),
                st.one_of(st.none(), st.text(max_size=5), st.integers()),
            ),
        ),
        max_size=12,
    )
)
def test_jsonl_reader_raises_nothing_but_source_error(tmp_path, lines):
    try:
        streams = read_jsonl_chat(tmp_path / "fuzz.jsonl", "\n".join(lines), lambda _: None)
    except SourceError as e:
        assert e.message.startswith(str(tmp_path / "fuzz.jsonl")) and "\n" not in e.message
        return
    assert streams and all(s.units for s in streams)
    for stream in streams:
        assert all(u.time is None or u.time.tzinfo is not None for u in stream.units)


# ---- ChatGPT exports ---------------------------------------------------------------------


def node(node_id, parent, children, role=None, parts=None, create_time=None, content_type="text", **message_extra):
    message = None
    if role is not None:
        message = {
            "id": f"msg-{node_id}",
            "author": {"role": role, "name": None},
            "create_time": create_time,
            "content": {"content_type": content_type, "parts": parts if parts is not None else []},
            **message_extra,
        }
    return {"id": node_id, "parent": parent, "children": children, "message": message}


def edited_conversation():
    """The user edited their second question; the export keeps both branches."""
    nodes = [
        node("root", None, ["sys"]),
        node("sys", "root", ["u1"], role="system", parts=[""]),
        node("u1", "sys", ["a1"], role="user", parts=["How do I undo a git commit?"], create_time=1_700_000_000),
        node("a1", "u1", ["u2-old", "u2-new"], role="assistant", parts=["Use git reset --soft HEAD~1."], create_time=1_700_000_010),
        node("u2-old", "a1", ["a2-old"], role="user", parts=["And if I pushed?"], create_time=1_700_000_020),
        node("a2-old", "u2-old", [], role="assistant", parts=["Then revert instead."], create_time=1_700_000_030),
        node("u2-new", "a1", ["t2"], role="user", parts=["And if it was already pushed to main?"], create_time=1_700_000_040),
        node("t2", "u2-new", ["a2-new"], role="tool", parts=["search results ..."], create_time=1_700_000_045),
        node("a2-new", "t2", [], role="assistant", parts=["Use git revert <sha> and push."], create_time=1_700_000_050),
    ]
    return {
        "title": "Undoing commits",
        "create_time": 1_699_999_999.5,
        "current_node": "a2-new",
        "conversation_id": "conv-1",
        "mapping": {n["id"]: n for n in nodes},
    }


def read_export(tmp_path, conversations):
    warnings: list[str] = []
    return read_chatgpt(tmp_path / "conversations.json", conversations, warnings.append), warnings


def test_only_the_current_branch_is_kept_in_order(tmp_path):
    [stream], warnings = read_export(tmp_path, [edited_conversation()])
    assert warnings == []
    assert stream.stream_id == f"{tmp_path / 'conversations.json'}#conv-1"
    assert stream.title == "Undoing commits" and stream.format == "chatgpt"
    assert [(u.message_id, u.speaker, u.text) for u in stream.units] == [
        ("msg-u1", "user", "How do I undo a git commit?"),
        ("msg-a1", "assistant", "Use git reset --soft HEAD~1."),
        ("msg-u2-new", "user", "And if it was already pushed to main?"),
        ("msg-a2-new", "assistant", "Use git revert <sha> and push."),
    ]
    assert stream.units[0].time == datetime.fromtimestamp(1_700_000_000, tz=UTC)


def test_dict_and_image_parts_and_null_create_time(tmp_path):
    nodes = [
        node("root", None, ["u1"]),
        node(
            "u1",
            "root",
            ["a1"],
            role="user",
            content_type="multimodal_text",
            parts=[{"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"}, "What plant is this?"],
        ),
        node("a1", "u1", [], role="assistant", parts=[{"text": "A monstera."}, {"text": " "}, 42, "Water it weekly."]),
    ]
    conversation = {"title": "Plant", "create_time": 1_600_000_000, "current_node": "a1", "mapping": {n["id"]: n for n in nodes}}
    [stream], _ = read_export(tmp_path, [conversation])
    assert [u.text for u in stream.units] == ["What plant is this?", "A monstera.\n\nWater it weekly."]
    assert all(u.time == datetime.fromtimestamp(1_600_000_000, tz=UTC) for u in stream.units)
    assert stream.stream_id.endswith("#1")  # no id: its position in the export


def test_hidden_messages_and_tool_calls_are_left_out(tmp_path):
    nodes = [
        node("root", None, ["sys"]),
        node("sys", "root", ["u1"], role="system", parts=["Be brief."], metadata={"is_visually_hidden_from_conversation": True}),
        node("u1", "sys", ["call"], role="user", parts=["Plot sin(x)"]),
        node("call", "u1", ["a1"], role="assistant", parts=["import numpy"], recipient="python"),
        node("a1", "call", [], role="assistant", parts=["Here is the plot."]),
    ]
    conversation = {"title": "Plot", "current_node": "a1", "mapping": {n["id"]: n for n in nodes}}
    [stream], _ = read_export(tmp_path, [conversation])
    assert [u.text for u in stream.units] == ["Plot sin(x)", "Here is the plot."]
    assert all(u.time is None for u in stream.units)


def test_without_current_node_the_newest_branch_is_read(tmp_path):
    conversation = edited_conversation()
    del conversation["current_node"]
    [stream], _ = read_export(tmp_path, [conversation])
    assert stream.units[-1].message_id == "msg-a2-new"


def test_malformed_conversations_are_warned_and_skipped(tmp_path):
    broken_link = {"title": "Broken", "current_node": "nope", "mapping": {}}
    loop = {"title": "Loop", "current_node": "a", "mapping": {"a": {"id": "a", "parent": "b"}, "b": {"id": "b", "parent": "a"}}}
    streams, warnings = read_export(tmp_path, [broken_link, "junk", loop, edited_conversation()])
    assert [s.title for s in streams] == ["Undoing commits"]
    path = tmp_path / "conversations.json"
    assert warnings == [
        f"{path}: conversation 1 ('Broken'): current_node 'nope' is not in the mapping — skipped",
        f"{path}: conversation 2: not a JSON object — skipped",
        f"{path}: conversation 3 ('Loop'): its parent links loop or are broken — skipped",
    ]


def test_export_with_no_readable_conversation_is_a_source_error(tmp_path):
    with pytest.raises(SourceError) as caught:
        read_export(tmp_path, [{"mapping": "not a dict"}, 7])
    assert caught.value.message.startswith(str(tmp_path / "conversations.json") + ": ")


def test_is_chatgpt_export():
    assert is_chatgpt_export([edited_conversation()])
    assert is_chatgpt_export(edited_conversation())
    assert not is_chatgpt_export([{"text": "hi"}])
    assert not is_chatgpt_export({"messages": []})
