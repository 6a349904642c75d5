"""Training the latent memory: samples, recipes, the module, the loop, the command."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from evosearch.cli.app import app
from evosearch.encoder.memory import LatentMemory
from evosearch.errors import EvosearchError
from evosearch.train.features import Features
from evosearch.train.loop import TrainConfig, Trainer
from evosearch.train.pseudo_queries import hold_out_sentences
from evosearch.train.samples import Query, Sample, load_samples, parse_sample
from evosearch.train.synthetic import synthetic_chat


def run_cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


# ---- samples ---------------------------------------------------------------------------------


def test_a_sample_line_reads_segments_speakers_and_evidence():
    sample = parse_sample(
        json.dumps(
            {
                "segments": ["plain", {"text": "hi", "speaker": "ana"}],
                "queries": [{"text": "who said hi", "evidence": [1, 1]}],
            }
        )
    )
    assert sample.segments == ["plain", "ana: hi"]
    assert sample.queries == [Query("who said hi", [1])]
    assert sample.ahead == [True]  # no speaker is no assistant


def test_a_samples_speakers_stop_its_reading_ahead_at_an_assistants_turn_as_index_does():
    said = [{"text": t, "speaker": who} for t, who in (("q", "user"), ("a", "assistant"), ("b", "user"), ("c", "user"))]
    assert parse_sample(json.dumps({"segments": said})).ahead == [False, False, True]
    assert parse_sample(json.dumps({"segments": ["a", "b"]})).ahead is None


@pytest.mark.parametrize(
    "line, problem",
    [
        ('{"segments": []}', "non-empty"),
        ('{"segments": ["a"], "queries": [{"text": "q", "evidence": [3]}]}', "outside"),
        ('{"segments": ["a"], "queries": [{"text": "q"}]}', "evidence"),
        ('{"segments": [{"speaker": "x"}]}', "text"),
    ],
)
def test_a_bad_sample_file_is_refused_with_its_line_number(tmp_path, line, problem):
    path = tmp_path / "data.jsonl"
    path.write_text('{"segments": ["fine"]}\n' + line + "\n")
    with pytest.raises(EvosearchError) as caught:
        load_samples(path)
    assert f"{path}: line 2:" in caught.value.message and problem in caught.value.message


def test_held_out_sentences_leave_their_segment_and_point_back_to_it():
    segments = [
        "ana: We drove to the coast on Friday. The weather was perfect for a long walk on the beach.",
        "ben: I spent the whole weekend painting the kitchen a pale shade of green. It took forever.",
    ]
    sample = hold_out_sentences(segments, random.Random(1), share=1.0)
    assert sample.queries
    for query in sample.queries:
        (i,) = query.evidence
        assert query.text in segments[i] and query.text not in sample.segments[i]
        assert sample.segments[i].split(":")[0] in ("ana", "ben")  # the speaker stays


def test_synthetic_answers_sit_in_their_evidence_segment_without_naming_the_subject():
    sample = synthetic_chat(random.Random(3))
    assert sample.queries
    pronoun_answers = 0
    for query in sample.queries:
        (i,) = query.evidence
        assert 0 <= i < len(sample.segments)
        pronoun_answers += any(p in sample.segments[i] for p in ("She named it", "He named it", "She starts", "He starts"))
    assert synthetic_chat(random.Random(3)) == sample  # seeded: the data recipe is reproducible


# ---- the module --------------------------------------------------------------------------------


def test_untrained_memory_is_static_minilm_and_the_queue_shifts():
    torch.manual_seed(0)
    memory = LatentMemory(dim=16, slots=3)
    pooled = torch.randn(2, 16)
    queue = torch.randn(2, 3, 16)
    embedding, new_queue = memory(pooled, queue)
    assert torch.allclose(embedding, torch.nn.functional.normalize(pooled, dim=-1), atol=1e-6)
    assert torch.equal(new_queue[:, :2], queue[:, 1:])  # oldest out
    assert torch.allclose(new_queue[:, 2], torch.nn.functional.normalize(pooled, dim=-1))  # the segment's direction in


def test_trained_memory_makes_an_embedding_depend_on_the_past():
    torch.manual_seed(0)
    memory = LatentMemory(dim=16, slots=3)
    with torch.no_grad():
        memory.gate.fill_(1.0)
    pooled = torch.randn(1, 16)
    empty = torch.zeros(1, 3, 16)
    _, after_a = memory(torch.randn(1, 16), empty)
    _, after_b = memory(torch.randn(1, 16), empty)
    assert not torch.allclose(memory(pooled, after_a)[0], memory(pooled, after_b)[0])


# ---- the loop ------------------------------------------------------------------------------------


def _toy(streams: int = 12, length: int = 10, dim: int = 16, seed: int = 0):
    """Streams where a query names a 'topic' set two segments before its evidence: memory can help."""
    rng = np.random.default_rng(seed)
    samples, segs, queries = [], [], []
    for _ in range(streams):
        vectors = rng.standard_normal((length, dim)).astype(np.float32)
        qs = [Query(f"q{t}", [t]) for t in range(2, length)]
        qv = np.stack([vectors[t] + vectors[t - 2] for t in range(2, length)]).astype(np.float32)
        samples.append(Sample([f"s{t}" for t in range(length)], qs))
        segs.append(vectors)
        queries.append(qv)
    return samples, Features(segs, queries)


def test_training_lowers_the_loss_and_resumes_exactly(tmp_path):
    samples, features = _toy()
    config = TrainConfig(steps=30, streams=4, window=6, burn_in=4, checkpoint_every=10, held_out=0.2)
    torch.manual_seed(0)
    trainer = Trainer(LatentMemory(16, 4), features, samples, config, tmp_path)
    first = [trainer.train_step()[0] for _ in range(5)]
    trainer.fit()
    last = [trainer.train_step()[0] for _ in range(5)]
    assert np.isfinite(first + last).all() and np.mean(last) < np.mean(first)
    trainer.save()

    resumed = Trainer(LatentMemory(16, 4), features, samples, config, tmp_path)
    assert resumed.resume() and resumed.step == trainer.step
    for a, b in zip(trainer.memory.state_dict().values(), resumed.memory.state_dict().values()):
        assert torch.equal(a, b)
    report = resumed.evaluate()
    assert report["queries"] > 0 and set(report) >= {
        "static",
        "memory off",
        "memory on",
    }


def test_train_command_writes_weights_and_a_config_the_encoder_can_load(tmp_path):
    data = tmp_path / "data.jsonl"
    samples = [synthetic_chat(random.Random(i), sessions=3) for i in range(6)]
    data.write_text("".join(s.to_json() + "\n" for s in samples))
    out = tmp_path / "model"
    result = run_cli("train", str(data), "--steps", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "memory.safetensors").exists()
    config = json.loads((out / "config.json").read_text())
    assert config["memory_in_embedding"] is True and config["version"].startswith("evo-1-")
    assert "held-out memory on" in result.output


def test_train_without_data_says_what_to_pass():
    result = run_cli("train")
    assert result.exit_code == 1
    assert "no training data" in result.output


def test_train_refuses_an_e5_index_whose_passages_have_no_memory(tmp_path):
    """`train` fits MiniLM's memory; on an index built with e5-small it would print figures for a
    model that index never uses, so it says so in one line and writes nothing."""
    from evosearch.encoder.e5 import MODEL_ID
    from evosearch.store import Store

    db = tmp_path / "db"
    Store.open(str(db), model_id=MODEL_ID, dim=384, memory_shape=(32, 384)).close()
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"segments": ["a", "b"], "queries": [{"text": "a", "evidence": [0]}]}) + "\n")
    result = run_cli("train", str(data), "--db", str(db), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "built with e5-small" in result.output and "--model minilm" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
