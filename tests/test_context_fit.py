"""`evosearch train` on a model that reads context (train/context_fit.py): the reading's weights are
chosen on training streams and reported on held-out ones."""

import json
import random

import numpy as np
import pytest

from evosearch.encoder.common import MODEL_DIR, EncoderConfig
from evosearch.train.context_fit import StreamParts, choose, recall
from evosearch.train.samples import Query, Sample
from evosearch.train.synthetic import synthetic_chat

from .test_train import run_cli

SEGMENTS, DIM = 30, 48


def unit(a):
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def streams(answers_in: str, seed: int = 0, count: int = 6):
    """count streams of SEGMENTS segments, each segment the evidence of one query; the query's
    direction is what the segment's reading holds (answers_in 'read') or its own static vector ('static')."""
    rng = np.random.default_rng(seed)
    samples, parts = [], []
    for _ in range(count):
        queries = unit(rng.normal(size=(SEGMENTS, DIM)))
        noise = unit(rng.normal(size=(SEGMENTS, DIM)))
        static = unit(noise + 0.2 * queries) if answers_in == "read" else unit(queries + 2.5 * noise)
        read = unit(queries + 0.3 * noise) if answers_in == "read" else unit(rng.normal(size=(SEGMENTS, DIM)))
        previous = np.vstack([np.zeros((1, DIM)), static[:-1]])
        samples.append(Sample([f"segment {i}" for i in range(SEGMENTS)], [Query(f"q{i}", [i]) for i in range(SEGMENTS)]))
        parts.append(StreamParts(static.astype(np.float32), read.astype(np.float32), previous.astype(np.float32), queries.astype(np.float32)))
    return samples, parts


def test_the_reading_gets_weight_where_it_holds_the_answers():
    samples, parts = streams("read")
    weight, previous, grid = choose(samples, parts, list(range(5)), (0.5, 0.2))
    assert weight > 0.5
    assert recall(samples, parts, [5], weight, previous)["r@1"] > recall(samples, parts, [5], 0.0, 0.0)["r@1"] + 20
    assert len(grid) > 20


def test_memory_off_is_chosen_where_the_reading_only_adds_noise():
    samples, parts = streams("static")
    weight, _, grid = choose(samples, parts, list(range(5)), (0.5, 0.2))
    assert weight == 0.0
    assert grid[(0.0, 0.0)]["r@1"] > grid[(0.5, 0.2)]["r@1"] + 5


def test_a_tie_keeps_the_model_s_own_weights():
    samples, parts = streams("static", count=2)
    for p in parts:  # the reading and the previous segment say exactly what the segment says
        p.read[:], p.previous[:] = p.static, 0.0
    assert choose(samples, parts, [0], (0.5, 0.2))[:2] == (0.5, 0.2)


@pytest.mark.model
def test_train_on_a_context_model_writes_the_weights_index_then_uses(tmp_path, monkeypatch):
    from evosearch.encoder.common import model_dir

    data = tmp_path / "data.jsonl"
    data.write_text("".join(synthetic_chat(random.Random(i), sessions=2).to_json() + "\n" for i in range(4)))
    home = tmp_path / "home"
    monkeypatch.setenv("EVOSEARCH_HOME", str(home))
    monkeypatch.setenv("EVOSEARCH_ENCODER", "minilm")
    monkeypatch.delenv("EVOSEARCH_MODEL", raising=False)
    result = run_cli("train", str(data), "--out", str(home / "model"))
    assert result.exit_code == 0, result.output
    bundled = EncoderConfig.load(MODEL_DIR / "config.json")
    assert f"held-out weights {bundled.context_weight}/{bundled.previous_weight} (before)" in result.output and "(chosen)" in result.output
    chosen = EncoderConfig.load(home / "model" / "config.json")
    assert (chosen.context_pieces, chosen.context_after, chosen.context_turns) == (bundled.context_pieces, bundled.context_after, bundled.context_turns)
    record = json.loads((home / "model" / "training.json").read_text())
    assert record["config"]["context_weight"] == chosen.context_weight and len(record["grid_on_train"]) > 20
    assert model_dir() == home / "model"  # `index` now reads context with the chosen weights


@pytest.mark.model
def test_one_stream_cannot_both_choose_and_report(tmp_path, monkeypatch):
    data = tmp_path / "data.jsonl"
    data.write_text(synthetic_chat(random.Random(0), sessions=2).to_json() + "\n")
    monkeypatch.setenv("EVOSEARCH_ENCODER", "minilm")
    monkeypatch.delenv("EVOSEARCH_MODEL", raising=False)
    result = run_cli("train", str(data), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "needs at least two" in result.output
    assert not (tmp_path / "out" / "config.json").exists()


@pytest.mark.model
def test_train_on_a_default_index_chooses_its_reading(tmp_path, monkeypatch):
    from .helpers import chat_messages, write_chat

    chats = tmp_path / "chats"
    chats.mkdir()
    write_chat(chats / "team.jsonl", chat_messages(12))
    monkeypatch.setenv("EVOSEARCH_ENCODER", "minilm")
    monkeypatch.delenv("EVOSEARCH_MODEL", raising=False)
    assert run_cli("index", str(chats)).exit_code == 0
    data = tmp_path / "data.jsonl"
    data.write_text("".join(synthetic_chat(random.Random(i), sessions=2).to_json() + "\n" for i in range(4)))
    result = run_cli("train", str(data), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "(chosen)" in result.output and not (tmp_path / "out" / "memory.safetensors").exists()


def test_train_reads_a_stream_ahead_as_index_does_not_across_an_assistants_turns(tmp_path):
    """`train --self-supervised` takes each stream's speakers from the index, so its reading of a
    person's turn stops before an assistant's reply, as `index`'s does (segment.reads_ahead_into)."""
    from evosearch.api import open_index
    from evosearch.indexer import index_paths
    from evosearch.encode import following
    from evosearch.train.run import index_samples

    from .helpers import write_chat

    words = "the garden plan needs a new fence before spring. we should ask the neighbours about the cost. ".split()
    long = " ".join(words * 2)  # 32 words: two messages overflow a chat segment, one is not cut into pieces
    notes = tmp_path / "notes"
    notes.mkdir()
    write_chat(notes / "bot.jsonl", [(f"b{i}", f"2026-11-01T10:{i:02d}:00+00:00", ("user", "assistant")[i % 2], long) for i in range(6)], "bot")
    write_chat(notes / "team.jsonl", [(f"t{i}", f"2026-11-01T11:{i:02d}:00+00:00", ("Ana", "Ben")[i % 2], long) for i in range(6)], "team")
    store, encoder = open_index(str(tmp_path / "db"), write=True)
    with store:
        index_paths([notes], store, encoder, lambda m: None)
    samples = {s.segments[0].split(":")[0]: s for s in index_samples(str(tmp_path / "db"), random.Random(0))}
    assert set(samples) == {"user", "Ana"} and all(len(s.segments) == 6 for s in samples.values())
    assert samples["user"].ahead == [False] * 5 and samples["Ana"].ahead == [True] * 5
    user, ana = samples["user"], samples["Ana"]
    assert following(user.segments, user.ahead, 0) is None and following(ana.segments, ana.ahead, 0) == ana.segments[1]
    assert following(ana.segments, ana.ahead, 5) is None  # a stream's end


def test_train_does_not_read_a_document_ahead_into_a_new_section(tmp_path):
    """As `index` reads it: the segment before a heading is not read before it (segment.reads_ahead_along)."""
    from evosearch.api import open_index
    from evosearch.indexer import index_paths
    from evosearch.train.run import index_samples

    notes = tmp_path / "notes"
    notes.mkdir()
    paragraph = "The garden plan needs a new fence before spring, and the neighbours share its cost. " * 5  # one segment
    (notes / "plan.md").write_text(f"## Fence\n{paragraph}\n\n{paragraph}\n\n## Shed\n{paragraph}\n\n{paragraph}\n")
    store, encoder = open_index(str(tmp_path / "db"), write=True)
    with store:
        index_paths([notes], store, encoder, lambda m: None)
    [sample] = index_samples(str(tmp_path / "db"), random.Random(0))
    assert len(sample.segments) == 4 and sample.segments[2].startswith("## Shed")
    assert sample.ahead == [True, False, True]
