"""`ask` reads the index through lance directly: same answers as through LanceDB, fresh after
writes, clear errors, and no `import lancedb` in the process."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from evosearch.api import open_index
from evosearch.errors import StoreError
from evosearch.indexer import index_paths
from evosearch.search import ask
from evosearch.store import LanceReader, Store, open_for_search

from .helpers import chat_messages, make_notes, write_chat

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
QUERIES = ["launch moves", "SQLite", "what did we decide last week", "the latest plan for the trip", "garden shed", "nothing like this"]


def _index(notes, db):
    store, encoder = open_index(str(db), write=True)
    index_paths([notes], store, encoder, print)
    store.close()  # the writer lock goes; the store still reads
    return store, encoder


def test_a_fresh_reader_answers_exactly_as_the_writer(tmp_path):
    store, encoder = _index(make_notes(tmp_path), tmp_path / "db")
    reader = open_for_search(str(tmp_path / "db"))
    assert isinstance(reader, LanceReader)
    for query in QUERIES:
        for options in ({}, {"limit": 3}, {"since": datetime(2026, 11, 5, tzinfo=timezone.utc)}, {"source": "*.jsonl"}):
            through_lance = ask(reader, encoder, query, now=NOW, **options)
            through_writer = ask(store, encoder, query, now=NOW, **options)
            assert through_lance == through_writer, (query, options)
    assert ask(reader, encoder, "launch moves", now=NOW)["results"], "the comparison must compare something"


def test_a_long_lived_reader_sees_what_a_writer_commits_later(tmp_path):
    notes = make_notes(tmp_path)
    _index(notes, tmp_path / "db")
    reader, encoder = open_index(str(tmp_path / "db"))
    before = {r["locator"] for r in ask(reader, encoder, "aubergine harvest", now=NOW, limit=50)["results"]}
    write_chat(
        notes / "team.jsonl", [*chat_messages(30), ("m99", "2026-11-19T10:00:00+00:00", "Ana", "The aubergine harvest is on Sunday.")]
    )
    _index(notes, tmp_path / "db")
    after = ask(reader, encoder, "aubergine harvest", now=NOW, limit=50)["results"]
    assert "m99" not in str(before)
    assert any("aubergine" in r["text"] for r in after)
    assert len(reader.sources()) == len(Store.open(str(tmp_path / "db")).sources())


def test_missing_and_foreign_indexes_are_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="no index at"):
        open_for_search(str(tmp_path / "nowhere"))
    (tmp_path / "junk" / "segments.lance").mkdir(parents=True)
    with pytest.raises(StoreError, match="junk"):
        open_for_search(str(tmp_path / "junk"))


def test_ask_in_a_fresh_process_never_imports_lancedb_or_torch(tmp_path):
    _index(make_notes(tmp_path), tmp_path / "db")
    code = (
        "import json, sys\n"
        "from evosearch.api import open_index\n"
        "from evosearch.search import ask\n"
        f"store, encoder = open_index({str(tmp_path / 'db')!r})\n"
        "hits = ask(store, encoder, 'launch moves')['results']\n"
        "print(json.dumps([len(hits), [m for m in ('lancedb', 'torch') if m in sys.modules]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [10, []]


def test_status_reads_through_lance_with_the_same_figures_and_no_lancedb(tmp_path):
    store, _ = _index(make_notes(tmp_path), tmp_path / "db")
    stats = open_for_search(str(tmp_path / "db")).stats()
    assert stats == store.stats()
    assert stats["segments"] > 0 and stats["sources"] > 0 and stats["first_time"]
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from evosearch.cli.app import app\n"
        f"out = CliRunner().invoke(app, ['status', '--json', '--db', {str(tmp_path / 'db')!r}]).stdout\n"
        "print(json.dumps([json.loads(out)['segments'], 'lancedb' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [stats["segments"], False]
