"""search.fuse and rank: BM25, chat neighbours and the window's boost weighed per base model
(search.FUSION); no model needed."""

from datetime import datetime, timezone

import numpy as np
import pytest

from evosearch import search
from evosearch.output import _explain_line


def _candidates(model_id: str) -> search.Candidates:
    doc = {"stream_id": "d", "message_ids": []}
    dense = [{"_rowid": 1, "similarity": 0.90, "position": 0, **doc}]
    text = [{"_rowid": 2, "similarity": 0.80, "bm25": 8.0, "position": 1, **doc}, {"_rowid": 1, "similarity": 0.90, "bm25": 1.0, "position": 0, **doc}]
    return search.Candidates(dense, text, search.fusion_for(model_id))


def test_each_base_model_fuses_with_its_own_text_weight():
    # MiniLM's weight lets 8 BM25 points lift a 0.80 cosine over a 0.90 one; e5's (its cosines sit
    # closer together, but BM25 does not) leaves the closer passage first.
    minilm = search.fuse(_candidates("all-MiniLM-L6-v2+evo-0-static"))
    e5 = search.fuse(_candidates("multilingual-e5-small-q4+static"))
    assert max(minilm, key=lambda i: minilm[i]["fused"]) == 2
    assert max(e5, key=lambda i: e5[i]["fused"]) == 1
    assert e5[2]["fused"] == 0.80 + search.FUSION["e5-small"].text_weight * 8.0
    assert search.fusion_for("hashing-v1").text_weight == search.FUSION["minilm"].text_weight


def test_explain_prints_the_weight_that_was_used():
    e5 = search.fuse(_candidates("multilingual-e5-small-q4+static"))
    assert f"{search.FUSION['e5-small'].text_weight:g} × bm25 8.00" in _explain_line(e5[2]["explain"])


def test_bm25_past_its_level_counts_more_and_below_it_as_before():
    # A chat turn sharing several or rare words (BM25 12) gains the excess weight on the 4 points past
    # the level; one sharing a common word (BM25 3) gets the plain text weight only. A document section
    # past the level gains it too when chat turns are among the candidates, and not among sections alone.
    fusion = search.Fusion(text_weight=0.03, neighbour_weight=0.0, window_share=0.0, text_excess_weight=0.24, text_excess_from=8.0)
    turn = lambda i, pos: {"stream_id": "c", "message_ids": [f"m{i}"], "position": pos}  # noqa: E731
    doc = {"stream_id": "d", "message_ids": [], "position": 0}
    text = [
        {"_rowid": 1, "similarity": 0.2, "bm25": 12.0, **turn(1, 0)},
        {"_rowid": 2, "similarity": 0.5, "bm25": 3.0, **turn(2, 5)},
        {"_rowid": 3, "similarity": 0.2, "bm25": 12.0, **doc},
    ]
    fused = search.fuse(search.Candidates([], text, fusion))
    assert abs(fused[1]["fused"] - (0.2 + 0.03 * 12.0 + 0.24 * 4.0)) < 1e-9
    assert abs(fused[2]["fused"] - (0.5 + 0.03 * 3.0)) < 1e-9
    assert abs(fused[3]["fused"] - (0.2 + 0.03 * 12.0 + 0.24 * 4.0)) < 1e-9
    alone = search.fuse(search.Candidates([], [text[2], {**text[2], "_rowid": 4, "position": 1}], fusion))
    assert abs(alone[3]["fused"] - (0.2 + 0.03 * 12.0)) < 1e-9 and "text_excess" not in alone[3]["explain"]
    assert "text_excess" in fused[1]["explain"] and "text_excess" not in fused[2]["explain"]
    assert "0.03 × bm25 12.00 + 0.24 × (bm25 − 8) = 1.320" in _explain_line(fused[1]["explain"])
    assert search.FUSION["minilm"].text_excess_weight > 0 and search.FUSION["e5-small"].text_excess_weight == 0


def test_a_chat_turn_gains_from_the_turns_before_it_past_a_level():
    # The lexical memory: turn 1's context (the turns before it) matches the question strongly, turn
    # 2's only by a common word (below the level); a document section gains nothing.
    fusion = search.Fusion(text_weight=0.03, neighbour_weight=0.0, window_share=0.0, context_weight=0.03, context_from=8.0)
    dense = [
        {"_rowid": 1, "similarity": 0.3, "stream_id": "c", "position": 7, "message_ids": ["m7"]},
        {"_rowid": 2, "similarity": 0.3, "stream_id": "c", "position": 20, "message_ids": ["m20"]},
        {"_rowid": 3, "similarity": 0.3, "stream_id": "d", "position": 0, "message_ids": []},
    ]
    fused = search.fuse(search.Candidates(dense, [], fusion, {1: 14.0, 2: 5.0, 3: 14.0}))
    assert abs(fused[1]["fused"] - (0.3 + 0.03 * 6.0)) < 1e-9
    assert fused[2]["fused"] == fused[3]["fused"] == 0.3
    assert "the turns before: 0.03 × (bm25 14.00 − 8) = 0.180" in _explain_line(fused[1]["explain"])
    assert "context" not in fused[2]["explain"] and "context" not in fused[3]["explain"]


def test_a_chat_turn_gains_a_share_of_its_best_neighbouring_candidate():
    # Turns 4 and 5 of one chat are both candidates; turn 9 is alone; a document section gains the
    # share of itself (it holds its own context), never of the section beside it.
    chat = lambda i, pos, sim: {"_rowid": i, "similarity": sim, "stream_id": "c", "position": pos, "message_ids": [f"m{pos}"]}  # noqa: E731
    doc = lambda i, pos, sim: {"_rowid": i, "similarity": sim, "stream_id": "d", "position": pos, "message_ids": []}  # noqa: E731
    dense = [chat(1, 4, 0.6), chat(2, 5, 0.5), chat(3, 9, 0.55), doc(4, 0, 0.58), doc(5, 1, 0.57)]
    c = search.Candidates(dense, [], search.Fusion(text_weight=0.03, neighbour_weight=0.15, window_share=0.6))
    fused = search.fuse(c)
    assert fused[1]["fused"] == 0.6 + 0.15 * 0.5
    assert fused[2]["fused"] == 0.5 + 0.15 * 0.6
    assert fused[3]["fused"] == 0.55 and fused[4]["fused"] == 0.58 + 0.15 * 0.58 and fused[5]["fused"] == 0.57 + 0.15 * 0.57
    assert "neighbours" in fused[1]["explain"] and "neighbours" not in fused[4]["explain"]
    assert "neighbouring turns 0.075" in _explain_line(fused[1]["explain"])
    assert "the section as its own neighbour 0.087" in _explain_line(fused[4]["explain"])
    # A turn whose neighbour matches as well as it does and a section of the same evidence tie: notes
    # and chats in one index are weighed alike (benchmarks/mixed_sources.py).
    twin = [chat(1, 4, 0.5), chat(2, 5, 0.5), doc(3, 0, 0.5)]
    even = search.fuse(search.Candidates(twin, [], search.Fusion(text_weight=0.03, neighbour_weight=0.15, window_share=0.6)))
    assert even[1]["fused"] == even[3]["fused"] == 0.5 + 0.15 * 0.5


def test_an_assistant_s_turn_neither_gains_nor_gives_the_neighbours_share():
    # A person's question (position 0) and the assistant's reply (1), then the person again (2, 3:
    # one long message in two pieces). The reply echoes the question's topic whatever the turn holds.
    turn = lambda i, pos, sim, who: {"_rowid": i, "similarity": sim, "stream_id": "c", "position": pos, "message_ids": [f"m{i}"], "speaker": who}  # noqa: E731
    dense = [turn(1, 0, 0.5, "user"), turn(2, 1, 0.7, "assistant"), turn(3, 2, 0.4, "user"), turn(4, 3, 0.45, "user")]
    fused = search.fuse(search.Candidates(dense, [], search.Fusion(text_weight=0.03, neighbour_weight=0.15, window_share=0.6)))
    assert fused[1]["fused"] == 0.5 and fused[2]["fused"] == 0.7  # no share from or to the reply
    assert fused[3]["fused"] == 0.4 + 0.15 * 0.45 and fused[4]["fused"] == 0.45 + 0.15 * 0.4


def test_the_window_boost_goes_only_to_passages_close_to_the_best_match():
    # "SARS cases between November 2002 and July 2003": the range dates the content; a weak report
    # inside the window must not outrank the summary that answers it, a close one still does.
    from datetime import datetime, timezone

    from evosearch.timephrases import TimeIntent, TimeWindow

    doc = lambda i, sim, day: {"_rowid": i, "similarity": sim, "stream_id": f"d{i}", "position": 0, "message_ids": [], "time": day}  # noqa: E731
    day = datetime(2003, 1, 1, tzinfo=timezone.utc)
    summary, weak, close = doc(1, 0.78, datetime(2004, 5, 1, tzinfo=timezone.utc)), doc(2, 0.40, day), doc(3, 0.70, day)
    window = TimeWindow(
        start=datetime(2002, 11, 1, tzinfo=timezone.utc), end=datetime(2003, 8, 1, tzinfo=timezone.utc), phrase="between November 2002 and July 2003"
    )
    intent = TimeIntent(window, None, None, "SARS cases")
    weak_only = search.Gathered(intent, "SARS cases", search.Candidates([summary, weak], []), search.Candidates([dict(weak)], []))
    assert [r["_rowid"] for r in search.rank(weak_only, 10)] == [1, 2]
    with_close = search.Gathered(
        intent, "SARS cases", search.Candidates([summary, close, weak], []), search.Candidates([dict(close), dict(weak)], [])
    )
    ranked = search.rank(with_close, 10)
    assert [r["_rowid"] for r in ranked] == [3, 1, 2]
    assert ranked[0]["in_window"] and "window_boost" not in ranked[2]["explain"]


def test_inside_a_vague_window_passages_gain_the_boost_but_a_far_better_match_outside_still_leads():
    # "what did Dave recently start a blog about": the blog post from last month matches far better
    # (many words shared) than a message of this week that mentions a blog.
    from datetime import datetime, timezone

    from evosearch.timephrases import TimeIntent, TimeWindow

    turn = lambda i, sim, bm25, day: {  # noqa: E731
        "_rowid": i, "similarity": sim, "bm25": bm25, "stream_id": "c", "position": 10 * i, "message_ids": [f"m{i}"], "time": day
    }
    old, recent = turn(1, 0.7, 19.0, datetime(2026, 10, 1, tzinfo=timezone.utc)), turn(2, 0.8, 2.0, datetime(2026, 11, 28, tzinfo=timezone.utc))
    start, end = datetime(2026, 11, 20, tzinfo=timezone.utc), datetime(2026, 12, 4, tzinfo=timezone.utc)

    def ranked(window: TimeWindow, order: str | None = None) -> list[int]:
        gathered = search.Gathered(
            TimeIntent(window, order, order and "latest", "Dave start a blog"), "Dave start a blog",
            search.Candidates([dict(old), dict(recent)], [dict(old), dict(recent)]), search.Candidates([dict(recent)], [dict(recent)]),
        )
        return [r["_rowid"] for r in search.rank(gathered, 10)]

    assert ranked(TimeWindow(start, end, "recently", firm=False)) == [1, 2]
    assert ranked(TimeWindow(start, end, "in the past two weeks")) == [2, 1]  # a firm window ranks its passages first
    # with an order word too ("the latest ... recently"), the vague window still does not
    assert ranked(TimeWindow(start, end, "recently", firm=False), "newest") == [1, 2]
    assert ranked(TimeWindow(start, end, "in the past two weeks"), "newest") == [2, 1]


def test_the_speakers_a_question_names_are_matched_by_whole_words_of_their_names():
    rows = [{"speaker": "Caroline, Melanie"}, {"speaker": "Maya Chen"}, {"speaker": "Will"}, {"speaker": "Me"}, {"speaker": "Ana"}, {}]
    assert search.named_speakers("What did caroline's friends say?", rows) == {"caroline"}
    assert search.named_speakers("when is maya flying", rows) == {"maya chen"}
    assert search.named_speakers("Will the launch move? remind me", rows) == frozenset()  # the plain words
    assert search.named_speakers("banana analysis", rows) == frozenset()
    assert search.named_speakers("Did Melanie and Ana agree?", rows) == {"melanie", "ana"}
    senders = [{"speaker": "maya.chen@example.com"}, {"speaker": "+44 7700 900123"}, {"speaker": "J R"}]
    assert search.named_speakers("the example from maya", senders) == {"maya.chen@example.com"}
    assert search.named_speakers("example 7700 r", senders) == frozenset()


def test_a_passage_spoken_only_by_people_the_question_names_gains_the_speaker_weight():
    fusion = search.Fusion(text_weight=0.03, neighbour_weight=0.0, window_share=0.0, speaker_weight=0.2)
    turn = lambda i, who, sim: {"_rowid": i, "similarity": sim, "stream_id": "c", "position": 10 * i, "message_ids": [f"m{i}"], "speaker": who}  # noqa: E731
    dense = [turn(1, "Melanie", 0.55), turn(2, "Caroline", 0.5), turn(3, "Caroline, Melanie", 0.5), {**turn(4, None, 0.5), "message_ids": []}]
    named = search.named_speakers("what did Caroline say about the adoption", dense)
    fused = search.fuse(search.Candidates(dense, [], fusion, named=named))
    assert abs(fused[2]["fused"] - 0.7) < 1e-9 and max(fused, key=lambda i: fused[i]["fused"]) == 2
    assert [fused[i]["fused"] for i in (1, 3, 4)] == [0.55, 0.5, 0.5]  # the other side, both sides, a document
    assert "a speaker the question names 0.2" in _explain_line(fused[2]["explain"])
    assert "speaker" not in fused[3]["explain"]
    assert search.FUSION["minilm"].speaker_weight > 0


def test_a_long_message_stored_in_parts_ranks_once_by_its_best_part():
    # LongMemEval: an assistant's long answer, stored as three passages, took three of the top ten.
    chat = lambda i, sim, ids: {"_rowid": i, "similarity": sim, "stream_id": "c", "position": 10 * i, "message_ids": ids, "time": None}  # noqa: E731
    doc = lambda i, sim: {"_rowid": i, "similarity": sim, "stream_id": "d", "position": 10 * i, "message_ids": [], "time": None}  # noqa: E731
    rows = [chat(1, 0.9, ["m1"]), chat(2, 0.85, ["m1"]), chat(3, 0.8, ["m1"]), chat(4, 0.75, ["m1", "m3"]), chat(5, 0.7, ["m2"]), doc(6, 0.5), doc(7, 0.45)]
    gathered = search.Gathered(search.parse_time_intent("the plan", datetime.now(timezone.utc)), "the plan", search.Candidates(rows, []), None)
    # a passage that adds a message (m3) stays; parts of one document are not messages and all stay
    assert [r["_rowid"] for r in search.rank(gathered, 10)] == [1, 4, 5, 6, 7]


def test_the_window_boost_goes_to_chat_turns_by_their_fused_score_and_to_documents_by_their_cosine():
    # "where did Calvin go in the last week of October": the turn that answers ("Tokyo! back tonight")
    # has a low cosine but shares the rare words; a turn of that week with a fair cosine and no shared
    # words is not close enough for the boost. A document section is judged by its cosine, as before.
    from evosearch.timephrases import TimeIntent, TimeWindow

    day = datetime(2023, 10, 28, tzinfo=timezone.utc)
    row = lambda i, sim, bm25, ids: {  # noqa: E731
        "_rowid": i, "similarity": sim, "bm25": bm25, "stream_id": f"s{i}", "position": 0, "message_ids": ids, "time": day
    }
    best, answer, unrelated = row(1, 0.62, 14.0, ["m1"]), row(2, 0.21, 12.0, ["m2"]), row(3, 0.45, 0.0, ["m3"])
    doc_weak = row(4, 0.30, 12.0, [])
    window = TimeWindow(datetime(2023, 10, 25, tzinfo=timezone.utc), datetime(2023, 11, 1, tzinfo=timezone.utc), "in the last week of October")
    best["time"] = datetime(2023, 6, 1, tzinfo=timezone.utc)  # the best match, from June
    inside = [answer, unrelated, doc_weak]
    gathered = search.Gathered(
        TimeIntent(window, None, None, "where did Calvin go"), "where did Calvin go",
        search.Candidates([dict(r) for r in [best, *inside]], [dict(r) for r in [best, answer, doc_weak]]),
        search.Candidates([dict(r) for r in inside], [dict(answer), dict(doc_weak)]),
    )
    ranked = search.rank(gathered, 10)
    boosted = {r["_rowid"] for r in ranked if r["in_window"]}
    # fused: best 0.62 + 0.42 + 1.44, answer 0.21 + 0.36 + 0.96 (past 0.2 of the best); unrelated 0.45 (under it)
    assert boosted == {2} and ranked[0]["_rowid"] == 2
    # the weak document (cosine 0.30 under 0.6 of 0.62) gains nothing, whatever its words
    assert 4 not in boosted


def test_a_question_about_the_asker_is_in_the_first_person_and_does_not_address_you():
    assert search.about_the_asker("How long have I been working in my current role?")
    assert search.about_the_asker("what’s my dentist’s name")  # curly apostrophes, as phones type them
    assert not search.about_the_asker("Can you remind me what you suggested for my trip?")
    assert not search.about_the_asker("What did Caroline say about the adoption?")
    assert not search.about_the_asker("how do I back up my sqlite database")  # advice: an assistant's reply holds it
    assert not search.about_the_asker("Should I repot my fern in spring?")


def test_an_assistants_turn_loses_the_assistant_weight_for_a_question_about_the_asker():
    turn = lambda i, who: {"_rowid": i, "similarity": 0.5, "stream_id": "c", "position": 10 * i, "message_ids": [f"m{i}"], "speaker": who}  # noqa: E731
    rows = [turn(1, "user"), turn(2, "assistant"), turn(3, "Ana")]
    fusion = search.Fusion(text_weight=0.03, neighbour_weight=0.0, window_share=0.0, assistant_weight=0.3)
    mine = search.fuse(search.Candidates([dict(r) for r in rows], [], fusion, about_the_asker=True))
    assert [mine[i]["fused"] for i in (1, 2, 3)] == [0.5, 0.5 - 0.3, 0.5]
    assert "− an assistant's turn, for a question about the asker 0.3" in _explain_line(mine[2]["explain"])
    to_you = search.fuse(search.Candidates([dict(r) for r in rows], [], fusion, about_the_asker=False))
    assert [to_you[i]["fused"] for i in (1, 2, 3)] == [0.5, 0.5, 0.5]


def _stored(rowid: int, text: str, path: str = "a.md") -> dict:
    return {"_rowid": rowid, "id": f"{path}@{rowid}", "path": path, "text": text, "message_ids": [], "line_start": rowid, "line_end": rowid + 2,
            "format": "markdown", "position": rowid}


def test_a_passage_with_the_words_of_one_above_it_is_listed_as_a_copy_not_ranked_again():
    page = "Use `fs.readFile()` to read a whole file at once; for large files, stream it with createReadStream."
    stored = {
        1: _stored(1, page, "api/fs.md"),
        2: _stored(2, page.replace("`", ""), "api/fs.html"),  # the same words without markdown's ticks
        3: _stored(3, "Streams read a file in chunks, so memory stays flat.", "api/stream.md"),
        4: _stored(4, page + " It returns a promise.", "all.html"),  # one sentence more: 17 of 21 words shared, not a copy
        5: _stored(5, page, "backup/fs.md"),
        6: _stored(6, page.replace("large", "huge"), "api/fs.md"),  # in its own file, one word apart: a variant, not a copy
        7: _stored(7, page, "api/fs.md"),  # in its own file, the same words
    }
    ranked = [{"_rowid": i, "score": 1.0 - i / 10} for i in (1, 2, 3, 4, 5, 6, 7)]
    calls = []

    def rows(ids):
        calls.append(ids)
        return {i: stored[i] for i in ids}

    got = search.distinct_texts(ranked, rows, limit=3)
    assert [r["_rowid"] for r in got] == [1, 3, 4]
    assert got[0]["also"] == [
        {"ref": "api/fs.html@2", "path": "api/fs.html", "locator": "L2-4"},
        {"ref": "backup/fs.md@5", "path": "backup/fs.md", "locator": "L5-7"},  # in the page read for the answer's last place
        {"ref": "api/fs.md@7", "path": "api/fs.md", "locator": "L7-9"},
    ]
    assert got[1]["also"] == [] and got[2]["also"] == []
    assert calls == [[1, 2, 3], [4, 5, 6, 7]]  # the rows an answer without copies needs, then twice as many
    calls.clear()
    assert [r["_rowid"] for r in search.distinct_texts(ranked[2:5], rows, limit=3)] == [3, 4, 5] and calls == [[3, 4, 5]]
    assert [r["_rowid"] for r in search.distinct_texts(ranked, rows, limit=1)] == [1]
    got = search.distinct_texts(ranked, rows, limit=10)
    assert [r["_rowid"] for r in got] == [1, 3, 4, 6]
    assert [c["ref"] for c in got[0]["also"]] == ["api/fs.html@2", "backup/fs.md@5", "api/fs.md@7"]


class _WordsEncoder:
    """Word states as one-hot rows over a small vocabulary: a word meets only itself."""

    VOCABULARY = ["when", "is", "the", "launch", "friday", "shed", "green", "roof"]

    def token_states(self, texts):
        eye = np.eye(len(self.VOCABULARY), dtype=np.float32)
        return [np.stack([eye[self.VOCABULARY.index(w)] for w in t.lower().split() if w in self.VOCABULARY] or [eye[0] * 0]) for t in texts]


def test_the_closer_look_lifts_a_passage_whose_words_meet_the_questions(monkeypatch):
    texts = {1: "the shed roof", 2: "green shed", 3: "the launch is friday", 4: "when is the launch friday", 5: "when is the launch"}
    speakers = {5: "assistant"}  # an assistant repeating the question gains nothing
    ranked = [{"_rowid": i, "score": 1.0 - i / 10, "in_window": i == 2, "explain": {}, "speaker": speakers.get(i)} for i in (1, 2, 3, 4, 5)]
    read = []

    def rows(ids):
        read.append(ids)
        return {i: {"text": texts[i]} for i in ids}

    fresh = lambda: [{**r, "explain": {}} for r in ranked]  # noqa: E731
    got = search.closer_look(fresh(), "when is the launch", _WordsEncoder(), rows, firm=False)
    # shares met (question's words, passage's): 4: 4/4 and 4/5; 3: 3/4 and 3/4; 1: 1/4 and 1/3; 2: none
    assert [r["_rowid"] for r in got] == [4, 3, 1, 2, 5]
    share = search.CLOSER_LOOK_QUESTION_SHARE
    assert got[0]["explain"]["closer_look"] == pytest.approx(search.CLOSER_LOOK_WEIGHT * (share + (1 - share) * 4 / 5))
    assert got[2]["explain"]["closer_look"] == pytest.approx(search.CLOSER_LOOK_WEIGHT * (share / 4 + (1 - share) / 3), abs=1e-5)  # rounded to 5 places
    assert got[0]["score"] == pytest.approx(0.6 + got[0]["explain"]["closer_look"]) and read == [[1, 2, 3, 4, 5]]
    assert got[-1]["score"] == 0.5 and "closer_look" not in got[-1]["explain"]
    explained = {"dense_similarity": 0.5, "dense_rank": 1, "fused": 0.6, **got[0]["explain"]}
    assert _explain_line(explained).endswith(f"; its words against the question's +{got[0]['explain']['closer_look']:.3f}")
    got = search.closer_look(fresh(), "when is the launch", _WordsEncoder(), rows, firm=True)
    assert [r["_rowid"] for r in got] == [2, 4, 3, 1, 5]  # a firm window's passage stays first
    got = search.closer_look(fresh(), "when is the launch", object(), rows, firm=False)
    assert [r["_rowid"] for r in got] == [1, 2, 3, 4, 5] and "closer_look" not in got[0]["explain"]  # no word states (e5-small)
    monkeypatch.setattr(search, "CLOSER_LOOK_TOP", 2)
    got = search.closer_look(fresh(), "when is the launch", _WordsEncoder(), rows, firm=False)
    assert [r["_rowid"] for r in got] == [1, 2, 3, 4, 5] and "closer_look" not in got[2]["explain"]  # only the top ones are looked at


def test_an_order_words_bonus_is_half_the_best_score_with_the_closer_look_in_it():
    """The closer look comes before the order bonus: its word-by-word differences between two notes
    on one topic must not outweigh "the latest" (benchmarks/time_phrases.py)."""
    old, new = datetime(2025, 3, 1, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc)
    ranked = [
        {"_rowid": 1, "time": old, "similarity": 0.8, "fused": 0.8, "score": 3.8, "in_window": False, "explain": {"closer_look": 3.0}},
        {"_rowid": 2, "time": new, "similarity": 0.75, "fused": 0.7, "score": 3.3, "in_window": False, "explain": {"closer_look": 2.6}},
    ]
    got = search._apply_order(ranked, "newest", 10, window_first=False)
    assert [r["_rowid"] for r in got] == [2, 1] and got[0]["explain"]["order_bonus"] == pytest.approx(search.ORDER_BONUS * 3.8)
