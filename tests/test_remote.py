"""An index in a bucket (moto's S3 server on loopback): every command, resumes, readers and two writers."""

import json
import os
import signal
import subprocess
import sys
import time

from typer.testing import CliRunner

from evosearch.cli.app import app
from evosearch.store import Store

from .helpers import chat_messages, index_dump, make_notes, write_chat
from .moto_server import BUCKET, s3  # noqa: F401  (fixture)

INDEX_CLI = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"
runner = CliRunner()


def _cli(*args):
    return runner.invoke(app, list(args))


def test_index_ask_status_forget_on_s3(s3, tmp_path):
    notes = make_notes(tmp_path)
    db = f"s3://{BUCKET}/team"
    r = _cli("index", str(notes), "--db", db)
    assert r.exit_code == 0, r.output
    assert index_dump(db) == index_dump_local(notes, tmp_path)

    r = _cli("ask", "which database did we pick", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    assert "SQLite" in r.output

    (notes / "ideas.md").write_text("---\ndate: 2026-10-20\n---\n# Ideas\n\nA pond behind the shed.\n")
    r = _cli("index", str(notes), "--db", db)
    assert r.exit_code == 0, r.output
    assert index_dump(db) == index_dump_local(notes, tmp_path, "second")

    r = _cli("status", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["db"] == db

    r = _cli("forget", str(notes / "ideas.md"), "--db", db)
    assert r.exit_code == 0, r.output
    assert not any("ideas.md" in (row["path"]) for row in Store.open(db).table("segments").to_arrow().to_pylist())


def index_dump_local(notes, tmp_path, tag="first"):
    db = tmp_path / f"local-{tag}"
    r = _cli("index", str(notes), "--db", str(db))
    assert r.exit_code == 0, r.output
    return index_dump(str(db))


def test_storage_options_instead_of_environment(s3, tmp_path, monkeypatch):
    """The same bucket reached through $EVOSEARCH_STORAGE_OPTIONS with no AWS_* endpoint in the environment."""
    notes = make_notes(tmp_path)
    for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ALLOW_HTTP"):
        monkeypatch.delenv(k)
    monkeypatch.setenv(
        "EVOSEARCH_STORAGE_OPTIONS",
        json.dumps({"endpoint": s3, "aws_access_key_id": "testing", "aws_secret_access_key": "testing", "allow_http": True}),
    )
    db = f"s3://{BUCKET}/opts"
    assert _cli("index", str(notes), "--db", db).exit_code == 0
    r = _cli("ask", "garden shed", "--db", db)
    assert r.exit_code == 0, r.output
    assert "shed" in r.output


def test_bad_storage_options_is_one_line(s3, monkeypatch, tmp_path):
    monkeypatch.setenv("EVOSEARCH_STORAGE_OPTIONS", "{not json")
    r = _cli("index", str(make_notes(tmp_path)), "--db", f"s3://{BUCKET}/bad")
    assert r.exit_code == 1
    assert "EVOSEARCH_STORAGE_OPTIONS" in r.output


def test_second_reader_sees_new_versions(s3, tmp_path):
    """A reader process that stays open sees what a writer commits afterwards."""
    notes = tmp_path / "notes"
    notes.mkdir()
    write_chat(notes / "a.jsonl", chat_messages(10))
    db = f"s3://{BUCKET}/shared"
    assert _cli("index", str(notes), "--db", db).exit_code == 0
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        before = int(reader.stdout.readline())
        write_chat(notes / "b.jsonl", [("z1", "2026-11-20T10:00:00+00:00", "Ana", "the zeppelin lands at noon")], conversation="z")
        assert _cli("index", str(notes), "--db", db).exit_code == 0
        reader.stdin.write("again\n")
        reader.stdin.flush()
        after = int(reader.stdout.readline())
    finally:
        reader.kill()
        reader.wait()
    assert after == before + 1


READER = """
import sys
from evosearch.store import open_for_search
r = open_for_search(sys.argv[1])
print(r.stats()["segments"], flush=True)
sys.stdin.readline()
r = r.latest()
print(r.stats()["segments"], flush=True)
"""


def _big_corpus(root, n_chats=6, n=200, tag="c"):
    root.mkdir(parents=True)
    for c in range(n_chats):
        write_chat(root / f"{tag}{c}.jsonl", chat_messages(n), conversation=f"{tag}{c}")
    return root


def test_sigkill_mid_index_on_s3_then_resume(s3, tmp_path):
    notes = _big_corpus(tmp_path / "notes", n_chats=20, n=300)
    db = f"s3://{BUCKET}/killed"
    proc = subprocess.Popen([sys.executable, "-c", INDEX_CLI, "index", str(notes), "--db", db, "--quiet"], env=os.environ.copy())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if Store.open(db).table("segments").count_rows() > 0:  # the first write has landed
                break
        except Exception:
            pass
        time.sleep(0.2)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert killed, "the index run finished before it could be killed; make the corpus bigger"
    r = _cli("index", str(notes), "--db", db)
    assert r.exit_code == 0, r.output
    assert index_dump(db) == index_dump_local(notes, tmp_path)


def test_two_writers_on_two_machines(s3, tmp_path):
    """Two processes with separate data dirs (two machines, no shared lock file) index different
    folders into one bucket at once: lance's conditional commits keep every row exactly once."""
    a = _big_corpus(tmp_path / "a", tag="a")
    b = _big_corpus(tmp_path / "b", tag="b")
    db = f"s3://{BUCKET}/two"
    assert _cli("index", str(a / "a0.jsonl"), "--db", db).exit_code == 0  # the tables exist before the race
    procs = []
    for name, folder in (("ma", a), ("mb", b)):
        env = {**os.environ, "EVOSEARCH_HOME": str(tmp_path / f"home-{name}")}
        procs.append(subprocess.Popen([sys.executable, "-c", INDEX_CLI, "index", str(folder), "--db", db], env=env, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    rows = Store.open(db).table("segments").to_arrow().to_pylist()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicated rows"
    streams = {r["stream_id"] for r in rows}
    local = {}
    for folder in (a, b):
        local.update(index_dump_local(folder, tmp_path, folder.name))
    assert set(index_dump(db)) == set(local)
    assert len(streams) == 12


def test_two_writers_same_folder_then_one_run(s3, tmp_path):
    """Two machines index the same folder at once. Each commit is safe, but both plan the same new
    files, so rows can be written twice; the next `index` removes the doubles (store.py). This
    test pins that: after one more run every row is there exactly once."""
    a = _big_corpus(tmp_path / "a", tag="a")
    db = f"s3://{BUCKET}/same"
    assert _cli("index", str(a / "a0.jsonl"), "--db", db).exit_code == 0
    procs = []
    for name in ("ma", "mb"):
        env = {**os.environ, "EVOSEARCH_HOME": str(tmp_path / f"home-{name}")}
        procs.append(subprocess.Popen([sys.executable, "-c", INDEX_CLI, "index", str(a), "--db", db], env=env, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    ids = [r["id"] for r in Store.open(db).table("segments").to_arrow().to_pylist()]
    print(f"rows after the race: {len(ids)}, distinct: {len(set(ids))}")
    r = _cli("index", str(a), "--db", db)
    assert r.exit_code == 0, r.output
    ids = [r["id"] for r in Store.open(db).table("segments").to_arrow().to_pylist()]
    assert len(ids) == len(set(ids)), "duplicated rows"
    assert set(index_dump(db)) == set(index_dump_local(a, tmp_path))


def test_watch_writes_to_the_bucket(s3, tmp_path):
    """`watch` keeps an index in a bucket current, and a reader opened separately finds the change."""
    import threading

    from evosearch.api import open_index
    from evosearch.search import ask
    from evosearch.watch import watch

    notes = make_notes(tmp_path)
    db = f"s3://{BUCKET}/watched"
    store, encoder = open_index(db, write=True)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: watch([notes], store, encoder, stop, print, debounce_s=0.2), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not store.sources() and time.monotonic() < deadline:
            time.sleep(0.1)
        (notes / "zebra.md").write_text("# Zebra\n\nThe zebra crossing project starts.\n")
        found = False
        while not found and time.monotonic() < deadline + 30:
            reader, query_encoder = open_index(db)
            found = any(r["path"].endswith("zebra.md") for r in ask(reader, query_encoder, "zebra crossing")["results"][:3])
            time.sleep(0.2)
        assert found, "the watched change never reached the bucket"
    finally:
        stop.set()
        thread.join(timeout=20)
        store.close()
