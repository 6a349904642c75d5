"""iMessage chat.db: a database built in the test with the tables Messages uses, and damaged ones."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.detect import read_source
from evosearch.sources.imessage import apple_time, decode_attributed_body, read_imessage
from evosearch.sources.walk import iter_source_files

SCHEMA = """
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT);
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER,
    account_id TEXT, chat_identifier TEXT, service_name TEXT, room_name TEXT, display_name TEXT);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, handle_id INTEGER DEFAULT 0,
    service TEXT, date INTEGER, is_from_me INTEGER DEFAULT 0, attributedBody BLOB, item_type INTEGER DEFAULT 0,
    associated_message_guid TEXT, associated_message_type INTEGER DEFAULT 0);
CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID), message_id INTEGER REFERENCES message (ROWID),
    message_date INTEGER DEFAULT 0, PRIMARY KEY (chat_id, message_id));
CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID), handle_id INTEGER REFERENCES handle (ROWID), UNIQUE(chat_id, handle_id));
"""


def typedstream(text: str) -> bytes:
    """An NSAttributedString archived the way Messages stores attributedBody (typedstream, class chain, then the NSString)."""
    raw = text.encode("utf-8")
    if len(raw) < 0x80:
        size = bytes([len(raw)])
    else:
        size = b"\x81" + len(raw).to_bytes(2, "little")
    return (
        b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00\x85\x92"
        b"\x84\x84\x84\x08NSString\x01\x94\x84\x01+" + size + raw + b"\x86\x84\x02iI\x01\x05\x92\x84\x84\x84\x0cNSDictionary\x00\x94\x84\x01i\x01\x92"
    )


def apple_ns(moment: datetime) -> int:
    return int((moment - datetime(2001, 1, 1, tzinfo=UTC)).total_seconds()) * 10**9


def guid(n: int) -> str:
    return hashlib.md5(str(n).encode()).hexdigest().upper()


def build_chat_db(path) -> None:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.execute("INSERT INTO handle (ROWID, id, service) VALUES (1, '+15550100', 'iMessage'), (2, 'ana@example.org', 'iMessage')")
    db.execute("INSERT INTO chat (ROWID, guid, chat_identifier, display_name) VALUES (1, 'iMessage;-;+15550100', '+15550100', ''), (2, 'iMessage;+;chat42', 'chat42', 'Climbing crew')")
    t = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
    rows = [
        # (rowid, chat, text, body, handle, minutes, from_me, item_type, associated_type)
        (1, 1, "Are we still on for Saturday?", None, 1, 0, 0, 0, 0),
        (2, 1, None, typedstream("Yes — bring the rope " + "x" * 150), 0, 3, 1, 0, 0),  # newer macOS: text only in attributedBody
        (3, 1, "Loved “Yes — bring the rope”", None, 1, 4, 0, 0, 2000),  # a tapback
        (4, 1, None, None, 0, 5, 1, 2, 0),  # a group event
        (5, 2, "Gym at 7?", None, 2, 1, 0, 0, 0),
        (6, 2, "\ufffc", None, 2, 2, 0, 0, 0),  # an image alone
    ]
    for rowid, chat, text, body, handle, minutes, me, item_type, assoc in rows:
        db.execute(
            "INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, date, is_from_me, item_type, associated_message_type, service) VALUES (?,?,?,?,?,?,?,?,?, 'iMessage')",
            (rowid, guid(rowid), text, body, handle, apple_ns(t.replace(minute=t.minute + minutes)), me, item_type, assoc),
        )
        db.execute("INSERT INTO chat_message_join (chat_id, message_id) VALUES (?, ?)", (chat, rowid))
    db.commit()
    db.close()


def test_chat_db_one_stream_per_chat(tmp_path):
    path = tmp_path / "chat.db"
    build_chat_db(path)
    before = path.read_bytes()
    assert list(iter_source_files([tmp_path], lambda _: None)) == [path]
    warnings = []
    streams = {s.title: s for s in read_source(path, warnings.append)}
    assert not warnings
    direct, group = streams["+15550100"], streams["Climbing crew"]
    assert direct.format == "imessage" and direct.stream_id == f"{path}#iMessage;-;+15550100"
    assert [(u.speaker, u.text) for u in direct.units] == [
        ("+15550100", "Are we still on for Saturday?"),
        ("me", "Yes — bring the rope " + "x" * 150),
    ]
    assert direct.units[0].time == datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
    assert direct.units[0].message_id == guid(1)
    assert [u.text for u in group.units] == ["Gym at 7?"]
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["chat.db"]  # nothing written


def test_apple_time_in_seconds_and_nanoseconds():
    assert apple_time(0) is None and apple_time(None) is None
    assert apple_time(100) == datetime(2001, 1, 1, 0, 1, 40, tzinfo=UTC)
    moment = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
    assert apple_time(apple_ns(moment)) == moment  # macOS 10.13+
    assert apple_time(apple_ns(moment) // 10**9) == moment  # older macOS


def test_other_sqlite_database_is_one_clear_error(tmp_path):
    path = tmp_path / "chat.db"
    sqlite3.connect(path).execute("CREATE TABLE notes (x)").connection.commit()
    try:
        read_source(path, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: not an iMessage database") and "\n" not in e.message
    else:
        raise AssertionError("expected a SourceError")


@given(st.binary(max_size=200))
def test_attributed_body_decoder_never_raises(blob):
    result = decode_attributed_body(b"NSString\x01\x94\x84\x01+" + blob)
    assert result is None or isinstance(result, str)
    assert decode_attributed_body(blob) is None or b"NSString" in blob


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=4096), st.integers(min_value=0, max_value=20000))
@example(junk=b"`", offset=3589)  # a damaged schema: SQLite's message quoted its SQL, newlines and all
def test_damaged_database_raises_nothing_but_source_error(tmp_path, junk, offset):
    path = tmp_path / "chat.db"
    path.unlink(missing_ok=True)
    build_chat_db(path)
    data = bytearray(path.read_bytes())
    data[offset : offset + len(junk)] = junk
    path.write_bytes(bytes(data[: max(len(data), 16)]))
    try:
        streams = read_imessage(path, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    for stream in streams:
        assert stream.format == "imessage"
        for unit in stream.units:
            assert isinstance(unit.text, str) and unit.text.strip()
