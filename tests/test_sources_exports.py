"""Chat exports from apps: Claude, WhatsApp, Telegram, Slack, Discord, CSV.

Each format has a valid sample written here (small, with the format's quirks), then the same
bad inputs: truncated, wrong encoding, a zip with junk in it, an empty export, a look-alike.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evosearch.cli.app import app
from evosearch.errors import SourceError
from evosearch.sources.csv_chat import read_csv_chat
from evosearch.sources.detect import read_source
from evosearch.sources.walk import iter_source_files
from evosearch.sources.whatsapp import looks_like_whatsapp, read_whatsapp


CLAUDE = [
    {
        "uuid": "c-1",
        "name": "Trip planning",
        "created_at": "2026-03-01T09:00:00Z",
        "chat_messages": [
            {
                "uuid": "m-2",
                "sender": "assistant",
                "created_at": "2026-03-01T09:00:05Z",
                "text": "",
                "content": [{"type": "text", "text": "Lisbon in April is mild."}, {"type": "tool_use", "name": "search"}],
            },
            {
                "uuid": "m-1",
                "sender": "human",
                "created_at": "2026-03-01T09:00:00+00:00",
                "text": "Where should we go in April?",
                "content": [],
                "attachments": [{"file_name": "budget.txt", "extracted_content": "Budget: 900 euros"}],
            },
        ],
    },
    {"uuid": "c-2", "name": "", "created_at": "2026-03-02T10:00:00Z", "chat_messages": []},
]
WHATSAPP_IOS = (
    "\u200e[15/01/2024, 10:30:45] Ana: Messages and calls are end-to-end encrypted.\n"
    "[15/01/2024, 10:30:45] Ana: Did you book the cabin?\n"
    "[15/01/2024, 10:31:02] Ben: Yes! Three nights,\n"
    "starting Friday.\n"
    "[15/01/2024, 10:31:30] Ben: \u200eimage omitted\n"
    "[16/01/2024, 08:02:11] Ana: This message was deleted\n"
    "[16/01/2024, 08:05:00] Ana: Great, I'll bring the board games <This message was edited>\n"
)
WHATSAPP_ANDROID_US = (
    "1/15/24, 10:30\u202fPM - Messages and calls are end-to-end encrypted. No one outside of this chat can read them.\n"
    '1/15/24, 10:31\u202fPM - Ana created group "Cabin"\n'
    "1/15/24, 10:32\u202fPM - Ana: Who brings the food?\n"
    "1/16/24, 9:02\u202fAM - Ben: <Media omitted>\n"
    "1/16/24, 9:03\u202fAM - Ben: Me, I'll do pasta\n"
)
TELEGRAM = {
    "about": "export",
    "chats": {
        "list": [
            {
                "name": "Climbing club",
                "type": "private_group",
                "id": 42,
                "messages": [
                    {
                        "id": 1,
                        "type": "service",
                        "date": "2026-02-01T18:00:00",
                        "date_unixtime": "1769968800",
                        "actor": "Ana",
                        "action": "create_group",
                    },
                    {
                        "id": 2,
                        "type": "message",
                        "date": "2026-02-01T18:01:00",
                        "date_unixtime": "1769968860",
                        "from": "Ana",
                        "text": ["Meet at ", {"type": "bold", "text": "the north wall"}, " at 7"],
                    },
                    {
                        "id": 3,
                        "type": "message",
                        "date": "2026-02-01T18:02:00",
                        "date_unixtime": "1769968920",
                        "from": "Ben",
                        "text": "ok, bringing ropes",
                        "reply_to_message_id": 2,
                    },
                    {
                        "id": 4,
                        "type": "message",
                        "date": "2026-02-01T18:03:00",
                        "date_unixtime": "1769968980",
                        "from": "Ben",
                        "text": "",
                        "photo": "photos/1.jpg",
                    },
                ],
            },
        ]
    },
    "left_chats": {"list": []},
}
DISCORD = {
    "guild": {"id": "1", "name": "Home lab"},
    "channel": {"id": "77", "type": "GuildTextChat", "name": "hardware", "category": "Text"},
    "messages": [
        {"id": "900", "type": "GuildMemberJoin", "timestamp": "2026-04-01T10:00:00+02:00", "content": "", "author": {"name": "zed"}},
        {
            "id": "901",
            "type": "Default",
            "timestamp": "2026-04-01T10:01:00+02:00",
            "content": "The NAS fan died again",
            "author": {"id": "5", "name": "ana_b", "nickname": "Ana"},
        },
        {
            "id": "902",
            "type": "Reply",
            "timestamp": "2026-04-01T10:02:00+02:00",
            "content": "Order the Noctua one",
            "author": {"id": "6", "name": "ben"},
            "reference": {"messageId": "901"},
        },
        {
            "id": "903",
            "type": "Default",
            "timestamp": "2026-04-01T10:03:00+02:00",
            "content": "",
            "author": {"name": "ben"},
            "attachments": [{"fileName": "fan-specs.pdf"}],
        },
    ],
    "messageCount": 4,
}
SLACK_USERS = [
    {"id": "U1", "name": "ana", "profile": {"display_name": "Ana", "real_name": "Ana B"}},
    {"id": "U2", "name": "ben", "profile": {}},
]
SLACK_DAYS = {
    "general/2026-05-01.json": [
        {"type": "message", "subtype": "channel_join", "user": "U2", "text": "<@U2> has joined the channel", "ts": "1777629600.000100"},
        {
            "type": "message",
            "user": "U1",
            "text": "Release is <https://example.com/r|ready> &amp; tagged, <@U2>",
            "ts": "1777629700.000200",
            "thread_ts": "1777629700.000200",
            "reply_count": 1,
        },
        {"type": "message", "user": "U2", "text": "shipping it in <#C2|ops>", "ts": "1777629800.000300", "thread_ts": "1777629700.000200"},
    ],
    "general/2026-05-02.json": [{"type": "message", "user": "U1", "text": "Post-release retro at 3", "ts": "1777716000.000100"}],
    "random/2026-05-01.json": [{"type": "message", "user": "U2", "text": "lunch?", "ts": "1777629900.000100"}],
}
CSV = 'timestamp,author,message,channel\n2026-06-01T09:00:00Z,Ana,"Standup moved, to 10",team\n1780304460,Ben,ok,team\n,Ana,no time here,team\n'


def write_slack_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "users.json").write_text(json.dumps(SLACK_USERS))
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}]))
    for name, messages in SLACK_DAYS.items():
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text(json.dumps(messages))
    return root


def zip_bytes(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def read(path: Path) -> tuple[list, list[str]]:
    warnings: list[str] = []
    return read_source(path, warnings.append), warnings


def read_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_source(path, lambda m: None)
    assert caught.value.message.startswith(str(path.resolve()))
    return caught.value


# ---- valid samples ---------------------------------------------------------------------------


def test_claude_conversations_with_content_blocks_and_attachments(tmp_path):
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(CLAUDE))
    (stream,), warnings = read(path)
    assert warnings == [] and stream.format == "claude" and stream.title == "Trip planning"
    assert [(u.message_id, u.speaker) for u in stream.units] == [("m-1", "human"), ("m-2", "assistant")]
    assert "Budget: 900 euros" in stream.units[0].text and "[budget.txt]" in stream.units[0].text
    assert stream.units[1].text == "Lisbon in April is mild."  # the tool block is not text


def test_whatsapp_ios_day_first_multiline_media_and_deleted(tmp_path):
    path = tmp_path / "WhatsApp Chat with Ben.txt"
    path.write_text(WHATSAPP_IOS)
    (stream,), _ = read(path)
    assert stream.format == "whatsapp" and stream.title == "Ben"
    texts = [(u.speaker, u.text, u.message_id) for u in stream.units]
    assert texts == [
        ("Ana", "Did you book the cabin?", "line 2"),
        ("Ben", "Yes! Three nights,\nstarting Friday.", "line 3"),
        ("Ana", "Great, I'll bring the board games", "line 7"),
    ]
    local = datetime(2024, 1, 15, 10, 31, 2).astimezone(UTC)  # naive times are local
    assert stream.units[1].time == local


def test_whatsapp_android_us_month_first_12_hour_with_system_lines(tmp_path):
    path = tmp_path / "_chat.txt"
    path.write_text(WHATSAPP_ANDROID_US)
    (stream,), _ = read(path)
    assert [(u.speaker, u.text) for u in stream.units] == [("Ana", "Who brings the food?"), ("Ben", "Me, I'll do pasta")]
    assert stream.units[0].time == datetime(2024, 1, 15, 22, 32).astimezone(UTC)
    assert stream.units[1].time == datetime(2024, 1, 16, 9, 3).astimezone(UTC)


def test_telegram_full_export_entities_service_and_media(tmp_path):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(TELEGRAM))
    (stream,), _ = read(path)
    assert stream.format == "telegram" and stream.title == "Climbing club"
    assert [(u.message_id, u.speaker, u.text) for u in stream.units] == [
        ("2", "Ana", "Meet at the north wall at 7"),
        ("3", "Ben", "ok, bringing ropes"),
    ]
    assert stream.units[0].time == datetime.fromtimestamp(1769968860, UTC)


def test_discord_nicknames_offsets_joins_and_attachments(tmp_path):
    path = tmp_path / "Home lab - hardware [77].json"
    path.write_text(json.dumps(DISCORD))
    (stream,), _ = read(path)
    assert stream.format == "discord" and stream.title == "#hardware (Home lab)"
    assert [(u.speaker, u.text) for u in stream.units] == [
        ("Ana", "The NAS fan died again"),
        ("ben", "Order the Noctua one"),
        ("ben", "[attachment: fan-specs.pdf]"),
    ]
    assert stream.units[0].time == datetime(2026, 4, 1, 8, 1, tzinfo=UTC)


def test_slack_folder_day_files_resolve_names_and_markup(tmp_path):
    root = write_slack_folder(tmp_path / "slack")
    files = sorted(p.relative_to(root).as_posix() for p in iter_source_files([root], lambda m: None))
    assert files == sorted(SLACK_DAYS)  # users.json and channels.json are not indexed on their own
    (stream,), _ = read(root / "general/2026-05-01.json")
    assert stream.format == "slack" and stream.title == "#general 2026-05-01"
    assert [(u.speaker, u.text) for u in stream.units] == [
        ("Ana", "Release is ready (https://example.com/r) & tagged, @ben"),
        ("ben", "shipping it in #ops"),
    ]


def test_slack_zip_is_one_stream_per_channel_across_days(tmp_path):
    path = tmp_path / "Acme Slack export.zip"
    members = {"users.json": json.dumps(SLACK_USERS), "channels.json": "[]"}
    members |= {name: json.dumps(messages) for name, messages in SLACK_DAYS.items()}
    members["general/notes.png"] = b"\x89PNG\0\0junk"
    members["random/2026-05-03.json"] = '[{"type": "message", "ts": '  # truncated day
    path.write_bytes(zip_bytes(members))
    streams, warnings = read(path)
    assert [(s.title, len(s.units)) for s in streams] == [("#general", 3), ("#random", 1)]
    assert [u.text for u in streams[0].units][-1] == "Post-release retro at 3"
    assert len(warnings) == 1 and "random/2026-05-03.json" in warnings[0]


def test_csv_chat_aliases_epoch_iso_and_conversations(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(CSV)
    (stream,), _ = read(path)
    assert stream.format == "csv-chat" and stream.title == "team"
    assert [(u.speaker, u.text, u.message_id) for u in stream.units] == [
        ("Ana", "Standup moved, to 10", "row 2"),
        ("Ben", "ok", "row 3"),
        ("Ana", "no time here", "row 4"),
    ]


def test_a_plain_csv_table_is_a_document_not_a_chat(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("item,price\ntea,3\ncoffee,4\n")
    (stream,), _ = read(path)
    assert stream.format != "csv-chat" and not stream.is_chat


# ---- bad input, every format -----------------------------------------------------------------

SAMPLES = {
    "claude": ("conversations.json", json.dumps(CLAUDE)),
    "whatsapp": ("_chat.txt", WHATSAPP_IOS),
    "telegram": ("result.json", json.dumps(TELEGRAM)),
    "discord": ("channel.json", json.dumps(DISCORD)),
    "slack": ("2026-05-01.json", json.dumps(SLACK_DAYS["general/2026-05-01.json"])),
    "csv-chat": ("chat.csv", CSV),
}
EMPTY = {
    "claude": ("conversations.json", '[{"uuid": "x", "chat_messages": []}]'),
    "whatsapp": ("_chat.txt", "[1/15/24, 10:30:45 AM] Messages and calls are end-to-end encrypted.\n"),
    "telegram": ("result.json", '{"name": "x", "type": "personal_chat", "id": 1, "messages": []}'),
    "discord": ("channel.json", '{"guild": {}, "channel": {"id": "1"}, "messages": []}'),
    "slack": ("2026-05-01.json", '[{"type": "message", "subtype": "channel_join", "ts": "1777629600.000100", "text": "joined"}]'),
    "csv-chat": ("chat.csv", "ts,speaker,text\n"),
}


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_truncated_export_is_one_clear_error(tmp_path, fmt):
    name, content = SAMPLES[fmt]
    path = tmp_path / name
    path.write_text(content[: len(content) // 2])
    try:
        streams, _ = read(path)
    except SourceError as e:
        assert e.message.startswith(str(path.resolve()))
        return
    # Line formats keep the complete messages before the cut, and never invent a format.
    assert fmt in ("whatsapp", "csv-chat") and all(s.format == fmt for s in streams)


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_a_latin1_export_is_read_not_refused(tmp_path, fmt):
    """Issue 17, item 9: text formats are decoded in the encoding detected; JSON, UTF-8 by definition,
    keeps every message and marks the bad byte with U+FFFD in one warning."""
    name, content = SAMPLES[fmt]
    content = content.replace("\u200e", "")  # WhatsApp's direction marks have no Latin-1 byte
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / name).write_text(content)
    texts = [u.text for stream in read(plain / name)[0] for u in stream.units]
    words = (w.strip(".,!?:;'\"") for text in texts for w in text.split())
    word = next(w for w in words if "e" in w and w.isalpha() and content.count(w) == 1)  # only in the message
    path = tmp_path / name
    path.write_bytes(content.replace(word, word.replace("e", "\u00e9", 1), 1).encode("latin-1"))
    streams, warnings = read(path)
    text = "\n".join(u.text for stream in streams for u in stream.units)
    if name.endswith(".json"):
        assert word.replace("e", "\ufffd", 1) in text
        assert warnings == [f"{path.resolve()}: 1 invalid UTF-8 byte sequence replaced by \ufffd; the rest is indexed"]
    else:
        assert word.replace("e", "\u00e9", 1) in text and warnings == []
    assert sum(len(s.units) for s in streams) == sum(len(s.units) for s in read(plain / name)[0])


@pytest.mark.parametrize("fmt", ["claude", "whatsapp", "csv-chat"])
def test_zip_with_junk_reads_the_export_and_skips_the_rest(tmp_path, fmt):
    name, content = SAMPLES[fmt]
    path = tmp_path / "export.zip"
    path.write_bytes(zip_bytes({name: content, "media/photo.jpg": b"\xff\xd8\xff\0junk", "notes.txt": b"\x00\xffbad"}))
    streams, warnings = read(path)
    assert streams and all(s.format == fmt for s in streams)
    assert all(s.path == str(path.resolve()) for s in streams)
    assert any("notes.txt" in w and "binary" in w for w in warnings)


@pytest.mark.parametrize("fmt", sorted(EMPTY))
def test_empty_export_says_there_is_nothing_in_it(tmp_path, fmt):
    name, content = EMPTY[fmt]
    path = tmp_path / name
    path.write_text(content)
    error = read_error(path)
    assert "no " in error.message or "none" in error.message


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("diary.txt", "[1/15/24] Ana: dinner plans\nWe talked about the menu for a long time.\nThen more prose.\nAnd more.\n", "text"),
        ("result.json", '{"messages": "not a list", "name": "x"}', None),
        ("channel.json", '{"channel": "general", "messages": [1, 2]}', None),
        ("day.json", '[{"ts": "yesterday", "type": "note", "text": "x"}]', None),
        ("people.csv", "name,age\nAna,30\n", "text"),
    ],
)
def test_look_alikes_are_not_claimed(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content)
    if expected is None:
        assert "not a known chat export" in read_error(path).message
    else:
        (stream,), _ = read(path)
        assert stream.format in ("text", "markdown") and not stream.is_chat


# ---- properties ---------------------------------------------------------------------------------

_HEADER = st.builds(
    lambda d, m, y, h, mi, name, text, ios: (
        (f"[{d}/{m}/{y}, {h}:{mi:02d}] " if ios else f"{d}.{m}.{y}, {h}:{mi:02d} - ") + f"{name}: {text}"
    ),
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(0, 3000),
    st.integers(0, 30),
    st.integers(0, 99),
    st.text(max_size=8),
    st.text(max_size=30),
    st.booleans(),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(lines=st.lists(st.one_of(_HEADER, st.text(max_size=40)), max_size=12))
def test_whatsapp_parser_raises_only_source_errors(lines):
    text = "\n".join(lines)
    path = Path("/tmp/_chat.txt")
    looks_like_whatsapp(path, text)
    try:
        for stream in read_whatsapp(path, text, lambda m: None):
            assert all(u.text for u in stream.units)
    except SourceError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(st.text(max_size=12), max_size=5), max_size=8),
    header=st.sampled_from(["ts,speaker,text", "time\tfrom\tbody", "x;text;user"]),
)
def test_csv_parser_raises_only_source_errors(rows, header):
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    try:
        read_csv_chat(Path("/tmp/chat.csv"), text, lambda m: None)
    except SourceError:
        pass


# ---- one folder holding every export --------------------------------------------------------------


def test_index_a_folder_of_every_export_and_see_counts_per_format(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    for fmt, (name, content) in SAMPLES.items():
        (folder / fmt).mkdir()
        (folder / fmt / name).write_text(content)
    write_slack_folder(folder / "slack-workspace")
    (folder / "chatgpt.json").write_text(
        json.dumps(
            [
                {
                    "id": "g1",
                    "title": "t",
                    "mapping": {
                        "a": {
                            "id": "a",
                            "parent": None,
                            "children": [],
                            "message": {"id": "a", "author": {"role": "user"}, "create_time": 1, "content": {"parts": ["hello chatgpt"]}},
                        }
                    },
                    "current_node": "a",
                }
            ]
        )
    )
    runner = CliRunner()
    result = runner.invoke(app, ["index", str(folder), "--quiet"])
    assert result.exit_code == 0, result.output
    status = json.loads(runner.invoke(app, ["status", "--json"]).output)
    formats = status["formats"] if "formats" in status else status["sources_by_format"]
    assert {"claude", "whatsapp", "telegram", "discord", "slack", "csv-chat", "chatgpt"} <= set(formats)
    answer = json.loads(runner.invoke(app, ["ask", "north wall climbing", "--json", "-n", "1"]).output)
    top = answer["results"][0]
    assert top["format"] == "telegram" and top["speaker"] and top["time"] and top["locator"] == "2..3"
