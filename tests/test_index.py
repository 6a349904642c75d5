"""Incremental indexing through the Python API: new, unchanged, appended, edited, deleted, killed."""

import os
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from evosearch.api import open_index
from evosearch.indexer import index_paths
from evosearch.store import Store

from .helpers import ReadsAhead, chat_messages, index_dump, make_notes, write_chat


def run_index(paths, db):
    store, encoder = open_index(str(db), write=True)
    warnings = []
    with store:  # releases the writer lock now, not when the store is garbage collected
        return index_paths(list(paths), store, encoder, warnings.append), warnings


def fresh_copy_dump(src_dir, tmp_path, name):
    """Index a copy of the folder into a new db: the reference an incremental run must equal."""
    copy = tmp_path / f"copy-{name}"
    shutil.copytree(src_dir, copy / src_dir.name)
    db = tmp_path / f"fresh-{name}"
    run_index([copy / src_dir.name], db)
    return {k.replace(str(copy / src_dir.name), str(src_dir)): v for k, v in index_dump(str(db)).items()}


def test_first_run_then_unchanged(tmp_path):
    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    report, warnings = run_index([notes], db)
    assert (report.indexed, report.skipped, warnings) == (4, 0, [])
    assert report.segments_encoded > 0
    again, _ = run_index([notes], db)
    assert (again.indexed, again.unchanged, again.segments_encoded) == (0, 4, 0)


def test_appended_chat_encodes_only_the_new_segments_and_equals_a_fresh_index(tmp_path):
    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    first, _ = run_index([notes], db)
    write_chat(notes / "team.jsonl", chat_messages(34))  # four more messages
    report, _ = run_index([notes], db)
    assert report.indexed == 1
    assert report.segments_encoded <= 1 + 8  # the tail after the last snapshot (SNAPSHOT_EVERY = 8) plus the new one
    assert report.segments_reused > 0
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, "append")


def test_edited_note_reencodes_from_the_first_changed_segment(tmp_path):
    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    run_index([notes], db)
    messages = chat_messages(30)
    messages[20] = (messages[20][0], messages[20][1], "Ana", "edited: the launch moves to Friday")
    write_chat(notes / "team.jsonl", messages)
    report, _ = run_index([notes], db)
    assert 0 < report.segments_encoded < 10
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, "edit")


def test_deleted_and_ignored_files_leave_the_index(tmp_path):
    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    run_index([notes], db)
    (notes / "ideas.md").unlink()
    (notes / ".evosearchignore").write_text("2026-11-09.md\n")
    report, _ = run_index([notes], db)
    assert report.removed == 2
    paths = {v for v in open_index(str(db))[0].sources()}
    assert paths == {str(notes / "2026-11-02.md"), str(notes / "team.jsonl")}
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, "delete")


def test_a_shrunk_chat_drops_its_tail(tmp_path):
    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    run_index([notes], db)
    write_chat(notes / "team.jsonl", chat_messages(10))
    run_index([notes], db)
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, "shrink")


@pytest.mark.parametrize("crash_at", ["add_segments", "add_snapshots", "put_sources"])
@pytest.mark.parametrize("after_calls", [0, 1])
def test_a_crash_mid_index_leaves_a_queryable_index_and_the_next_run_finishes(tmp_path, monkeypatch, crash_at, after_calls):
    from evosearch import indexer, store as store_module

    monkeypatch.setattr(indexer, "WRITE_ROWS", 4)  # many small writes, so the crash lands mid-file
    notes = make_notes(tmp_path)
    write_chat(notes / "team.jsonl", chat_messages(60))
    db = tmp_path / "db"
    original = getattr(store_module.Store, crash_at)
    calls = {"n": 0}

    def crashing(self, *args, **kwargs):
        if calls["n"] >= after_calls:
            raise KeyboardInterrupt("killed")
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(store_module.Store, crash_at, crashing)
    with pytest.raises(KeyboardInterrupt):
        run_index([notes], db)
    monkeypatch.setattr(store_module.Store, crash_at, original)

    from evosearch.search import ask

    store, encoder = open_index(str(db))
    ask(store, encoder, "launch")  # queryable, no exception
    report, _ = run_index([notes], db)
    assert report.indexed >= 1
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, f"{crash_at}-{after_calls}")
    again, _ = run_index([notes], db)
    assert again.segments_encoded == 0


def test_bad_files_are_skipped_and_the_run_goes_on(tmp_path):
    notes = make_notes(tmp_path)
    (notes / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (notes / "latin1.md").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))  # decoded, not skipped (issue 17, item 9)
    (notes / "empty.md").write_text("")
    report, warnings = run_index([notes], tmp_path / "db")
    assert (report.indexed, report.skipped) == (5, 2)
    assert len(warnings) == 2 and all(str(notes) in w for w in warnings)
    assert all("\n" not in w for w in warnings)
    assert report.ok


def test_nothing_indexable_is_a_failed_run(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.md").write_bytes(b"\x00\x01\x02")
    report, warnings = run_index([bad], tmp_path / "db")
    assert not report.ok and len(warnings) == 1


def test_permission_denied_is_one_warning(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    notes = make_notes(tmp_path)
    locked = notes / "locked.md"
    locked.write_text("secret")
    locked.chmod(0)
    report, warnings = run_index([notes], tmp_path / "db")
    assert report.skipped == 1 and "locked.md" in warnings[0]


def test_an_object_store_uri_works_end_to_end(tmp_path):
    """file-object-store:// goes through the object-store path of LanceDB and lance, as s3:// or
    gs:// would (no local folder as far as evosearch can tell)."""
    from evosearch.search import ask

    notes = make_notes(tmp_path)
    store, encoder = open_index(f"file-object-store://{tmp_path}/db", write=True)
    report = index_paths([notes], store, encoder, print)
    assert report.indexed == 4
    assert ask(store, encoder, "SQLite")["results"][0]["path"].endswith("2026-11-02.md")
    assert store.stats()["size_bytes"] is None
    assert index_paths([notes], store, encoder, print).unchanged == 4


def test_a_renamed_file_reuses_its_vectors(tmp_path):
    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    run_index([notes], db)
    (notes / "team.jsonl").rename(notes / "team-chat.jsonl")
    (notes / "ideas.md").rename(notes / "garden-ideas.md")
    (notes / "2026-11-09.md").rename(notes / "2026-11-10.md")  # the date in its name changes its segments
    report, _ = run_index([notes], db)
    assert (report.renamed, report.indexed, report.removed) == (2, 1, 1)
    assert report.segments_encoded == len([k for k in index_dump(str(db)) if "2026-11-10.md" in k])
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, "rename")
    assert set(open_index(str(db))[0].sources()) == {str(p) for p in notes.iterdir()}


def test_one_huge_chat_gets_its_vector_index_in_bounded_steps_while_it_is_indexed(tmp_path, monkeypatch):
    """The vector index is built as soon as the rows pass the threshold and extended in parts
    as they keep coming: no build ever covers the whole run (memory grows with the rows a build
    covers), and every segment is in the index at the end."""
    from evosearch import indexer as indexer_module
    from evosearch.store import SEGMENTS, maintenance

    monkeypatch.setattr(maintenance, "ANN_MIN_SEGMENTS", 200)
    monkeypatch.setattr(maintenance, "ANN_REBUILD_MAX_SEGMENTS", 400)
    monkeypatch.setattr(maintenance, "ANN_DELTA_SEGMENTS", 150)
    monkeypatch.setattr(indexer_module, "WRITE_ROWS", 50)
    notes = tmp_path / "notes"
    notes.mkdir()
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    topics = ["the launch moves", "vendor Acme", "SQLite over Postgres", "the shed roof", "train tickets", "the budget"]
    messages = [
        (f"m{i}", (start + timedelta(hours=i)).isoformat(), "Ana" if i % 2 else "Ben", f"message {i} about {topics[i % 6]} and {topics[i % 5]}")
        for i in range(4000)
    ]
    write_chat(notes / "years.jsonl", messages)
    store, encoder = open_index(str(tmp_path / "db"), write=True)
    covered = []
    real_create = store.table(SEGMENTS).create_index

    def spy(column, **kwargs):
        if column == "vector":
            covered.append(store.table(SEGMENTS).count_rows())
        return real_create(column, **kwargs)

    monkeypatch.setattr(store.table(SEGMENTS), "create_index", spy)
    index_paths([notes], store, encoder, print)
    rows = store.table(SEGMENTS).count_rows()
    assert rows > 800  # one file, several times the rebuild limit
    assert covered and max(covered) <= 400, covered  # built at 200-250 rows, maybe rebuilt once, never over all
    stats = store.table(SEGMENTS).index_stats(next(i.name for i in store.table(SEGMENTS).list_indices() if "vector" in i.columns))
    assert stats.num_indices > 1 and stats.num_indexed_rows + stats.num_unindexed_rows == rows


def test_an_in_memory_uri_is_refused_with_a_clear_message():
    from evosearch.errors import StoreError

    with pytest.raises(StoreError, match="cannot live at memory://"):
        open_index("memory://evosearch-test", write=True)


def test_rows_stored_twice_are_repaired_by_the_next_run(tmp_path):
    """What two writers at once left behind (issue 17): every segment, snapshot and source row twice.
    The next run keeps one of each, and the index equals a clean one."""
    from evosearch.store import SEGMENTS, SNAPSHOTS, SOURCES, Store

    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    run_index([notes], db)
    clean = index_dump(str(db))
    with Store.open(str(db), write=True) as store:
        for name in (SEGMENTS, SNAPSHOTS, SOURCES):
            store.table(name).add(store.table(name).to_arrow())
        doubled = store.table(SEGMENTS).count_rows()
    assert doubled == 2 * len(clean)

    report, warnings = run_index([notes], db)
    assert report.segments_encoded == 0 and any("stored twice" in w for w in warnings)
    store = Store.open(str(db))
    ids = store.table(SEGMENTS).to_arrow().column("id").to_pylist()
    assert len(ids) == len(set(ids)) == len(clean)
    paths = store.table(SOURCES).to_arrow().column("path").to_pylist()
    assert sorted(paths) == sorted({str(p) for p in notes.iterdir()})
    assert index_dump(str(db)) == clean
    again, warnings = run_index([notes], db)
    assert (again.unchanged, warnings) == (4, [])


def test_a_duplicated_row_from_another_version_is_reencoded(tmp_path):
    """Two writers that saw different contents: the row kept for a position may be the stale one;
    the repaired file is compared with its rows segment by segment, so the index ends up current."""
    from evosearch.store import SEGMENTS, Store

    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    run_index([notes], db)
    clean = index_dump(str(db))
    with Store.open(str(db), write=True) as store:
        rows = store.table(SEGMENTS).search().where("path LIKE '%team.jsonl'").limit(None).to_arrow().to_pylist()
        for r in rows:
            r.update(text="stale " + r["text"], content_hash="0" * 40)
        store.table(SEGMENTS).add(rows)
    report, _ = run_index([notes], db)
    assert report.segments_encoded == len(rows)  # only the chat's stream, re-encoded from its start
    assert index_dump(str(db)) == clean


def test_a_file_deleted_mid_run_is_reported_as_gone_not_as_a_permission_problem(tmp_path, monkeypatch):
    import evosearch.indexer as indexer
    from evosearch.errors import SourceError
    from evosearch.sources.detect import read_source

    notes = make_notes(tmp_path)
    walk = indexer.iter_sources

    def walk_then_delete(roots, warn):  # the walk listed it; it was deleted before it was read
        yield from walk(roots, warn)
        yield notes / "deleted-meanwhile.md", None

    monkeypatch.setattr(indexer, "iter_sources", walk_then_delete)
    report, warnings = run_index([notes], tmp_path / "db")
    assert report.indexed == 4 and report.skipped == 1
    assert warnings == [f"{notes / 'deleted-meanwhile.md'}: gone before it could be read (deleted or moved during the run)"]
    with pytest.raises(SourceError, match="gone before it could be read"):
        read_source(notes / "deleted-meanwhile.md", print)


def _rows_of(db, path) -> dict[int, list[str]]:
    """position -> texts stored for the file at path (more than one text: a position stored twice)."""
    from evosearch.store import Store

    rows = Store.open(str(db)).table("segments").to_arrow().to_pylist()
    by_position: dict[int, list[str]] = {}
    for r in rows:
        if r["path"] == str(path):
            by_position.setdefault(r["position"], []).append(r["text"])
    return by_position


@pytest.mark.parametrize("encoded_before_kill", [0, 3, 9])
def test_an_edited_file_stays_searchable_when_the_run_is_killed(tmp_path, monkeypatch, encoded_before_kill):
    """Issue 17, item 4: the old rows are replaced, never deleted before the new ones exist.
    After a kill every position holds exactly one row (old or new), and the next run equals a clean index."""
    from evosearch import indexer

    notes = make_notes(tmp_path)
    chat = notes / "team.jsonl"
    write_chat(chat, chat_messages(60))
    db = tmp_path / "db"
    run_index([notes], db)
    before = _rows_of(db, chat)
    assert len(before) > 6

    messages = chat_messages(60)
    messages[2] = (messages[2][0], messages[2][1], "Ana", "edited: the launch moves to Friday")
    write_chat(chat, messages[:-12])  # edited near the start and shrunk: old rows to replace and a tail to drop
    monkeypatch.setattr(indexer, "WRITE_ROWS", 2)  # several commits, so a kill lands between them
    encode = indexer.encode_streams

    def killed_after(jobs, encoder):
        for n, out in enumerate(encode(jobs, encoder)):
            if n == encoded_before_kill:
                raise KeyboardInterrupt("killed")
            yield out

    monkeypatch.setattr(indexer, "encode_streams", killed_after)
    with pytest.raises(KeyboardInterrupt):
        run_index([notes], db)
    monkeypatch.setattr(indexer, "encode_streams", encode)

    after_kill = _rows_of(db, chat)
    assert all(len(texts) == 1 for texts in after_kill.values()), "a position stored twice"
    assert sorted(after_kill) == sorted(before), "rows of the edited file vanished before their replacements existed"
    report, _ = run_index([notes], db)
    assert report.indexed == 1
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, f"killed-edit-{encoded_before_kill}")
    again, _ = run_index([notes], db)
    assert (again.indexed, again.segments_encoded) == (0, 0)


@pytest.mark.parametrize(
    ("crash_at", "after_calls"),  # mark_replacing runs once per group
    [(step, n) for step in ("put_sources", "replace_segments", "add_snapshots", "delete_stream_tails") for n in (0, 1)]
    + [("mark_replacing", 0)],
)
def test_a_crash_between_the_steps_of_a_replacement_loses_no_position(tmp_path, monkeypatch, crash_at, after_calls):
    from evosearch import indexer, store as store_module

    notes = make_notes(tmp_path)
    chat = notes / "team.jsonl"
    write_chat(chat, chat_messages(60))
    db = tmp_path / "db"
    run_index([notes], db)
    messages = chat_messages(48)
    messages[2] = (messages[2][0], messages[2][1], "Ana", "edited: the launch moves to Friday")
    write_chat(chat, messages)
    new_length = len(indexer.segment_stream(indexer.read_source(chat, print)[0]))
    monkeypatch.setattr(indexer, "WRITE_ROWS", 2)
    original = getattr(store_module.Store, crash_at)
    calls = {"n": 0}

    def crashing(self, *args, **kwargs):
        if calls["n"] >= after_calls:
            raise KeyboardInterrupt("killed")
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(store_module.Store, crash_at, crashing)
    with pytest.raises(KeyboardInterrupt):
        run_index([notes], db)
    monkeypatch.setattr(store_module.Store, crash_at, original)

    rows = _rows_of(db, chat)
    assert all(len(texts) == 1 for texts in rows.values()), "a position stored twice"
    assert sorted(rows) == list(range(len(rows))) and len(rows) >= new_length, "a position lost"
    run_index([notes], db)
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, f"replace-{crash_at}-{after_calls}")


def test_a_linked_file_is_indexed_under_the_link_and_leaves_with_it(tmp_path):
    """Issue 17, item 8: the rule is that a link to a file is indexed under the link's path (what the
    folder holds), read from its target; when the link goes, its rows go. A link to a file the run
    indexes anyway is not indexed twice."""
    from evosearch.store import Store

    notes = make_notes(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "shared.md").write_text("# Shared\n\nThe boat trip is on Saturday.\n")
    (notes / "shared.md").symlink_to(outside / "shared.md")
    (notes / "again.md").symlink_to(notes / "ideas.md")
    db = tmp_path / "db"
    report, warnings = run_index([notes], db)
    assert (report.indexed, warnings) == (5, [])
    paths = {r["path"] for r in Store.open(str(db)).table("segments").to_arrow().select(["path"]).to_pylist()}
    assert str(notes / "shared.md") in paths
    assert not any(p.startswith(str(outside)) for p in paths) and str(notes / "again.md") not in paths

    (notes / "shared.md").unlink()
    report, _ = run_index([notes], db)
    assert report.removed == 1
    paths = {r["path"] for r in Store.open(str(db)).table("segments").to_arrow().select(["path"]).to_pylist()}
    assert str(notes / "shared.md") not in paths
    run_index([notes], tmp_path / "fresh")  # not a copy: copying would turn the other link into a file
    assert index_dump(str(db)) == index_dump(str(tmp_path / "fresh"))


def test_progress_advances_after_every_encoder_call_and_the_first_call_is_timed_apart(tmp_path):
    """Issue 18: progress moved only when 512 rows were written; and the first call, which loads
    (or on a first run builds) the model, is reported and left out of the rate."""
    import time

    from evosearch.indexer import IndexProgress

    store, encoder = open_index(str(tmp_path / "db"), write=True)
    calls = []

    class Slow:  # the encoder, with a first call as slow as loading a model
        def __getattr__(self, name):
            return getattr(encoder, name)

        def encode(self, texts, memory):
            if not calls:
                time.sleep(0.3)
            calls.append(len(texts))
            return encoder.encode(texts, memory)

    events = []

    class Recorder(IndexProgress):
        def encoder_starting(self):
            events.append("starting")

        def encoder_ready(self):
            events.append("ready")

        def segments_done(self, count):
            events.append(count)

    report = index_paths([make_notes(tmp_path)], store, Slow(), print, Recorder())
    assert events[:2] == ["starting", "ready"] and events.count("starting") == events.count("ready") == 1
    assert events[2:] == calls and len(calls) > 1  # one advance per encoder call, each by its batch
    assert sum(calls) == report.segments_encoded
    assert 0.3 <= report.preparing_seconds < report.seconds
    assert report.segments_per_s == pytest.approx(report.segments_encoded / (report.seconds - report.preparing_seconds))


def _bm25(db, queries):
    """Each query's full-text hits as (path, position) -> BM25, from the index at db."""
    from evosearch.store import open_for_search

    store = open_for_search(str(db))
    return [{(r["path"], r["position"]): round(r["bm25"], 4) for r in store.text_search(q, 50, None, ["path", "position"])} for q in queries]


def test_full_text_scores_after_edits_deletions_and_forget_equal_a_clean_index(tmp_path):
    # BM25's statistics must count the live rows only: an index with a history of replaced,
    # deleted and forgotten rows ranks exactly as a clean index of the same files.
    from evosearch.indexer import forget_paths

    notes = make_notes(tmp_path)
    for i in range(6):
        (notes / f"extra-{i}.md").write_text(f"# Extra {i}\n\nThe launch plan and the budget, note {i}. " * (i + 1))
    db = tmp_path / "db"
    run_index([notes], db)
    (notes / "extra-1.md").write_text("# Extra 1\n\nRewritten: the budget moved to March, and the launch is off.")
    (notes / "extra-2.md").unlink()
    messages = chat_messages(30)
    messages[5] = (messages[5][0], messages[5][1], "Ana", "edited: the budget is final")
    write_chat(notes / "team.jsonl", messages)
    run_index([notes], db)
    store, _ = open_index(str(db), write=True)
    with store:
        forget_paths(store, [notes / "extra-3.md"])
    (notes / "extra-3.md").unlink()
    queries = ["launch plan", "budget", "friday"]
    history = _bm25(db, queries)
    assert all(history), history  # the queries match something
    assert history == [{(p.replace("copy-bm25/", ""), n): s for (p, n), s in q.items()} for q in _clean_bm25(notes, tmp_path, queries)]


def _clean_bm25(notes, tmp_path, queries):
    copy = tmp_path / "copy-bm25"
    shutil.copytree(notes, copy / notes.name)
    db = tmp_path / "fresh-bm25"
    run_index([copy / notes.name], db)
    return _bm25(db, queries)


def indexed_texts(db) -> list[str]:
    from evosearch.store import Store

    return Store.open(str(db)).table("segments").to_arrow().column("text").to_pylist()


def test_a_messenger_thread_edited_only_in_message_2_is_reindexed(tmp_path):
    """The walk yields message_1.json alone and its reader merges message_2.json...: a change in a later
    part, a part added or a part removed must still make the thread's source count as changed."""
    import json

    from .test_sources_meta import write_thread

    folder = tmp_path / "messages" / "inbox" / "zoemuller_1234567890"
    write_thread(folder)
    db = tmp_path / "db"
    first, warnings = run_index([tmp_path / "messages"], db)
    assert (first.indexed, warnings) == (1, [])
    part_1 = (folder / "message_1.json").stat()
    older = json.loads((folder / "message_2.json").read_text())
    older["messages"][1]["content"] = "Lunch at the harbour next week?"
    (folder / "message_2.json").write_text(json.dumps(older))
    assert (folder / "message_1.json").stat().st_mtime == part_1.st_mtime  # untouched
    report, _ = run_index([tmp_path / "messages"], db)
    assert (report.indexed, report.unchanged) == (1, 0)
    texts = indexed_texts(db)
    assert any("harbour" in t for t in texts) and not any("Lunch next week?" in t for t in texts)
    assert index_dump(str(db)) == fresh_copy_dump(tmp_path / "messages", tmp_path, "messenger")
    # a part removed counts too
    (folder / "message_2.json").unlink()
    report, _ = run_index([tmp_path / "messages"], db)
    assert report.indexed == 1 and not any("harbour" in t for t in indexed_texts(db))
    again, _ = run_index([tmp_path / "messages"], db)
    assert (again.indexed, again.unchanged) == (0, 1)


def test_a_google_chat_space_renamed_in_group_info_alone_is_reindexed(tmp_path):
    """The title of a Google Chat space comes from group_info.json beside messages.json."""
    import json

    from .test_sources_google_chat import write_takeout

    space = write_takeout(tmp_path)
    db = tmp_path / "db"
    run_index([tmp_path / "Takeout"], db)
    (space / "group_info.json").write_text(json.dumps({"name": "Allotment 2027", "members": []}))
    report, _ = run_index([tmp_path / "Takeout"], db)
    assert (report.indexed, report.unchanged) == (1, 0)
    assert index_dump(str(db)) == fresh_copy_dump(tmp_path / "Takeout", tmp_path, "google-chat")
    # No message changed, so no row is written again: the title is what must still change in them.
    assert report.segments_encoded == 0
    assert {r["title"] for r in Store.open(str(db)).table("segments").to_arrow().to_pylist()} == {"Allotment 2027"}


def test_slack_day_files_are_reindexed_when_only_users_json_changes(tmp_path):
    """A Slack folder export's speakers' names come from users.json two levels above each day file."""
    import json

    from .test_sources_slack import USERS, write_export

    export = write_export(tmp_path / "slack")
    db = tmp_path / "db"
    first, _ = run_index([export], db)
    renamed = [{**u, "profile": {**u["profile"], "display_name": "Ana Renamed"}} if u["id"] == "U01ANA" else u for u in USERS]
    (export / "users.json").write_text(json.dumps(renamed))
    report, _ = run_index([export], db)
    # Day files where Ana says something are re-encoded; one where she does not is read and found unchanged.
    assert 0 < report.indexed < first.indexed == report.indexed + report.unchanged
    assert any("Ana Renamed" in t for t in indexed_texts(db))
    assert index_dump(str(db)) == fresh_copy_dump(export, tmp_path, "slack")


def test_files_cut_by_an_older_segmentation_are_cut_again_and_only_what_changed_is_encoded(tmp_path, monkeypatch):
    """An upgrade that cuts streams differently must reach an existing index: its unchanged files
    would otherwise keep the old cut for good (`index` skips a file of the same size and mtime)."""
    from evosearch import indexer, segment

    notes = make_notes(tmp_path)
    messages = chat_messages(30)
    long_turn = " ".join(f"Sentence {i} says the shed roof needs {i} more tiles before the winter comes." for i in range(8))
    messages[25] = (*messages[25][:3], long_turn)
    write_chat(notes / "team.jsonl", messages)
    db = tmp_path / "db"
    with monkeypatch.context() as older:
        older.setattr(segment, "CHAT_PIECE_TOKENS", segment.CHAT_SEGMENT_TOKENS)  # a cut of another version
        older.setattr(indexer, "SEGMENTATION", "older")
        run_index([notes], db)

    report, _ = run_index([notes], db)
    assert (report.indexed, report.unchanged) == (1, 3)  # every file read again; only the chat is cut differently
    assert report.segments_encoded > 0  # the chat, from its long message on
    assert report.segments_reused > 0  # its segments before the long message keep their vectors
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, "recut")
    again, _ = run_index([notes], db)
    assert (again.indexed, again.unchanged, again.segments_encoded) == (0, 4, 0)


def test_an_index_from_before_sections_had_names_is_searched_then_given_them(tmp_path, monkeypatch):
    """An index written before the section column existed: `ask` reads it as it is, and the next
    `index` adds the column and rewrites the documents' rows with their sections, as a fresh index."""
    from dataclasses import replace

    from evosearch import indexer, segment
    from evosearch.search import ask as search_ask

    def ask(query, db):
        return search_ask(*open_index(db), query)

    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    cut = segment._make_segment
    with monkeypatch.context() as older:
        older.setattr(segment, "_make_segment", lambda *a: replace(cut(*a), section=None))
        older.setattr(indexer, "SEGMENTATION", "older")
        run_index([notes], db)
    Store.open(str(db)).table("segments").drop_columns(["section"])

    answer = ask("the garden shed", db=str(db))
    assert answer["results"] and all(r["section"] is None for r in answer["results"])

    report, _ = run_index([notes], db)
    assert (report.indexed, report.unchanged) == (3, 1)  # the notes get their sections; the chat is read and kept
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, "named")
    answer = ask("the garden shed", db=str(db))
    assert answer["results"][0]["section"] == "Ideas"


def test_blank_lines_added_above_passages_move_their_lines_without_encoding_them_again(tmp_path):
    """A dated note's passages keep their text, time and hash when blank lines are added above them:
    their rows are kept, and must point at the lines they are on now."""
    notes = tmp_path / "notes"
    notes.mkdir()
    paragraphs = [" ".join(f"{topic} {i}" for i in range(60)) + "." for topic in ("shed", "garden", "budget")]  # a segment each
    note = notes / "2026-10-30.md"
    note.write_text("\n\n".join(paragraphs) + "\n")
    db = tmp_path / "db"
    run_index([notes], db)
    note.write_text(paragraphs[0] + "\n\n\n\n\n" + paragraphs[1] + "\n\n" + paragraphs[2] + "\n")
    report, _ = run_index([notes], db)
    assert (report.indexed, report.segments_encoded, report.segments_reused) == (1, 0, 3)
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, "moved")
    assert sorted(v[3:5] for v in index_dump(str(db)).values()) == [(1, 1), (6, 6), (8, 8)]


def test_an_undated_note_edited_at_its_end_is_encoded_again_from_the_edit_only(tmp_path):
    """A note without a date takes the file's modification time, which every save changes: the
    passages before an edit keep their vectors, and their rows take the new time."""
    notes = tmp_path / "notes"
    notes.mkdir()
    paragraphs = [" ".join(f"{topic} {i}" for i in range(60)) + "." for topic in ("shed", "garden", "budget", "travel")]  # a segment each
    note = notes / "ideas.md"
    note.write_text("\n\n".join(paragraphs[:3]) + "\n")
    os.utime(note, (1_700_000_000, 1_700_000_000))
    db = tmp_path / "db"
    run_index([notes], db)
    note.write_text("\n\n".join(paragraphs) + "\n")
    os.utime(note, (1_700_086_400, 1_700_086_400))
    report, _ = run_index([notes], db)
    assert report.segments_encoded <= 2 and report.segments_reused >= 2  # the new passage, and the one read before it
    dump = index_dump(str(db))
    assert dump == fresh_copy_dump(notes, tmp_path, "edited")
    assert {v[5] for v in dump.values()} == {datetime.fromtimestamp(1_700_086_400, timezone.utc)}


def test_index_reads_a_segment_ahead_within_its_section_only(tmp_path):
    words = lambda w: " ".join([w] * 80)  # noqa: E731 - about 105 tokens: one paragraph per segment
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "guide.md").write_text(f"## Setup\n{words('alpha')}\n\n{words('beta')}\n\n## Usage\n{words('gamma')}\n")
    store, _ = open_index(str(tmp_path / "db"), write=True)
    encoder = ReadsAhead()
    with store:
        index_paths([notes], store, encoder, print)
    alpha, beta, gamma = f"## Setup\n{words('alpha')}", words("beta"), f"## Usage\n{words('gamma')}"
    assert encoder.seen == {alpha: beta, beta: None, gamma: None}  # not read into the next section
