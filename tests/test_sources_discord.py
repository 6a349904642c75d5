"""DiscordChatExporter JSON exports: a realistic channel, every kind of bad input, and a folder of all three new formats."""

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
from evosearch.sources.discord import is_discord_export, read_discord
from evosearch.sources.walk import iter_source_files
from tests.test_sources_claude import claude_export
from tests.test_sources_telegram import full_export

ANA = {"id": "105", "name": "ana_b", "discriminator": "0000", "nickname": "Ana", "color": "#1F8B4C", "isBot": False, "roles": []}
BEN = {"id": "106", "name": "ben", "discriminator": "0000", "nickname": "ben", "isBot": False, "roles": []}
BOT = {"id": "107", "name": "GitHub", "discriminator": "0000", "nickname": "GitHub", "isBot": True}


def post(id, kind, timestamp, content, author, **extra) -> dict:
    """A message as DiscordChatExporter writes it."""
    record = {
        "id": id,
        "type": kind,
        "timestamp": timestamp,
        "timestampEdited": None,
        "callEndedTimestamp": None,
        "isPinned": False,
        "content": content,
        "author": author,
        "attachments": [],
        "embeds": [],
        "stickers": [],
        "reactions": [],
        "mentions": [],
    }
    return record | extra


def hardware_channel() -> dict:
    return {
        "guild": {"id": "9001", "name": "Home lab", "iconUrl": "https://cdn.discordapp.com/icons/9001/x.png"},
        "channel": {
            "id": "77",
            "type": "GuildTextChat",
            "categoryId": "70",
            "category": "Text Channels",
            "name": "hardware",
            "topic": None,
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2026-04-02T12:00:00+00:00",
        "messages": [
            post("900", "GuildMemberJoin", "2026-04-01T10:00:00+02:00", "", BEN),
            post("901", "Default", "2026-04-01T10:01:00.123+02:00", "The NAS fan died again", ANA),
            post(
                "902",
                "Reply",
                "2026-04-01T10:02:00+02:00",
                "Order the Noctua one",
                BEN,
                reference={"messageId": "901", "channelId": "77", "guildId": "9001"},
            ),
            post(
                "903",
                "Default",
                "2026-04-01T10:03:00+02:00",
                "",
                BEN,
                attachments=[{"id": "1", "url": "fan-specs.pdf", "fileName": "fan-specs.pdf", "fileSizeBytes": 1}],
            ),
            post("904", "ChannelPinnedMessage", "2026-04-01T10:04:00+02:00", "Pinned a message.", ANA, reference={"messageId": "901"}),
            post(
                "905",
                "Default",
                "2026-04-01T10:05:00+02:00",
                "",
                BOT,
                embeds=[
                    {"title": "New issue #12", "description": "Fan curve too aggressive", "fields": [{"name": "Labels", "value": "bug"}]}
                ],
            ),
            post("906", "Default", "2026-04-01T10:06:00+02:00", "", BEN, stickers=[{"id": "1", "name": "thumbs"}]),  # says nothing
            post("907", "Default", "2026-04-01T08:06:30+00:00", "  Done, ordered two  ", ANA),
            post("908", "Default", "2026-04-01T10:00:30+02:00", "late backfill, sorted to its time", {"id": "108", "name": "cy"}),
            post("909", "ThreadCreated", "2026-04-01T10:07:00+02:00", "fan thread", ANA),
        ],
        "messageCount": 10,
    }


def read(tmp_path: Path, data: object, name: str = "Home lab - hardware [77].json"):
    warnings: list[str] = []
    return read_discord(tmp_path / name, data, warnings.append), warnings


def read_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_source(path, lambda _: None)
    assert caught.value.message.startswith(f"{path.resolve()}: ") and "\n" not in caught.value.message
    assert caught.value.hint
    return caught.value


def test_a_realistic_channel(tmp_path):
    [stream], warnings = read(tmp_path, hardware_channel())
    assert warnings == []
    path = tmp_path / "Home lab - hardware [77].json"
    assert stream.stream_id == f"{path}#77" and stream.path == str(path)
    assert stream.format == "discord" and stream.title == "#hardware (Home lab)" and stream.is_chat
    assert [(u.message_id, u.speaker, u.text) for u in stream.units] == [
        ("908", "cy", "late backfill, sorted to its time"),
        ("901", "Ana", "The NAS fan died again"),
        ("902", "ben", "Order the Noctua one"),  # a reply: in time order, nothing copied from what it answers
        ("903", "ben", "[attachment: fan-specs.pdf]"),
        ("905", "GitHub", "New issue #12\nFan curve too aggressive\nLabels: bug"),
        ("907", "Ana", "Done, ordered two"),
    ]
    assert stream.units[1].time == datetime(2026, 4, 1, 8, 1, 0, 123000, tzinfo=UTC)
    assert all(u.time.tzinfo is UTC for u in stream.units)


def test_messages_without_type_time_or_author_are_kept(tmp_path):
    data = {"channel": {"id": 5, "name": "dm"}, "messages": [{"id": 1, "content": "no type, no time"}, {"content": "no id either"}]}
    [stream], _ = read(tmp_path, data, "dm.json")
    assert stream.title == "#dm" and stream.stream_id.endswith("dm.json#5")
    assert [(u.message_id, u.speaker, u.time) for u in stream.units] == [("1", None, None), ("message 2", None, None)]


def test_malformed_messages_are_warned_and_skipped(tmp_path):
    data = hardware_channel()
    data["messages"] += ["junk", post("950", "Default", "2026-04-01T11:00:00Z", {"text": "not a string"}, ANA), None]
    [stream], warnings = read(tmp_path, data)
    assert len(stream.units) == 6
    path = tmp_path / "Home lab - hardware [77].json"
    assert warnings == [f"{path}: 3 malformed messages skipped (message 11: not a JSON object)"]


@pytest.mark.parametrize(
    "data, says",
    [
        ({"guild": {}, "channel": {"id": "1"}, "messages": []}, "no messages in the channel export"),
        (
            {"channel": {"id": "1"}, "messages": [post("1", "GuildMemberJoin", "2026-01-01T00:00:00Z", "", BEN)]},
            "no text messages among its 1 message ",
        ),
        ({"channel": {"id": "1"}, "messages": [1, 2]}, "no text messages among its 2 messages"),
        ({"channel": "general", "messages": []}, "not a DiscordChatExporter export"),
        ([], "not a DiscordChatExporter export"),
    ],
)
def test_nothing_readable_is_a_source_error(tmp_path, data, says):
    with pytest.raises(SourceError) as caught:
        read(tmp_path, data, "c.json")
    assert caught.value.message.startswith(f"{tmp_path / 'c.json'}: ") and says in caught.value.message
    assert "DiscordChatExporter" in caught.value.hint


def test_truncated_file(tmp_path):
    text = json.dumps(hardware_channel(), indent=2)
    path = tmp_path / "hardware.json"
    path.write_text(text[: len(text) // 2])
    assert "invalid JSON" in read_error(path).message


def test_a_latin1_export_keeps_its_messages(tmp_path):
    """JSON is UTF-8 by definition: bytes that are not become U+FFFD, counted in one warning (issue 17, item 9)."""
    data = hardware_channel() | {"guild": {"id": "1", "name": "Café des hackers"}}
    path = tmp_path / "hardware.json"
    path.write_bytes(json.dumps(data, indent=2, ensure_ascii=False).encode("latin-1"))
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert len(stream.units) == len(read_source_of(hardware_channel(), tmp_path)[0].units)
    assert "Caf\ufffd des hackers" in stream.title
    assert warnings == [f"{path.resolve()}: 1 invalid UTF-8 byte sequence replaced by \ufffd; the rest is indexed"]


def read_source_of(data, folder: Path):
    path = folder / "utf8.json"
    path.write_text(json.dumps(data))
    return read_source(path, print)


def test_zip_of_channels_with_junk_members(tmp_path):
    general = hardware_channel() | {"channel": {"id": "78", "name": "general", "category": "Text Channels"}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Home lab - hardware [77].json", json.dumps(hardware_channel(), indent=2))
        archive.writestr("Home lab - general [78].json", json.dumps(general, indent=2))
        archive.writestr("Home lab - hardware [77].json_Files/fan-specs-1A2B.pdf", b"%PDF-1.7\n\xff\xfe binary")
        archive.writestr("Home lab - hardware [77].json_Files/avatar.json", b"\x89PNG\r\n\x1a\n\x00\xff")
        archive.writestr("corrupt.json", b"CORRUPTME" * 20)
    path = tmp_path / "discord.zip"
    path.write_bytes(buffer.getvalue().replace(b"CORRUPTME" * 20, b"XXXXXXXXX" * 20))  # same size, wrong CRC
    warnings: list[str] = []
    streams = read_source(path, warnings.append)
    assert [s.title for s in streams] == ["#hardware (Home lab)", "#general (Home lab)"]
    assert all(s.format == "discord" and s.path == str(path.resolve()) for s in streams)
    assert streams[1].stream_id == f"{path.resolve()}!Home lab - general [78].json#78"
    assert any("avatar.json" in w for w in warnings) and any("corrupt.json" in w for w in warnings)
    assert not any("fan-specs" in w for w in warnings)


def test_empty_export(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text('{"guild": {"id": "1", "name": "g"}, "channel": {"id": "1", "name": "c"}, "messages": [], "messageCount": 0}')
    assert "no messages" in read_error(path).message


@pytest.mark.parametrize(
    "data",
    [
        {"channel": "general", "messages": [1, 2]},
        {"channel": {"name": "general"}, "messages": "none"},
        {"channel": {"id": "1"}, "messages": [{"role": "user", "content": "hi"}]},  # chat-completion logs, not Discord
    ],
)
def test_look_alikes_are_not_claimed(tmp_path, data):
    assert not is_discord_export(data)
    path = tmp_path / "channel.json"
    path.write_text(json.dumps(data))
    assert "not a known chat export" in read_error(path).message


def test_other_exports_are_not_claimed():
    chatgpt = [{"title": "t", "mapping": {}, "current_node": None}]
    slack_day = [{"type": "message", "user": "U1", "text": "hi", "ts": "1.0"}]
    for other in (chatgpt, claude_export(), full_export(), full_export()["chats"]["list"][0], slack_day, "channel", None):
        assert not is_discord_export(other)
    assert is_discord_export(hardware_channel())


def test_a_folder_of_each_new_format_is_told_apart_without_flags(tmp_path):
    folder = tmp_path / "exports"
    (folder / "claude").mkdir(parents=True)
    (folder / "telegram" / "DataExport").mkdir(parents=True)
    (folder / "claude" / "conversations.json").write_text(json.dumps(claude_export()))
    (folder / "telegram" / "DataExport" / "result.json").write_text(json.dumps(full_export(), indent=1))
    (folder / "Home lab - hardware [77].json").write_text(json.dumps(hardware_channel(), indent=2))
    warnings: list[str] = []
    formats = {}
    for path in iter_source_files([folder], warnings.append):
        streams = read_source(path, warnings.append)
        formats[path.relative_to(folder.resolve()).as_posix()] = sorted({s.format for s in streams})
        assert all(s.path == str(path) and s.stream_id.startswith(f"{path}#") for s in streams)
    assert formats == {
        "claude/conversations.json": ["claude"],
        "telegram/DataExport/result.json": ["telegram"],
        "Home lab - hardware [77].json": ["discord"],
    }
    assert warnings == [
        f"{folder.resolve() / 'claude' / 'conversations.json'}: conversation 2: 1 malformed message skipped (message 2: not a JSON object)"
    ]


KEYS = [
    "guild",
    "channel",
    "messages",
    "id",
    "name",
    "type",
    "timestamp",
    "content",
    "author",
    "nickname",
    "attachments",
    "fileName",
    "embeds",
]
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
SCALARS |= st.sampled_from(["Default", "Reply", "GuildMemberJoin", "2026-04-01T10:01:00+02:00", "2026-04-01T10:01:00"])
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
    max_leaves=20,
)
SHAPED = st.fixed_dictionaries(
    {"channel": st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=3), "messages": st.lists(JSON_VALUES, max_size=5)}
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(JSON_VALUES, SHAPED))
def test_reader_raises_nothing_but_source_error(tmp_path, data):
    path = tmp_path / "channel.json"
    is_discord_export(data)
    try:
        streams = read_discord(path, data, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    [stream] = streams
    assert stream.units and stream.format == "discord"
    for unit in stream.units:
        assert unit.text.strip() and isinstance(unit.message_id, str)
        assert unit.speaker is None or isinstance(unit.speaker, str)
        assert unit.time is None or unit.time.tzinfo is not None
