"""A real SIGKILL in the middle of `evosearch index`, then a normal run: nothing lost, nothing doubled."""

import signal
import subprocess
import sys
import time

from .helpers import chat_messages, index_dump, write_chat
from .test_index import fresh_copy_dump

INDEX_CLI = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"


def _corpus(root):
    notes = root / "notes"
    notes.mkdir()
    for i in range(600):
        (notes / f"2026-10-{1 + i % 28:02d}-{i}.md").write_text(f"# Day {i}\n\n" + f"Plan {i}: we moved the launch again. " * 40)
    for c in range(10):
        write_chat(notes / f"chat{c}.jsonl", chat_messages(200), conversation=f"c{c}")
    return notes


def test_sigkill_mid_index_then_resume(tmp_path):
    notes = _corpus(tmp_path)
    db = tmp_path / "db"
    proc = subprocess.Popen([sys.executable, "-c", INDEX_CLI, "index", str(notes), "--db", str(db), "--quiet"])
    data = db / "segments.lance" / "data"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if data.exists() and any(data.iterdir()):  # the first write has landed
            break
        time.sleep(0.02)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert killed, "the index run finished before it could be killed; make the corpus bigger"

    resumed = subprocess.run([sys.executable, "-c", INDEX_CLI, "index", str(notes), "--db", str(db)], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert index_dump(str(db)) == fresh_copy_dump(notes, tmp_path, "sigkill")
