"""CSV/TSV chat logs: column aliases, delimiters, time formats, conversations, bad rows; then
truncated, wrong-encoding, zipped-with-junk, empty and look-alike files."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.csv_chat import MAX_ROW_WARNINGS, looks_like_csv_chat, read_csv_chat
from evosearch.sources.detect import read_source

# A support-desk export: aliases in mixed case, quoted commas and newlines, every time format,
# two channels, rows out of time order.
SUPPORT = (
    "ID,Timestamp,From,Message,Channel\n"
    'm3,2026-06-01T09:05:00Z,Ana,"Fixed, deploying now",ops\n'
    'm1,2026-06-01 09:00:00 UTC,Ben,"The site is down.\nAgain.",ops\n'
    "m2,1780304460,Ana,Looking,ops\n"  # epoch seconds: 2026-06-01T09:01:00Z
    "m4,1780304520000,Cy,lunch?,random\n"  # epoch milliseconds
    ",2026-06-01T11:02:00+02:00,Ben,Looking too,ops\n"  # offset; no id: its row number
    "m6,2026-06-01T09:05:00,Dee,tie in time,random\n"  # naive: local time
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def read(tmp_path: Path, content: str, name: str = "chat.csv") -> tuple[list, list[str]]:
    warnings: list[str] = []
    return read_csv_chat(tmp_path / name, content, warnings.append), warnings


def via_read_source(path: Path) -> tuple[list, list[str]]:
    warnings: list[str] = []
    return read_source(path, warnings.append), warnings


def source_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_source(path, lambda m: None)
    assert caught.value.message.startswith(f"{path.resolve()}: ") and "\n" not in caught.value.message
    assert caught.value.hint
    return caught.value


def zip_with(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# ---- valid files -------------------------------------------------------------------------------


def test_support_export_streams_per_channel_in_time_order(tmp_path):
    streams, warnings = read(tmp_path, SUPPORT, "support.csv")
    assert warnings == []
    path = tmp_path / "support.csv"
    by_id = {s.stream_id: s for s in streams}
    assert set(by_id) == {f"{path}#ops", f"{path}#random"}
    ops = by_id[f"{path}#ops"]
    assert ops.format == "csv-chat" and ops.title == "ops" and ops.path == str(path) and ops.is_chat
    assert [(u.message_id, u.speaker, u.text, u.time) for u in ops.units] == [
        ("m1", "Ben", "The site is down.\nAgain.", utc(2026, 6, 1, 9, 0)),
        ("m2", "Ana", "Looking", utc(2026, 6, 1, 9, 1)),
        ("row 6", "Ben", "Looking too", utc(2026, 6, 1, 9, 2)),
        ("m3", "Ana", "Fixed, deploying now", utc(2026, 6, 1, 9, 5)),
    ]
    random = by_id[f"{path}#random"]
    assert [u.time for u in random.units] == sorted(u.time for u in random.units)
    assert {u.message_id: u.time for u in random.units} == {
        "m4": utc(2026, 6, 1, 9, 2),
        "m6": datetime(2026, 6, 1, 9, 5).astimezone(UTC),
    }


def test_equal_times_keep_file_order(tmp_path):
    content = "ts,speaker,text\n5,a,second\n1,b,first\n5,c,third\n5,d,fourth\n"
    [stream], _ = read(tmp_path, content)
    assert [u.text for u in stream.units] == ["first", "second", "third", "fourth"]


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_delimiters_and_a_file_without_conversations(tmp_path, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([["\ufeffDate", "Sender", "Body"], ["2026-06-01", "Ana", "a; b, c\td"], ["2026-06-02", "", "anonymous"]])
    [stream], warnings = read(tmp_path, buffer.getvalue(), "diary.tsv")
    assert warnings == []
    assert stream.stream_id == f"{tmp_path / 'diary.tsv'}#chat" and stream.title == "diary"
    assert [(u.message_id, u.speaker, u.text) for u in stream.units] == [("row 2", "Ana", "a; b, c\td"), ("row 3", None, "anonymous")]
    assert stream.units[0].time == datetime(2026, 6, 1).astimezone(UTC)


def test_text_only_with_speaker_and_missing_times_keep_file_order(tmp_path):
    content = "user,content\nana,hello\n\nben,\nben,hi back\n"
    [stream], warnings = read(tmp_path, content)
    assert warnings == []
    assert [(u.message_id, u.speaker, u.text, u.time) for u in stream.units] == [
        ("row 2", "ana", "hello", None),
        ("row 5", "ben", "hi back", None),
    ]


def test_bad_rows_are_warned_capped_and_skipped(tmp_path):
    bad = [f"not a time {i},a,bad {i}" for i in range(MAX_ROW_WARNINGS)] + ["2026-06-01T09:00:00Z"]
    content = "ts,speaker,text\n2026-06-01T08:00:00Z,a,good\n" + "\n".join(bad) + "\n1780304460,b,good too\n"
    [stream], warnings = read(tmp_path, content)
    assert [u.text for u in stream.units] == ["good", "good too"]
    path = tmp_path / "chat.csv"
    assert warnings[0] == f"{path}: row 3: unreadable time 'not a time 0' — skipped"
    assert len(warnings) == MAX_ROW_WARNINGS + 1
    assert warnings[-1] == f"{path}: 1 more bad rows skipped"  # the one-field row


def test_an_unclosed_quote_with_an_overlong_field_keeps_the_rows_before(tmp_path):
    content = 'ts,speaker,text\n1,a,fine\n2,b,"never closed ' + "x" * (csv.field_size_limit() + 10)
    [stream], warnings = read(tmp_path, content)
    assert [u.text for u in stream.units] == ["fine"]
    assert len(warnings) == 1 and "row 3: malformed CSV (field larger than field limit" in warnings[0]


# ---- through read_source: detection, bad files -----------------------------------------------------


def test_csv_export_is_detected_by_content(tmp_path):
    path = tmp_path / "support.csv"
    path.write_text(SUPPORT)
    streams, _ = via_read_source(path)
    assert {s.format for s in streams} == {"csv-chat"} and len(streams) == 2
    txt = tmp_path / "export.txt"  # not named .csv: a second row with as many fields settles it
    txt.write_text("time\tauthor\ttext\n2026-06-01T09:00:00Z\tAna\thello\n")
    [stream], _ = via_read_source(txt)
    assert stream.format == "csv-chat"


@pytest.mark.parametrize(
    "name, content, fmt",
    [
        ("prices.csv", "item,price\ntea,3\ncoffee,4\n", "text"),
        ("people.csv", "name,age\nAna,30\n", "text"),
        ("notes.txt", "Text, time and speakers: what the meeting decided\n\nWe ship Friday.\n", "text"),
        ("todo.md", "text,speaker\n\n# Plan\n\nBuy paint.\n", "markdown"),
    ],
)
def test_look_alikes_stay_documents(tmp_path, name, content, fmt):
    path = tmp_path / name
    path.write_text(content)
    assert not looks_like_csv_chat(path, content)
    [stream], _ = via_read_source(path)
    assert stream.format == fmt and not stream.is_chat


def test_truncated_file_keeps_the_rows_before_the_cut(tmp_path):
    path = tmp_path / "support.csv"
    cut = SUPPORT.index("Looking too") + 4  # mid-line
    path.write_text(SUPPORT[:cut])
    streams, warnings = via_read_source(path)
    assert sorted(u.message_id for s in streams for u in s.units) == ["m1", "m2", "m3", "m4"]
    assert warnings == [f"{path.resolve()}: row 6: 4 fields, too few for the header's columns — skipped"]  # the cut row
    inside_quote = SUPPORT.index("The site is down.") + 8  # cut inside a quoted field
    path.write_text(SUPPORT[:inside_quote])
    [stream], warnings = via_read_source(path)
    assert [u.text for u in stream.units] == ["Fixed, deploying now"]
    assert warnings == [f"{path.resolve()}: row 3: 4 fields, too few for the header's columns — skipped"]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
def test_another_encoding_is_decoded(tmp_path, encoding):
    """Issue 17, item 9: Latin-1, Windows-1252 and UTF-16 with its byte-order mark were refused."""
    path = tmp_path / "chat.csv"
    path.write_bytes("ts,speaker,text\n1,Zoë,Grüße aus Köln\n".encode(encoding))
    [stream] = read_source(path, print)
    assert (stream.units[0].speaker, stream.units[0].text) == ("Zoë", "Grüße aus Köln")


def test_utf16_without_a_byte_order_mark_is_binary(tmp_path):
    path = tmp_path / "chat.csv"
    path.write_bytes("ts,speaker,text\n1,Zoë,Grüße aus Köln\n".encode("utf-16-le"))
    assert "binary" in source_error(path).message


def test_zip_with_junk_and_a_corrupt_member_reads_the_chat(tmp_path):
    data = bytearray(
        zip_with(
            {
                "export/messages.csv": SUPPORT,
                "export/avatar.png": b"\x89PNG\r\n\x1a\n\0\0junk",
                "export/broken.csv": "ts,speaker,text\n1,a,this member is corrupted on disk\n",
                "export/readme.txt": "This archive holds the support desk messages.\n",
            }
        )
    )
    spot = data.index(b"corrupted on disk")  # stored uncompressed: flip its bytes so the CRC check fails
    data[spot : spot + 9] = b"XXXXXXXXX"
    path = tmp_path / "support-export.zip"
    path.write_bytes(bytes(data))
    streams, warnings = via_read_source(path)
    assert {s.format for s in streams} == {"csv-chat"}
    assert sorted(s.stream_id for s in streams) == [f"{path.resolve()}!export/messages.csv#{c}" for c in ("ops", "random")]
    assert all(s.path == str(path.resolve()) for s in streams)
    assert len(warnings) == 1 and "broken.csv" in warnings[0] and "unreadable" in warnings[0]


@pytest.mark.parametrize(
    "content, message",
    [
        ("ts,speaker,text\n", "no messages in the CSV"),
        ("ts,speaker,text\n\n,,\n1,a,   \n", "no messages in the CSV"),
        ("ts,speaker,text\nnope,a,hi\n", "no messages in the CSV (row 2: unreadable time 'nope')"),
        ("\n", "no header row, the CSV is empty"),
        ("ts,speaker\n1,a\n", "no text and time or speaker columns in the header 'ts, speaker'"),
    ],
)
def test_empty_or_headless_files_are_source_errors(tmp_path, content, message):
    with pytest.raises(SourceError) as caught:
        read(tmp_path, content)
    assert caught.value.message == f"{tmp_path / 'chat.csv'}: {message}" and caught.value.hint


def test_empty_export_through_read_source(tmp_path):
    path = tmp_path / "chat.csv"
    path.write_text("timestamp,author,message\n")
    assert "no messages" in source_error(path).message


# ---- properties --------------------------------------------------------------------------------

_CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            '"',
            '""',
            "\n",
            "\r\n",
            ",",
            "\t",
            ";",
            "\ufeff",
            "nan",
            "inf",
            "1e400",
            "-1",
            "99999999999999999",
            "2026-13-45",
            "2026-06-01T09:00:00Z",
        ]
    ),
    st.integers().map(str),
    st.floats().map(str),
)
_HEADER = st.lists(
    st.sampled_from(["ts", "TIME", "date", "from", "Speaker", "text", "Body", "id", "channel", "x", ""]), min_size=1, max_size=6
)


def _check(path: Path, text: str) -> None:
    assert looks_like_csv_chat(path, text) in (True, False)
    try:
        streams = read_csv_chat(path, text, lambda m: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    assert streams and all(s.units and s.stream_id.startswith(f"{path}#") for s in streams)
    for stream in streams:
        assert all(u.text and u.message_id for u in stream.units)
        assert all(u.time is None or u.time.tzinfo is not None for u in stream.units)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_raises_nothing_but_source_error(tmp_path, text):
    _check(tmp_path / "chat.csv", text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=_HEADER,
    rows=st.lists(st.lists(_CELL, max_size=7), max_size=10),
    delimiter=st.sampled_from([",", "\t", ";"]),
    quote=st.booleans(),
    name=st.sampled_from(["chat.csv", "chat.txt", "a.zip!chat.tsv"]),
)
def test_csv_like_rows_raise_nothing_but_source_error(tmp_path, header, rows, delimiter, quote, name):
    if quote:  # well-formed CSV, as a writer makes it
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter).writerows([header, *rows])
        text = buffer.getvalue()
    else:  # hand-joined: stray quotes and newlines break rows
        text = "\n".join(delimiter.join(row) for row in [header, *rows])
    _check(tmp_path / name, text)
