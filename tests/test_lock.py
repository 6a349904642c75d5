import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from evosearch.lock import LockedError, WriterLock, lock_path

# A writer in its own process: reports READY once imported, races for the lock when the `go` file
# appears, prints WON (and holds the lock until the `release` file appears) or REFUSED <message>.
RACER = """
import os, sys, time
from evosearch.lock import LockedError, WriterLock
db, go, release = sys.argv[1:4]
print("READY", flush=True)
while not os.path.exists(go):
    time.sleep(0.0005)
try:
    with WriterLock(db, "index"):
        print("WON", os.getpid(), flush=True)
        while not os.path.exists(release):
            time.sleep(0.005)
except LockedError as e:
    print("REFUSED", e.message, flush=True)
"""
WRITERS = 8
TRIALS = 5


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def _race(db: str, tmp, trial: str) -> list[tuple[int, str]]:
    """(pid, outcome line) of WRITERS processes started together on db's lock."""
    go, release = tmp / f"go-{trial}", tmp / f"release-{trial}"
    racer = [sys.executable, "-c", RACER, db, str(go), str(release)]
    procs = [subprocess.Popen(racer, stdout=subprocess.PIPE, text=True) for _ in range(WRITERS)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "READY"
        go.touch()
        outcomes = [(p.pid, p.stdout.readline().strip()) for p in procs]  # a winner reports while it holds the lock
    finally:
        release.touch()
        for p in procs:
            p.wait(timeout=30)
    return outcomes


@pytest.mark.parametrize("leftover", ["none", "dead writer's", "empty"])
def test_racing_writers_exactly_one_wins_and_the_rest_name_it(tmp_path, leftover):
    db = str(tmp_path / "db")
    dead = _dead_pid()
    for trial in range(TRIALS):
        path = lock_path(db)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        if leftover == "dead writer's":  # what a kill -9 under the old lock left behind
            path.write_text(json.dumps({"pid": dead, "host": socket.gethostname(), "command": "index"}))
        elif leftover == "empty":
            path.write_text("")
        outcomes = _race(db, tmp_path, str(trial))
        winners = [pid for pid, line in outcomes if line.startswith("WON")]
        assert len(winners) == 1, (trial, outcomes)
        refused = [line for _, line in outcomes if not line.startswith("WON")]
        assert all(line.startswith("REFUSED") and f"(pid {winners[0]} on" in line for line in refused), (trial, outcomes)


def test_second_writer_is_refused_then_allowed_after_release(tmp_path):
    db = str(tmp_path / "db")
    with WriterLock(db, "watch"):
        with pytest.raises(LockedError) as e:
            WriterLock(db, "index").acquire()
        assert "evosearch watch" in e.value.message and str(os.getpid()) in e.value.message
    assert lock_path(db).read_text() == ""  # a released lock names nobody
    with WriterLock(db, "index"):
        assert json.loads(lock_path(db).read_text())["pid"] == os.getpid()


def test_a_killed_writers_lock_is_free_at_once(tmp_path):
    db = str(tmp_path / "db")
    racer = [sys.executable, "-c", RACER, db, str(tmp_path / "go"), str(tmp_path / "never")]
    holder = subprocess.Popen(racer, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "READY"
    (tmp_path / "go").touch()
    assert holder.stdout.readline().startswith("WON")
    with pytest.raises(LockedError):
        WriterLock(db, "index").acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with WriterLock(db, "index"):  # the kernel released it with the process; its pid is still in the file until now
        assert json.loads(lock_path(db).read_text())["pid"] == os.getpid()


def test_a_store_open_for_writing_holds_the_lock_until_closed(tmp_path):
    from evosearch.store import Store

    db = str(tmp_path / "db")
    store = Store.open(db, model_id="m", dim=8, memory_shape=(2, 8), command="watch")
    with pytest.raises(LockedError, match="evosearch watch"):
        Store.open(db, write=True)
    Store.open(db)  # readers never wait
    store.close()
    with Store.open(db, write=True, command="forget") as again:
        assert again.writer_lock.held
    assert not again.writer_lock


def test_index_is_refused_while_a_writer_holds_the_lock(tmp_path):
    from typer.testing import CliRunner

    from evosearch.cli.app import app

    notes = tmp_path / "n"
    notes.mkdir()
    (notes / "a.md").write_text("hello")
    db = str(tmp_path / "db")
    assert CliRunner().invoke(app, ["index", str(notes), "--db", db]).exit_code == 0
    with WriterLock(db, "watch"):
        result = CliRunner().invoke(app, ["index", str(notes), "--db", db])
        assert result.exit_code == 1 and "being written" in result.stderr and str(os.getpid()) in result.stderr
        forget = CliRunner().invoke(app, ["forget", str(notes), "--db", db])
        assert forget.exit_code == 1 and "being written" in forget.stderr
    assert CliRunner().invoke(app, ["forget", str(notes), "--db", db]).exit_code == 0


def test_a_lock_that_cannot_be_created_is_one_line_not_a_traceback(tmp_path):
    from typer.testing import CliRunner

    from evosearch.cli.app import app

    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "n").mkdir()
    (tmp_path / "n" / "a.md").write_text("hello")
    result = CliRunner().invoke(app, ["index", str(tmp_path / "n"), "--db", str(tmp_path / "a-file" / "db")])
    assert result.exit_code == 1 and "cannot create the writer lock" in result.stderr
    assert "Traceback" not in result.stderr and not isinstance(result.exception, OSError)


def test_racing_index_runs_after_a_stale_lock_store_each_row_once(tmp_path):
    """The issue's reproduction end to end: `evosearch index` processes started together over a
    dead writer's lock file. Whoever runs, every segment is stored once; whoever is refused names a pid."""
    from evosearch.store import Store

    from .helpers import make_notes

    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    cli = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"
    path = lock_path(str(db))
    path.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "command": "index"}))
    run = [sys.executable, "-c", cli, "index", str(notes), "--db", str(db), "-q"]
    procs = [subprocess.Popen(run, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert all(rc == 0 or (rc == 1 and "being written by `evosearch index` (pid" in err) for rc, err in results), results
    assert any(rc == 0 for rc, _ in results)
    store = Store.open(str(db))
    ids = store.table("segments").to_arrow().column("id").to_pylist()
    assert len(ids) == len(set(ids)) > 0
    paths = store.table("sources").to_arrow().column("path").to_pylist()
    assert len(paths) == len(set(paths)) == len(list(notes.iterdir()))
