"""How output.py draws progress and summaries (the CLI tests cover the rest through the commands)."""

import time

from evosearch import output
from evosearch.indexer import IndexReport


def test_plain_progress_announces_a_slow_first_call_only(monkeypatch):
    said = []
    monkeypatch.setattr(output, "info", said.append)
    monkeypatch.setattr(output, "PREPARING_NOTICE_AFTER_S", 0.05)
    fast = output._Lines()
    fast.encoder_starting()
    fast.encoder_ready()
    time.sleep(0.1)
    assert said == []
    slow = output._Lines()
    slow.encoder_starting()
    time.sleep(0.2)
    slow.encoder_ready()
    assert said == [output.PREPARING]


def test_the_rate_leaves_out_the_first_call():
    progress = output._Lines()
    progress.encoder_starting()
    progress.segments_planned(96, True)
    progress.encoder_ready()
    progress.segments_done(32)  # the call that loaded the model
    assert progress.rate() == ""
    progress.segments_done(32)
    assert progress.since_ready == 32 and progress.segments == 64 and progress.rate().endswith("segments/s")
    progress.stop()


def test_plain_progress_gives_the_segments_total_once_every_file_is_read(monkeypatch):
    said = []
    monkeypatch.setattr(output, "info", said.append)
    monkeypatch.setattr(output, "PLAIN_PROGRESS_EVERY_S", 0)
    progress = output._Lines()
    progress.files_found(3)
    progress.segments_planned(40, False)  # the first group: more files to read
    progress.segments_done(40)
    progress.file_done("a")
    progress.segments_planned(10, True)
    progress.segments_done(10)
    progress.stop()
    assert said == ["indexing: 0/3 files, 40 segments", "indexing: 1/3 files, 40 segments", "indexing: 1/3 files, 50/50 segments"]


def test_summary_lines_use_plurals_and_name_the_preparation():
    report = IndexReport(indexed=1, segments_encoded=1, seconds=10.0, preparing_seconds=8.0)
    line = output.index_summary(report, "/i")
    assert line.startswith("indexed 1 file (1 segment encoded at 0 segments/s)") and "8.0 s of it preparing the model" in line
    assert output.index_summary(IndexReport(unchanged=3, seconds=0.1), "/i") == "nothing new, 3 unchanged in 0.1 s → /i"
    assert output.plural(2, "file") == "2 files" and output.plural(1, "warning") == "1 warning"


def test_a_locator_names_one_line_page_or_chapter_alone_and_a_range_with_both_ends():
    from evosearch.search import locator

    def row(fmt, start, end, ids=()):
        return {"format": fmt, "line_start": start, "line_end": end, "message_ids": list(ids), "position": 3}

    assert [locator(row("pdf", 4, 4)), locator(row("markdown", 5, 9)), locator(row("epub", 2, 2)), locator(row("docx", 7, None))] == [
        "p4", "L5-9", "ch2", "¶7"
    ]
    assert locator(row("jsonl-chat", None, None, ["m1", "m4"])) == "m1..m4" and locator(row("text", None, None)) == "#3"


def test_copies_are_counted_past_the_first_few_places(monkeypatch):
    import io

    from rich.console import Console

    buffer = io.StringIO()
    monkeypatch.setattr(output, "stdout", Console(file=buffer, width=200))
    output.print_copies([{"path": f"/x/copy{i}.md", "locator": "L1-3", "ref": f"/x/copy{i}.md@0"} for i in range(5)])
    lines = buffer.getvalue().splitlines()
    assert lines == ["    also in /x/copy0.md L1-3", "    also in /x/copy1.md L1-3", "    also in /x/copy2.md L1-3", "    and in 2 more places"]


def test_a_place_holding_several_copies_is_named_once(monkeypatch):
    import io

    from rich.console import Console

    buffer = io.StringIO()
    monkeypatch.setattr(output, "stdout", Console(file=buffer, width=200))
    output.print_copies([{"path": "/x/one-line.txt", "locator": "L1", "ref": f"/x/one-line.txt@{i}"} for i in range(3)] + [{"path": "/y/b.md", "locator": "L4", "ref": "/y/b.md@0"}])
    assert buffer.getvalue().splitlines() == ["    also in /x/one-line.txt L1", "    also in /y/b.md L4"]
