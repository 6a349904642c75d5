"""WhatsApp exports: iOS and Android headers, both date orders, 12/24 h clocks, system lines,
media placeholders; then truncated, wrong-encoding, zipped-with-junk, empty and look-alike files."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.detect import read_source
from evosearch.sources.whatsapp import MAX_LINE_WARNINGS, looks_like_whatsapp, read_whatsapp

NNBSP = "\u202f"  # WhatsApp writes a narrow no-break space before AM/PM
LRM = "\u200e"  # and a left-to-right mark before system notices and media

# iOS, US locale: M/D/YY, 12-hour clock with seconds, a group with iOS-style system notices.
IOS_US = (
    f"[1/15/24, 9:58:01{NNBSP}PM] Cabin trip: {LRM}Messages and calls are end-to-end encrypted. No one outside of this chat can read them.\n"
    f"[1/15/24, 9:58:01{NNBSP}PM] Cabin trip: {LRM}Ana created group “Cabin trip”\n"
    f"[1/15/24, 9:58:02{NNBSP}PM] Cabin trip: {LRM}Ana added Ben\n"
    f"[1/15/24, 10:30:45{NNBSP}PM] Ana: Did you book the cabin?\n"
    f"[1/15/24, 10:31:02{NNBSP}PM] Ben: Yes! Three nights,\n"
    "starting Friday.\n"
    "\n"
    "Bring boots.\n"
    f"[1/15/24, 10:31:30{NNBSP}PM] Ben: {LRM}image omitted\n"
    f"{LRM}[1/15/24, 10:32:00{NNBSP}PM] Ana: {LRM}<attached: 00000012-PHOTO-2024-01-15-22-32-00.jpg>\n"
    f"[1/15/24, 10:32:10{NNBSP}PM] Ana: {LRM}<attached: 00000013-PHOTO-2024-01-15-22-32-10.jpg>\n"
    "the view from the porch\n"
    f"[1/16/24, 8:02:11{NNBSP}AM] Ana: {LRM}This message was deleted.\n"
    f"[1/16/24, 8:04:00{NNBSP}AM] Ben: {LRM}Missed voice call\n"
    f"[1/16/24, 8:05:00{NNBSP}AM] Ana: Great, I'll bring the board games {LRM}<This message was edited>\n"
)

# Android, German locale: DD.MM.YY, 24-hour clock, system lines without "Name: ".
ANDROID_DE = (
    "15.01.24, 22:30 - Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt.\n"
    '15.01.24, 22:31 - Ana created group "Hütte"\n'
    "15.01.24, 22:31 - Ana added Ben\n"
    '15.01.24, 22:31 - Ana changed the subject from "Hütte" to "Hütte: Tag 2"\n'
    "15.01.24, 22:32 - Ana: Wer bringt das Essen mit?\n"
    "16.01.24, 09:02 - Ben: <Media omitted>\n"
    "16.01.24, 09:03 - Ben: IMG-20240116-WA0001.jpg (file attached)\n"
    "Der Tisch ist reserviert\n"
    "16.01.24, 09:04 - Ben: Ich, es gibt Pasta\n"
    "und Salat\n"
    "16.01.24, 09:05 - Ana: null\n"
)

# Android, US locale: M/D/YY, 12-hour clock.
ANDROID_US = (
    f"1/15/24, 10:30{NNBSP}PM - Messages and calls are end-to-end encrypted. No one outside of this chat can read them.\n"
    f"1/15/24, 10:32{NNBSP}PM - Ana: Who brings the food?\n"
    f"1/16/24, 12:03{NNBSP}AM - Ben: Me, I'll do pasta\n"
    f"1/16/24, 12:04{NNBSP}PM - Ben: see you at noon\n"
)


def local(*args) -> datetime:
    """WhatsApp times carry no zone: they are the phone's local time."""
    return datetime(*args).astimezone(UTC)


def read(tmp_path: Path, content: str, name: str = "_chat.txt") -> tuple[list, list[str]]:
    warnings: list[str] = []
    return read_whatsapp(tmp_path / name, content, warnings.append), warnings


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


# ---- valid exports -----------------------------------------------------------------------------


def test_ios_us_group_export(tmp_path):
    [stream], warnings = read(tmp_path, IOS_US, "WhatsApp Chat with Cabin trip.txt")
    assert warnings == []
    path = tmp_path / "WhatsApp Chat with Cabin trip.txt"
    assert stream.stream_id == f"{path}#chat" and stream.path == str(path)
    assert stream.format == "whatsapp" and stream.title == "Cabin trip" and stream.is_chat
    assert [(u.message_id, u.speaker, u.text) for u in stream.units] == [
        ("line 4", "Ana", "Did you book the cabin?"),
        ("line 5", "Ben", "Yes! Three nights,\nstarting Friday.\n\nBring boots."),
        ("line 11", "Ana", "the view from the porch"),  # the photo goes, its caption stays
        ("line 15", "Ana", "Great, I'll bring the board games"),
    ]
    assert stream.units[0].time == local(2024, 1, 15, 22, 30, 45)
    assert stream.units[-1].time == local(2024, 1, 16, 8, 5)


def test_android_day_first_24_hour_with_system_lines_and_media(tmp_path):
    [stream], warnings = read(tmp_path, ANDROID_DE)
    assert warnings == []
    assert [(u.message_id, u.speaker, u.text) for u in stream.units] == [
        ("line 5", "Ana", "Wer bringt das Essen mit?"),
        ("line 7", "Ben", "Der Tisch ist reserviert"),
        ("line 9", "Ben", "Ich, es gibt Pasta\nund Salat"),
    ]
    assert stream.units[0].time == local(2024, 1, 15, 22, 32)
    assert stream.units[2].time == local(2024, 1, 16, 9, 4)


def test_android_month_first_12_hour_midnight_and_noon(tmp_path):
    [stream], _ = read(tmp_path, ANDROID_US)
    assert [(u.speaker, u.text) for u in stream.units] == [
        ("Ana", "Who brings the food?"),
        ("Ben", "Me, I'll do pasta"),
        ("Ben", "see you at noon"),
    ]
    assert [u.time for u in stream.units] == [local(2024, 1, 15, 22, 32), local(2024, 1, 16, 0, 3), local(2024, 1, 16, 12, 4)]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("[15/01/2024, 10:30:45] Ana: hi", local(2024, 1, 15, 10, 30, 45)),  # iOS, 4-digit year
        ("[15.01.24, 10:30] Ana: hi", local(2024, 1, 15, 10, 30)),  # iOS without seconds
        (f"[1/15/24, 10:30{NNBSP}AM] Ana: hi", local(2024, 1, 15, 10, 30)),
        ("[1/15/24, 10:30 a. m.] Ana: hi", local(2024, 1, 15, 10, 30)),  # Spanish-style meridiem
        ("15-01-2024, 10:30 - Ana: hi", local(2024, 1, 15, 10, 30)),
        ("2024-01-15, 10:30 - Ana: hi", local(2024, 1, 15, 10, 30)),  # a four-digit first field is a year
        ("1/15/24, 10:30 PM - Ana: hi", local(2024, 1, 15, 22, 30)),
        ("15/01/2024, 22:30:05 - Ana: hi", local(2024, 1, 15, 22, 30, 5)),
        ("15/01/24 22:30 - Ana: hi", local(2024, 1, 15, 22, 30)),  # no comma
        ("15/01/24, 22:30 – Ana: hi", local(2024, 1, 15, 22, 30)),  # en dash
    ],
)
def test_header_variants(tmp_path, line, expected):
    [stream], warnings = read(tmp_path, line + "\n")
    assert warnings == []
    [unit] = stream.units
    assert (unit.speaker, unit.text, unit.time, unit.message_id) == ("Ana", "hi", expected, "line 1")


@pytest.mark.parametrize(
    "dates, order",
    [
        (["03/04/24, 10:00 - ", "13/04/24, 10:00 - "], "dmy"),  # a first field above 12
        (["03/04/24, 10:00 - ", "04/13/24, 10:00 - "], "mdy"),  # a second field above 12
        (["03/04/24, 10:00 - ", "04/05/24, 10:00 - "], "dmy"),  # ambiguous, 24 h: day first
        (["03/04/24, 10:00 AM - ", "04/05/24, 10:00 AM - "], "mdy"),  # ambiguous, "/" and AM/PM: the US locale
        (["03.04.24, 10:00 AM - ", "04.05.24, 10:00 AM - "], "dmy"),  # ambiguous, AM/PM but dots: not US
    ],
)
def test_date_order_is_decided_once_per_file(tmp_path, dates, order):
    content = "".join(f"{d}Ana: message {i}\n" for i, d in enumerate(dates))
    [stream], _ = read(tmp_path, content)
    first = stream.units[0].time
    assert first == (local(2024, 4, 3, 10) if order == "dmy" else local(2024, 3, 4, 10))


def test_a_garbled_file_with_both_kinds_of_evidence_follows_the_majority(tmp_path):
    content = "03/04/24, 10:00 - Ana: one\n13/04/24, 10:00 - Ana: two\n14/04/24, 10:00 - Ana: three\n04/13/24, 10:00 - Ana: four\n"
    [stream], warnings = read(tmp_path, content)
    assert [(u.text, u.time) for u in stream.units] == [
        ("one", local(2024, 4, 3, 10)),
        ("two", local(2024, 4, 13, 10)),
        ("three", local(2024, 4, 14, 10)),
    ]
    assert len(warnings) == 1 and ": line 4: impossible date or time (" in warnings[0]


def test_impossible_dates_are_warned_capped_and_skipped(tmp_path):
    good = "15.01.24, 10:00 - Ana: fine\n"
    bad = [f"{31 + i}.02.24, 10:00 - Ana: bad {i}\ncontinuation of bad {i}\n" for i in range(MAX_LINE_WARNINGS + 2)]
    content = good + "".join(bad) + "16.01.24, 25:00 - Ana: bad hour\n" + "16.01.24, 11:00 - Ben: fine too\n"
    [stream], warnings = read(tmp_path, content)
    assert [u.text for u in stream.units] == ["fine", "fine too"]  # a skipped header takes its continuation lines with it
    path = tmp_path / "_chat.txt"
    assert len(warnings) == MAX_LINE_WARNINGS + 1
    assert warnings[0].startswith(f"{path}: line 2: impossible date or time (") and warnings[0].endswith(" — skipped")
    assert warnings[-1] == f"{path}: 3 more lines with impossible dates skipped"


def test_lines_before_the_first_header_and_crlf_line_ends(tmp_path):
    content = "exported by a phone\r\n[15/01/2024, 10:30:45] Ana: one\r\ntwo\r\n"
    [stream], _ = read(tmp_path, content)
    assert [(u.message_id, u.text) for u in stream.units] == [("line 2", "one\ntwo")]


@pytest.mark.parametrize(
    "where, title",
    [
        ("WhatsApp Chat with Ana.txt", "Ana"),
        ("WhatsApp Chat - Trip/_chat.txt", "Trip"),
        ("WhatsApp Chat - Ben.zip!_chat.txt", "Ben"),
        ("notes/family.txt", "family"),
    ],
)
def test_title_comes_from_the_file_or_zip_name(tmp_path, where, title):
    [stream], _ = read(tmp_path, "[15/01/2024, 10:30:45] Ana: hi\n", where)
    assert stream.title == title


def test_a_long_run_of_spaces_is_matched_in_linear_time(tmp_path):
    line = "1/1/24, 1:11" + " " * 200_000 + "x\n"
    started = time.perf_counter()
    assert not looks_like_whatsapp(tmp_path / "_chat.txt", line)
    with pytest.raises(SourceError):
        read(tmp_path, line * 3)
    assert time.perf_counter() - started < 2


# ---- through read_source: detection, bad files ---------------------------------------------------


@pytest.mark.parametrize("content", [IOS_US, ANDROID_DE, ANDROID_US])
def test_a_txt_export_is_detected_without_a_flag(tmp_path, content):
    path = tmp_path / "family chat.txt"
    path.write_text(content)
    [stream], _ = via_read_source(path)
    assert stream.format == "whatsapp" and stream.stream_id == f"{path.resolve()}#chat"


@pytest.mark.parametrize(
    "name, content, fmt",
    [
        ("notes.txt", "Shopping list\n\n- eggs\n- milk\n\nCall Ana: about the cabin.\n", "text"),
        ("standup.txt", "15.01.24, 10:30 - standup with Ana: notes below\n\nWe moved the launch.\nBen owns QA.\n", "text"),
        ("diary.txt", "[1/15/24] Ana: dinner plans\nWe talked about the menu for a long time.\n", "text"),
        ("log.md", "# Log\n\n[2024-01-15, 10:30] Deployed: v2\n\nAll good.\n", "markdown"),
    ],
)
def test_notes_stay_documents(tmp_path, name, content, fmt):
    path = tmp_path / name
    path.write_text(content)
    assert not looks_like_whatsapp(path, content)
    [stream], _ = via_read_source(path)
    assert stream.format == fmt and not stream.is_chat


def test_truncated_export_keeps_the_messages_before_the_cut(tmp_path):
    cut = IOS_US.index("Great, I'll") + 5  # mid-line, inside the last message
    path = tmp_path / "_chat.txt"
    path.write_text(IOS_US[:cut])
    [stream], _ = via_read_source(path)
    assert [u.text for u in stream.units] == [
        "Did you book the cabin?",
        "Yes! Three nights,\nstarting Friday.\n\nBring boots.",
        "the view from the porch",
        "Great",
    ]
    header_cut = ANDROID_US[: ANDROID_US.index("1/16/24, 12:04") + 6]  # mid-header: "1/16/2"
    path.write_text(header_cut)
    [stream], _ = via_read_source(path)
    assert [u.speaker for u in stream.units] == ["Ana", "Ben"]  # the stub is a continuation line, not a message


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_another_encoding_is_decoded(tmp_path, encoding):
    """Issue 17, item 9: Latin-1 and UTF-16 with its byte-order mark were refused."""
    path = tmp_path / "_chat.txt"
    path.write_bytes(ANDROID_DE.encode(encoding))
    utf8 = tmp_path / "utf8" / "_chat.txt"
    utf8.parent.mkdir()
    utf8.write_text(ANDROID_DE)
    [stream] = read_source(path, print)
    assert [u.text for u in stream.units] == [u.text for u in read_source(utf8, print)[0].units]


def test_utf16_without_a_byte_order_mark_is_binary(tmp_path):
    path = tmp_path / "_chat.txt"
    path.write_bytes(ANDROID_DE.encode("utf-16-le"))
    assert "binary" in source_error(path).message


def test_zip_with_junk_and_a_corrupt_member_reads_the_chat(tmp_path):
    data = bytearray(
        zip_with(
            {
                "_chat.txt": ANDROID_DE,
                "00000012-PHOTO-2024-01-15-22-32-00.jpg": b"\xff\xd8\xff\xe0\0\0JFIF junk",
                "broken.txt": "15.01.24, 22:30 - Ana: this member is corrupted on disk\n",
                "latin1.txt": "15.01.24, 22:30 - Ana: Grüße\n".encode("latin-1"),
            }
        )
    )
    spot = data.index(b"corrupted on disk")  # stored uncompressed: flip its bytes so the CRC check fails
    data[spot : spot + 9] = b"XXXXXXXXX"
    path = tmp_path / "WhatsApp Chat - Hütte.zip"
    path.write_bytes(bytes(data))
    [stream], warnings = via_read_source(path)
    assert stream.format == "whatsapp" and stream.title == "Hütte"
    assert stream.path == str(path.resolve()) and stream.stream_id == f"{path.resolve()}!_chat.txt#chat"
    assert len(stream.units) == 3
    assert len(warnings) == 1 and "broken.txt" in warnings[0] and "unreadable" in warnings[0]  # latin1.txt is decoded now


def test_empty_exports(tmp_path):
    path = tmp_path / "_chat.txt"
    path.write_text("")
    assert "empty file" in source_error(path).message
    path.write_text(f"[1/15/24, 10:30:45{NNBSP}AM] Cabin: {LRM}Messages and calls are end-to-end encrypted.\n")
    assert "no text messages" in source_error(path).message
    path.write_text("15.01.24, 09:02 - Ben: <Media omitted>\n15.01.24, 09:03 - Ben: This message was deleted\n")
    assert "no text messages" in source_error(path).message


def test_text_with_no_header_is_a_source_error(tmp_path):
    with pytest.raises(SourceError) as caught:
        read(tmp_path, "just words\nand more words\n")
    assert caught.value.message == f"{tmp_path / '_chat.txt'}: no WhatsApp message lines found"


# ---- properties --------------------------------------------------------------------------------

_NUMBER = st.one_of(st.integers(0, 40).map(str), st.integers(0, 9999).map(str), st.text("0123456789٣", min_size=1, max_size=5))
_SEP = st.sampled_from(["/", ".", "-", ":", ""])
_TIME = st.builds(
    lambda h, m, s, meridiem, space: f"{h}:{m}{s}{space}{meridiem}",
    _NUMBER,
    st.sampled_from(["00", "30", "59", "60", "99", "5"]),
    st.sampled_from(["", ":45", ":99", ".07"]),
    st.sampled_from(["", "AM", "pm", "a. m.", "P.M.", "XM"]),
    st.sampled_from(["", " ", NNBSP, "  " * 30]),
)
_PIECE = st.sampled_from(
    [LRM, "\u200f", "\ufeff", NNBSP, "\r", "\t", ": ", "“", '"', "<Media omitted>", "<attached: x.jpg>", "(file attached)", "null"]
)
_BODY = st.lists(st.one_of(_PIECE, st.text(max_size=12)), max_size=5).map("".join)
_HEADER = st.builds(
    lambda lrm, a, s1, b, s2, c, comma, clock, ios, body: (
        f"{lrm}[{a}{s1}{b}{s2}{c}{comma} {clock}] {body}" if ios else f"{lrm}{a}{s1}{b}{s2}{c}{comma} {clock} - {body}"
    ),
    st.sampled_from(["", LRM]),
    _NUMBER,
    _SEP,
    _NUMBER,
    _SEP,
    _NUMBER,
    st.sampled_from([",", ""]),
    _TIME,
    st.booleans(),
    _BODY,
)

# Mostly well-formed headers, so that the reader's message path runs, not only its rejections.
_PLAUSIBLE_HEADER = st.builds(
    lambda lrm, d, m, y, sep, h, mi, sec, meridiem, ios, name, body: (
        f"{lrm}[{d}{sep}{m}{sep}{y}, {h}:{mi:02d}{sec}{meridiem}] {name}: {body}"
        if ios
        else f"{d}{sep}{m}{sep}{y}, {h}:{mi:02d}{meridiem} - {name}: {body}"
    ),
    st.sampled_from(["", LRM]),
    st.integers(1, 31),
    st.integers(1, 13),
    st.sampled_from([24, 2024, 99, 0]),
    st.sampled_from(["/", ".", "-"]),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(["", ":07"]),
    st.sampled_from(["", f"{NNBSP}AM", " PM"]),
    st.booleans(),
    st.text(st.characters(exclude_characters=":\n\r"), min_size=1, max_size=8),
    _BODY,
)


def _check(path: Path, text: str) -> None:
    assert looks_like_whatsapp(path, text) in (True, False)
    try:
        streams = read_whatsapp(path, text, lambda m: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    [stream] = streams
    assert stream.units and all(u.text and u.text == u.text.strip() for u in stream.units)
    assert all(u.time is not None and u.time.tzinfo is not None for u in stream.units)
    assert all(u.speaker and u.message_id.startswith("line ") for u in stream.units)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_raises_nothing_but_source_error(tmp_path, text):
    _check(tmp_path / "_chat.txt", text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.one_of(_PLAUSIBLE_HEADER, _HEADER, _BODY), max_size=15),
    name=st.sampled_from(["_chat.txt", "WhatsApp Chat with X.txt", "a.zip!b.txt", "n.md"]),
)
def test_whatsapp_like_lines_raise_nothing_but_source_error(tmp_path, lines, name):
    _check(tmp_path / name, "\n".join(lines))
