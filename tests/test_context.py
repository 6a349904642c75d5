"""show, recent, ask --speaker/--conversation/--timeline through the CLI, with exact exit codes."""

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from typer.testing import CliRunner

from evosearch.cli.app import app
from evosearch.timeline import best_matches, timeline_buckets
from evosearch.timephrases import TimeWindow

from .helpers import make_notes

runner = CliRunner()
NOW = "2026-11-20"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def indexed(tmp_path) -> Path:
    notes = make_notes(tmp_path)
    assert invoke("index", notes).exit_code == 0
    return notes


def test_show_reads_around_a_ref_that_ask_prints(tmp_path, monkeypatch):
    notes = indexed(tmp_path)
    answer = json.loads(invoke("ask", "the shed roof costs", "--source", "team.jsonl", "--now", NOW, "--json").stdout)
    hit = answer["results"][0]
    assert hit["ref"] == f"{hit['stream_id']}@{hit['position']}"

    shown = json.loads(invoke("show", hit["ref"], "--around", 2, "--json").stdout)
    positions = [p["position"] for p in shown["passages"]]
    assert positions == sorted(positions) and hit["position"] in positions
    alone = invoke("show", hit["ref"], "--around", 0)
    assert alone.exit_code == 0 and "1 passage around" in alone.stdout
    assert positions == list(range(max(0, hit["position"] - 2), positions[-1] + 1)) and len(positions) <= 5
    [marked] = [p for p in shown["passages"] if p["hit"]]
    assert marked["ref"] == hit["ref"] and marked["text"] == hit["text"] and marked["speaker"] == hit["speaker"]
    assert all(p["stream_id"] == hit["stream_id"] for p in shown["passages"])

    # the human output prints the ref relative to here, and show reads it back
    monkeypatch.chdir(tmp_path)
    printed = invoke("ask", "the shed roof costs", "--source", "team.jsonl", "--now", NOW, "-n", 1).stdout
    ref = next(line.split("ref ", 1)[1] for line in printed.splitlines() if line.strip().startswith("ref "))
    assert ref.startswith("notes/team.jsonl#team@")
    result = invoke("show", ref, "-a", 0)
    assert result.exit_code == 0, result.output
    assert "▶" in result.stdout and hit["text"].splitlines()[0] in result.stdout


def test_show_rejects_bad_refs_with_one_line(tmp_path):
    indexed(tmp_path)
    for ref, message in [("nonsense", "not a passage ref"), ("/nowhere.md@3", "no passage /nowhere.md@3"), (str(tmp_path / "notes/ideas.md@99"), "no passage")]:
        result = invoke("show", ref)
        assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output
    assert invoke("show", "x@1", "--around", -1).exit_code == 2


def test_ask_speaker_and_conversation_filter(tmp_path):
    indexed(tmp_path)
    answer = json.loads(invoke("ask", "launch", "--speaker", "ANA", "--now", NOW, "-n", 50, "--json").stdout)
    assert answer["results"] and all("ana" in [s.lower() for s in r["speaker"].split(", ")] for r in answer["results"])
    answer = json.loads(invoke("ask", "launch", "--speaker", "nobody", "--speaker", "ben", "--json").stdout)
    assert answer["results"] and answer["speaker"] == ["nobody", "ben"]
    assert json.loads(invoke("ask", "launch", "--speaker", "nobody", "--json").stdout)["results"] == []
    assert all(r["title"] == "team" for r in json.loads(invoke("ask", "SQLite", "--conversation", "T?A*", "--json").stdout)["results"])
    assert json.loads(invoke("ask", "SQLite", "--conversation", "Monday", "--json").stdout)["results"] == []  # a note, not a chat


def test_recent_lists_a_window_newest_first_grouped(tmp_path):
    indexed(tmp_path)
    result = invoke("recent", "--since", "2026-11-01", "--until", "2026-11-02", "--now", NOW, "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    times = [p["time_end"] for g in answer["groups"] for p in g["passages"]]
    assert answer["shown"] == len(times) == answer["total"] > 0
    assert {g["path"].rsplit("/", 1)[1] for g in answer["groups"]} == {"2026-11-02.md", "team.jsonl"}
    team = next(g for g in answer["groups"] if g["title"] == "team")
    assert [p["time_end"] for p in team["passages"]] == sorted((p["time_end"] for p in team["passages"]), reverse=True)
    assert all("2026-11-01" <= p["time_end"][:10] <= "2026-11-02" for p in team["passages"])

    only_ben = json.loads(invoke("recent", "--since", "2026-10-01", "--speaker", "Ben", "--source", "*.jsonl", "--now", NOW, "--json").stdout)
    assert only_ben["total"] > 0 and all("Ben" in p["speaker"] for g in only_ben["groups"] for p in g["passages"])
    default = json.loads(invoke("recent", "--now", "2026-11-05", "-n", 2, "--json").stdout)  # the last 7 days
    assert default["since"].startswith("2026-10-29") and default["shown"] == 2 < default["total"]
    human = invoke("recent", "--since", "2026-11-01", "--until", "2026-11-02", "--now", NOW)
    assert human.exit_code == 0 and "ref notes/" not in human.stdout and "ref " in human.stdout
    # Only a group's source line starts at the margin: every line of a passage is indented, a note's
    # heading and the paragraph under it too.
    assert [line for line in human.stdout.splitlines() if not line.startswith(" ")] == [
        line for line in human.stdout.splitlines() if " passage" in line
    ]
    assert invoke("recent", "--since", "2026-11-05", "--until", "2026-11-01").exit_code == 1
    assert "no indexed source" in invoke("recent", "--source", "*.pdf").stderr


def test_timeline_buckets_count_matches_and_mark_the_window():
    tz = timezone.utc
    times = [datetime(2026, 10, d, tzinfo=tz) for d in (1, 2, 20, 21, 22)] + [None]
    window = TimeWindow(datetime(2026, 10, 19, tzinfo=tz), datetime(2026, 10, 26, tzinfo=tz), "last week")
    out = timeline_buckets(times, times[:1], window, datetime(2026, 11, 1, tzinfo=tz))
    assert out["unit"] == "week" and out["undated"] == 1 and out["matches"] == 6
    assert sum(b["matches"] for b in out["buckets"]) == 5 and sum(b["shown"] for b in out["buckets"]) == 1
    assert [b["label"] for b in out["buckets"]] == ["2026-09-28", "2026-10-05", "2026-10-12", "2026-10-19"]
    assert [b["in_window"] for b in out["buckets"]] == [False, False, False, True]
    years = timeline_buckets([datetime(2020, 1, 1, tzinfo=tz), datetime(2026, 1, 1, tzinfo=tz)], [], None, datetime(2026, 2, 1, tzinfo=tz))
    assert years["unit"] == "year" and len(years["buckets"]) == 7


def test_ask_timeline_in_json_and_at_80_columns_without_colour(tmp_path):
    notes = indexed(tmp_path)
    answer = json.loads(invoke("ask", "the launch", "--timeline", "--now", NOW, "--json").stdout)
    assert answer["timeline"]["unit"] == "week" and sum(b["matches"] for b in answer["timeline"]["buckets"]) > 0
    assert json.loads(invoke("ask", "the launch", "--now", NOW, "--json").stdout)["timeline"] is None
    env = {**{k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}, "NO_COLOR": "1", "COLUMNS": "80"}
    cmd = [sys.executable, "-m", "evosearch", "ask", "the launch last month", "--timeline", "--now", NOW, "-n", "3"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1], timeout=120)
    assert done.returncode == 0, done.stderr
    chart = done.stdout[done.stdout.index("best matches were written"):].splitlines()
    assert "\x1b[" not in done.stdout and all(len(line) <= 80 for line in chart)
    assert any("← window" in line for line in chart) and any("█" in line for line in chart)
    assert notes.exists()


def test_the_timeline_counts_the_shown_results_and_close_matches_only():
    ranked = [{"similarity": s, "time": None} for s in (0.8, 0.2, 0.5, 0.41, 0.39, 0.1)]
    assert [r["similarity"] for r in best_matches(ranked, 2)] == [0.8, 0.2, 0.5, 0.41]
    assert best_matches([], 3) == []
