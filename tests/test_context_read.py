"""The context read (encoder/context_read.py): each segment also read after its stream's last content
words. Marked `model`: the real tokenizer and MiniLM, on tiny inputs."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from evosearch.encoder.common import MODEL_DIR, EncoderConfig, load_tokenizer
from evosearch.encoder.context_read import ATTEND_ONLY, ContentFilter, ContextRead
from evosearch.errors import EvosearchError

from .helpers import chat_messages, index_dump, write_chat

pytestmark = pytest.mark.model

CONTEXT = MODEL_DIR / "context"  # the causal read: each segment read after what came before it
DEFAULT = MODEL_DIR  # the memory on: the read runs on into the segment after (EncoderConfig.context_after)
STATIC = MODEL_DIR / "static"  # memory off
DEFAULT_ID = "all-MiniLM-L6-v2+context-8-1.5-0.2-after-24+turns-3"
CONTEXT_ID = "all-MiniLM-L6-v2+context-32-0.5-0.2+turns-3"  # the default before it read ahead
PUPPY = ["Ana: my sister Maya adopted a puppy from the shelter", "Ben: lovely, what breed is it?", "Ana: she named him Biscuit"]
REPORT = ["Ben: the quarterly report is due Friday", "Ana: I will send the figures tonight", "Ana: she named him Biscuit"]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(256)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A data dir of this module's own, where the int8 model is built once."""
    return tmp_path_factory.mktemp("context-home")


@pytest.fixture(scope="module")
def int8(home):
    from evosearch.encoder.int8_encoder import Int8Encoder

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EVOSEARCH_HOME", str(home))
        encoder = Int8Encoder(CONTEXT)
        encoder.encode(PUPPY[:1], encoder.empty_memory(1))  # builds the ONNX models under home
    return encoder


def pieces(tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text).ids[1:-1]


def words(tokenizer, ids: list[int]) -> str:
    return tokenizer.decode(ids)


def test_only_content_words_travel_whole(tokenizer):
    keep = ContentFilter(tokenizer)(pieces(tokenizer, "Yeah, I think the LGBTQ support group was so powerful, thanks!"))
    assert words(tokenizer, keep) == "lgbtq support group powerful"  # lgbtq is several pieces, kept together


def test_the_context_is_attended_not_pooled_and_never_crowds_out_the_segment(tokenizer):
    read = ContextRead(tokenizer, pieces=4, weight=0.5, previous=0.2, max_tokens=16)
    row = read.row([7, 8, 9], [1, 2, 3, 4, 5, 6])
    assert row.ids == [101, 3, 4, 5, 6, 7, 8, 9, 102]  # the last `pieces` pieces before
    assert row.attention_mask == [1, ATTEND_ONLY, ATTEND_ONLY, ATTEND_ONLY, ATTEND_ONLY, 1, 1, 1, 1]
    long = list(range(1000, 1013))  # 13 pieces + [CLS] [SEP] leave room for one piece of context
    assert read.row(long, [1, 2, 3]).ids == [101, 3, *long, 102]
    assert read.row(list(range(1000, 1014)), [1, 2, 3]) is None  # no room: the reading is the static vector
    assert read.row([7], []) is None  # nothing before: a stream's first segment


def test_the_memory_carries_the_last_content_pieces_across_segments(tokenizer):
    read = ContextRead(tokenizer, pieces=6, weight=0.5, previous=0.2, max_tokens=256)
    memory = np.zeros((2, 384), np.float32)
    static = np.full(384, 1 / np.sqrt(384), np.float32)
    for text in ["Maya adopted a puppy", "the shelter was in Lisbon", "yes, it was"]:
        memory = read.memory_after(pieces(tokenizer, text), static, memory)
    carried = words(tokenizer, ContextRead.carried(memory)).split()
    assert carried[-2:] == ["shelter", "lisbon"] and "yes" not in carried and len(ContextRead.carried(memory)) <= 6
    np.testing.assert_array_equal(memory[0], static)


def run_index(folder, db) -> str:
    """`index` of folder into db with the model the environment names; the model id it used."""
    from evosearch.api import open_index
    from evosearch.indexer import index_paths

    store, encoder = open_index(str(db), write=True)
    with store:
        index_paths([folder], store, encoder, lambda m: None)
    return encoder.model_id


def assert_equals_a_fresh_index(notes, tmp_path) -> None:
    """The index in tmp_path/db holds what a fresh index of a copy of notes holds."""
    copy = tmp_path / "copy" / "notes"
    shutil.copytree(notes, copy)
    run_index(copy, tmp_path / "fresh")
    fresh = {k.replace(str(copy), str(notes)): v for k, v in index_dump(str(tmp_path / "fresh")).items()}
    assert index_dump(str(tmp_path / "db")) == fresh


def test_a_segment_reads_what_its_stream_said_before(int8):
    from evosearch.encoder.int8_encoder import Int8Encoder

    static = Int8Encoder(STATIC)
    first, _ = int8.encode(PUPPY[:1], int8.empty_memory(1))
    np.testing.assert_array_equal(first, static.encode(PUPPY[:1], static.empty_memory(1))[0])  # nothing before: static, bit for bit

    def last(stream):
        memory = int8.empty_memory(1)
        for text in stream:
            vector, memory = int8.encode([text], memory)
        return vector[0], memory

    after_puppy, memory = last(PUPPY)
    after_report, _ = last(REPORT)
    alone = static.encode(PUPPY[-1:], static.empty_memory(1))[0][0]
    query = static.encode_queries(["What did Maya name her puppy?"])[0]
    assert query @ after_puppy > query @ alone > query @ after_report  # "him" is the puppy only after the puppy
    assert memory.shape == (1, 2, 384) and int(memory[0, 1, 0]) > 0


def test_vectors_do_not_depend_on_the_call_and_a_resumed_stream_equals_a_fresh_one(int8):
    memory = int8.empty_memory(1)
    fresh = []
    for text in PUPPY:
        vector, memory = int8.encode([text], memory)
        fresh.append(vector[0])
    _, after_first = int8.encode(PUPPY[:1], int8.empty_memory(1))
    restored = np.frombuffer(after_first.astype(np.float32).tobytes(), np.float32).reshape(after_first.shape)  # as a snapshot stores it
    both, _ = int8.encode([PUPPY[1], REPORT[0]], np.concatenate([restored, int8.empty_memory(1)]))  # shares its call with another stream
    np.testing.assert_array_equal(both[0], fresh[1])


def test_int8_and_torch_read_in_context_alike(int8):
    from evosearch.encoder.minilm import MiniLMEncoder

    torch_encoder = MiniLMEncoder(EncoderConfig.load(CONTEXT / "config.json"), device="cpu")
    for encoder in (int8, torch_encoder):
        memory = encoder.empty_memory(1)
        out = []
        for text in PUPPY:
            vector, memory = encoder.encode([text], memory)
            out.append(vector[0])
        encoder.stream = np.array(out)
    assert ((int8.stream * torch_encoder.stream).sum(1) > 0.99).all()


def test_an_appended_chat_equals_a_fresh_index(int8, home, tmp_path, monkeypatch):
    """Through index: the memory snapshot (2, D) resumes a stream exactly, as the latent queue does."""
    monkeypatch.setenv("EVOSEARCH_HOME", str(home))
    monkeypatch.delenv("EVOSEARCH_MODEL", raising=False)
    monkeypatch.setenv("EVOSEARCH_ENCODER", "minilm")

    notes = tmp_path / "notes"
    notes.mkdir()
    write_chat(notes / "team.jsonl", chat_messages(30))
    assert run_index(notes, tmp_path / "db") == DEFAULT_ID
    write_chat(notes / "team.jsonl", chat_messages(40))
    run_index(notes, tmp_path / "db")
    assert_equals_a_fresh_index(notes, tmp_path)



@pytest.mark.parametrize("name, model_id", [("static", "all-MiniLM-L6-v2+evo-0-static"), ("context", CONTEXT_ID)])
def test_an_index_keeps_the_bundled_model_it_was_built_with(int8, home, tmp_path, monkeypatch, name, model_id):
    """An index written with EVOSEARCH_MODEL=static (memory off), or with the causal read the default
    was before, is searched and extended with that model when the variable is gone, not refused,
    until a rebuild takes the default."""
    from evosearch.api import open_index

    monkeypatch.setenv("EVOSEARCH_HOME", str(home))
    monkeypatch.setenv("EVOSEARCH_ENCODER", "minilm")
    notes = tmp_path / "notes"
    notes.mkdir()
    write_chat(notes / "team.jsonl", chat_messages(12))
    monkeypatch.setenv("EVOSEARCH_MODEL", name)
    run_index(notes, tmp_path / "db")
    monkeypatch.delenv("EVOSEARCH_MODEL")
    for write in (False, True):
        store, encoder = open_index(str(tmp_path / "db"), write=write)
        assert encoder.model_id == model_id
        if write:
            store.close()
    store, encoder = open_index(str(tmp_path / "db"), rebuild=True)
    store.close()
    assert encoder.model_id == DEFAULT_ID  # a rebuild takes the default


@pytest.mark.parametrize(
    "change, message",
    [
        ({"memory_in_embedding": True}, "cannot carry"),
        ({"memory_slots": 1}, "cannot carry"),
        ({"context_pieces": 400}, "cannot carry"),
        ({"queue": 3}, "cannot read"),
        ({"context_turns": -1}, "context turns"),
        ({"context_after": -1}, "read after a segment"),
        ({"context_pieces": 0, "context_after": 8}, "read after a segment without a context read"),
    ],
)
def test_a_config_it_cannot_honour_gets_one_line(tmp_path, change, message):
    config = json.loads((CONTEXT / "config.json").read_text()) | change
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(EvosearchError, match=message):
        EncoderConfig.load(tmp_path / "config.json")


def test_a_bundled_model_is_chosen_by_its_name(monkeypatch, tmp_path):
    from evosearch.encoder.common import model_dir

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EVOSEARCH_MODEL", "static")
    assert model_dir() == STATIC
    (tmp_path / "static").mkdir()  # a folder of that name where the user stands is not a model...
    assert model_dir() == STATIC
    (tmp_path / "static" / "config.json").write_text("{}")  # ...unless it holds one
    assert model_dir() == Path("static")


def test_the_shipped_config_reads_both_ways_and_the_static_config_is_off():
    off = EncoderConfig.load(STATIC / "config.json")
    assert (off.context_pieces, off.context_turns, off.model_id) == (0, 0, "all-MiniLM-L6-v2+evo-0-static")
    assert EncoderConfig.load(DEFAULT / "config.json").model_id == DEFAULT_ID
    # model/context keeps the causal read the default was, for indexes built with it and the recorded benchmark commands
    assert EncoderConfig.load(CONTEXT / "config.json").model_id == CONTEXT_ID


def test_a_read_ahead_attends_the_next_segments_first_content_pieces_after_the_context_before(tokenizer):
    read = ContextRead(tokenizer, pieces=2, weight=1.0, previous=0.0, max_tokens=16, after=3)
    row = read.row([7, 8], [1, 2, 3], [4, 5, 6])
    assert row.ids == [101, 2, 3, 7, 8, 4, 5, 6, 102]
    assert row.attention_mask == [1, ATTEND_ONLY, ATTEND_ONLY, 1, 1, ATTEND_ONLY, ATTEND_ONLY, ATTEND_ONLY, 1]
    long = list(range(1000, 1012))  # 12 pieces + [CLS] [SEP] leave room for 2: what came before first
    assert read.row(long, [1, 2, 3], [4, 5, 6]).ids == [101, 2, 3, *long, 102]
    assert read.row([7], [], [4, 5, 6]).ids == [101, 7, 4, 5, 6, 102]  # a stream's first segment reads ahead
    assert read.row([7], [], []) is None  # alone in its stream: the static vector
    ahead = read.ahead([tokenizer.encode("yes, the shelter in Lisbon was lovely"), None])
    assert words(tokenizer, ahead[0]) == "shelter lisbon lovely" and ahead[1] == []
    assert ContextRead(tokenizer, pieces=2, weight=1.0, previous=0.0, max_tokens=16).ahead([tokenizer.encode("Lisbon")]) == [[]]


@pytest.fixture(scope="module")
def ahead_folder(tmp_path_factory):
    """The shipped config, reading each segment before the next one's first 16 content pieces too."""
    folder = tmp_path_factory.mktemp("ahead")
    (folder / "config.json").write_text(json.dumps(json.loads((CONTEXT / "config.json").read_text()) | {"context_after": 16}))
    return folder


def test_a_segment_read_ahead_depends_on_the_segment_after_it(int8, ahead_folder, home, monkeypatch):
    from evosearch.encoder.int8_encoder import Int8Encoder
    from evosearch.encoder.minilm import MiniLMEncoder

    monkeypatch.setenv("EVOSEARCH_HOME", str(home))
    ahead = Int8Encoder(ahead_folder)
    assert ahead.reads_ahead and not int8.reads_ahead and ahead.model_id.endswith("-after-16+turns-3")
    _, memory = ahead.encode(PUPPY[:1], ahead.empty_memory(1), [PUPPY[1]])
    before_biscuit, _ = ahead.encode(PUPPY[1:2], memory, [PUPPY[2]])
    before_report, _ = ahead.encode(PUPPY[1:2], memory, [REPORT[0]])
    at_the_end, _ = ahead.encode(PUPPY[1:2], memory, [None])
    assert float(before_biscuit[0] @ before_report[0]) < 0.9999
    np.testing.assert_array_equal(at_the_end, int8.encode(PUPPY[1:2], memory)[0])  # nothing after: the causal read
    both, _ = ahead.encode([PUPPY[1], REPORT[1]], np.concatenate([memory, ahead.empty_memory(1)]), [PUPPY[2], None])
    np.testing.assert_allclose(both[0], before_biscuit[0], atol=1e-6)  # its call's other stream changes nothing
    torch_encoder = MiniLMEncoder(EncoderConfig.load(ahead_folder / "config.json"), device="cpu")
    torch_vector, _ = torch_encoder.encode(PUPPY[1:2], memory, [PUPPY[2]])
    assert float(torch_vector[0] @ before_biscuit[0]) > 0.99


@pytest.mark.parametrize("change", ["append", "edit", "cut"])
def test_a_stream_read_ahead_grown_edited_or_cut_equals_a_fresh_index(int8, ahead_folder, home, tmp_path, monkeypatch, change):
    """The segment before a change was read before what changed: `index` re-encodes it too."""
    monkeypatch.setenv("EVOSEARCH_HOME", str(home))
    monkeypatch.setenv("EVOSEARCH_MODEL", str(ahead_folder))
    monkeypatch.setenv("EVOSEARCH_ENCODER", "minilm")

    notes = tmp_path / "notes"
    notes.mkdir()
    messages = chat_messages(60)  # 15 segments of 4 messages; memory snapshots after segments 7, 13 and 14
    write_chat(notes / "team.jsonl", messages)
    run_index(notes, tmp_path / "db")
    # Each change starts right after a snapshot, so that only the step back re-encodes the segment before it.
    if change == "append":
        messages = chat_messages(64)
    elif change == "edit":
        messages[33] = (*messages[33][:3], "message 33: the launch is cancelled, Acme is back")
    else:
        messages = messages[:34]
    write_chat(notes / "team.jsonl", messages)
    run_index(notes, tmp_path / "db")
    assert_equals_a_fresh_index(notes, tmp_path)
