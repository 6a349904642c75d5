import numpy as np
import pytest

from evosearch.encode import StreamJob, encode_streams
from evosearch.encoder.hashing import HashingEncoder

from .helpers import ReadsAhead


def _streams():
    rng = np.random.default_rng(0)
    words = "plan launch shed roof budget sqlite postgres trip thursday moved decided".split()
    return [[" ".join(rng.choice(words, 6)) for _ in range(n)] for n in (1, 7, 3, 12, 2, 5)]


def _one_by_one(encoder, texts):
    memory = encoder.empty_memory(1)
    out = []
    for t in texts:
        emb, memory = encoder.encode([t], memory)
        out.append((emb[0], memory[0]))
    return out


@pytest.mark.parametrize("batch_size", [1, 2, 4, 32])
def test_batched_streams_equal_segment_by_segment(batch_size):
    encoder = HashingEncoder()
    streams = _streams()
    jobs = [StreamJob(key=i, texts=t, start=0, memory=encoder.empty_memory(1)[0]) for i, t in enumerate(streams)]
    got = {}
    for out in encode_streams(jobs, encoder, batch_size=batch_size):
        got.setdefault(out.job.key, []).append((out.position, out.embedding, out.memory, out.last))
    for i, texts in enumerate(streams):
        expected = _one_by_one(encoder, texts)
        assert [p for p, *_ in got[i]] == list(range(len(texts)))
        assert [last for *_, last in got[i]] == [False] * (len(texts) - 1) + [True]
        for (_, emb, mem, _), (e_emb, e_mem) in zip(got[i], expected):
            np.testing.assert_allclose(emb, e_emb, atol=1e-6)
            np.testing.assert_allclose(mem, e_mem, atol=1e-6)


def test_resuming_from_a_memory_equals_encoding_from_the_start():
    encoder = HashingEncoder()
    texts = _streams()[3]
    full = _one_by_one(encoder, texts)
    job = StreamJob(key="s", texts=texts[5:], start=5, memory=full[4][1])
    resumed = list(encode_streams([job], encoder))
    assert [r.position for r in resumed] == list(range(5, len(texts)))
    for r, (emb, _) in zip(resumed, full[5:]):
        np.testing.assert_allclose(r.embedding, emb, atol=1e-6)


def test_memory_changes_the_embedding():
    """The hashing encoder really reads its memory, so resume bugs cannot hide in the tests."""
    encoder = HashingEncoder()
    a, _ = encoder.encode(["the plan"], encoder.empty_memory(1))
    _, mem = encoder.encode(["we moved the launch"], encoder.empty_memory(1))
    b, _ = encoder.encode(["the plan"], mem)
    assert not np.allclose(a, b)


def test_empty_jobs_are_skipped():
    encoder = HashingEncoder()
    jobs = [StreamJob(key="e", texts=[], start=0, memory=encoder.empty_memory(1)[0])]
    assert list(encode_streams(jobs, encoder)) == []


def testlength_groups_sort_rows_and_keep_each_call_within_the_token_budget():
    from evosearch.encoder.common import length_groups

    lengths = [30, 250, 12, 12, 90, 400, 31, 64, 7]
    groups = length_groups(lengths, 128)
    assert sorted(r for g in groups for r in g) == list(range(len(lengths)))  # every row once
    flat = [lengths[r] for g in groups for r in g]
    assert flat == sorted(lengths)  # short rows with short rows: little padding
    for g in groups:
        assert len(g) == 1 or len(g) * max(lengths[r] for r in g) <= 128
    assert [5] in groups and [1] in groups  # rows over the budget go alone
    assert length_groups([], 512) == []


def test_a_segment_is_read_before_the_next_of_its_stream_unless_its_job_says_not():
    encoder = ReadsAhead()
    jobs = [
        StreamJob(key=0, texts=["a0", "a1", "a2"], start=0, memory=encoder.empty_memory(1)[0]),
        StreamJob(key=1, texts=["b0", "b1", "b2"], start=4, memory=encoder.empty_memory(1)[0], ahead=[False, True]),
    ]
    list(encode_streams(jobs, encoder, batch_size=2))
    assert encoder.seen == {"a0": "a1", "a1": "a2", "a2": None, "b0": None, "b1": "b2", "b2": None}
