"""Facebook Messenger and Instagram JSON: a thread split over message_1.json and message_2.json, mojibake, reactions, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.detect import read_source
from evosearch.sources.meta_chat import fix_mojibake, read_meta_thread
from evosearch.sources.walk import iter_source_files


def mojibake(text: str) -> str:
    """What the export does to non-ASCII text: each UTF-8 byte written as its own \\u00XX character."""
    return text.encode("utf-8").decode("latin-1")


def ms(day: int, hour: int) -> int:
    return int(datetime(2026, 11, day, hour, tzinfo=UTC).timestamp() * 1000)


def thread(messages: list[dict], title="Zoë Müller") -> dict:
    return {
        "participants": [{"name": mojibake("Zoë Müller")}, {"name": "Ben Okafor"}],
        "messages": messages,
        "title": mojibake(title),
        "is_still_participant": True,
        "thread_path": "inbox/zoemuller_1234567890",
        "magic_words": [],
    }


def write_thread(folder, instagram=False):
    folder.mkdir(parents=True)
    newest = [
        {"sender_name": "Ben Okafor", "timestamp_ms": ms(4, 9), "content": mojibake("See you at the café ☕"), "is_geoblocked_for_viewer": False},
        {"sender_name": mojibake("Zoë Müller"), "timestamp_ms": ms(3, 20), "is_unsent": True, "is_geoblocked_for_viewer": False},
        {
            "sender_name": mojibake("Zoë Müller"),
            "timestamp_ms": ms(3, 19),
            "photos": [{"uri": "messages/inbox/zoemuller_1234567890/photos/1.jpg", "creation_timestamp": 1}],
            "reactions": [{"reaction": mojibake("❤"), "actor": "Ben Okafor"}],
            "is_geoblocked_for_viewer": False,
        },
    ]
    oldest = [
        {"sender_name": "Ben Okafor", "timestamp_ms": ms(2, 8), "content": "Liked a message" if instagram else "Which day works?", "is_geoblocked_for_viewer": False},
        {"sender_name": mojibake("Zoë Müller"), "timestamp_ms": ms(1, 8), "content": "Lunch next week?", "is_geoblocked_for_viewer": False},
    ]
    (folder / "message_1.json").write_text(json.dumps(thread(newest)))
    (folder / "message_2.json").write_text(json.dumps(thread(oldest)))


def test_messenger_thread_merged_in_time_order_with_mojibake_fixed(tmp_path):
    folder = tmp_path / "your_facebook_activity" / "messages" / "inbox" / "zoemuller_1234567890"
    write_thread(folder)
    files = list(iter_source_files([tmp_path], lambda _: None))
    assert files == [folder / "message_1.json"]  # message_2.json is read with it
    warnings = []
    [stream] = read_source(files[0], warnings.append)
    assert not warnings
    assert stream.format == "messenger" and stream.title == "Zoë Müller"
    assert [(u.speaker, u.text) for u in stream.units] == [
        ("Zoë Müller", "Lunch next week?"),
        ("Ben Okafor", "Which day works?"),
        ("Zoë Müller", "[photo]"),
        ("Ben Okafor", "See you at the café ☕"),
    ]
    assert stream.units[0].time == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert stream.units[0].message_id == str(ms(1, 8))


def test_instagram_thread_and_its_like_notices(tmp_path):
    folder = tmp_path / "your_instagram_activity" / "messages" / "inbox" / "zoemuller_1234567890"
    write_thread(folder, instagram=True)
    [stream] = read_source(folder / "message_1.json", lambda _: None)
    assert stream.format == "instagram"
    assert "Liked a message" not in [u.text for u in stream.units] and len(stream.units) == 3


def test_mojibake_fix_leaves_real_text_alone():
    assert fix_mojibake(mojibake("naïve — ok")) == "naïve — ok"
    assert fix_mojibake("naïve") == "naïve" and fix_mojibake("日本") == "日本"


def test_broken_sibling_is_one_warning_and_the_rest_is_kept(tmp_path):
    folder = tmp_path / "inbox" / "t_1"
    write_thread(folder)
    (folder / "message_2.json").write_text('{"messages": [')
    warnings = []
    [stream] = read_source(folder / "message_1.json", warnings.append)
    assert len(stream.units) == 2 and len(warnings) == 1 and "message_2.json" in warnings[0]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "sender_name": st.one_of(st.text(max_size=8), JSON_VALUES),
        "timestamp_ms": st.one_of(st.integers(), st.floats(), JSON_VALUES),
        "content": st.one_of(st.text(max_size=20), JSON_VALUES),
        "is_unsent": JSON_VALUES,
        "photos": JSON_VALUES,
        "share": JSON_VALUES,
    },
)
SHAPED = st.builds(lambda m, p, t: {"participants": p, "messages": m, "title": t}, st.lists(st.one_of(MESSAGE, JSON_VALUES), max_size=6), st.one_of(st.just([]), JSON_VALUES), JSON_VALUES)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(JSON_VALUES, SHAPED))
def test_reader_raises_nothing_but_source_error(tmp_path, data):
    path = tmp_path / "message_3.json"
    try:
        streams = read_meta_thread(path, data, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    [stream] = streams
    assert stream.units and stream.format in ("messenger", "instagram")
    for unit in stream.units:
        assert unit.text.strip() and isinstance(unit.message_id, str)
