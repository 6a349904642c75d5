"""`watch` against a real watchdog observer: every kind of change ends up searchable."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evosearch.api import open_index
from evosearch.search import ask
from evosearch.watch import ChangeQueue, watch

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


def systemd_words(value: str, exec_line: bool = True) -> list[str]:
    """How systemd reads a unit line's value back into words, written from systemd.syntax(7) and
    systemd.service(5), independently of service.systemd_word: '%%' is '%' (any other specifier is an
    error here, none is meant), words split on whitespace outside double quotes, C escapes (\\\\,
    \\", \\n, \\t, \\r, \\xNN) are decoded, and on ExecStart= '$$' is '$' (a lone '$' would expand)."""
    import re

    plain = ""
    i = 0
    while i < len(value):
        if value[i] == "%":
            assert value[i + 1 : i + 2] == "%", f"a specifier in {value!r}"
            i += 1
        plain += value[i]
        i += 1
    escapes = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}
    words, i = [], 0
    while i < len(plain):
        if plain[i].isspace():
            i += 1
            continue
        word, quoted = "", plain[i] == '"'
        i += quoted
        while i < len(plain) and (quoted or not plain[i].isspace()):
            c = plain[i]
            if c == "\\":
                code = plain[i + 1]
                if code == "x":
                    word += chr(int(plain[i + 2 : i + 4], 16))
                    i += 4
                    continue
                word += escapes[code]
                i += 2
                continue
            if quoted and c == '"':
                i += 1
                break
            assert quoted or c not in "\"'", f"a bare quote in {value!r}"
            word += c
            i += 1
        if exec_line:
            assert not re.search(r"(?<!\$)\$(?!\$)", word.replace("$$", "")), f"a variable in {word!r}"
            word = word.replace("$$", "$")
        words.append(word)
    return words


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), min_size=1), min_size=1, max_size=4))
def test_systemd_quoting_round_trips(args):
    from evosearch.service import systemd_word

    assert systemd_words(" ".join(systemd_word(a) for a in args)) == args
    assert systemd_words(systemd_word("=".join(args), exec_line=False), exec_line=False) == ["=".join(args)]


def unit_lines(text: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(key + "=")]


def test_print_service_systemd_carries_the_folders_index_log_and_model(tmp_path, monkeypatch):
    """Issue 17, item 5: spaces and % were not quoted, and the folders, --log, --db,
    EVOSEARCH_HOME and EVOSEARCH_MODEL given were dropped (the service watched another index)."""
    from typer.testing import CliRunner

    from evosearch.cli.app import app

    notes = tmp_path / "my notes 100% $HOME"
    notes.mkdir()
    monkeypatch.setenv("EVOSEARCH_HOME", str(tmp_path / "home & co"))
    monkeypatch.setenv("EVOSEARCH_MODEL", str(tmp_path / 'model "v2"'))
    db, log = tmp_path / "index 50%", tmp_path / "logs" / "w.log"
    result = CliRunner().invoke(app, ["watch", str(notes), "--db", str(db), "--log", str(log), "--print-service", "systemd"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# ~/.config/systemd/user/evosearch-watch.service\n")
    [exec_start] = unit_lines(result.stdout, "ExecStart")
    assert systemd_words(exec_start)[1:] == ["watch", str(notes.resolve()), "--quiet", "--log", str(log), "--db", str(db)]
    environment = dict(w.split("=", 1) for line in unit_lines(result.stdout, "Environment") for w in systemd_words(line, exec_line=False))
    assert environment["EVOSEARCH_HOME"] == str(tmp_path / "home & co")
    assert environment["EVOSEARCH_MODEL"] == str(tmp_path / 'model "v2"')
    assert "<plist" not in result.stdout  # one file, ready to redirect


def test_print_service_launchd_is_a_plist_that_carries_everything(tmp_path, monkeypatch):
    import plistlib

    from typer.testing import CliRunner

    from evosearch.cli.app import app

    notes = tmp_path / "R&D <notes>"
    notes.mkdir()
    monkeypatch.setenv("EVOSEARCH_MODEL", str(tmp_path / "a&b"))
    monkeypatch.setenv("EVOSEARCH_DB", str(tmp_path / "db <1>"))
    result = CliRunner().invoke(app, ["watch", str(notes), "--print-service", "launchd"])
    assert result.exit_code == 0, result.output
    agent = plistlib.loads(result.stdout.encode())
    assert agent["ProgramArguments"][1:] == [
        "watch",
        str(notes.resolve()),
        "--quiet",
        "--log",
        str(Path("~/.local/state/evosearch-watch.log").expanduser()),
        "--db",
        str(tmp_path / "db <1>"),
    ]
    assert agent["EnvironmentVariables"]["EVOSEARCH_MODEL"] == str(tmp_path / "a&b")
    assert agent["Label"] == "org.evosearch.watch" and agent["RunAtLoad"] and agent["KeepAlive"]
    assert "ExecStart" not in result.stdout


def test_print_service_with_a_bad_folder_or_kind_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from evosearch.cli.app import app

    result = CliRunner().invoke(app, ["watch", str(tmp_path / "missing"), "--print-service", "systemd"])
    assert result.exit_code == 1 and "not a folder" in result.stderr and result.stdout == ""
    result = CliRunner().invoke(app, ["watch", "--print-service", "cron"])
    assert result.exit_code == 2


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


def test_a_long_watch_keeps_only_the_newest_warnings_and_counts_them_all(tmp_path, monkeypatch):
    """Issue 18: WatchState.errors grew without bound over a months-long watch."""
    from evosearch import watch as watch_module
    from evosearch.indexer import IndexReport

    def warning_run(roots, store, encoder, warn):
        for i in range(7):
            warn(f"warning {i}")
        return IndexReport()

    monkeypatch.setattr(watch_module, "ERRORS_KEPT", 3)
    monkeypatch.setattr(watch_module, "index_paths", warning_run)
    stop = threading.Event()
    stop.set()  # one reconcile, then return
    state = watch([tmp_path], None, None, stop, lambda m: None)
    assert list(state.errors) == ["warning 4", "warning 5", "warning 6"] and state.error_count == 7
