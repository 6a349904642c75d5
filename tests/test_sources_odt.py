"""OpenDocument text: an .odt assembled in the test from its real parts (mimetype, content.xml, meta.xml), and damaged ones."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.errors import SourceError
from evosearch.sources.detect import read_source
from evosearch.sources.odt import read_odt

CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3">
 <office:body><office:text>
  <text:sequence-decls><text:sequence-decl text:display-outline-level="0" text:name="Table"/></text:sequence-decls>
  <text:h text:style-name="Heading_1" text:outline-level="1">Trip notes</text:h>
  <text:p text:style-name="Standard">Train leaves at<text:s text:c="2"/>nine<text:note text:note-class="footnote"><text:note-body><text:p>platform 4</text:p></text:note-body></text:note>, <text:span text:style-name="T1">sharp</text:span>.</text:p>
  <text:list><text:list-item><text:p>passport</text:p></text:list-item><text:list-item><text:p>charger</text:p></text:list-item></text:list>
  <table:table table:name="Table1"><table:table-column table:number-columns-repeated="2"/>
   <table:table-row><table:table-cell><text:p>Day</text:p></table:table-cell><table:table-cell><text:p>Town</text:p></table:table-cell></table:table-row>
   <table:table-row><table:table-cell><text:p>1</text:p></table:table-cell><table:table-cell><text:p>Porto</text:p></table:table-cell></table:table-row>
  </table:table>
 </office:text></office:body>
</office:document-content>"""
META = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3">
 <office:meta><meta:creation-date>2026-04-01T08:00:00</meta:creation-date><dc:date>2026-04-02T09:30:00Z</dc:date><dc:title>Porto trip</dc:title></office:meta>
</office:document-meta>"""


def odt_bytes(content=CONTENT, meta=META) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")  # stored first, uncompressed
        z.writestr("content.xml", content)
        z.writestr("meta.xml", meta)
        z.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
    return out.getvalue()


def test_odt_blocks_in_order(tmp_path):
    path = tmp_path / "trip.odt"
    path.write_bytes(odt_bytes())
    [stream] = read_source(path, lambda _: None)
    assert stream.format == "odt" and stream.title == "Porto trip"
    assert [u.text for u in stream.units] == ["Trip notes", "Train leaves at nine, sharp.", "passport\ncharger", "Day | Town\n1 | Porto"]
    assert [u.line_start for u in stream.units] == [2, 3, 4, 5]
    assert [u.opens_section for u in stream.units] == [True, False, False, False]  # text:h
    assert {u.section for u in stream.units} == {"Trip notes"}
    assert stream.units[0].time == datetime(2026, 4, 2, 9, 30, tzinfo=UTC)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300), st.integers(min_value=0, max_value=len(CONTENT)))
def test_reader_raises_nothing_but_source_error(tmp_path, junk, cut):
    path = tmp_path / "x.odt"
    for content in (CONTENT[:cut] + junk, junk):
        try:
            streams = read_odt(path, odt_bytes(content, META[: cut % len(META)]), 0.0, lambda _: None)
        except SourceError as e:
            assert e.message.startswith(f"{path}: ") and "\n" not in e.message
            continue
        assert [s.format for s in streams] == ["odt"]


def test_odt_sections_are_named_by_their_outline_levels(tmp_path):
    content = CONTENT.replace(
        "<text:list>", '<text:h text:outline-level="2">Packing</text:h><text:h text:outline-level="x">Odd level</text:h><text:list>'
    )
    path = tmp_path / "levels.odt"
    path.write_bytes(odt_bytes(content))
    [stream] = read_source(path, lambda _: None)
    assert [(u.text.split("\n")[0], u.section) for u in stream.units] == [
        ("Trip notes", "Trip notes"),
        ("Train leaves at nine, sharp.", "Trip notes"),
        ("Packing", "Trip notes › Packing"),
        ("Odd level", "Odd level"),  # an unreadable level counts as 1
        ("passport", "Odd level"),
        ("Day | Town", "Odd level"),
    ]
