"""Telegram Desktop exports (result.json): one chat or the whole account, then every kind of bad input."""

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
from evosearch.sources.detect import read_source
from evosearch.sources.telegram import is_telegram_export, read_telegram


def message(id, text, unixtime, *, date=None, sender="Ana", **extra) -> dict:
    """A message as Telegram Desktop writes it: a naive local `date` beside `date_unixtime`."""
    record = {"id": id, "type": "message", "date": date or "2026-02-01T19:00:00", "date_unixtime": str(unixtime)}
    if sender is not None:
        record |= {"from": sender, "from_id": f"user{len(sender)}"}
    return record | {"text": text, "text_entities": []} | extra


def climbing_chat() -> dict:
    return {
        "name": "Climbing club",
        "type": "private_supergroup",
        "id": 1234567890,
        "messages": [
            {
                "id": 1,
                "type": "service",
                "date": "2026-02-01T18:00:00",
                "date_unixtime": "1769968800",
                "actor": "Ana",
                "action": "create_group",
            },
            message(
                2,
                [
                    "Meet at ",
                    {"type": "bold", "text": "the north wall"},
                    " at 7, see ",
                    {"type": "text_link", "text": "the map", "href": "https://maps.example/nw"},
                ],
                1769968860,
            ),
            message(3, "ok, bringing ropes 🧗", 1769968920, sender="Ben", reply_to_message_id=2),
            message(4, "", 1769968980, sender="Ben", photo="photos/photo_1.jpg", width=1280, height=960),
            message(5, "", 1769969000, file="stickers/sticker.webp", media_type="sticker", sticker_emoji="👍"),
            message(6, "the wall in winter", 1769969040, photo="photos/photo_2.jpg"),  # a caption is text
            message(7, [{"type": "mention", "text": "@ben"}, " don't forget chalk"], 1769969100, date="2026-02-01T19:05:00"),
            message(8, "who deleted their account?", 1769969160, sender=None, **{"from": None, "from_id": "user999"}),
            message(9, "a plain link", 1769969220, sender="Ben", text_entities=[{"type": "plain", "text": "a plain link"}]),
            {
                "id": 10,
                "type": "service",
                "date": "2026-02-01T19:10:00",
                "date_unixtime": "1769969400",
                "action": "pin_message",
                "message_id": 2,
            },
        ],
    }


def full_export() -> dict:
    """The whole account: personal info and contacts besides the chats, and a chat left since."""
    return {
        "about": "Here is the data you requested. Remember: Telegram is ad free...",
        "personal_information": {"user_id": 1, "first_name": "Ana", "phone_number": "+351 000"},
        "contacts": {"about": "...", "list": [{"first_name": "Ben", "date": "2025-01-01T00:00:00"}]},
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [
                climbing_chat(),
                {
                    "type": "saved_messages",
                    "id": 1,
                    "messages": [message(1, "passport number is in the drawer", 1769000000, date="2026-01-21T13:53:20")],
                },
                {
                    "name": "Ben",
                    "type": "personal_chat",
                    "id": 222,
                    "messages": [
                        {"id": 1, "type": "service", "date": "2026-02-02T08:00:00", "date_unixtime": "1770019200", "action": "phone_call"},
                        {"id": 2, "type": "message", "date": "2026-02-02T08:01:00", "from": "Ben", "text": "no unixtime here"},
                    ],
                },
            ],
        },
        "left_chats": {
            "about": "...",
            "list": [
                {"name": "Old flat", "type": "private_group", "id": 333, "messages": [message(1, "keys are under the mat", 1700000000)]}
            ],
        },
    }


def read(tmp_path: Path, data: object, name: str = "result.json"):
    warnings: list[str] = []
    return read_telegram(tmp_path / name, data, warnings.append), warnings


def read_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_source(path, lambda _: None)
    assert caught.value.message.startswith(f"{path.resolve()}: ") and "\n" not in caught.value.message
    assert caught.value.hint
    return caught.value


def test_one_chat_export(tmp_path):
    [stream], warnings = read(tmp_path, climbing_chat())
    assert warnings == []
    path = tmp_path / "result.json"
    assert stream.stream_id == f"{path}#1234567890" and stream.path == str(path)
    assert stream.format == "telegram" and stream.title == "Climbing club" and stream.is_chat
    # Service messages and captionless media are gone; entities are joined; replies stay in time order.
    assert [(u.message_id, u.speaker, u.text) for u in stream.units] == [
        ("2", "Ana", "Meet at the north wall at 7, see the map (https://maps.example/nw)"),
        ("3", "Ben", "ok, bringing ropes 🧗"),
        ("6", "Ana", "the wall in winter"),
        ("7", "Ana", "@ben don't forget chalk"),
        ("8", "user999", "who deleted their account?"),
        ("9", "Ben", "a plain link"),
    ]
    # date_unixtime wins over the naive `date`, which is in the exporting computer's time zone.
    assert stream.units[0].time == datetime.fromtimestamp(1769968860, UTC)
    assert stream.units[3].time == datetime.fromtimestamp(1769969100, UTC)


def test_whole_account_export_with_left_chats(tmp_path):
    streams, warnings = read(tmp_path, full_export())
    assert warnings == []
    path = tmp_path / "result.json"
    assert [(s.stream_id, s.title, len(s.units)) for s in streams] == [
        (f"{path}#1234567890", "Climbing club", 6),
        (f"{path}#1", "Saved Messages", 1),
        (f"{path}#222", "Ben", 1),
        (f"{path}#333", "Old flat", 1),
    ]
    [no_unixtime] = streams[2].units
    assert no_unixtime.time == datetime(2026, 2, 2, 8, 1).astimezone(UTC)  # naive: read as local time
    assert no_unixtime.message_id == "2"


def test_messages_out_of_order_are_sorted_stably(tmp_path):
    chat = {
        "name": "x",
        "type": "personal_chat",
        "id": 9,
        "messages": [message(3, "third", 300), message(1, "first", 100), message(2, "tie", 300)],
    }
    [stream], _ = read(tmp_path, chat)
    assert [u.message_id for u in stream.units] == ["1", "3", "2"]


def test_malformed_chats_and_messages_are_warned_and_skipped(tmp_path):
    export = full_export()
    export["chats"]["list"][:0] = ["junk", {"name": "No messages", "id": 5, "messages": {"1": "x"}}]
    export["chats"]["list"][2]["messages"] += [42, {"id": 99, "type": "message", "date_unixtime": "1", "text": {"bold": "x"}}]
    streams, warnings = read(tmp_path, export)
    assert len(streams) == 4
    path = tmp_path / "result.json"
    assert warnings == [
        f"{path}: chat 1: not a JSON object — skipped",
        f"{path}: chat 2 ('No messages'): no \"messages\" list — skipped",
        f"{path}: chat 3 ('Climbing club'): 2 malformed messages skipped (message 11: not a JSON object)",
    ]


@pytest.mark.parametrize(
    "data, says",
    [
        ({"messages": []}, "no text messages in its 1 chat "),
        (
            {"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "service", "action": "phone_call"}]},
            "no text messages",
        ),
        ({"chats": {"list": []}, "left_chats": {"list": []}}, "no chats"),
        ({"chats": {"list": [1, 2]}}, "none of its 2 chats could be read"),
        ([climbing_chat()], "not a Telegram export"),
        (None, "not a Telegram export"),
    ],
)
def test_nothing_readable_is_a_source_error(tmp_path, data, says):
    with pytest.raises(SourceError) as caught:
        read(tmp_path, data)
    assert caught.value.message.startswith(f"{tmp_path / 'result.json'}: ") and says in caught.value.message
    assert "Telegram" in caught.value.hint


def test_read_source_finds_both_shapes_by_content(tmp_path):
    (tmp_path / "chat.json").write_text(json.dumps(climbing_chat(), indent=1, ensure_ascii=False))
    (tmp_path / "result.json").write_text(json.dumps(full_export(), indent=1, ensure_ascii=False))
    assert [s.format for s in read_source(tmp_path / "chat.json", print)] == ["telegram"]
    assert [s.format for s in read_source(tmp_path / "result.json", print)] == ["telegram"] * 4


def test_truncated_file(tmp_path):
    text = json.dumps(full_export(), indent=1, ensure_ascii=False)
    path = tmp_path / "result.json"
    path.write_text(text[: len(text) // 2])
    assert "invalid JSON" in read_error(path).message


def test_a_latin1_export_keeps_its_messages(tmp_path):
    chat = climbing_chat() | {"name": "Clube de escalada São Paulo"}
    chat["messages"] = [message(1, "até amanhã", 1769968860)]
    path = tmp_path / "result.json"
    path.write_bytes(json.dumps(chat, indent=1, ensure_ascii=False).encode("latin-1"))
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert [u.text for u in stream.units] == ["at\ufffd amanh\ufffd"]  # JSON is UTF-8 by definition (issue 17, item 9)
    assert warnings == [f"{path.resolve()}: 3 invalid UTF-8 byte sequences replaced by \ufffd; the rest is indexed"]


def test_zip_of_the_export_folder_with_junk_members(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("DataExport_2026-02-03/result.json", json.dumps(full_export(), indent=1))
        archive.writestr("DataExport_2026-02-03/photos/photo_1.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF")
        archive.writestr("DataExport_2026-02-03/stickers/sticker.json", b"\x00\xff\x02binary lottie")
        archive.writestr("DataExport_2026-02-03/corrupt.json", b"CORRUPTME" * 20)
    path = tmp_path / "telegram.zip"
    path.write_bytes(buffer.getvalue().replace(b"CORRUPTME" * 20, b"XXXXXXXXX" * 20))  # same size, wrong CRC
    warnings: list[str] = []
    streams = read_source(path, warnings.append)
    assert [s.title for s in streams] == ["Climbing club", "Saved Messages", "Ben", "Old flat"]
    assert all(s.format == "telegram" and s.path == str(path.resolve()) for s in streams)
    assert streams[0].stream_id == f"{path.resolve()}!DataExport_2026-02-03/result.json#1234567890"
    assert any("sticker.json" in w for w in warnings) and any("corrupt.json" in w for w in warnings)
    assert not any("photo_1.jpg" in w for w in warnings)


@pytest.mark.parametrize(
    "content, says",
    [
        ('{"name": "Ben", "type": "personal_chat", "id": 222, "messages": []}', "no text messages"),
        ('{"about": "x", "chats": {"about": "x", "list": []}}', "no chats"),
        ('{"messages": []}', "not a known chat export"),  # no name or type: nothing says it is Telegram's
    ],
)
def test_empty_export(tmp_path, content, says):
    path = tmp_path / "result.json"
    path.write_text(content)
    assert says in read_error(path).message


@pytest.mark.parametrize(
    "data",
    [
        {"messages": "not a list", "name": "x"},
        {"name": "assistant log", "messages": [{"role": "user", "content": "hi"}]},  # OpenAI-style messages
        {"chats": [{"name": "x"}]},
        {"type": "channel", "messages": [{"id": 1, "text": "no date"}]},
    ],
)
def test_look_alikes_are_not_claimed(tmp_path, data):
    assert not is_telegram_export(data)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    assert "not a known chat export" in read_error(path).message


def test_other_exports_are_not_claimed():
    chatgpt = [{"title": "t", "mapping": {}, "current_node": None}]
    claude = [{"uuid": "c", "name": "n", "chat_messages": [{"uuid": "m", "sender": "human", "text": "hi"}]}]
    discord = {
        "guild": {"id": "1", "name": "g"},
        "channel": {"id": "2", "name": "general"},
        "messages": [{"id": "3", "type": "Default", "timestamp": "2026-01-01T00:00:00+00:00", "content": "hi", "author": {"name": "a"}}],
    }
    discord_dated = discord | {"name": "x", "messages": [{"id": "3", "date": "2026-01-01", "content": "hi"}]}
    slack_day = [{"type": "message", "user": "U1", "text": "hi", "ts": "1.0"}]
    for other in (chatgpt, claude, discord, discord_dated, slack_day, "result", 3, None):
        assert not is_telegram_export(other)
    assert is_telegram_export(climbing_chat()) and is_telegram_export(full_export())


KEYS = [
    "chats",
    "left_chats",
    "list",
    "name",
    "type",
    "id",
    "messages",
    "date",
    "date_unixtime",
    "from",
    "from_id",
    "text",
    "text_entities",
    "href",
]
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
SCALARS |= st.sampled_from(["message", "service", "1769968860", "2026-02-01T18:00:00", "1e400", "nan", "-99999999999999999999"])
JSON_VALUES = st.recursive(
    SCALARS | st.integers(min_value=10**300, max_value=10**320),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
    max_leaves=20,
)

# Chats with a `messages` list, alone or in a whole-account export, so the fuzzing reaches the messages.
CHATS = st.fixed_dictionaries({"messages": st.lists(JSON_VALUES, max_size=5)}, optional={k: JSON_VALUES for k in ("name", "type", "id")})
SHAPED = CHATS | st.builds(lambda chats: {"chats": {"list": chats}}, st.lists(CHATS | JSON_VALUES, max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(JSON_VALUES, SHAPED))
def test_reader_raises_nothing_but_source_error(tmp_path, data):
    path = tmp_path / "result.json"
    is_telegram_export(data)
    try:
        streams = read_telegram(path, data, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    assert streams and all(s.units and s.format == "telegram" for s in streams)
    for unit in (u for s in streams for u in s.units):
        assert unit.text.strip() and isinstance(unit.message_id, str)
        assert unit.speaker is None or isinstance(unit.speaker, str)
        assert unit.time is None or unit.time.tzinfo is not None
