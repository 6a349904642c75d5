import json
import os
import subprocess
import sys

import pytest

from evosearch.lock import LockedError, WriterLock, lock_path


def test_second_writer_is_refused_then_allowed_after_release(tmp_path):
    db = str(tmp_path / "db")
    with WriterLock(db, "watch"):
        with pytest.raises(LockedError) as e:
            WriterLock(db, "index").__enter__()
        assert "evosearch watch" in e.value.message and str(os.getpid()) in e.value.message
    with WriterLock(db, "index"):
        pass
    assert not lock_path(db).exists()


def test_a_dead_writers_lock_is_taken_over(tmp_path):
    db = str(tmp_path / "db")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    path = lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    import socket

    path.write_text(json.dumps({"pid": int(dead), "host": socket.gethostname(), "command": "index"}))
    with WriterLock(db, "index"):
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_index_is_refused_while_a_writer_holds_the_lock(tmp_path):
    from typer.testing import CliRunner

    from evosearch.cli.app import app

    notes = tmp_path / "n"
    notes.mkdir()
    (notes / "a.md").write_text("hello")
    db = str(tmp_path / "db")
    with WriterLock(db, "watch"):
        result = CliRunner().invoke(app, ["index", str(notes), "--db", db])
    assert result.exit_code == 1 and "being written" in result.stderr
    assert CliRunner().invoke(app, ["index", str(notes), "--db", db]).exit_code == 0
