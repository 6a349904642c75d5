"""Export zips: the chat files inside are read; junk, truncation and empty zips are one-line messages."""

import zipfile
from pathlib import Path

import pytest

from evosearch.errors import SourceError
from evosearch.sources.detect import read_source

EXAMPLE_CHATGPT = Path(__file__).resolve().parent.parent / "examples" / "chats" / "chatgpt" / "conversations.json"


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_chatgpt_export_zip(tmp_path):
    path = make_zip(
        tmp_path / "chatgpt-export.zip",
        {
            "conversations.json": EXAMPLE_CHATGPT.read_bytes(),
            "chat.html": b"<html><body>the same conversations again</body></html>",
            "file-abc.png": b"\x89PNG\r\n\x1a\n\x00\x00",
            "user.json": b'{"id": "user-1", "email": "me@example.com"}',
        },
    )
    warnings = []
    streams = read_source(path, warnings.append)
    assert {s.format for s in streams} == {"chatgpt"} and len(streams) == 2
    assert all(s.path == str(path.resolve()) and s.stream_id.startswith(f"{path.resolve()}!conversations.json#") for s in streams)
    assert all(u.message_id for s in streams for u in s.units)
    assert warnings == []  # metadata, pictures and the HTML copy are not chats: skipped without noise


def test_a_zip_with_only_junk_or_a_broken_member(tmp_path):
    junk = make_zip(tmp_path / "photos.zip", {"a.jpg": b"\xff\xd8\xff", "notes.txt": b"just a note, not a chat"})
    with pytest.raises(SourceError, match="no chat export found"):
        read_source(junk, print)
    broken = tmp_path / "broken.zip"
    data = make_zip(tmp_path / "ok.zip", {"conversations.json": EXAMPLE_CHATGPT.read_bytes()}).read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError) as e:
        read_source(broken, print)
    assert e.value.message.startswith(str(broken.resolve())) and "\n" not in e.value.message


def test_an_empty_zip(tmp_path):
    empty = make_zip(tmp_path / "empty.zip", {})
    with pytest.raises(SourceError):
        read_source(empty, print)


def test_a_zip_is_indexed_and_answers_with_message_ids(tmp_path):
    from evosearch.api import open_index
    from evosearch.indexer import index_paths
    from evosearch.search import ask

    folder = tmp_path / "exports"
    folder.mkdir()
    make_zip(folder / "chatgpt.zip", {"conversations.json": EXAMPLE_CHATGPT.read_bytes()})
    store, encoder = open_index(str(tmp_path / "db"), write=True)
    report = index_paths([folder], store, encoder, print)
    assert report.indexed == 1 and report.skipped == 0
    hits = ask(store, encoder, "shed roof")["results"]
    assert hits and hits[0]["path"].endswith("chatgpt.zip") and hits[0]["message_ids"]


def test_a_bad_byte_in_a_zipped_export_keeps_the_export(tmp_path):
    """Issue 17, item 9: an invalid byte inside a member used to skip the whole member."""
    damaged = EXAMPLE_CHATGPT.read_bytes().replace(b"Shed roof", b"Shed \xffroof", 1)
    assert damaged != EXAMPLE_CHATGPT.read_bytes()
    path = make_zip(tmp_path / "chatgpt-export.zip", {"conversations.json": damaged})
    warnings = []
    streams = read_source(path, warnings.append)
    assert len(streams) == 2
    assert warnings == [f"{path.resolve()}!conversations.json: 1 invalid UTF-8 byte sequence replaced by \ufffd; the rest is indexed"]
