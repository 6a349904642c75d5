"""Slack workspace exports, as a folder (one stream per day file) and as a zip (one stream per channel).

The export written here has what real ones have: users.json, channels.json, two channels,
days with a thread whose last reply lands on the next day, a join, a topic change, a bot,
mentions, channel links, labelled links and HTML escapes.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evosearch.cli.app import app
from evosearch.errors import SourceError
from evosearch.sources.detect import read_source
from evosearch.sources.slack import is_slack_day, read_slack_day
from evosearch.sources.walk import iter_source_files

THREAD = "1794819900.000200"  # 2026-11-16 09:05 UTC
USERS = [
    {"id": "U01ANA", "name": "ana", "real_name": "Ana Barros", "profile": {"display_name": "ana.b", "real_name": "Ana Barros"}},
    {"id": "U02BEN", "name": "ben", "real_name": "Ben Okafor", "profile": {"display_name": "", "real_name": "Ben Okafor"}},
]
CHANNELS = [{"id": "C01GEN", "name": "general", "members": ["U01ANA", "U02BEN"]}, {"id": "C02OPS", "name": "ops"}]
DAYS = {
    "general/2026-11-16.json": [
        {
            "type": "message",
            "subtype": "channel_join",
            "user": "U02BEN",
            "text": "<@U02BEN> has joined the channel",
            "ts": "1794819600.000100",
        },
        {
            "type": "message",
            "user": "U01ANA",
            "text": "Release candidate is <https://ci.example.com/b/42|green> &amp; tagged, <@U02BEN> can you check &lt;staging&gt;?",
            "ts": THREAD,
            "thread_ts": THREAD,
            "reply_count": 2,
        },
        # out of order on purpose: the reader sorts by ts
        {
            "type": "message",
            "subtype": "bot_message",
            "username": "deploybot",
            "bot_id": "B1",
            "text": "Deploy to staging finished",
            "ts": "1794850260.000500",
        },
        {
            "type": "message",
            "user": "U02BEN",
            "user_profile": {"display_name": "", "real_name": "Ben Okafor"},
            "text": "Checked, moving the rollout to <#C02OPS|ops>",
            "ts": "1794850200.000400",
            "thread_ts": THREAD,
            "parent_user_id": "U01ANA",
        },
    ],
    "general/2026-11-17.json": [
        {"type": "message", "user": "U01ANA", "text": "thanks, closing the thread", "ts": "1794903300.000100", "thread_ts": THREAD},
        {
            "type": "message",
            "subtype": "channel_topic",
            "user": "U01ANA",
            "text": "set the channel topic: releases",
            "ts": "1794903400.000100",
        },
        {
            "type": "message",
            "user": "U02BEN",
            "text": "Retro at 3 in <#C01GEN>",
            "ts": "1794909600.000300",
            "files": [{"id": "F1", "title": "retro-notes.pdf", "name": "retro-notes.pdf"}],
        },
        {"type": "message", "user": "U01ANA", "text": "", "ts": "1794909700.000100", "files": [{"id": "F2", "name": "whiteboard.jpg"}]},
    ],
    "ops/2026-11-16.json": [
        {
            "type": "message",
            "user": "U02BEN",
            "text": "<!here> rollout starts, write to <mailto:ops@example.com|ops@example.com>",
            "ts": "1794850300.000100",
        },
    ],
}


def write_export(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "users.json").write_text(json.dumps(USERS, indent=1))
    (root / "channels.json").write_text(json.dumps(CHANNELS, indent=1))
    (root / "integration_logs.json").write_text('{"logs": []}')
    for name, messages in DAYS.items():
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text(json.dumps(messages, indent=1))
    return root


def zip_bytes(members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def export_members(prefix: str = "") -> dict[str, bytes | str]:
    members: dict[str, bytes | str] = {prefix + "users.json": json.dumps(USERS), prefix + "channels.json": json.dumps(CHANNELS)}
    return members | {prefix + name: json.dumps(messages) for name, messages in DAYS.items()}


def read(path: Path) -> tuple[list, list[str]]:
    warnings: list[str] = []
    return read_source(path, warnings.append), warnings


def read_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_source(path, lambda m: None)
    assert caught.value.message.startswith(str(path.resolve())) and "\n" not in caught.value.message
    return caught.value


# ---- a folder export -----------------------------------------------------------------------------


def test_a_day_file_is_one_stream_with_names_markup_and_thread_replies_in_time_order(tmp_path):
    root = write_export(tmp_path / "Acme Slack export")
    path = (root / "general/2026-11-16.json").resolve()
    (stream,), warnings = read(path)
    assert warnings == []
    assert (stream.format, stream.title, stream.stream_id, stream.path) == ("slack", "#general 2026-11-16", f"{path}#general", str(path))
    assert [(u.message_id, u.speaker, u.text) for u in stream.units] == [
        (THREAD, "ana.b", "Release candidate is green (https://ci.example.com/b/42) & tagged, @Ben Okafor can you check <staging>?"),
        ("1794850200.000400", "Ben Okafor", "Checked, moving the rollout to #ops"),  # a thread reply, in place
        ("1794850260.000500", "deploybot", "Deploy to staging finished"),  # bots with text are kept; the join is not
    ]
    assert stream.units[0].time == datetime(2026, 11, 16, 9, 5, 0, 200, tzinfo=UTC)


def test_next_day_files_special_mentions_and_channel_ids(tmp_path):
    root = write_export(tmp_path / "slack")
    (general,), _ = read(root / "general/2026-11-17.json")
    assert [(u.speaker, u.text) for u in general.units] == [
        ("ana.b", "thanks, closing the thread"),  # the thread's last reply, on the day it was written
        ("Ben Okafor", "Retro at 3 in #general\n[file: retro-notes.pdf]"),  # <#C01GEN> named through channels.json
        ("ana.b", "[file: whiteboard.jpg]"),  # only a file: found by its name
    ]
    (ops,), _ = read(root / "ops/2026-11-16.json")
    assert ops.title == "#ops 2026-11-16" and ops.units[0].text == "@here rollout starts, write to ops@example.com"


def test_metadata_files_are_skipped_by_the_walk_and_every_walked_file_reads_cleanly(tmp_path):
    root = write_export(tmp_path / "slack")
    warnings: list[str] = []
    files = list(iter_source_files([tmp_path], warnings.append))
    assert [p.relative_to(root).as_posix() for p in files] == sorted(DAYS)  # no users.json, channels.json, integration_logs.json
    for path in files:
        streams, read_warnings = read(path)
        assert [s.format for s in streams] == ["slack"] and read_warnings == []
    assert warnings == []
    # Without channels.json beside it, a users.json is an ordinary file again (and is not a chat).
    lone = tmp_path / "elsewhere"
    lone.mkdir()
    (lone / "users.json").write_text(json.dumps(USERS))
    assert list(iter_source_files([lone], warnings.append)) == [(lone / "users.json").resolve()]
    assert "not a known chat export" in read_error(lone / "users.json").message


def test_names_are_read_again_when_users_json_changes(tmp_path):
    root = write_export(tmp_path / "slack")
    day = root / "ops/2026-11-16.json"
    assert read(day)[0][0].units[0].speaker == "Ben Okafor"
    renamed = [dict(u, profile={"display_name": "benny"}) if u["id"] == "U02BEN" else u for u in USERS]
    (root / "users.json").write_text(json.dumps(renamed))
    stat = (root / "users.json").stat()
    os.utime(root / "users.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert read(day)[0][0].units[0].speaker == "benny"


def test_a_day_file_without_users_json_falls_back_to_profiles_and_ids(tmp_path):
    path = tmp_path / "general" / "2026-11-16.json"
    path.parent.mkdir()
    path.write_text(json.dumps(DAYS["general/2026-11-16.json"]))
    (stream,), _ = read(path)
    assert [u.speaker for u in stream.units] == ["U01ANA", "Ben Okafor", "deploybot"]
    assert stream.units[0].text.endswith("tagged, @U02BEN can you check <staging>?")


# ---- a zip export --------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "Acme Slack export Nov 16 2026 - Nov 17 2026/"])
def test_zip_is_one_stream_per_channel_across_days_in_time_order(tmp_path, prefix):
    path = tmp_path / "Acme Slack export.zip"
    path.write_bytes(zip_bytes(export_members(prefix)))
    streams, warnings = read(path)
    assert warnings == []
    resolved = path.resolve()
    assert [(s.title, s.stream_id, s.path, s.format) for s in streams] == [
        ("#general", f"{resolved}#general", str(resolved), "slack"),
        ("#ops", f"{resolved}#ops", str(resolved), "slack"),
    ]
    general = streams[0].units
    assert [u.text.split(",")[0] for u in general] == [
        "Release candidate is green (https://ci.example.com/b/42) & tagged",
        "Checked",
        "Deploy to staging finished",
        "thanks",
        "Retro at 3 in #general\n[file: retro-notes.pdf]",
        "[file: whiteboard.jpg]",
    ]
    assert [u.time for u in general] == sorted(u.time for u in general)
    assert len({u.message_id for u in general}) == len(general)


def test_zip_with_junk_reads_the_channels_and_warns_once_per_bad_day_file(tmp_path):
    members = export_members()
    members |= {
        "general/photo.png": b"\x89PNG\r\n\x1a\n\0\0junk",  # not a day file: passed over quietly
        "general/2026-11-18.json": '[{"type": "message", "ts": ',  # truncated
        "ops/2026-11-17.json": '[{"type": "message", "user": "U02BEN", "text": "caf\xe9", "ts": "1794903300.000100"}]'.encode("latin-1"),
        "ops/2026-11-18.json": '{"not": "a day"}',
        "ops/2026-11-19.json": "[]",  # an empty day is not junk
        "ops/2026-11-20.json": b"CORRUPTED-MEMBER-" * 4,
        "integration_logs.json": "not even json",
    }
    data = zip_bytes(members, compression=zipfile.ZIP_STORED)
    # Break the stored bytes of one member so its CRC check fails on reading.
    data = data.replace(b"CORRUPTED-MEMBER-", b"corrupted-member-", 1)
    path = tmp_path / "slack.zip"
    path.write_bytes(data)
    streams, warnings = read(path)
    assert [(s.title, len(s.units)) for s in streams] == [("#general", 6), ("#ops", 1)]
    where = f"{path.resolve()}!"
    bad = ["general/2026-11-18.json", "ops/2026-11-17.json", "ops/2026-11-18.json", "ops/2026-11-20.json"]
    assert sorted(warnings) == sorted(w for w in warnings if w.startswith(where)) and len(warnings) == len(bad)
    assert [next(w for w in warnings if member in w) for member in bad]  # one line naming each
    assert all("\n" not in w and "skipped" in w for w in warnings)


def test_empty_exports_are_one_clear_error(tmp_path):
    only_users = tmp_path / "only-users.zip"
    only_users.write_bytes(zip_bytes({"users.json": json.dumps(USERS)}))
    assert "Slack export with no messages" in read_error(only_users).message
    only_joins = tmp_path / "only-joins.zip"
    join = [DAYS["general/2026-11-16.json"][0]]
    only_joins.write_bytes(zip_bytes({"channels.json": json.dumps(CHANNELS), "general/2026-11-16.json": json.dumps(join)}))
    assert "Slack export with no messages" in read_error(only_joins).message
    day = tmp_path / "general" / "2026-11-16.json"
    day.parent.mkdir()
    day.write_text(json.dumps(join))
    assert "no Slack messages" in read_error(day).message


def test_a_claude_zip_with_its_own_users_json_is_not_taken_for_slack(tmp_path):
    claude = [
        {
            "uuid": "c-1",
            "name": "Trip",
            "created_at": "2026-03-01T09:00:00Z",
            "chat_messages": [{"uuid": "m-1", "sender": "human", "created_at": "2026-03-01T09:00:00Z", "text": "Lisbon in April?"}],
        }
    ]
    path = tmp_path / "claude.zip"
    users = [{"uuid": "u-1", "full_name": "Ana", "email_address": "ana@example.com"}]
    path.write_bytes(zip_bytes({"conversations.json": json.dumps(claude), "users.json": json.dumps(users), "projects.json": "[]"}))
    streams, _ = read(path)
    assert [s.format for s in streams] == ["claude"]


# ---- bad input -----------------------------------------------------------------------------------


def test_a_truncated_day_file_is_a_source_error_naming_it(tmp_path):
    root = write_export(tmp_path / "slack")
    path = root / "general/2026-11-16.json"
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    assert "invalid JSON" in read_error(path).message


def test_a_latin1_day_file_keeps_its_messages(tmp_path):
    """JSON is UTF-8 by definition: bytes that are not become U+FFFD, counted in one warning (issue 17, item 9)."""
    root = write_export(tmp_path / "slack")
    path = root / "ops/2026-11-16.json"
    path.write_bytes(path.read_text().replace("rollout", "déploiement").encode("latin-1"))
    warnings = []
    streams = read_source(path, warnings.append)
    assert any("d\ufffdploiement" in u.text for s in streams for u in s.units)
    assert len(warnings) == 1 and "invalid UTF-8 byte sequence" in warnings[0]


@pytest.mark.parametrize(
    "content",
    [
        [{"ts": "1794819600.000100", "text": "a log line", "level": "info"}],  # no "type": "message"
        [{"type": "message", "ts": 1794819600.1, "text": "ts is a number"}],
        [{"type": "message", "ts": "yesterday", "text": "not an epoch"}],
        [{"type": "event", "ts": "1794819600.000100"}, {"type": "event", "ts": "1794819700.000100"}],
    ],
)
def test_look_alikes_are_not_claimed(tmp_path, content):
    path = tmp_path / "2026-11-16.json"
    path.write_text(json.dumps(content))
    assert not is_slack_day(content)
    assert "not a known chat export" in read_error(path).message


def test_other_chat_exports_are_not_slack_days():
    chatgpt = [{"id": "g1", "title": "t", "mapping": {}, "current_node": None}]
    claude = [{"uuid": "c-1", "chat_messages": [{"uuid": "m-1", "sender": "human", "text": "hi"}]}]
    assert not is_slack_day(chatgpt) and not is_slack_day(claude) and not is_slack_day({"messages": []}) and not is_slack_day([])
    assert is_slack_day(DAYS["general/2026-11-16.json"])


# ---- properties ----------------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12))
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12
)
_TS_TEXT = st.from_regex(r"\A\d{9,11}\.\d{1,6}\Z")
_MESSAGE = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "event"]), "ts": st.one_of(_TS_TEXT, _JSON)},
    optional={
        "subtype": st.one_of(st.sampled_from(["bot_message", "channel_join", "thread_broadcast"]), _JSON),
        "user": st.one_of(st.sampled_from(["U01ANA", "U404"]), _JSON),
        "user_profile": _JSON,
        "username": _JSON,
        "bot_profile": _JSON,
        "text": st.one_of(st.text(alphabet="<>@#|!&;:/UCabhtps.1 ", max_size=40), _JSON),
        "thread_ts": st.one_of(_TS_TEXT, _JSON),
        "files": st.one_of(st.lists(st.dictionaries(st.sampled_from(["title", "name"]), _JSON)), _JSON),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(_JSON, st.lists(st.one_of(_MESSAGE, _JSON), max_size=8)))
def test_read_slack_day_raises_only_source_errors(tmp_path, data):
    path = tmp_path / "export" / "general" / "2026-11-16.json"
    if not path.parent.exists():
        write_export(tmp_path / "export")
    is_slack_day(data)
    try:
        (stream,) = read_slack_day(path, data, lambda m: None)
    except SourceError as e:
        assert e.message.startswith(str(path))
        return
    assert stream.units and all(isinstance(u.text, str) and u.text for u in stream.units)
    assert all(u.speaker is None or isinstance(u.speaker, str) for u in stream.units)
    assert [float(u.message_id) for u in stream.units] == sorted(float(u.message_id) for u in stream.units)


# ---- through the CLI -----------------------------------------------------------------------------


def test_index_a_slack_folder_and_find_a_message_by_its_ts(tmp_path):
    root = write_export(tmp_path / "slack")
    runner = CliRunner()
    result = runner.invoke(app, ["index", str(root)])
    assert result.exit_code == 0, result.output
    assert "indexed 3 files" in result.stderr and "warning" not in result.stderr.lower()
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["formats"] == {"slack": 3} and status["sources"] == 3
    answer = json.loads(runner.invoke(app, ["ask", "rollout starts ops mailing list", "--json", "-n", "3"]).stdout)
    top = answer["results"][0]
    assert top["format"] == "slack" and top["path"].endswith("ops/2026-11-16.json") and "1794850300.000100" in top["message_ids"]
