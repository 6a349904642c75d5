"""The lexical memory: an index whose encoder keeps it (EncoderConfig.context_turns) stores with each
chat turn the text of the turns just before it, and `ask` scores a turn's context by full text too."""

import shutil
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from evosearch import api, search
from evosearch.encoder.hashing import HashingEncoder
from evosearch.indexer import WrittenStreams, index_paths, write_stream_fragments
from evosearch.segment import Segment, by_assistant, reads_ahead_into, turn_context
from evosearch.store import Store, open_for_search

from .helpers import chat_messages, make_notes, write_chat

TURNS = 2


@pytest.fixture
def lexical(monkeypatch):
    """open_index loads the hashing encoder with a lexical memory of TURNS turns."""
    monkeypatch.setattr(api, "load_encoder", lambda name=None, folder=None: HashingEncoder(context_turns=TURNS))
    monkeypatch.setattr(api, "load_query_encoder", lambda name=None, folder=None: HashingEncoder(context_turns=TURNS))


def run_index(paths, db, writer=None):
    store, encoder = api.open_index(str(db), write=True)
    with store:
        return index_paths(list(paths), store, encoder, lambda m: None, writer=writer)


def stored(db) -> dict[str, dict]:
    rows = Store.open(str(db)).table("segments").to_arrow().to_pylist()
    return {r["id"]: r for r in rows}


def _segment(text: str, chat: bool) -> Segment:
    return Segment(text, None, None, ("Ana",) if chat else (), (f"id-{text}",) if chat else (), None, None)


def test_a_chat_turn_holds_the_turns_before_it_and_a_section_holds_nothing():
    chat = [_segment(t, True) for t in ("one", "two", "three", "four")]
    assert [turn_context(chat, i, 2) for i in range(4)] == ["", "one", "one\ntwo", "two\nthree"]
    doc = [_segment(t, False) for t in ("one", "two")]
    assert turn_context(doc, 1, 2) == ""


def test_an_assistants_turn_holds_no_context_and_a_persons_reply_to_it_does():
    said = [Segment(t, None, None, (who,), (f"id-{t}",), None, None) for t, who in (("q", "user"), ("a", "assistant"), ("b", "user"))]
    assert [turn_context(said, i, 2) for i in range(3)] == ["", "", "q\na"]
    both = Segment("qa", None, None, ("user", "assistant"), ("id-1", "id-2"), None, None)
    assert turn_context([said[0], both], 1, 2) == "q"
    # nor is a person's turn read before an assistant's reply, or the reverse (EncoderConfig.context_after)
    assert [reads_ahead_into(a.speakers, b.speakers) for a, b in zip(said, said[1:])] == [False, False]
    assert reads_ahead_into(said[0].speakers, both.speakers) and reads_ahead_into(said[0].speakers, said[2].speakers)


@pytest.mark.parametrize("name", ["assistant", "Assistant", "MODEL", "AI", "bot"])
def test_an_assistant_is_known_in_any_case_and_by_an_apis_role_but_a_person_named_claude_is_a_person(name):
    assert by_assistant([name]) and by_assistant([name, "assistant"])
    assert not by_assistant([name, "Ana"]) and not by_assistant([]) and not by_assistant(["Claude"]) and not by_assistant(["Gemini"])
    assert not reads_ahead_into(["Ana"], [name]) and reads_ahead_into([name], ["assistant"])


def test_rows_hold_their_context_and_an_appended_chat_equals_a_fresh_index(tmp_path, lexical):
    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    run_index([notes], db)
    rows = stored(db)
    team = sorted((r for r in rows.values() if r["message_ids"]), key=lambda r: r["position"])
    assert len(team) > 3
    for r in team:
        before = team[max(0, r["position"] - TURNS) : r["position"]]
        assert r["context"] == "\n".join(b["text"] for b in before)
    assert {r["context"] for r in rows.values() if not r["message_ids"]} == {""}

    write_chat(notes / "team.jsonl", chat_messages(34))  # appended: the new turns' context starts in stored ones
    report = run_index([notes], db)
    assert 0 < report.segments_encoded < len(team)
    copy = tmp_path / "copy"
    shutil.copytree(notes, copy / notes.name)
    run_index([copy / notes.name], tmp_path / "fresh")
    fresh = stored(tmp_path / "fresh")
    assert {r["position"]: r["context"] for r in stored(db).values() if r["message_ids"]} == {
        r["position"]: r["context"] for r in fresh.values() if r["message_ids"]
    }


def test_rows_written_as_fragments_hold_the_same_context(tmp_path, lexical):
    # `index --ray` writes rows in workers from a window of the stream (indexer._portable): the
    # context of a tail's first turns comes from the turns before the tail.
    def in_process(jobs, targets):
        n, fragments = write_stream_fragments(jobs, HashingEncoder(context_turns=TURNS), targets)
        yield WrittenStreams(jobs=list(range(len(jobs))), segments=n, fragments=fragments)

    notes = make_notes(tmp_path)
    run_index([notes], tmp_path / "frag", in_process)
    run_index([notes], tmp_path / "plain")
    write_chat(notes / "team.jsonl", chat_messages(34))
    run_index([notes], tmp_path / "frag", in_process)
    run_index([notes], tmp_path / "plain")

    def contexts(db):
        return {r["id"].split("@")[1]: r["context"] for r in stored(db).values() if r["message_ids"]}

    assert contexts(tmp_path / "frag") == contexts(tmp_path / "plain")
    assert any(contexts(tmp_path / "plain").values())


def test_an_index_without_the_memory_has_no_context_column(tmp_path):
    run_index([make_notes(tmp_path)], tmp_path / "db")  # the plain hashing encoder
    assert "context" not in Store.open(str(tmp_path / "db")).table("segments").schema.names
    assert not open_for_search(str(tmp_path / "db")).holds_context


# Four messages make a segment here (config.CHAT_SEGMENT_MAX_MESSAGES): the puppy is named in the
# first segment, its name given in the second, and two later ones share words with the question.
PUPPY = [
    "Maya adopted a beagle puppy from the animal shelter on Elm Street",
    "Oh wow, that is lovely news",
    "She sent photos all morning",
    "He has huge ears",
    "It is Biscuit, after her grandmother's old dog",
    "Ha, perfect",
    "Are you coming to the game",
    "Maybe later tonight",
    "The bus shelter on our street got repainted",
    "About time",
    "The council finally listened",
    "Took them years",
    "Elm trees line the whole street near the park",
    "Nice for walks",
    "Autumn there is lovely",
    "We should go",
]


def test_ask_finds_a_reply_by_the_subject_named_in_the_turns_before_it(tmp_path, monkeypatch, lexical):
    chats = tmp_path / "chats"
    chats.mkdir()
    messages = [(f"p{i:02d}", f"2026-11-01T10:{i:02d}:00+00:00", "Ana" if i % 2 else "Ben", t) for i, t in enumerate(PUPPY)]
    write_chat(chats / "friends.jsonl", messages)
    run_index([chats], tmp_path / "db")
    store, encoder = api.open_index(str(tmp_path / "db"))
    assert store.holds_context
    # The shipped weight and level suit MiniLM's cosines and a real index's BM25; this index has four
    # rows and word-count cosines, so the term is made large enough to show.
    monkeypatch.setitem(search.FUSION, "hashing", replace(search.FUSION["hashing"], context_weight=0.5, context_from=0.0))
    query = "beagle from the shelter on Elm Street"
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)

    def place(answer):
        return next(i for i, r in enumerate(answer["results"]) if "Biscuit" in r["text"])

    with_memory = search.ask(store, encoder, query, now=now)
    monkeypatch.setitem(search.FUSION, "hashing", replace(search.FUSION["hashing"], context_weight=0.0))
    without = search.ask(store, encoder, query, now=now)
    assert place(with_memory) < place(without)
    assert with_memory["results"][place(with_memory)]["explain"]["context"] > 0
    assert "context" not in without["results"][place(without)]["explain"]


def test_context_scores_after_edits_and_deletions_equal_a_clean_index(tmp_path, lexical):
    # As the text's: the context's full-text statistics count the live rows only.
    notes = make_notes(tmp_path)
    db = tmp_path / "db"
    run_index([notes], db)
    messages = chat_messages(30)
    messages[5] = (messages[5][0], messages[5][1], "Ana", "edited: the budget is final")
    write_chat(notes / "team.jsonl", messages[:24])
    run_index([notes], db)
    copy = tmp_path / "copy"
    shutil.copytree(notes, copy / notes.name)
    run_index([copy / notes.name], tmp_path / "clean")

    def scores(db):
        store = open_for_search(str(db))
        return {(r["position"]): round(r["bm25"], 4) for r in store.text_search("budget launch vendor", 50, None, ["position"], field="context")}

    assert scores(db) and scores(db) == scores(tmp_path / "clean")
