"""`evosearch mcp` driven by the SDK's own client over stdio, end to end on a small corpus."""

import json
import os
import sys
from pathlib import Path

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from typer.testing import CliRunner

from evosearch.cli.app import app

from .helpers import make_notes, write_chat

runner = CliRunner()
REPO = Path(__file__).parents[1]
NOW = "2026-11-20"


def cli_json(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def server(*args) -> StdioServerParameters:
    # the test's EVOSEARCH_HOME and hashing encoder, and this checkout's code
    return StdioServerParameters(command=sys.executable, args=["-m", "evosearch", "mcp", *args], env=dict(os.environ), cwd=str(REPO))


def run_session(body, *args):
    async def main():
        async with stdio_client(server(*args)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)

    return anyio.run(main)


def test_tools_equal_the_cli_json_and_reject_bad_parameters(tmp_path):
    notes = make_notes(tmp_path)
    assert runner.invoke(app, ["index", str(notes)]).exit_code == 0
    ask = cli_json("ask", "the launch moves", "--now", NOW, "-n", 3, "--speaker", "ana", "--timeline", "--json")
    ref = ask["results"][0]["ref"]
    expected = {
        "search": ask,
        "show": cli_json("show", ref, "--around", 1, "--json"),
        "recent": cli_json("recent", "--since", "2026-11-01", "--source", "*.jsonl", "--now", NOW, "--json"),
        "status": cli_json("status", "--json"),
    }
    calls = {
        "search": {"query": "the launch moves", "now": NOW, "limit": 3, "speaker": ["ana"], "timeline": True},
        "show": {"ref": ref, "around": 1},
        "recent": {"since": "2026-11-01", "source": "*.jsonl", "now": NOW},
        "status": {},
    }

    async def body(session):
        tools = {t.name: t for t in (await session.list_tools()).tools}
        results = {name: await session.call_tool(name, arguments) for name, arguments in calls.items()}
        misspelled = await session.call_tool("search", {"query": "launch", "limt": 3})
        wrong_type = await session.call_tool("show", {"ref": ref, "around": "many"})
        bad_ref = await session.call_tool("show", {"ref": "not a ref"})
        return tools, results, misspelled, wrong_type, bad_ref

    tools, results, misspelled, wrong_type, bad_ref = run_session(body)
    assert set(tools) == {"search", "show", "recent", "status"}
    for name, tool in tools.items():
        assert tool.annotations.read_only_hint and not tool.annotations.destructive_hint
        assert tool.input_schema["additionalProperties"] is False
    assert set(tools["search"].input_schema["properties"]) >= {"query", "limit", "since", "until", "now", "source", "speaker"}
    for name, result in results.items():
        assert not result.is_error, result.content
        assert result.structured_content == expected[name], name
    assert misspelled.is_error and "limt" in misspelled.content[0].text
    assert wrong_type.is_error and "around" in wrong_type.content[0].text
    assert bad_ref.is_error and "not a passage ref" in bad_ref.content[0].text


def test_a_file_indexed_while_the_server_runs_is_found(tmp_path):
    notes = make_notes(tmp_path)
    assert runner.invoke(app, ["index", str(notes)]).exit_code == 0
    later = tmp_path / "later.jsonl"
    write_chat(later, [("z1", "2026-11-19T09:00:00+00:00", "Zoe", "the kayak trip is booked for the lake")], conversation="kayaks")

    async def body(session):
        status_before = await session.call_tool("status", {})
        before = await session.call_tool("search", {"query": "kayak trip on the lake", "now": NOW, "limit": 3})
        assert runner.invoke(app, ["index", str(later)]).exit_code == 0  # a writer in another process's place, same index
        status = await session.call_tool("status", {})  # first after the write: no other call has moved the reader on
        after = await session.call_tool("search", {"query": "kayak trip on the lake", "now": NOW, "limit": 3})
        recent = await session.call_tool("recent", {"now": NOW, "speaker": ["zoe"]})
        return before, after, recent, status_before, status

    before, after, recent, status_before, status = run_session(body)
    assert str(later) not in [r["path"] for r in before.structured_content["results"]]
    assert after.structured_content["results"][0]["path"] == str(later)
    assert [g["path"] for g in recent.structured_content["groups"]] == [str(later)]
    assert status.structured_content["sources"] == 5 == status_before.structured_content["sources"] + 1
    assert status.structured_content["segments"] == status_before.structured_content["segments"] + 1


def test_initialize_answers_without_an_index_and_a_call_says_what_to_do(tmp_path):
    async def body(session):
        tools = (await session.list_tools()).tools
        return tools, await session.call_tool("status", {})

    tools, status = run_session(body, "--db", str(tmp_path / "none"))
    assert len(tools) == 4 and status.is_error and "no index at" in status.content[0].text


def test_print_config_names_this_installation():
    result = runner.invoke(app, ["mcp", "--print-config", "--db", "/srv/index"])
    assert result.exit_code == 0
    entry = json.loads(result.stdout)["mcpServers"]["evosearch"]
    assert Path(entry["command"]).exists() and "mcp" in entry["args"] and entry["env"] == {"EVOSEARCH_DB": "/srv/index"}


def test_stdout_carries_nothing_but_protocol(tmp_path):
    """A client reads every stdout line as JSON-RPC: loading the index and the encoder on the first
    call must not print there (stderr is for logs)."""
    import subprocess

    notes = make_notes(tmp_path)
    assert runner.invoke(app, ["index", str(notes)]).exit_code == 0
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search", "arguments": {"query": "SQLite", "now": NOW}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "status", "arguments": {}}},
    ]  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "evosearch", "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=dict(os.environ), cwd=REPO,
    )  # fmt: skip
    try:
        server.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        server.stdin.flush()
        replies = sorted((json.loads(server.stdout.readline()) for _ in range(3)), key=lambda r: r["id"])  # a stray line fails here
        server.stdin.close()  # end of input: the server exits
        rest = server.stdout.read()
        assert server.wait(timeout=30) == 0
    finally:
        server.kill()
    assert rest == "" and [r["id"] for r in replies] == [1, 2, 3] and all(r["jsonrpc"] == "2.0" and "result" in r for r in replies)
    assert replies[1]["result"]["structuredContent"]["results"][0]["path"].endswith("2026-11-02.md")
