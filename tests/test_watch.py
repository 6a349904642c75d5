"""`watch` against a real watchdog observer: every kind of change ends up searchable."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from evosearch.api import open_index
from evosearch.search import ask
from evosearch.watch import ChangeQueue, service_files, watch

from .helpers import chat_messages, index_dump, make_notes, write_chat
from .test_index import fresh_copy_dump

TIMEOUT_S = 20


@pytest.fixture
def watcher(tmp_path):
    notes = make_notes(tmp_path)
    db = str(tmp_path / "db")
    store, encoder = open_index(db, write=True)
    stop = threading.Event()
    states = []
    thread = threading.Thread(
        target=lambda: states.append(watch([notes], store, encoder, stop, print, debounce_s=0.2)), daemon=True
    )
    thread.start()

    def wait_for(check, what):
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.1)
        raise AssertionError(f"not searchable after {TIMEOUT_S}s: {what}")

    def top_paths(query, **kw):
        return [r["path"] for r in ask(store, encoder, query, **kw)["results"][:3]]

    wait_for(lambda: store.sources(), "startup reconcile")
    yield notes, store, wait_for, top_paths
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_create_append_edit_rename_delete(watcher):
    notes, store, wait_for, top_paths = watcher
    new = notes / "zebra.md"
    new.write_text("# Zebra\n\nThe zebra crossing project starts.\n")
    wait_for(lambda: str(new) in top_paths("zebra crossing"), "created file")

    write_chat(notes / "team.jsonl", chat_messages(30) + [("m900", "2026-11-20T10:00:00+00:00", "Ana", "quokka budget approved")])
    wait_for(lambda: any("team.jsonl" in p for p in top_paths("quokka budget")), "appended message")

    new.write_text("# Zebra\n\nThe narwhal survey replaces it.\n")
    wait_for(lambda: str(new) in top_paths("narwhal survey"), "edited file")

    moved = notes / "sub"
    moved.mkdir()
    new.rename(moved / "zebra-renamed.md")
    wait_for(lambda: str(moved / "zebra-renamed.md") in top_paths("narwhal survey") and str(new) not in store.sources(), "renamed file")

    (moved / "zebra-renamed.md").unlink()
    wait_for(lambda: str(moved / "zebra-renamed.md") not in store.sources(), "deleted file")


def test_atomic_save_and_a_burst_of_saves(watcher):
    notes, store, wait_for, top_paths = watcher
    target = notes / "ideas.md"
    tmp = notes / ".ideas.md.swp"
    tmp.write_text("---\ndate: 2026-10-20\n---\n# Ideas\n\nA platypus pond.\n")
    os.replace(tmp, target)  # the editor's atomic save
    wait_for(lambda: str(target) in top_paths("platypus pond"), "atomic save")
    assert str(target) in store.sources()

    burst = notes / "burst.md"
    for i in range(100):
        burst.write_text(f"# Burst\n\nversion {i} of the axolotl plan\n")
    wait_for(lambda: any("version 99" in r["text"] for r in ask(store, encoder_of(store), "axolotl plan")["results"]), "last of 100 saves")


def encoder_of(store):
    return open_index(store.uri)[1]


def test_change_queue_debounces_bursts():
    queue = ChangeQueue(debounce_s=0.1)
    for _ in range(100):
        queue.add("/a")
    queue.add("/b")
    assert queue.pop_settled() == []  # still busy
    time.sleep(0.15)
    assert sorted(queue.pop_settled()) == ["/a", "/b"]
    assert queue.pop_settled() == [] and queue.events_seen == 101


def test_print_service_has_a_systemd_unit_and_a_launchd_plist():
    text = service_files("/usr/bin/evosearch", "/tmp/w.log", None)
    assert "ExecStart=/usr/bin/evosearch watch --quiet --log /tmp/w.log" in text
    assert "<string>/usr/bin/evosearch</string><string>watch</string>" in text


def test_print_service_keeps_the_index_named_by_evosearch_db(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from evosearch.cli.app import app

    monkeypatch.setenv("EVOSEARCH_DB", str(tmp_path / "elsewhere"))
    result = CliRunner().invoke(app, ["watch", "--print-service"])
    assert result.exit_code == 0 and f"--db {tmp_path / 'elsewhere'}" in result.stdout


WATCH_CLI = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"


def test_sigkill_mid_write_then_the_next_start_repairs(tmp_path):
    notes = make_notes(tmp_path)
    db = str(tmp_path / "db")
    proc = subprocess.Popen([sys.executable, "-c", WATCH_CLI, "watch", str(notes), "--db", db, "--quiet"])
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "db" / "sources.lance").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        for c in range(8):  # a lot to write, then a kill while it writes
            write_chat(notes / f"big{c}.jsonl", chat_messages(300), conversation=f"b{c}")
        time.sleep(0.6)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The lock of the killed watcher is stale; the next start takes it over and reconciles.
    restart = subprocess.Popen([sys.executable, "-c", WATCH_CLI, "watch", str(notes), "--db", db, "--quiet"])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                if len(open_index(db)[0].sources()) == 12:
                    break
            except Exception:
                pass
        time.sleep(1.0)
    finally:
        restart.send_signal(signal.SIGTERM)
        assert restart.wait(timeout=30) == 0
    assert index_dump(db) == fresh_copy_dump(notes, tmp_path, "watch-kill")
