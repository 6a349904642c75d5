"""Notes and documents: paragraphs, line ranges, and where each paragraph's date comes from."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.sources import text as text_module
from evosearch.sources.text import date_in_file_name, document_format, read_document

MTIME = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc).timestamp()


def local_day(year: int, month: int, day: int) -> datetime:
    """Midnight local time as UTC: how a date with no time is read."""
    return datetime(year, month, day).astimezone(timezone.utc)


def read(tmp_path: Path, name: str, content: str):
    path = tmp_path / name
    path.write_text(content)
    [stream] = read_document(path, content, MTIME)
    return stream


@pytest.fixture
def new_york_time(monkeypatch):
    """Run with a local zone that is not UTC, so naive dates must be converted."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_daily_note_takes_the_date_in_its_file_name(tmp_path):
    stream = read(
        tmp_path,
        "2026-11-17.md",
        "# Tuesday\n\nShipped the walker.\nReviewed Lee's PR.\n\nLunch with Sam about the offsite.\n",
    )
    assert stream.format == "markdown"
    assert stream.title == "Tuesday"
    assert stream.stream_id == stream.path == str(tmp_path / "2026-11-17.md")
    assert [(u.text, u.line_start, u.line_end) for u in stream.units] == [
        ("# Tuesday\nShipped the walker.\nReviewed Lee's PR.", 1, 4),
        ("Lunch with Sam about the offsite.", 6, 6),
    ]
    assert all(u.time == local_day(2026, 11, 17) for u in stream.units)
    assert all(u.time.tzinfo is not None and u.time.utcoffset().total_seconds() == 0 for u in stream.units)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("2026-11-17.md", (2026, 11, 17)),
        ("2026-11-17 standup.md", (2026, 11, 17)),
        ("20261117.md", (2026, 11, 17)),
        ("standup 2026_01_05.txt", (2026, 1, 5)),
        ("notes.md", None),
        ("2026-13-45.md", None),
        ("123456789.md", None),
    ],
)
def test_date_in_file_name(name, expected):
    assert date_in_file_name(name) == (local_day(*expected) if expected else None)


def test_naive_dates_are_local_time(tmp_path, new_york_time):
    stream = read(tmp_path, "2026-07-01.md", "Hot day.\n")
    # Midnight in New York (UTC-4 in July) is 04:00 UTC.
    assert stream.units[0].time == datetime(2026, 7, 1, 4, 0, tzinfo=timezone.utc)


def test_front_matter_date_and_title_and_no_unit_for_the_block(tmp_path):
    content = (
        "---\n"
        "title: 'Offsite planning'\n"
        "date: 2026-09-02T14:30:00+02:00\n"
        "tags:\n"
        "  - work\n"
        "---\n"
        "# Agenda\n"
        "Budget first, then the venue.\n"
    )
    stream = read(tmp_path, "offsite.md", content)
    assert stream.title == "Offsite planning"
    [unit] = stream.units
    assert unit.text == "# Agenda\nBudget first, then the venue."
    assert (unit.line_start, unit.line_end) == (7, 8)
    assert unit.time == datetime(2026, 9, 2, 12, 30, tzinfo=timezone.utc)


def test_front_matter_created_is_used_when_there_is_no_date(tmp_path):
    stream = read(tmp_path, "idea.md", "---\ncreated: 2024-02-29\n---\nA leap-day idea.\n")
    assert stream.units[0].time == local_day(2024, 2, 29)


def test_dated_headings_date_their_own_sections(tmp_path):
    content = (
        "# Journal\n"  # 1
        "Kept since spring.\n"  # 2
        "\n"
        "## 2026-11-17\n"  # 4
        "Fixed the flaky test.\n"  # 5
        "\n"
        "### Afterthoughts\n"  # 7
        "It was a timezone bug.\n"  # 8
        "\n"
        "## Mon 23 Nov 2026 — retro\n"  # 10
        "\n"
        "Went well: the walker.\n"  # 12
        "\n"
        "## Reading list\n"  # 14
        "Nothing dated here.\n"  # 15
    )
    stream = read(tmp_path, "journal.md", content)
    got = [(u.text.splitlines()[0], u.line_start, u.line_end, u.time) for u in stream.units]
    mtime = datetime.fromtimestamp(MTIME, tz=timezone.utc)
    assert got == [
        ("# Journal", 1, 2, mtime),
        ("## 2026-11-17", 4, 5, local_day(2026, 11, 17)),
        ("### Afterthoughts", 7, 8, local_day(2026, 11, 17)),  # nested: inherits its parent's date
        ("## Mon 23 Nov 2026 — retro", 10, 12, local_day(2026, 11, 23)),
        ("## Reading list", 14, 15, mtime),  # same level ends the dated section
    ]


def test_dated_heading_overrides_the_file_date_for_its_section(tmp_path):
    stream = read(tmp_path, "2026-01-01 log.md", "Opening words.\n\n## 2026-01-03\nLater entry.\n")
    assert [u.time for u in stream.units] == [local_day(2026, 1, 1), local_day(2026, 1, 3)]


def test_org_headings_with_timestamps(tmp_path):
    content = "#+TITLE: Garden log\n\n* <2026-04-10 Fri>\nPlanted tomatoes.\n\n* Ideas\nRaised beds.\n"
    stream = read(tmp_path, "garden.org", content)
    assert stream.format == "org"
    assert stream.title == "Garden log"
    assert [(u.text, u.time) for u in stream.units] == [
        ("* <2026-04-10 Fri>\nPlanted tomatoes.", local_day(2026, 4, 10)),
        ("* Ideas\nRaised beds.", datetime.fromtimestamp(MTIME, tz=timezone.utc)),
    ]


def test_rst_section_titles_and_adornments(tmp_path):
    content = "Release notes\n=============\n\n2026-05-01\n----------\n\nFaster indexing.\n"
    stream = read(tmp_path, "notes.rst", content)
    assert stream.format == "rst"
    assert stream.title == "Release notes"
    [unit] = stream.units
    assert unit.text == "Release notes\n2026-05-01\nFaster indexing."
    assert (unit.line_start, unit.line_end) == (1, 7)
    assert unit.time == local_day(2026, 5, 1)


def test_plain_text_falls_back_to_mtime_and_file_stem(tmp_path):
    stream = read(tmp_path, "groceries.txt", "eggs\nmilk\n\n\n# not a heading in plain text\n")
    assert stream.format == "text"
    assert stream.title == "groceries"
    assert [(u.text, u.line_start, u.line_end) for u in stream.units] == [
        ("eggs\nmilk", 1, 2),
        ("# not a heading in plain text", 5, 5),
    ]
    assert all(u.time == datetime.fromtimestamp(MTIME, tz=timezone.utc) for u in stream.units)


def test_undated_heading_words_do_not_become_dates(tmp_path):
    stream = read(tmp_path, "misc.md", "## Today\nStuff.\n\n## Q3 2026 planning\nMore.\n")
    assert all(u.time == datetime.fromtimestamp(MTIME, tz=timezone.utc) for u in stream.units)


def test_heading_at_the_end_is_kept(tmp_path):
    stream = read(tmp_path, "todo.md", "Some text.\n\n## Later\n")
    assert [u.text for u in stream.units] == ["Some text.", "## Later"]


def test_long_paragraph_is_split_at_sentences_with_right_line_ranges(tmp_path):
    sentence = "The quick brown fox jumps over the lazy dog again and again. "
    long_line = (sentence * 60).strip()  # one line of about 3,700 characters
    content = "## Essay\n" + long_line + "\n" + "A closing line.\n"
    stream = read(tmp_path, "essay.md", content)
    units = stream.units
    assert len(units) >= 3
    assert all(len(u.text) <= text_module.MAX_UNIT_CHARS for u in units)
    assert units[0].text.startswith("## Essay\nThe quick")
    assert units[0].line_start == 1
    assert all(u.text.endswith(".") for u in units)  # cut at sentence ends
    assert units[-1].line_end == 3
    assert units[1].line_start == units[1].line_end == 2
    # Nothing lost, nothing duplicated.
    words = " ".join(u.text.replace("\n", " ") for u in units).split()
    assert words == ("## Essay " + long_line + " A closing line.").split()


def test_long_paragraph_of_short_lines_is_split_at_lines(tmp_path):
    lines = [f"line {i:03d} of a long list of things to remember to do" for i in range(80)]
    stream = read(tmp_path, "list.txt", "\n".join(lines) + "\n")
    units = stream.units
    assert len(units) > 1
    assert units[0].line_start == 1 and units[-1].line_end == 80
    for before, after in zip(units, units[1:]):
        assert after.line_start == before.line_end + 1
    assert [line for u in units for line in u.text.split("\n")] == lines


def test_word_without_spaces_longer_than_limit_is_cut(tmp_path):
    blob = "x" * (text_module.MAX_UNIT_CHARS * 2 + 10)
    stream = read(tmp_path, "blob.txt", blob + "\n")
    assert "".join(u.text for u in stream.units) == blob
    assert all(u.line_start == u.line_end == 1 for u in stream.units)


def test_horizontal_rule_at_top_is_not_front_matter(tmp_path):
    stream = read(tmp_path, "rule.md", "---\nJust a line of prose, not yaml.\n---\n")
    assert stream.units[0].text.startswith("---")


@pytest.mark.parametrize(
    "name, fmt",
    [("a.md", "markdown"), ("a.MARKDOWN", "markdown"), ("a.org", "org"), ("a.rst", "rst"), ("a.txt", "text"), ("a.log", "text")],
)
def test_document_format(name, fmt):
    assert document_format(Path(name)) == fmt


def test_crlf_line_endings_and_unicode_line_separators(tmp_path):
    content = "# Title\r\nfirst\u2028still line two\r\n\r\n## 2026-02-03\r\nsecond\r\n"
    stream = read(tmp_path, "win.md", content)
    assert [(u.text, u.line_start, u.line_end) for u in stream.units] == [
        ("# Title\nfirst\u2028still line two", 1, 2),
        ("## 2026-02-03\nsecond", 4, 5),
    ]
    assert stream.units[1].time == local_day(2026, 2, 3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["", "# Title", "## 2026-11-17", "* <2026-01-02 Fri>", "---", "title: x", "```", "=====", "Mon 17 Nov 2026"]),
            st.text(max_size=80),
            st.text(alphabet="ab .\n", min_size=1400, max_size=3200),
        ),
        max_size=25,
    ),
    st.sampled_from(["n.md", "n.org", "n.rst", "n.txt"]),
)
def test_any_text_gives_units_with_sane_line_ranges(tmp_path, lines, name):
    content = "\n".join(lines)
    [stream] = read_document(tmp_path / name, content, MTIME)
    total_lines = content.count("\n") + 1
    previous_end = 0
    for unit in stream.units:
        assert unit.text.strip()
        assert 1 <= unit.line_start <= unit.line_end <= total_lines
        assert unit.line_start >= previous_end  # reading order; split pieces may share a line
        previous_end = unit.line_end
        assert unit.time is not None and unit.time.utcoffset().total_seconds() == 0
        assert len(unit.text) <= text_module.MAX_UNIT_CHARS


def test_a_heading_opens_a_section_and_an_empty_heading_only_marks_it(tmp_path):
    content = "Intro line.\n\n## Setup\nInstall it.\n\nThen run it.\n\n##\nNo title above me.\n\n#hashtag is text\n"
    stream = read(tmp_path, "guide.md", content)
    assert [(u.text, u.opens_section) for u in stream.units] == [
        ("Intro line.", False),
        ("## Setup\nInstall it.", True),
        ("Then run it.", False),
        ("No title above me.", True),  # "##" alone is an empty heading (CommonMark): a section, no words
        ("#hashtag is text", False),
    ]


def test_each_paragraph_is_named_by_the_headings_above_it(tmp_path):
    content = (
        "Before any heading.\n\n# Trip\nIntro.\n\n## Flights\nJAL, booked.\n\n### Return\nOn the 12th.\n\n"
        "#### Seats\nAisle.\n\n## Hotels\nTwo nights.\n\n##\nAfter an empty heading.\n"
    )
    stream = read(tmp_path, "trip.md", content)
    assert [(u.text.split("\n")[-1], u.section) for u in stream.units] == [
        ("Before any heading.", None),
        ("Intro.", "Trip"),
        ("JAL, booked.", "Trip › Flights"),
        ("On the 12th.", "Trip › Flights › Return"),
        ("Aisle.", "Flights › Return › Seats"),  # the innermost SECTION_DEPTH headings
        ("Two nights.", "Trip › Hotels"),  # a heading closes the deeper ones before it
        ("After an empty heading.", "Trip"),  # "##" closes Hotels and names nothing
    ]


def test_org_and_rst_sections_are_named_too(tmp_path):
    org = read(tmp_path, "plan.org", "* Garden\n** Beds\nSouth bed first.\n")
    assert [u.section for u in org.units] == ["Garden › Beds"]
    rst = read(tmp_path, "guide.rst", "Guide\n=====\n\nUsage\n-----\n\nRun it.\n")
    assert [u.section for u in rst.units][-1] == "Guide › Usage"


def test_a_sections_name_is_its_heading_without_inline_markup(tmp_path):
    md = read(tmp_path, "api.md", "## `fs.stat(path[, options])` and **[the guide](https://example.com/g)**\nText.\n")
    assert md.units[0].section == "fs.stat(path[, options]) and the guide"
    assert read(tmp_path, "py.md", "## `__init__` files\nText.\n").units[0].section == "__init__ files"
    assert read(tmp_path, "ticks.md", "# Top\n## ``\nText.\n").units[0].section == "Top"  # nothing left to name it
    org = read(tmp_path, "links.org", "* See [[https://example.com][the docs]] and [[file:notes.org]]\nText.\n")
    assert org.units[0].section == "See the docs and file:notes.org"


def test_a_very_long_heading_is_cut_in_its_sections_name(tmp_path):
    stream = read(tmp_path, "long.md", "## " + "word " * 80 + "\nText.\n")
    [unit] = stream.units
    assert len(unit.section) == 120 and unit.section.endswith("…") and unit.section.startswith("word word")


def test_headings_in_a_file_with_windows_line_ends(tmp_path):
    stream = read(tmp_path, "win.md", "# Plan\r\nFirst.\r\n\r\n##\r\nSecond.\r\n")
    assert stream.title == "Plan"
    assert [(u.text, u.opens_section) for u in stream.units] == [("# Plan\nFirst.", True), ("Second.", True)]


def test_only_the_first_piece_of_a_long_headed_paragraph_opens_the_section(tmp_path):
    stream = read(tmp_path, "essay.md", "## Essay\n" + "A sentence that goes on. " * 120 + "\n")
    assert len(stream.units) > 1
    assert [u.opens_section for u in stream.units] == [True] + [False] * (len(stream.units) - 1)
