"""The real encoder, on tiny inputs (marked `model`: loads MiniLM, a few seconds)."""

import numpy as np
import pytest

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def minilm():
    from evosearch.encoder import load_encoder

    return load_encoder("minilm")


TEXTS = ["We moved the launch to Thursday.", "Ana: it broke again\nBen: roll it back", "The shed roof will be green."]


def test_embeddings_equal_static_minilm_mean_pooling(minilm):
    """With an empty queue (a stream's first segment), the memory adds nothing: static MiniLM exactly."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from evosearch.encoder.minilm import base_model_dir

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
            emb, memory = minilm.encode([text], memory)
            np.testing.assert_allclose(batched[(i, pos)][0], emb[0], atol=1e-5)
            np.testing.assert_allclose(batched[(i, pos)][1], memory[0], atol=1e-5)


def test_numpy_query_path_equals_the_torch_encoder(minilm):
    """`ask` embeds queries in numpy (no torch import); it must match to float precision."""
    from evosearch.encoder.query_numpy import NumpyQueryEncoder

    queries = ["what did we decide about the launch last week", "x", "Ana: roll it back?"]
    fast = NumpyQueryEncoder()
    assert fast.model_id == minilm.model_id and fast.dim == minilm.dim
    np.testing.assert_allclose(fast.encode_queries(queries), minilm.encode_queries(queries), atol=1e-5)


def test_trained_memory_makes_a_segment_depend_on_what_came_before():
    from evosearch.encoder.minilm import MEMORY_WEIGHTS, MODEL_DIR, EncoderConfig, MiniLMEncoder

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
