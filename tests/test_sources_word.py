"""Word .docx: a document built with python-docx in the test (no opaque binary committed), and damaged ones."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import docx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.detect import read_source
from evosearch.sources.walk import iter_source_files
from evosearch.sources.word import read_docx

from .helpers import damage_one_member


def word_document() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Garden plan"
    document.core_properties.created = datetime(2026, 3, 1, 9, 0)
    document.core_properties.modified = datetime(2026, 3, 2, 10, 30)
    document.add_heading("Garden plan 2026", level=1)
    document.add_paragraph("Tomatoes go in the south bed after the last frost.")
    document.add_paragraph("")
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Crop", (0, 1): "Sow", (1, 0): "Beans", (1, 1): "May"}.items():
        table.cell(r, c).text = text
    document.add_heading("Budget", level=2)
    document.add_paragraph("Seeds and compost: under a hundred.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_blocks_in_order_with_tables_and_core_time(tmp_path):
    path = tmp_path / "plan.docx"
    path.write_bytes(word_document())
    assert list(iter_source_files([tmp_path], lambda _: None)) == [path]
    [stream] = read_source(path, lambda _: None)
    assert stream.format == "docx" and stream.title == "Garden plan"
    assert [u.text for u in stream.units] == [
        "Garden plan 2026",
        "Tomatoes go in the south bed after the last frost.",
        "Crop | Sow\nBeans | May",
        "Budget",
        "Seeds and compost: under a hundred.",
    ]
    assert [u.line_start for u in stream.units] == [1, 2, 4, 5, 6]  # the blank paragraph keeps its number
    assert [u.opens_section for u in stream.units] == [True, False, False, True, False]  # Word's heading styles
    assert [u.section for u in stream.units] == ["Garden plan 2026"] * 3 + ["Garden plan 2026 › Budget"] * 2  # Heading 1, Heading 2
    assert all(u.time == datetime(2026, 3, 2, 10, 30, tzinfo=UTC) for u in stream.units)


def test_docx_without_core_dates_uses_mtime(tmp_path):
    raw = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(word_document())) as src, zipfile.ZipFile(raw, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "docProps/core.xml":  # core properties with no dates and no title
                content = b'<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"/>'
            dst.writestr(item, content)
    path = tmp_path / "plain.docx"
    path.write_bytes(raw.getvalue())
    [stream] = read_source(path, lambda _: None)
    assert stream.units[0].time is not None and stream.units[0].time.year >= 2026
    assert stream.title == "Garden plan 2026"


def test_damaged_docx_is_one_clear_error(tmp_path):
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as z:
        z.writestr("word/document.xml", "<not xml")
    path = tmp_path / "broken.docx"
    path.write_bytes(raw.getvalue())
    try:
        read_source(path, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: unreadable Word document") and "\n" not in e.message
    else:
        raise AssertionError("a damaged .docx must be a SourceError")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_reader_raises_nothing_but_source_error(tmp_path, data):
    damaged = damage_one_member(word_document(), data, max_size=300)
    path = tmp_path / "x.docx"
    try:
        streams = read_docx(path, damaged, 0.0, lambda _: None)
    except SourceError as e:
        assert e.message.startswith(f"{path}: ") and "\n" not in e.message
        return
    for stream in streams:
        assert stream.format == "docx"
