"""PDF and HTML documents, read through read_source (detection by content)."""

from datetime import datetime, timezone

import pytest

from evosearch.errors import SourceError
from evosearch.segment import segment_stream
from evosearch.sources.detect import read_source


def make_pdf(pages: list[str], title: str = "Shed plans", created: str = "D:20261012093000Z") -> bytes:
    """A minimal valid PDF of Helvetica text, a line per line of each page's text, written by hand."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        content = "BT /F1 12 Tf 72 720 Td " + " 0 -16 Td ".join(f"({line}) Tj" for line in text.split("\n")) + " ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>")
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
    objects.append(f"<< /Title ({title}) /CreationDate ({created}) >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def bookmarked(tmp_path, pages: list[str], bookmarks: list[tuple[str, int, int | None]]):
    """The stream read from a PDF of pages (make_pdf) with bookmarks: (title, 0-based page, index of
    the parent bookmark in the list or None)."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(pages))))
    added = []
    for title, page, parent in bookmarks:
        added.append(writer.add_outline_item(title=title, page_number=page, parent=None if parent is None else added[parent]))
    out = io.BytesIO()
    writer.write(out)
    path = tmp_path / "bookmarked.pdf"
    path.write_bytes(out.getvalue())
    [stream] = read_source(path, print)
    return stream


def test_pdf_pages_become_units_with_page_locators_and_the_creation_date(tmp_path):
    path = tmp_path / "shed.pdf"
    path.write_bytes(make_pdf(["The roof will be green sedum.", "Budget raised to 900 euros."]))
    [stream] = read_source(path, print)
    assert stream.format == "pdf" and stream.title == "Shed plans"
    assert [(u.text, u.line_start) for u in stream.units] == [("The roof will be green sedum.", 1), ("Budget raised to 900 euros.", 2)]
    assert stream.units[0].time == datetime(2026, 10, 12, 9, 30, tzinfo=timezone.utc)


def test_a_pdfs_bookmarks_name_its_sections(tmp_path):
    pages = ["Intro.", "Roof: green sedum.", "Budget raised to 900 euros.", "The end."]
    stream = bookmarked(tmp_path, pages, [("Building", 1, None), ("Roof", 1, 0), ("Costs", 2, 0)])
    assert [(u.line_start, u.section, u.opens_section) for u in stream.units] == [
        (1, None, False),
        (2, "Building › Roof", True),  # a chapter and its first section start on one page: the section names it
        (3, "Building › Costs", True),
        (4, "Building › Costs", False),
    ]


def test_running_headers_and_page_numbers_leave_a_pdfs_passages(tmp_path):
    body = ["Roof: green sedum.", "Budget raised to 900 euros.", "Walls of larch.", "Door faces south.", "Paint it red.", "The end."]
    pages = [f"Garden Journal\n{text}\n- {n} -" for n, text in enumerate(body, 1)]
    pages[0] = "Garden Journal\nPlans for the shed\n" + pages[0].split("\n", 1)[1]  # a first line that does not run stays
    pages[4] = "Garden Journal\n5 Painting\n" + body[4]  # a bookmark's numbered title under the header stays, its number the page's
    stream = bookmarked(tmp_path, pages, [("5 Painting", 4, None)])
    text = " ".join(u.text for u in stream.units)
    assert "Garden Journal" not in text and "- 3 -" not in text
    assert [u.text for u in stream.units] == [
        "Plans for the shed Roof: green sedum.",
        "Budget raised to 900 euros.",
        "Walls of larch.",
        "Door faces south.",
        "5 Painting Paint it red.",
        "The end.",
    ]


def test_a_chapters_title_alone_in_its_paragraph_joins_its_first_sections_passage(tmp_path):
    pages = ["Foreword.", "1 Building\n1.1 Roof\nGreen sedum on the roof.", "1.2 Costs\nBudget raised to 900 euros."]
    stream = bookmarked(tmp_path, pages, [("1 Building", 1, None), ("1.1 Roof", 1, 0), ("1.2 Costs", 2, 0)])
    assert [(s.text, s.section, s.line_start) for s in segment_stream(stream)] == [
        ("Foreword.", None, 1),
        ("1 Building\n1.1 Roof Green sedum on the roof.", "1 Building › 1.1 Roof", 2),  # not "1 Building" as a passage of its own
        ("1.2 Costs Budget raised to 900 euros.", "1 Building › 1.2 Costs", 3),
    ]


def test_a_word_hyphenated_across_a_line_break_is_one_word(tmp_path):
    path = tmp_path / "minutes.pdf"
    path.write_bytes(make_pdf(["The budget was dis-\ncussed at length, see ASN-\n1 and -\n-v for the Well-\nKnown cases."]))
    [stream] = read_source(path, print)
    assert stream.units[0].text == "The budget was discussed at length, see ASN- 1 and - -v for the Well- Known cases."


def test_a_line_at_the_top_of_a_few_pages_only_is_kept(tmp_path):
    path = tmp_path / "notes.pdf"
    pages = ["Agenda\nShed roof."] * 3 + [f"Item {n} was decided." for n in range(4, 13)]
    path.write_bytes(make_pdf(pages))
    [stream] = read_source(path, print)
    assert [u.text for u in stream.units[:3]] == ["Agenda Shed roof."] * 3  # on 3 of 12 pages: text, not a header


def test_a_bookmark_starts_where_its_numbered_title_is_printed_on_its_page():
    from evosearch.sources.base import Unit
    from evosearch.sources.pdf import _under_bookmarks

    pages = [(1, "Intro."), (2, "End of intro. 2 Methods We sampled. 2.1 Sampling Daily, at nine."), (3, "More methods."), (4, "In 2018. 4.2. Costs Low.")]
    units = [Unit(t, None, line_start=p, line_end=p) for p, t in pages]
    bookmarks = [(2, ["Methods"]), (2, ["Methods", "Sampling"]), (3, ["Methods", "Results"]), (4, ["4.2. Costs"])]
    named = _under_bookmarks(units, bookmarks)
    assert [(u.line_start, u.text, u.section, u.opens_section) for u in named] == [
        (1, "Intro.", None, False),
        (2, "End of intro.", None, False),  # the page's text is cut where each title is printed
        (2, "2 Methods We sampled.", "Methods", True),
        (2, "2.1 Sampling Daily, at nine.", "Methods › Sampling", True),
        (3, "More methods.", "Methods › Results", True),  # its title is not on its page: the page starts it
        (4, "In 2018.", "Methods › Results", False),
        (4, "4.2. Costs Low.", "4.2. Costs", True),  # numbered in the outline: no number taken from before it
    ]


def test_unreadable_bookmarks_cost_the_names_not_the_text():
    from evosearch.sources.pdf import _bookmarks

    class Damaged:
        @property
        def outline(self):
            raise KeyError("/Dest")

    warnings = []
    assert _bookmarks(Damaged(), "x.pdf", warnings.append) == []
    assert warnings == ["x.pdf: bookmarks unreadable (KeyError) — its passages are not named by section"]


def test_truncated_and_textless_pdfs_are_one_line_errors(tmp_path):
    data = make_pdf(["hello world"])
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(SourceError) as e:
        read_source(cut, print)
    assert e.value.message.startswith(str(cut)) and "\n" not in e.value.message
    blank = tmp_path / "scan.pdf"
    blank.write_bytes(make_pdf([""]))
    with pytest.raises(SourceError, match="text layer"):
        read_source(blank, print)


def test_pypdfs_repair_notes_are_our_warnings_not_stray_lines(tmp_path, capfd):
    cut = tmp_path / "cut-eof.pdf"
    cut.write_bytes(make_pdf(["Still readable."]).replace(b"%%EOF", b"%%EO"))
    warnings = []
    assert read_source(cut, warnings.append)[0].units[0].text == "Still readable."
    assert any(w.startswith(f"{cut}: ") and "EOF marker seems truncated" in w for w in warnings), warnings
    gone = tmp_path / "no-eof.pdf"
    gone.write_bytes(make_pdf(["Lost."]).replace(b"%%EOF", b""))
    with pytest.raises(SourceError, match="unreadable PDF"):
        read_source(gone, warnings.append)
    assert any("EOF marker not found" in w for w in warnings)
    assert "EOF marker" not in capfd.readouterr().err  # pypdf's own lines went through warn, none bare


def test_a_pdf_is_detected_by_its_bytes_whatever_its_name(tmp_path):
    path = tmp_path / "report.txt"
    path.write_bytes(make_pdf(["Quarterly plan."]))
    assert read_source(path, print)[0].format == "pdf"


HTML = """<!DOCTYPE html>
<html><head><title>Trip  notes</title><meta name="date" content="2026-10-30T08:00:00+01:00">
<style>p { color: red }</style><script>var hidden = "do not index";</script></head>
<body><h1>Lisbon</h1>
<p>We moved the trip to
26&nbsp;November.</p>
<ul><li>Book flights</li><li>Ask Jo about the hotel</li></ul>
</body></html>
"""


def test_html_visible_text_title_date_and_lines(tmp_path):
    path = tmp_path / "trip.html"
    path.write_text(HTML)
    [stream] = read_source(path, print)
    assert stream.format == "html" and stream.title == "Trip notes"
    texts = [u.text for u in stream.units]
    assert texts == ["Lisbon", "We moved the trip to 26\xa0November.", "Book flights", "Ask Jo about the hotel"] or texts == [
        "Lisbon", "We moved the trip to 26 November.", "Book flights", "Ask Jo about the hotel"]
    assert all("hidden" not in t and "color" not in t for t in texts)
    assert stream.units[1].line_start == 5 and stream.units[1].line_end == 6
    assert [u.opens_section for u in stream.units] == [True, False, False, False]
    assert stream.units[0].time == datetime(2026, 10, 30, 7, 0, tzinfo=timezone.utc)


def test_a_heading_closes_the_headings_at_its_level_and_below_and_names_what_follows():
    from evosearch.sources.base import Unit, under_headings

    texts = ["Plan", "Intro.", "Costs", "Forty.", "Travel", "Train.", "", "After an empty h3.", "Risks", "Few."]
    headings = [(1, True), None, (2, True), None, (3, True), None, (3, False), None, (2, True), None]
    named = under_headings([Unit(t or "x", None) for t in texts], headings)
    assert [u.section for u in named] == [
        "Plan", "Plan", "Plan › Costs", "Plan › Costs", "Plan › Costs › Travel", "Plan › Costs › Travel",
        "Plan › Costs", "Plan › Costs", "Plan › Risks", "Plan › Risks",
    ]


def test_an_html_heading_opens_a_section_even_when_empty_or_nested(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><body><p>Intro.</p><h2><span>Costs</span></h2><p>Forty.</p><h3></h3><div>After an empty heading.</div><p>More.</p></body></html>")
    [stream] = read_source(path, print)
    assert [(u.text, u.opens_section) for u in stream.units] == [
        ("Intro.", False),
        ("Costs", True),
        ("Forty.", False),
        ("After an empty heading.", True),
        ("More.", False),
    ]
    # A heading's text names its section; the block after an empty heading opens one with no name.
    assert [u.section for u in stream.units] == [None, "Costs", "Costs", "Costs", "Costs"]  # the empty h3 closes nothing above it


def test_a_headings_permalink_mark_is_no_part_of_its_words(tmp_path):
    path = tmp_path / "api.html"
    path.write_text(
        '<html><body><h2>File system<a class="mark" href="#fs">#</a></h2><p>Read <a href="#x">#</a> files.</p>'
        '<h3>Learning C#<a class="headerlink" href="#c">¶</a></h3><p>Notes.</p></body></html>'
    )
    [stream] = read_source(path, print)
    assert [(u.text, u.section) for u in stream.units] == [
        ("File system", "File system"),
        ("Read # files.", "File system"),  # only a heading's own link is left out
        ("Learning C#", "File system › Learning C#"),
        ("Notes.", "File system › Learning C#"),
    ]


def test_each_code_in_a_pre_is_a_block_and_inline_code_is_part_of_its_sentence(tmp_path):
    path = tmp_path / "fs.html"
    path.write_text(
        '<html><body><p>Call <code>open()</code> first.</p>'
        '<pre><code class="mjs">import { open } from "fs";</code><code class="cjs">const { open } = require("fs");</code></pre>'
        "<p>Then read.</p></body></html>"
    )
    [stream] = read_source(path, print)
    assert [u.text for u in stream.units] == ["Call open() first.", 'import { open } from "fs";', 'const { open } = require("fs");', "Then read."]


def test_an_unclosed_html_heading_names_its_section_and_no_paragraph_after_it(tmp_path):
    path = tmp_path / "broken.html"
    path.write_text("<html><body><h2>Costs<p>Forty.</p><p>Fifty.</p><h3>Travel</h3><p>Train.</p></body></html>")
    [stream] = read_source(path, print)
    assert [(u.text, u.section) for u in stream.units] == [("Costs", "Costs"), ("Forty.", "Costs"), ("Fifty.", "Costs"), ("Travel", "Costs › Travel"), ("Train.", "Costs › Travel")]


def test_html_without_a_doctype_is_detected_by_content(tmp_path):
    path = tmp_path / "saved-page.txt"
    path.write_text("<html><body><p>Plain page</p></body></html>")
    assert read_source(path, print)[0].format == "html"
