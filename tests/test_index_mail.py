"""Incremental indexing of mail folders: a folder of .eml files (or a Maildir) is one source, threaded across files."""

from __future__ import annotations

import pytest

from evosearch.api import open_index
from evosearch.store import Store

from .helpers import index_dump
from .test_index import fresh_copy_dump, run_index
from .test_sources_mail import ANA, BEN, T0, inbox, mail


def write_folder(folder, messages) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for m in messages:
        (folder / f"{m['Subject'].replace(':', '')} {m['Message-ID'].strip('<>')}.eml").write_bytes(bytes(m))


def stored(db) -> tuple[dict[str, list[str]], list[tuple[str, int]]]:
    """(source path -> its stream ids, every (stream, position) stored): what must hold no leftovers or twins."""
    store = Store.open(str(db))
    rows = store.table("segments").to_arrow().to_pylist()
    return {p: sorted(r.stream_ids) for p, r in store.sources().items()}, sorted((r["stream_id"], r["position"]) for r in rows)


def texts(db) -> list[str]:
    return Store.open(str(db)).table("segments").to_arrow().column("text").to_pylist()


def test_a_reply_saved_as_a_new_file_joins_its_thread_and_a_deleted_file_leaves(tmp_path):
    folder = tmp_path / "mail" / "Saved"
    write_folder(folder, inbox()[:2])  # 1@x and its reply 3@x (which names 2@x, not there yet)
    db = tmp_path / "db"
    first, warnings = run_index([tmp_path / "mail"], db)
    assert (first.indexed, warnings) == (1, [])
    sources, rows = stored(db)
    assert sources == {str(folder): [f"{folder}#1@x"]}
    # the missing middle message arrives as a file of its own: same stream, in time order
    write_folder(folder, inbox()[2:3])
    report, _ = run_index([tmp_path / "mail"], db)
    assert (report.indexed, report.unchanged) == (1, 0)
    sources, rows = stored(db)
    assert sources == {str(folder): [f"{folder}#1@x"]} and len(rows) == len(set(rows))
    assert index_dump(str(db)) == fresh_copy_dump(tmp_path / "mail", tmp_path, "reply")
    assert any("March works for me" in t for t in texts(db))
    # a new thread in a new file: the other threads' rows are reused, not encoded again
    write_folder(folder, inbox()[3:4])
    report, _ = run_index([tmp_path / "mail"], db)
    assert report.segments_reused > 0 and report.segments_encoded == 1
    # deleting a file drops its message; deleting a thread's only file drops the stream
    (folder / f"Re Cabin trip 2@x.eml").unlink()
    (folder / f"Weekly digest 4@x.eml").unlink()
    report, _ = run_index([tmp_path / "mail"], db)
    assert report.indexed == 1
    assert not any("March works for me" in t or "Seed swap" in t for t in texts(db))
    sources, rows = stored(db)
    assert sources == {str(folder): [f"{folder}#1@x"]} and len(rows) == len(set(rows))
    assert index_dump(str(db)) == fresh_copy_dump(tmp_path / "mail", tmp_path, "delete")
    again, _ = run_index([tmp_path / "mail"], db)
    assert (again.indexed, again.unchanged, again.segments_encoded) == (0, 1, 0)
    # the last file gone: the mail folder leaves the index, even when it is the folder indexed
    for file in folder.iterdir():
        file.unlink()
    report, _ = run_index([folder], db)
    assert report.removed == 1 and stored(db) == ({}, [])


def test_an_edited_message_file_reencodes_only_its_thread(tmp_path):
    folder = tmp_path / "mail"
    write_folder(folder, inbox())
    db = tmp_path / "db"
    run_index([folder], db)
    edited = mail("5@x", BEN, T0.replace(day=5), "Photos", body="The photos from the walk, and one of the heron.", attachment="walk.png")
    (folder / "Photos 5@x.eml").write_bytes(bytes(edited))
    report, _ = run_index([folder], db)
    assert report.indexed == 1 and report.segments_encoded == 1  # the Photos thread fits one segment
    assert index_dump(str(db)) == fresh_copy_dump(folder, tmp_path, "edit")


def test_an_index_of_single_eml_sources_is_replaced_by_the_folder_source(tmp_path):
    """An index built when each .eml was a source of its own (here: the files named one by one, which
    still reads each alone) holds per-file streams; indexing the folder replaces them, leaving no twins."""
    folder = tmp_path / "mail"
    write_folder(folder, inbox())
    db = tmp_path / "db"
    files = sorted(folder.iterdir())
    run_index(files, db)
    sources, _ = stored(db)
    assert sorted(sources) == [str(f) for f in files]
    report, _ = run_index([folder], db)
    assert report.removed == len(files)
    sources, rows = stored(db)
    assert list(sources) == [str(folder)] and all(sid.startswith(f"{folder}#") for sid, _ in rows)
    assert index_dump(str(db)) == fresh_copy_dump(folder, tmp_path, "migrate")


@pytest.mark.parametrize("crash_at", ["delete_source", "put_sources"])
def test_a_run_killed_while_the_per_file_sources_are_replaced_is_finished_by_the_next(tmp_path, monkeypatch, crash_at):
    from evosearch import store as store_module

    folder = tmp_path / "mail"
    write_folder(folder, inbox())
    db = tmp_path / "db"
    run_index(sorted(folder.iterdir()), db)
    original = getattr(store_module.Store, crash_at)

    def crashing(self, *args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(store_module.Store, crash_at, crashing)
    with pytest.raises(KeyboardInterrupt):
        run_index([folder], db)
    monkeypatch.setattr(store_module.Store, crash_at, original)
    from evosearch.search import ask

    store, encoder = open_index(str(db))
    assert ask(store, encoder, "cabin")  # searchable in between: old rows, new rows or both
    run_index([folder], db)
    assert list(stored(db)[0]) == [str(folder)]
    assert index_dump(str(db)) == fresh_copy_dump(folder, tmp_path, f"killed-{crash_at}")


def test_a_maildir_message_moved_from_new_to_cur_encodes_nothing(tmp_path):
    root = tmp_path / "home"
    box = root / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    for n, m in enumerate(inbox()):
        (box / "new" / f"17960000{n:02d}.M{n}P1.host").write_bytes(bytes(m))
    db = tmp_path / "db"
    first, warnings = run_index([root], db)
    assert (first.indexed, warnings) == (1, [])
    moved = box / "new" / "1796000000.M0P1.host"
    moved.rename(box / "cur" / "1796000000.M0P1.host:2,S")  # read in a mail client: flagged seen
    report, _ = run_index([root], db)
    assert report.segments_encoded == 0
    assert index_dump(str(db)) == fresh_copy_dump(root, tmp_path, "moved")
    (box / "new" / "1796000009.M9P1.host").write_bytes(bytes(mail("9@x", ANA, T0.replace(day=9), "Re: Photos", body="Framed one.", reply_to="5@x")))
    report, _ = run_index([root], db)
    assert report.indexed == 1 and any("Framed one." in t for t in texts(db))
    assert index_dump(str(db)) == fresh_copy_dump(root, tmp_path, "delivered")


def test_a_bad_file_in_a_mail_folder_is_one_warning_and_is_read_once_it_is_mail(tmp_path):
    folder = tmp_path / "mail"
    write_folder(folder, inbox()[:1])
    (folder / "broken.eml").write_bytes(b"\x00\x01 not mail")
    db = tmp_path / "db"
    report, warnings = run_index([folder], db)
    assert report.indexed == 1 and warnings == [f"{folder}: 1 file not read as mail (broken.eml: not a mail message)"]
    (folder / "broken.eml").write_bytes(bytes(inbox()[3]))
    report, warnings = run_index([folder], db)
    assert (report.indexed, warnings) == (1, []) and any("Seed swap" in t for t in texts(db))


def test_an_unreadable_message_file_is_read_once_it_can_be(tmp_path, monkeypatch):
    """Root reads every file, so the refusal is simulated where the indexer and the reader open files."""
    from evosearch import indexer
    from evosearch.sources import detect

    folder = tmp_path / "mail"
    write_folder(folder, inbox()[:4])
    locked = folder / "Weekly digest 4@x.eml"
    open_file, read_bytes = indexer.open_source_file, detect._read_bytes

    def opening(path):
        if path == locked:
            raise PermissionError(13, "Permission denied")
        return open_file(path)

    def reading(path):
        if path == locked:
            raise PermissionError(13, "Permission denied")
        return read_bytes(path)

    monkeypatch.setattr(indexer, "open_source_file", opening)
    monkeypatch.setattr(detect, "_read_bytes", reading)
    db = tmp_path / "db"
    report, warnings = run_index([folder], db)
    assert report.indexed == 1 and warnings == [f"{folder}: 1 file not read as mail (Weekly digest 4@x.eml: Permission denied)"]
    assert not any("Seed swap" in t for t in texts(db))
    monkeypatch.setattr(indexer, "open_source_file", open_file)
    monkeypatch.setattr(detect, "_read_bytes", read_bytes)
    # permissions fixed: nothing else changed (same sizes and mtimes), and still the folder is read again
    report, warnings = run_index([folder], db)
    assert (report.indexed, warnings) == (1, []) and any("Seed swap" in t for t in texts(db))
    again, _ = run_index([folder], db)
    assert (again.indexed, again.unchanged) == (0, 1)


def test_forgetting_one_message_file_of_a_mail_folder_says_how_and_changes_nothing(tmp_path):
    from evosearch.errors import EvosearchError
    from evosearch.indexer import forget_paths

    folder = tmp_path / "mail" / "Saved"
    write_folder(folder, inbox()[:3])
    db = tmp_path / "db"
    run_index([tmp_path / "mail"], db)
    before = stored(db)
    one = next(folder.glob("*.eml"))
    store = Store.open(str(db))
    with pytest.raises(EvosearchError) as raised:
        forget_paths(store, [one])
    assert f"is a message of the mailbox {folder}" in str(raised.value)
    assert ".evosearchignore" in raised.value.hint
    assert stored(db) == before
    assert forget_paths(store, [folder]) == 1  # the mailbox itself can be forgotten
