"""`index --ray` on a local Ray cluster (2 CPUs, loopback): the same index as one process builds."""

import pytest

ray = pytest.importorskip("ray", reason="the evosearch[ray] extra is not installed")

from evosearch import indexer  # noqa: E402
from evosearch.api import open_index  # noqa: E402
from evosearch.errors import EvosearchError  # noqa: E402
from evosearch.indexer import index_paths  # noqa: E402
from evosearch.ray_index import RayWriter, connect  # noqa: E402
from evosearch.store import Store  # noqa: E402

from .helpers import chat_messages, index_dump, make_notes, write_chat  # noqa: E402
from .moto_server import BUCKET, s3  # noqa: E402, F401  (fixture)


@pytest.fixture(scope="module")
def cluster():
    import os

    before = os.environ.get("EVOSEARCH_ENCODER")
    os.environ["EVOSEARCH_ENCODER"] = "hashing"  # the workers' encoder, like the autouse fixture's
    connect("local", 2)
    yield
    ray.shutdown()
    if before is None:
        os.environ.pop("EVOSEARCH_ENCODER")
    else:
        os.environ["EVOSEARCH_ENCODER"] = before


def _index(notes, db, writer=None):
    store, encoder = open_index(str(db), write=True)
    with store:
        return index_paths([notes], store, encoder, lambda m: None, writer=writer)


def _corpus(root):
    notes = make_notes(root)
    for c in range(20):
        write_chat(notes / f"chat{c}.jsonl", chat_messages(300), conversation=f"c{c}")
    return notes


def test_ray_index_equals_one_process(cluster, tmp_path):
    notes = _corpus(tmp_path)
    writer = RayWriter("hashing-v1", workers=2)
    _index(notes, tmp_path / "ray", writer)
    _index(notes, tmp_path / "plain")
    assert index_dump(str(tmp_path / "ray")) == index_dump(str(tmp_path / "plain"))

    # incremental: a chat grows, a note changes; only the changes are encoded, on Ray
    write_chat(notes / "chat0.jsonl", chat_messages(300) + [("extra", "2026-11-30T12:00:00+00:00", "Ana", "one more thing about the roof")], conversation="c0")
    (notes / "ideas.md").write_text("---\ndate: 2026-10-20\n---\n# Ideas\n\nA pond behind the shed.\n")
    report = _index(notes, tmp_path / "ray", writer)
    assert 0 < report.segments_encoded < report.segments_reused
    _index(notes, tmp_path / "plain")
    assert index_dump(str(tmp_path / "ray")) == index_dump(str(tmp_path / "plain"))


class _DiesInGroup:
    """RayWriter whose driver stops at the first result of its nth group, as a killed driver would:
    the earlier groups are committed, that group's fragments are written but never committed."""

    def __init__(self, inner, n):
        self.inner, self.n = inner, n

    def __call__(self, jobs, targets):
        self.n -= 1
        for out in self.inner(jobs, targets):
            if self.n == 0:
                raise KeyboardInterrupt
            yield out


def _orphan_files(db) -> set[str]:
    """Data files of the segments table that no fragment of its current version holds."""
    import os

    ds = Store.open(str(db)).dataset("segments")
    held = {f.path for frag in ds.get_fragments() for f in frag.data_files()}
    return set(os.listdir(os.path.join(ds.uri, "data"))) - held


def test_ray_index_resumes_after_the_driver_dies(cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(indexer, "GROUP_SEGMENTS", 512)  # a few groups, so a few commits, in a small corpus
    notes = _corpus(tmp_path)
    writer = RayWriter("hashing-v1", workers=2)
    with pytest.raises(KeyboardInterrupt):
        _index(notes, tmp_path / "ray", _DiesInGroup(writer, 2))
    committed = Store.open(str(tmp_path / "ray")).dataset("segments").count_rows()
    assert 0 < committed < 1000
    assert _orphan_files(tmp_path / "ray")  # the second group's fragments exist, and are no rows
    report = _index(notes, tmp_path / "ray", writer)
    _index(notes, tmp_path / "plain")
    plain = index_dump(str(tmp_path / "plain"))
    assert report.segments_encoded == len(plain) - committed  # it resumed, not restarted
    assert index_dump(str(tmp_path / "ray")) == plain


def test_ray_index_completes_after_a_worker_dies(cluster, tmp_path):
    notes = _corpus(tmp_path)
    writer = RayWriter("hashing-v1", workers=2)

    def kill_a_worker(jobs, targets):
        for k, out in enumerate(writer(jobs, targets)):
            if k == 0:  # the first call's results are in; the others are queued or running
                for actor in writer.actors:
                    ray.kill(actor)
            yield out

    with pytest.raises(EvosearchError, match="Ray worker"):
        _index(notes, tmp_path / "ray", kill_a_worker)
    _index(notes, tmp_path / "ray", RayWriter("hashing-v1", workers=2))
    _index(notes, tmp_path / "plain")
    assert index_dump(str(tmp_path / "ray")) == index_dump(str(tmp_path / "plain"))


def test_cli_index_ray(cluster, tmp_path):
    from typer.testing import CliRunner

    from evosearch.cli.app import app

    notes = make_notes(tmp_path)
    r = CliRunner().invoke(app, ["index", str(notes), "--db", str(tmp_path / "ray"), "--ray", "--ray-workers", "2"])
    assert r.exit_code == 0, r.output
    _index(notes, tmp_path / "plain")
    assert index_dump(str(tmp_path / "ray")) == index_dump(str(tmp_path / "plain"))


def test_ray_index_completes_a_run_stopped_between_its_commits(cluster, tmp_path, monkeypatch):
    """Killed after an edited file's new rows are committed and before its old ones are dropped:
    each replaced position is held twice, and the next run keeps one and re-encodes what differs."""
    notes = _corpus(tmp_path)
    writer = RayWriter("hashing-v1", workers=2)
    _index(notes, tmp_path / "ray", writer)
    write_chat(notes / "chat3.jsonl", chat_messages(150) + chat_messages(150, start=400), conversation="c3")  # edited halfway

    def killed(self, starts):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(Store, "delete_replaced", killed)
        with pytest.raises(KeyboardInterrupt):
            _index(notes, tmp_path / "ray", writer)
    ids = Store.open(str(tmp_path / "ray")).table("segments").to_arrow().column("id").to_pylist()
    assert len(ids) > len(set(ids))  # old and new rows side by side, as a kill there leaves them
    _index(notes, tmp_path / "ray", writer)
    _index(notes, tmp_path / "plain")
    assert index_dump(str(tmp_path / "ray")) == index_dump(str(tmp_path / "plain"))
    ids = Store.open(str(tmp_path / "ray")).table("segments").to_arrow().column("id").to_pylist()
    assert len(ids) == len(set(ids))


def test_sigkill_of_the_ray_driver(cluster, tmp_path):
    """`evosearch index --ray` killed with SIGKILL after its first commit; a --ray run then
    completes the index, equal to one built by a single process."""
    import os
    import signal
    import subprocess
    import sys
    import time

    notes = tmp_path / "notes"
    notes.mkdir()
    for c in range(120):  # 9,000 segments: three groups, so three commits of each table
        write_chat(notes / f"chat{c}.jsonl", chat_messages(300), conversation=f"c{c}")
    db = tmp_path / "ray"
    env = {**os.environ, "EVOSEARCH_ENCODER": "hashing", "EVOSEARCH_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "evosearch", "index", str(notes), "--ray", "--ray-workers", "2", "--db", str(db)]
    # Its own session: the Ray processes it starts are ended with it below.
    run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    versions = db / "segments.lance" / "_versions"
    try:
        deadline = time.monotonic() + 240
        while run.poll() is None and time.monotonic() < deadline:
            if versions.is_dir() and sum(v.suffix == ".manifest" for v in versions.iterdir()) >= 2:  # created, then one commit
                os.kill(run.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
        run.wait(timeout=60)
    finally:
        try:
            os.killpg(run.pid, signal.SIGKILL)  # the Ray helpers the killed driver left
        except ProcessLookupError:
            pass
    assert run.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    committed = Store.open(str(db)).dataset("segments").count_rows()
    assert 0 < committed < 9000  # killed part-way
    report = _index(notes, db, RayWriter("hashing-v1", workers=2))
    assert report.segments_encoded < 9000  # resumed
    _index(notes, tmp_path / "plain")
    assert index_dump(str(db)) == index_dump(str(tmp_path / "plain"))


def _ray_cli(notes, db, tmp_path):
    """`evosearch index --ray` in its own process (its own local Ray, which inherits the environment)."""
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "EVOSEARCH_ENCODER": "hashing", "EVOSEARCH_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "evosearch", "index", str(notes), "--ray", "--ray-workers", "2", "--db", db]
    run = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = run.communicate(timeout=240)
    finally:
        try:
            os.killpg(run.pid, signal.SIGKILL)  # any Ray helper still up
        except ProcessLookupError:
            pass
    assert run.returncode == 0, err


def test_ray_index_into_a_bucket(s3, tmp_path):
    """Workers write their fragments to s3:// (moto on loopback), the driver commits them."""
    notes = _corpus(tmp_path)
    db = f"s3://{BUCKET}/ray"
    _ray_cli(notes, db, tmp_path)
    _index(notes, tmp_path / "plain")
    assert index_dump(db) == index_dump(str(tmp_path / "plain"))

    write_chat(notes / "chat3.jsonl", chat_messages(150) + chat_messages(150, start=400), conversation="c3")  # edited halfway
    _ray_cli(notes, db, tmp_path)
    _index(notes, tmp_path / "plain")
    assert index_dump(db) == index_dump(str(tmp_path / "plain"))
