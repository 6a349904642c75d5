"""E-books: an EPUB written with ebooklib in the test (no opaque binary committed), and damaged ones."""

from __future__ import annotations

from datetime import datetime

from ebooklib import epub
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.dates import to_utc
from evosearch.sources.detect import read_source
from evosearch.sources.epub import read_epub

from .helpers import damage_one_member


def book_bytes(tmp_path) -> bytes:
    book = epub.EpubBook()
    book.set_identifier("urn:uuid:0b3a4c1e-0000-4000-8000-000000000001")
    book.set_title("The Quiet Orchard")
    book.set_language("en")
    book.add_author("Mira Sol")
    book.add_metadata("DC", "date", "2026-02-14")
    chapters = []
    for n, (heading, body) in enumerate([("Spring", "The pears flowered early that year."), ("Harvest", "Baskets lined the wall by the gate.")], start=1):
        chapter = epub.EpubHtml(title=heading, file_name=f"chap_{n}.xhtml", lang="en")
        chapter.content = f"<h1>{heading}</h1><p>{body}</p>"
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    out = tmp_path / "built.epub"
    epub.write_epub(str(out), book)
    data = out.read_bytes()
    out.unlink()
    return data


def test_epub_chapters_in_spine_order(tmp_path):
    path = tmp_path / "orchard.epub"
    path.write_bytes(book_bytes(tmp_path))
    [stream] = read_source(path, lambda _: None)
    assert stream.format == "epub" and stream.title == "The Quiet Orchard — Mira Sol"
    texts = [u.text for u in stream.units]
    assert texts == ["Spring", "The pears flowered early that year.", "Harvest", "Baskets lined the wall by the gate."]
    assert [u.line_start for u in stream.units] == [1, 1, 2, 2]  # the navigation page is not a chapter
    assert [u.opens_section for u in stream.units] == [True, False, True, False]
    assert [u.section for u in stream.units] == ["Spring", "Spring", "Harvest", "Harvest"]
    assert stream.units[0].time == to_utc(datetime(2026, 2, 14))  # dc:date, a date read as local midnight


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_reader_raises_nothing_but_source_error(tmp_path, data):
    damaged = damage_one_member(book_bytes(tmp_path), data, max_size=200)
    path = tmp_path / "x.epub"
    try:
        streams = read_epub(path, damaged, 0.0, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    for stream in streams:
        assert stream.format == "epub"
