"""search.fuse weighs BM25 by the index's base model (search.TEXT_WEIGHTS); no model needed."""

from evosearch import search
from evosearch.output import _explain_line


def _candidates(model_id: str) -> search.Candidates:
    dense = [{"_rowid": 1, "similarity": 0.90}]
    text = [{"_rowid": 2, "similarity": 0.80, "bm25": 8.0}, {"_rowid": 1, "similarity": 0.90, "bm25": 1.0}]
    return search.Candidates(dense, text, search.text_weight(model_id))


def test_each_base_model_fuses_with_its_own_text_weight():
    # MiniLM's weight lets 8 BM25 points lift a 0.80 cosine over a 0.90 one; e5's (its cosines sit
    # closer together, but BM25 does not) leaves the closer passage first.
    minilm = search.fuse(_candidates("all-MiniLM-L6-v2+evo-0-static"))
    e5 = search.fuse(_candidates("multilingual-e5-small-q4+static"))
    assert max(minilm, key=lambda i: minilm[i]["fused"]) == 2
    assert max(e5, key=lambda i: e5[i]["fused"]) == 1
    assert e5[2]["fused"] == 0.80 + search.TEXT_WEIGHTS["e5-small"] * 8.0
    assert search.text_weight("hashing-v1") == search.TEXT_WEIGHTS["minilm"]


def test_explain_prints_the_weight_that_was_used():
    e5 = search.fuse(_candidates("multilingual-e5-small-q4+static"))
    assert f"{search.TEXT_WEIGHTS['e5-small']:g} × bm25 8.00" in _explain_line(e5[2]["explain"])
