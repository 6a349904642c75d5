"""Google Chat Takeout: a space and a DM as Takeout writes them, both time conventions, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.detect import read_source
from evosearch.sources.google_chat import parse_takeout_time, read_google_chat
from evosearch.sources.walk import iter_source_files

ANA = {"name": "Ana Lima", "email": "ana@example.org", "user_type": "Human"}
BEN = {"name": "Ben Okafor", "email": "ben@example.org", "user_type": "Human"}


def write_takeout(root):
    space = root / "Takeout" / "Google Chat" / "Groups" / "Space AAAAx1y2z3"
    space.mkdir(parents=True)
    (space / "group_info.json").write_text(json.dumps({"name": "Allotment", "members": [ANA, BEN]}))
    (space / "messages.json").write_text(
        json.dumps(
            {
                "messages": [
                    {"creator": BEN, "created_date": "Tuesday, November 3, 2026 at 2:06:00\u202fPM UTC", "text": "Water on Thursday?", "topic_id": "t1", "message_id": "AAAAx1y2z3/t1/m2"},
                    {"creator": ANA, "created_date": "Tuesday, 3 November 2026 at 14:05:00 UTC", "text": "Seeds arrived", "topic_id": "t1", "message_id": "AAAAx1y2z3/t1/m1"},
                    {"creator": ANA, "created_date": "Tuesday, 3 November 2026 at 14:07:00 UTC", "attached_files": [{"original_name": "plot map.pdf", "export_name": "File-plot map.pdf"}], "topic_id": "t1", "message_id": "AAAAx1y2z3/t1/m3"},
                    {"creator": BEN, "created_date": "Tuesday, 3 November 2026 at 14:08:00 UTC", "topic_id": "t1", "message_id": "AAAAx1y2z3/t1/m4", "deleted_date": "Tuesday, 3 November 2026 at 14:09:00 UTC"},
                ]
            }
        )
    )
    user = root / "Takeout" / "Google Chat" / "Users" / "User 1234"
    user.mkdir(parents=True)
    (user / "user_info.json").write_text(json.dumps({"user": ANA, "membership_info": []}))
    return space


def test_space_in_time_order_with_title_from_group_info(tmp_path):
    space = write_takeout(tmp_path)
    assert list(iter_source_files([tmp_path], lambda _: None)) == [space / "messages.json"]
    [stream] = read_source(space / "messages.json", lambda _: None)
    assert stream.format == "google-chat" and stream.title == "Allotment"
    assert [(u.speaker, u.text, u.message_id) for u in stream.units] == [
        ("Ana Lima", "Seeds arrived", "AAAAx1y2z3/t1/m1"),
        ("Ben Okafor", "Water on Thursday?", "AAAAx1y2z3/t1/m2"),
        ("Ana Lima", "[attachment: plot map.pdf]", "AAAAx1y2z3/t1/m3"),
    ]
    assert stream.units[1].time == datetime(2026, 11, 3, 14, 6, tzinfo=UTC)


def test_takeout_times():
    assert parse_takeout_time("Tuesday, 3 November 2026 at 14:05:00 UTC") == datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
    assert parse_takeout_time("Tuesday, November 3, 2026 at 2:05:00 PM UTC") == datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
    assert parse_takeout_time("Tuesday, November 3, 2026 at 12:05:00\u202fAM UTC") == datetime(2026, 11, 3, 0, 5, tzinfo=UTC)
    assert parse_takeout_time("Tuesday, 3 November 2026 at 15:05:00 UTC+1") == datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
    assert parse_takeout_time("yesterday") is None and parse_takeout_time("") is None


@given(st.text(max_size=60))
def test_takeout_time_parser_never_raises(text):
    assert parse_takeout_time(text) is None or parse_takeout_time(text).tzinfo is UTC


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
MESSAGE = st.fixed_dictionaries(
    {"creator": st.one_of(st.just(ANA), JSON_VALUES), "created_date": st.one_of(st.text(max_size=40), JSON_VALUES)},
    optional={"text": st.one_of(st.text(max_size=20), JSON_VALUES), "attached_files": JSON_VALUES, "message_id": JSON_VALUES},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(JSON_VALUES, st.builds(lambda m: {"messages": m}, st.lists(st.one_of(MESSAGE, JSON_VALUES), max_size=6))))
def test_reader_raises_nothing_but_source_error(tmp_path, data):
    path = tmp_path / "messages.json"
    try:
        streams = read_google_chat(path, data, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    [stream] = streams
    for unit in stream.units:
        assert unit.text.strip() and isinstance(unit.message_id, str)
