"""The real encoder, on tiny inputs (marked `model`: loads MiniLM, a few seconds)."""

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def minilm():
    """torch fp32 throughout: the reference the exactness tests hold the encoder to."""
    from evosearch.encoder.common import EncoderConfig, model_dir
    from evosearch.encoder.minilm import MiniLMEncoder

    return MiniLMEncoder(EncoderConfig.load(model_dir() / "config.json"), device="cpu")


@pytest.fixture(scope="module")
def minilm_int8(tmp_path_factory):
    """What `index` uses on CPU (its ONNX model cached in a data dir of this module's own; no torch)."""
    from evosearch.encoder import load_encoder

    home = tmp_path_factory.mktemp("int8-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EVOSEARCH_HOME", str(home))
        encoder = load_encoder("minilm")
        encoder.encode(TEXTS[:1], encoder.empty_memory(1))  # builds and caches the int8 model under home
    encoder.home = home
    return encoder


TEXTS = ["We moved the launch to Thursday.", "Ana: it broke again\nBen: roll it back", "The shed roof will be green."]


def test_embeddings_equal_static_minilm_mean_pooling(minilm):
    """With an empty queue (a stream's first segment), the memory adds nothing: static MiniLM exactly."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from evosearch.encoder.common import base_model_dir

    tok = AutoTokenizer.from_pretrained(str(base_model_dir()))
    ref = AutoModel.from_pretrained(str(base_model_dir())).eval()
    batch = tok(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = ref(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    expected = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    got, memory = minilm.encode(TEXTS, minilm.empty_memory(3))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert memory.shape == (3, minilm.memory_slots, minilm.dim)


def test_one_batched_pass_equals_segment_by_segment(minilm):
    from evosearch.encode import StreamJob, encode_streams

    streams = [TEXTS, TEXTS[:1], TEXTS[::-1]]
    jobs = [StreamJob(i, t, 0, minilm.empty_memory(1)[0]) for i, t in enumerate(streams)]
    batched = {(o.job.key, o.position): (o.embedding, o.memory) for o in encode_streams(jobs, minilm, batch_size=3)}
    for i, texts in enumerate(streams):
        memory = minilm.empty_memory(1)
        for pos, text in enumerate(texts):
            following = [texts[pos + 1] if pos + 1 < len(texts) else None]  # the default reads ahead
            emb, memory = minilm.encode([text], memory, following)
            np.testing.assert_allclose(batched[(i, pos)][0], emb[0], atol=1e-5)
            np.testing.assert_allclose(batched[(i, pos)][1], memory[0], atol=1e-5)


def test_index_encodes_with_int8_on_cpu_close_to_fp32(minilm, minilm_int8):
    texts = [*TEXTS, "arn:aws:iam::123456789012:role/deploy", "Ben: ok, Thursday then", "the vendor was dropped in March"]
    from evosearch.encoder.int8_encoder import Int8Encoder

    assert isinstance(minilm_int8, Int8Encoder)
    assert minilm_int8.model_id == minilm.model_id  # one index may hold both: vectors are comparable
    fp32, _ = minilm.encode(texts, minilm.empty_memory(len(texts)))
    int8, memory = minilm_int8.encode(texts, minilm_int8.empty_memory(len(texts)))
    cosines = (fp32 * int8).sum(1)
    assert cosines.min() > 0.97 and cosines.max() < 1 - 1e-6, cosines  # close, and really int8
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    assert memory.shape == (len(texts), minilm.memory_slots, minilm.dim)
    np.testing.assert_allclose(minilm_int8.encode_queries(texts), minilm.encode_queries(texts), atol=1e-5)  # queries stay fp32


WORDS = "launch vendor Thursday roof green budget review the a we moved dropped signed Ana Ben report quarterly garden train".split()


def _prose(rng, paragraphs: int) -> str:
    """Paragraphs of 5 to 120 words, so segments (and the calls they share) differ in length."""
    return "\n\n".join(" ".join(rng.choice(WORDS, rng.integers(5, 120))) for _ in range(paragraphs))


def test_an_int8_vector_does_not_depend_on_its_batch(minilm_int8):
    """A segment gets the same vector alone, among short ones, among long ones, in any order:
    int8 activation scales are set per call, so nothing else may share its call. Tolerance 1e-5
    (the path is in fact exact)."""
    rng = np.random.default_rng(1)
    others = [_prose(rng, 1) for _ in range(40)]
    alone = np.concatenate([minilm_int8.encode([t], minilm_int8.empty_memory(1))[0] for t in TEXTS])
    for batch in (TEXTS + others, others[:20] + TEXTS[::-1] + others[20:], [t[:40] for t in others] + TEXTS):
        got, _ = minilm_int8.encode(batch, minilm_int8.empty_memory(len(batch)))
        rows = [batch.index(t) for t in TEXTS]
        assert np.abs(got[rows] - alone).max() <= 1e-5
    assert not np.allclose(alone[0], alone[1])  # rows differ, so a mix-up of rows would show


def _vectors(db: Path, root: Path) -> dict[tuple[str, int], np.ndarray]:
    """(path under root, position) -> vector, for every segment row of the index at db."""
    from evosearch.store import Store

    store = Store.open(str(db))
    rows = store.table("segments").to_arrow().select(["path", "position", "vector"]).to_pylist()
    out = {(str(Path(r["path"]).relative_to(root)), r["position"]): np.asarray(r["vector"]) for r in rows}
    assert len(out) == len(rows)  # no (path, position) stored twice
    return out


INDEX_CLI = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"


def test_a_file_gets_equal_vectors_alone_in_a_large_batch_and_after_a_kill_and_resume(minilm_int8, tmp_path):
    """Issue 17, item 3: with the int8 CPU path, a resumed index must equal a clean one. One file
    indexed alone, inside a corpus of about a thousand segments, and inside the same corpus killed
    with SIGKILL after its first write and resumed: every vector equal within 1e-5."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from evosearch.indexer import index_paths
    from evosearch.store import Store

    rng = np.random.default_rng(2)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    target = _prose(rng, 12)
    (corpus / "target.md").write_text(target)
    for i in range(200):
        (corpus / f"note{i:03d}.md").write_text(_prose(rng, int(rng.integers(2, 16))))
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "target.md").write_text(target)

    def index(folder, db):
        shape = (minilm_int8.memory_slots, minilm_int8.dim)
        store = Store.open(str(db), model_id=minilm_int8.model_id, dim=minilm_int8.dim, memory_shape=shape)
        try:
            index_paths([folder], store, minilm_int8, lambda m: None)
        finally:
            store.close()

    index(alone, tmp_path / "db-alone")
    index(corpus, tmp_path / "db-clean")
    clean = _vectors(tmp_path / "db-clean", corpus)
    assert len(clean) > 600
    target_rows = {k: v for k, v in clean.items() if k[0] == "target.md"}
    solo = _vectors(tmp_path / "db-alone", alone)
    assert solo.keys() == target_rows.keys() and len(solo) > 2
    assert max(np.abs(solo[k] - target_rows[k]).max() for k in solo) <= 1e-5

    env = {**os.environ, "EVOSEARCH_HOME": str(minilm_int8.home), "EVOSEARCH_ENCODER": "minilm"}
    db = tmp_path / "db-killed"
    command = [sys.executable, "-c", INDEX_CLI, "index", str(corpus), "--db", str(db), "--quiet"]
    proc = subprocess.Popen(command, env=env)
    data = db / "segments.lance" / "data"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if data.exists() and any(data.iterdir()) and _vectors(db, corpus):  # the first write is committed
            break
        time.sleep(0.05)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL) if killed else None
    proc.wait()
    assert killed, "the run ended before its first write was seen; make the corpus bigger"
    partial = len(_vectors(db, corpus))
    assert 0 < partial < len(clean)  # killed part way: the resume encodes the rest in other batches
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    resumed = _vectors(db, corpus)
    assert resumed.keys() == clean.keys()
    assert max(np.abs(resumed[k] - clean[k]).max() for k in clean) <= 1e-5
    shutil.rmtree(db)


def test_the_int8_model_is_built_once_and_a_damaged_cache_is_rebuilt(minilm_int8, monkeypatch):
    from evosearch.encoder import load_encoder

    monkeypatch.setenv("EVOSEARCH_HOME", str(minilm_int8.home))
    (cached,) = (minilm_int8.home / "cache").glob("minilm-int8-*.onnx")
    built = cached.stat().st_mtime_ns
    expected, _ = minilm_int8.encode(TEXTS, minilm_int8.empty_memory(3))
    again = load_encoder("minilm")
    np.testing.assert_allclose(again.encode(TEXTS, again.empty_memory(3))[0], expected, atol=1e-6)
    assert cached.stat().st_mtime_ns == built  # reused, not rebuilt
    cached.write_bytes(b"not an onnx model")
    damaged = load_encoder("minilm")
    np.testing.assert_allclose(damaged.encode(TEXTS, damaged.empty_memory(3))[0], expected, atol=1e-6)
    assert cached.stat().st_size > 1_000_000
    (fp32,) = (minilm_int8.home / "cache").glob("minilm-fp32-*.onnx")  # queries' model, kept from the export
    assert sorted(p.name for p in (minilm_int8.home / "cache").iterdir()) == sorted([cached.name, fp32.name])  # no temporary files left
    fp32.unlink()  # a cache from before queries went through ONNX Runtime: the fp32 model is added
    int8_built = cached.stat().st_mtime_ns
    upgraded = load_encoder("minilm")
    upgraded.encode(TEXTS[:1], upgraded.empty_memory(1))
    assert fp32.exists() and cached.stat().st_mtime_ns == int8_built


def test_index_and_ask_on_a_cpu_never_import_torch(minilm_int8, tmp_path):
    """`index` in a new process, real model: torch (190 MB, 1.3 s) is not imported, the segments
    are stored; with its ONNX models missing, they are built in a child process, torch-free still.
    `ask` after it embeds the query in ONNX Runtime and reads the index without lancedb."""
    import os
    import subprocess
    import sys

    (tmp_path / "notes.md").write_text("We moved the launch to Thursday.\n\nThe shed roof will be green.\n")
    code = (
        "import sys\n"
        "from evosearch.cli.app import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    status = e.code\n"
        "print('EXIT', status, 'IMPORTED', sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'onnxruntime', 'lancedb'}))\n"
    )
    for home in (minilm_int8.home, tmp_path / "fresh-home"):
        env = {**os.environ, "EVOSEARCH_HOME": str(home), "EVOSEARCH_ENCODER": "minilm"}
        command = [sys.executable, "-c", code, "index", str(tmp_path / "notes.md"), "--db", str(home / "db")]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        assert "EXIT 0 IMPORTED ['lancedb', 'onnxruntime']" in done.stdout, done.stdout + done.stderr[-2000:]
        assert "(1 segment encoded" in done.stderr
        command = [sys.executable, "-c", code, "ask", "when is the launch", "--db", str(home / "db")]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        assert "EXIT 0 IMPORTED ['onnxruntime']" in done.stdout and "Thursday" in done.stdout, done.stdout + done.stderr[-2000:]
    assert list((tmp_path / "fresh-home" / "cache").glob("minilm-int8-*.onnx"))
    assert list((tmp_path / "fresh-home" / "cache").glob("minilm-fp32-*.onnx"))


def test_ask_embeds_queries_in_onnx_runtime_and_builds_its_model_once_when_missing(minilm, minilm_int8, tmp_path, monkeypatch):
    """`ask` embeds queries in ONNX Runtime fp32, the model `index` built. Where it is missing (an
    index built elsewhere, or on a GPU) or damaged, `ask` builds it, alone (no int8 model); where it
    cannot be built, numpy answers. All equal torch fp32."""
    from evosearch.encoder import load_query_encoder, onnx_models
    from evosearch.encoder.query_numpy import NumpyQueryEncoder
    from evosearch.encoder.query_onnx import OnnxQueryEncoder
    from evosearch.errors import EvosearchError

    queries = ["what did we decide about the launch last week", "x", "Ana: roll it back?"]
    expected = minilm.encode_queries(queries)
    monkeypatch.setenv("EVOSEARCH_HOME", str(minilm_int8.home))
    fast = load_query_encoder("minilm")
    assert isinstance(fast, OnnxQueryEncoder) and (fast.model_id, fast.dim) == (minilm.model_id, minilm.dim)
    np.testing.assert_allclose(fast.encode_queries(queries), expected, atol=1e-5)
    (model,) = (minilm_int8.home / "cache").glob("minilm-fp32-*.onnx")
    monkeypatch.setenv("EVOSEARCH_HOME", str(tmp_path))
    built = load_query_encoder("minilm")
    assert isinstance(built, OnnxQueryEncoder) and [p.name for p in (tmp_path / "cache").iterdir()] == [model.name]
    np.testing.assert_allclose(built.encode_queries(queries), expected, atol=1e-5)
    (tmp_path / "cache" / model.name).write_bytes(b"not an onnx model")
    assert isinstance(load_query_encoder("minilm"), OnnxQueryEncoder) and (tmp_path / "cache" / model.name).stat().st_size > 1_000_000

    def no_torch(int8, fp32):
        raise EvosearchError("preparing the CPU model (once per machine) needs torch, which is not installed")

    monkeypatch.setattr(onnx_models, "_build_in_child", no_torch)
    (tmp_path / "cache" / model.name).unlink()
    slow = load_query_encoder("minilm")
    assert isinstance(slow, NumpyQueryEncoder)
    np.testing.assert_allclose(slow.encode_queries(queries), expected, atol=1e-5)


def test_word_states_are_equal_in_torch_onnx_runtime_and_numpy(minilm, minilm_int8, monkeypatch):
    """`ask`'s closer look reads each text's word states from the query model (search.closer_look):
    ONNX Runtime once `index` has built it, numpy before; both equal torch fp32, one unit row per
    word piece, [CLS] and [SEP] left out."""
    from evosearch.encoder import load_query_encoder
    from evosearch.encoder.query_numpy import NumpyQueryEncoder
    from evosearch.encoder.query_onnx import OnnxQueryEncoder

    texts = ["when is the launch", "Ana: it broke again\nBen: roll it back", "x"]
    expected = minilm.token_states(texts)
    pieces = [len(minilm.tokenize([t])[0].ids) - 2 for t in texts]
    assert [e.shape for e in expected] == [(n, minilm.dim) for n in pieces]
    np.testing.assert_allclose(np.linalg.norm(np.concatenate(expected), axis=1), 1.0, atol=1e-5)
    monkeypatch.setenv("EVOSEARCH_HOME", str(minilm_int8.home))
    onnx = load_query_encoder("minilm")
    assert isinstance(onnx, OnnxQueryEncoder)
    for encoder in (onnx, NumpyQueryEncoder(), minilm_int8):
        got = encoder.token_states(texts)
        assert [g.shape for g in got] == [e.shape for e in expected]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=1e-4)


def test_the_numpy_memory_equals_the_torch_memory_with_trained_weights():
    """Int8Encoder reads the latent memory in numpy; with trained weights (gate and scores non-zero)
    it must give what LatentMemory gives, slots empty, partly filled and full."""
    import torch
    from safetensors.torch import load_file

    from evosearch.encoder.memory import LatentMemory
    from evosearch.encoder.memory_numpy import NumpyMemory
    from evosearch.encoder.common import EncoderConfig, MEMORY_WEIGHTS, MODEL_DIR

    folder = MODEL_DIR / "evo-1"
    config = EncoderConfig.load(folder / "config.json")
    reference = LatentMemory(config.dim, config.memory_slots)
    reference.load_state_dict(load_file(str(folder / MEMORY_WEIGHTS)))
    assert float(reference.gate.detach().abs()) > 0.01  # trained: the read changes embeddings
    rng = np.random.default_rng(0)
    pooled = rng.standard_normal((4, config.dim)).astype(np.float32)
    memory = rng.standard_normal((4, config.memory_slots, config.dim)).astype(np.float32)
    memory[0] = 0  # a stream's first segment
    memory[1, :-3] = 0  # three earlier segments
    with torch.no_grad():
        expected = [t.numpy() for t in reference(torch.from_numpy(pooled), torch.from_numpy(memory))]
    got = NumpyMemory(folder / MEMORY_WEIGHTS)(pooled, memory)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, atol=1e-5)
    assert not np.allclose(got[0][1], pooled[1] / np.linalg.norm(pooled[1]), atol=1e-3)  # the read mattered


def test_numpy_query_path_equals_the_torch_encoder(minilm):
    """`ask` embeds queries in numpy (no torch import); it must match to float precision."""
    from evosearch.encoder.query_numpy import NumpyQueryEncoder

    queries = ["what did we decide about the launch last week", "x", "Ana: roll it back?"]
    fast = NumpyQueryEncoder()
    assert fast.model_id == minilm.model_id and fast.dim == minilm.dim
    np.testing.assert_allclose(fast.encode_queries(queries), minilm.encode_queries(queries), atol=1e-5)


def test_trained_memory_makes_a_segment_depend_on_what_came_before():
    from evosearch.encoder.common import EncoderConfig, MEMORY_WEIGHTS, MODEL_DIR
    from evosearch.encoder.minilm import MiniLMEncoder

    folder = MODEL_DIR / "evo-1"
    config = EncoderConfig.load(folder / "config.json")
    assert config.memory_in_embedding
    minilm = MiniLMEncoder(config, weights=folder / MEMORY_WEIGHTS)
    first, _ = minilm.encode(["Ana: she named him Biscuit"], minilm.empty_memory(1))
    static, _ = MiniLMEncoder(EncoderConfig()).encode(["Ana: she named him Biscuit"], minilm.empty_memory(1))
    np.testing.assert_allclose(first, static, atol=1e-5)  # an empty queue adds nothing
    _, after_a = minilm.encode(["Ana: my sister Maya adopted a puppy"], minilm.empty_memory(1))
    _, after_b = minilm.encode(["Ben: the quarterly report is due Friday"], minilm.empty_memory(1))
    one, _ = minilm.encode(["Ana: she named him Biscuit"], after_a)
    two, _ = minilm.encode(["Ana: she named him Biscuit"], after_b)
    assert not np.allclose(one, two, atol=1e-4)


def test_vectors_do_not_depend_on_how_a_batch_is_cut_into_calls(minilm, monkeypatch):
    texts = [*TEXTS, "a much longer segment about the quarterly vendor review and who signs it off " * 6, "ok"]
    whole, _ = minilm.encode(texts, minilm.empty_memory(len(texts)))
    monkeypatch.setattr(minilm, "call_tokens", 8)  # every row its own call, in length order
    alone, _ = minilm.encode(texts, minilm.empty_memory(len(texts)))
    np.testing.assert_allclose(alone, whole, atol=1e-5)
    assert not np.allclose(whole[0], whole[1])  # rows differ, so a mix-up of rows would show


def test_the_quantizer_is_quieted_without_silencing_anyone_else():
    """onnxruntime's quantizer logs advice on the root logger while `index` builds its int8 model:
    those records are dropped, a record from anywhere else at the same time is kept."""
    import logging

    from evosearch.encoder import onnx_models

    quiet = onnx_models._FromOnnxRuntime()
    ours = logging.LogRecord("root", logging.WARNING, "/x/evosearch/indexer.py", 1, "kept", None, None)
    theirs = logging.LogRecord("root", logging.WARNING, "/x/site-packages/onnxruntime/quantization/quantize.py", 1, "advice", None, None)
    assert quiet.filter(ours) and not quiet.filter(theirs)


def test_without_torch_the_first_index_says_what_to_install(monkeypatch):
    """torch builds the CPU model once per machine (ONNX export); when it is missing, `index`
    stops with one line naming the command, not a traceback. tests/conftest.py gives every test
    an empty data dir, so nothing is cached."""
    import importlib.util
    from importlib.metadata import PackageNotFoundError

    from evosearch.encoder import onnx_models
    from evosearch.encoder.common import base_model_dir
    from evosearch.errors import EvosearchError

    real_find_spec = importlib.util.find_spec

    def missing(package):
        raise PackageNotFoundError(package)

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real_find_spec(name, *a))
    monkeypatch.setattr(onnx_models, "version", lambda name: missing(name) if name == "torch" else "1.0")
    with pytest.raises(EvosearchError) as raised:
        onnx_models.load_session(base_model_dir())
    assert "needs torch" in str(raised.value) and "pip install torch==2.13.0" in raised.value.hint
