"""read_source: rejecting what is not readable text, and telling formats apart by content."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources import detect
from evosearch.sources.detect import read_source

CHAT_LINES = (
    '{"id": "1", "ts": "2026-11-17T09:00:00Z", "speaker": "ana", "text": "lunch?"}\n'
    '{"id": "2", "ts": "2026-11-17T09:01:00Z", "speaker": "raj", "text": "sure, noon"}\n'
)


def chatgpt_export() -> list:
    return [
        {
            "title": "Haiku",
            "create_time": 1_700_000_000,
            "current_node": "a",
            "mapping": {
                "root": {"id": "root", "parent": None, "children": ["u"], "message": None},
                "u": {
                    "id": "u",
                    "parent": "root",
                    "children": ["a"],
                    "message": {"id": "u", "author": {"role": "user"}, "create_time": None, "content": {"content_type": "text", "parts": ["A haiku about rain"]}},
                },
                "a": {
                    "id": "a",
                    "parent": "u",
                    "children": [],
                    "message": {"id": "a", "author": {"role": "assistant"}, "create_time": 1_700_000_005, "content": {"content_type": "text", "parts": ["Soft rain on the roof"]}},
                },
            },
        }
    ]


def source_error(path: Path, warnings: list[str] | None = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_source(path, (warnings if warnings is not None else []).append)
    error = caught.value
    assert error.message.startswith(f"{path.resolve()}: "), error.message
    assert "\n" not in error.message
    assert error.hint
    return error


def test_markdown_is_read_as_a_document_with_a_resolved_path(tmp_path, monkeypatch):
    (tmp_path / "note.md").write_text("# Title\nBody.\n")
    monkeypatch.chdir(tmp_path)
    [stream] = read_source(Path("note.md"), print)
    assert stream.format == "markdown"
    assert stream.path == stream.stream_id == str(tmp_path.resolve() / "note.md")


def test_txt_holding_jsonl_is_read_as_chat(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(CHAT_LINES)
    [stream] = read_source(path, print)
    assert stream.format == "jsonl-chat"
    assert [u.speaker for u in stream.units] == ["ana", "raj"]


def test_json_file_holding_jsonl_is_read_as_chat(tmp_path):
    path = tmp_path / "log.json"
    path.write_text(CHAT_LINES)
    assert read_source(path, print)[0].format == "jsonl-chat"


def test_single_line_jsonl_is_chat(tmp_path):
    path = tmp_path / "one.ndjson"
    path.write_text(CHAT_LINES.splitlines()[0])
    assert read_source(path, print)[0].format == "jsonl-chat"


def test_chatgpt_export_is_detected_whatever_the_name(tmp_path):
    for name in ("conversations.json", "backup.txt"):
        path = tmp_path / name
        path.write_text(json.dumps(chatgpt_export()))
        [stream] = read_source(path, print)
        assert stream.format == "chatgpt"
        assert [u.text for u in stream.units] == ["A haiku about rain", "Soft rain on the roof"]
        # The user message has no create_time: it takes the conversation's.
        assert stream.units[0].time == datetime.fromtimestamp(1_700_000_000, tz=timezone.utc)


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf# Hello\nworld\n")
    [stream] = read_source(path, print)
    assert stream.title == "Hello"


def test_binary_file(tmp_path):
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    error = source_error(path)
    assert error.message == f"{path}: binary file, not text"
    assert ".evosearchignore" in error.hint


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Café menu\n", "latin-1"),
        ("Notes: crème brûlée à la carte, déjà vu.\nGrüße aus München.\n", "latin-1"),
        ("“Quoted” – it costs 5 €. Naïve façade.\n", "cp1252"),
        ("Mañana iré a la reunión; el niño está enfermo. ¿Qué opinas?\n", "latin-1"),
        ("Zażółć gęślą jaźń. Spotkanie w piątek o ósmej, proszę przynieść kawę.\n", "cp1250"),
        ("Привет, как дела? Встреча в пятницу.\n", "cp1251"),
        ("hello, UTF-16 with its byte order mark\n", "utf-16"),
    ],
)
def test_a_note_in_another_encoding_is_decoded(tmp_path, text, encoding):
    """Issue 17, item 9: Latin-1 and Windows-1252 notes were skipped as "not UTF-8"."""
    path = tmp_path / "old.txt"
    path.write_bytes(text.encode(encoding))
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert "\n".join(u.text for u in stream.units) == text.strip()
    assert warnings == []


def test_one_bad_byte_in_a_chat_export_keeps_every_message(tmp_path):
    """Issue 17, item 9: one invalid byte used to drop the whole export (40 good messages)."""
    lines = [json.dumps({"id": str(i), "ts": 1_700_000_000 + i, "speaker": "ana", "text": f"message {i} \u00e9t\u00e9"}) for i in range(40)]
    data = "\n".join(lines).encode().replace(b"message 7 ", b"message 7 \xff")
    path = tmp_path / "chat.jsonl"
    path.write_bytes(data)
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert len(stream.units) == 40
    assert stream.units[7].text == "message 7 \ufffd\u00e9t\u00e9"
    assert warnings == [f"{path}: 1 invalid UTF-8 byte sequence replaced by \ufffd; the rest is indexed"]


def test_an_ascii_json_export_with_a_bad_byte_stays_utf8(tmp_path):
    """JSON is UTF-8 by definition: a lone bad byte is damage, not a sign of Windows-1252."""
    path = tmp_path / "chat.jsonl"
    path.write_bytes(CHAT_LINES.encode().replace(b"lunch", b"lu\x93nch"))
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert stream.units[0].text == "lu\ufffdnch?"
    assert len(warnings) == 1 and "1 invalid UTF-8 byte sequence" in warnings[0]


def test_damaged_utf8_keeps_its_text_and_counts_the_replacements_in_one_warning(tmp_path):
    path = tmp_path / "note.md"
    path.write_bytes("# Caf\u00e9\n\nna\u00efve \ufffd kept\n".encode() + b"bad \xff\xfe and \xc3 here\n")
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert stream.title == "Caf\u00e9"
    assert "na\u00efve \ufffd kept\nbad \ufffd\ufffd and \ufffd here" in stream.units[0].text
    assert warnings == [f"{path}: 3 invalid UTF-8 byte sequences replaced by \ufffd; the rest is indexed"]


def test_binary_data_without_a_nul_byte_is_still_binary(tmp_path):
    import random

    noise = bytes(b for b in random.Random(0).randbytes(20_000) if b)
    path = tmp_path / "noise.txt"
    path.write_bytes(noise)
    assert "binary file, not text" in source_error(path).message


def test_bad_byte_offset_counts_the_bom(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfcaf\xc3\xa9 \xff")
    warnings = []
    [stream] = read_source(path, warnings.append)
    assert stream.units[0].text == "caf\u00e9 \ufffd"
    assert len(warnings) == 1


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_characters="\0\ufeff", blacklist_categories=("Cs",)), min_size=1))
def test_utf8_text_is_read_exactly_and_silently(text):
    from evosearch.sources.encoding import decode_text

    warnings = []
    assert decode_text("x", text.encode(), warnings.append) == text
    assert warnings == []


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=2000))
def test_any_bytes_are_text_or_a_source_error(data):
    from evosearch.sources.encoding import decode_text

    try:
        text = decode_text("x", data, [].append)
    except SourceError as e:
        assert "binary" in e.message
    else:
        assert isinstance(text, str)


@pytest.mark.parametrize("content", [b"", b"  \n\t\n", b"\xef\xbb\xbf\n"])
def test_empty_or_whitespace_only(tmp_path, content):
    path = tmp_path / "blank.md"
    path.write_bytes(content)
    error = source_error(path)
    assert error.message == f"{path}: empty file"
    assert error.hint == "nothing to index; add text or remove it"


def test_too_big(tmp_path, monkeypatch):
    monkeypatch.setattr(detect, "MAX_FILE_BYTES", 1024)
    path = tmp_path / "huge.md"
    path.write_text("word " * 1000)
    error = source_error(path)
    assert error.message == f"{path}: too big (5000 bytes, the limit is 1024 bytes)"


def test_truncated_json_names_line_and_column(tmp_path):
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(chatgpt_export(), indent=1)[:200])
    error = source_error(path)
    assert error.message.startswith(f"{path}: invalid JSON at line ")
    assert ", column " in error.message


def test_json_that_is_not_a_chat_export(tmp_path):
    path = tmp_path / "package.json"
    path.write_text('{"name": "notes", "version": "1.0.0"}')
    error = source_error(path)
    assert error.message == f"{path}: JSON but not a known chat export"
    assert "Chat formats" in error.hint and "ChatGPT" in error.hint and "JSON Lines" in error.hint


def test_json_text_in_a_txt_file_is_just_text(tmp_path):
    path = tmp_path / "settings.txt"
    path.write_text('{"theme": "dark"}\n')
    assert read_source(path, print)[0].format == "text"


def test_jsonl_suffix_with_prose_is_a_source_error(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text("this is not\njson at all\n")
    assert "lines are not chat messages" in source_error(path).message


def test_file_with_no_units(tmp_path):
    path = tmp_path / "only-front-matter.md"
    path.write_text("---\ntitle: Draft\n---\n\n")
    assert source_error(path).message == f"{path}: no text found"


def test_chatgpt_export_with_only_empty_conversations_has_no_text(tmp_path):
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([{"title": "Empty", "current_node": "r", "mapping": {"r": {"id": "r", "parent": None, "message": None}}}]))
    assert source_error(path).message == f"{path}: no text found"


def test_missing_file(tmp_path):
    error = source_error(tmp_path / "gone.md")  # what a file deleted after the walk listed it looks like
    assert "gone before it could be read" in error.message and "permission" not in str(error)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.md"
    path.write_text("hidden\n")
    path.chmod(0)
    try:
        error = source_error(path)
    finally:
        path.chmod(0o644)
    assert error.message == f"{path}: cannot read (Permission denied)"


def test_read_error_carries_the_os_reason(tmp_path, monkeypatch):
    # Works as root too, where chmod 000 does not stop reading.
    path = tmp_path / "locked.md"
    path.write_text("text\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(detect, "open_source_file", refuse)
    assert source_error(path).message == f"{path}: cannot read (Permission denied)"


def test_malformed_chat_lines_reach_warn(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text(CHAT_LINES + "{broken\n" + CHAT_LINES)
    warnings: list[str] = []
    [stream] = read_source(path, warnings.append)
    assert len(stream.units) == 4
    assert warnings == [f"{path}:3: not valid JSON (Expecting property name enclosed in double quotes) — skipped"]
