"""`evosearch mcp`: the index served to agents over the Model Context Protocol (the official SDK's
MCPServer), read-only. Each tool is a thin wrapper over the function behind the matching command,
and its structured result is that command's --json dict.

Start-up imports only the SDK, so `initialize` is answered at once; the tables and the query
encoder load on the first call that needs them and stay warm. Every call reads the newest version
of the index, so a running `index` or `watch` shows up without a restart (benchmarks/mcp_latency.py
measures the first and the warm call).
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool
from mcp_types import ToolAnnotations
from pydantic import ConfigDict, Field

READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)
INSTRUCTIONS = (
    "Search a person's own notes, documents and chat exports by meaning and by time. `search` finds "
    "passages (time phrases like 'last week' in the query rank that window first); `show` reads around "
    "a passage by its `ref`; `recent` lists what was written or said in a time window; `status` says what is indexed."
)

Since = Annotated[str | None, Field(description="Only passages from this date or phrase on ('2026-03-01', 'last week').")]
Until = Annotated[str | None, Field(description="Only passages before the end of this date or phrase ('yesterday' includes all of it).")]
Now = Annotated[str | None, Field(description="Reference time for relative phrases (a date); default: now.")]
Source = Annotated[str | None, Field(description="Only sources whose path (or file name) matches this glob, e.g. '*.jsonl'.")]
Speaker = Annotated[list[str] | None, Field(description="Only passages where one of these people spoke (case-insensitive).")]
Conversation = Annotated[str | None, Field(description="Only chats whose conversation title matches this glob.")]


class LazyIndex:
    """The index and the query encoder, opened on first use and kept; one call at a time reads them
    (lance datasets and the encoder are not shared across threads here)."""

    def __init__(self, db: str | None):
        self.db = db
        self.lock = threading.Lock()
        self._store = None
        self._encoder = None

    def store(self):
        if self._store is None:
            from .config import db_uri
            from .store import open_for_search

            self._store = open_for_search(db_uri(self.db))  # a missing index raises, and the next call tries again
        return self._store

    def store_and_encoder(self):
        if self._encoder is None:
            from .api import open_index

            self._store, self._encoder = open_index(self.db)
        return self._store, self._encoder


def _strict(tool: Tool) -> Tool:
    """Unknown or misspelled arguments are an error, never silently dropped: the argument model
    forbids extras, and the published schema says so."""

    class StrictArguments(tool.fn_metadata.arg_model):
        model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    tool.fn_metadata.arg_model = StrictArguments
    tool.parameters["additionalProperties"] = False
    return tool


def build_server(db: str | None = None) -> MCPServer:
    """The MCP server over the index at db (default: the user's), its tools registered."""
    from . import __version__

    index = LazyIndex(db)

    async def call(fn, *args):
        """Run fn(*args) in a worker thread under the index lock; an EvosearchError becomes the tool's error."""
        from .errors import EvosearchError

        def locked():
            with index.lock:
                return fn(*args)

        try:
            return await anyio.to_thread.run_sync(locked)
        except EvosearchError as e:
            raise ToolError(str(e)) from None

    async def search(
        query: Annotated[str, Field(description="What to look for, in plain words; may contain a time phrase.")],
        limit: Annotated[int, Field(ge=1, le=100, description="How many passages to return.")] = 10,
        since: Since = None,
        until: Until = None,
        now: Now = None,
        source: Source = None,
        speaker: Speaker = None,
        conversation: Conversation = None,
        timeline: Annotated[bool, Field(description="Also count where the best matches fall in time, per week, month or year.")] = False,
    ) -> dict[str, Any]:
        """Find the passages that answer a query, best first, each with the `ref` that `show` takes.
        Equal to `evosearch ask --json`."""

        def run():
            from .context import reference_time, time_range
            from .search import ask

            reference = reference_time(now)
            since_t, until_t = time_range(since, until, reference)
            store, encoder = index.store_and_encoder()
            return ask(
                store, encoder, query, now=reference, limit=limit, since=since_t, until=until_t,
                source=source, speaker=speaker, conversation=conversation, timeline=timeline,
            )  # fmt: skip

        return await call(run)

    async def show(
        ref: Annotated[str, Field(description="A passage's `ref` from `search` or `recent`.")],
        around: Annotated[int, Field(ge=0, le=50, description="How many passages before and after it.")] = 2,
    ) -> dict[str, Any]:
        """A passage and the passages around it in its file or conversation, in order. Equal to `evosearch show --json`."""
        from .context import show as show_passage

        return await call(lambda: show_passage(index.store(), ref, around))

    async def recent(
        since: Annotated[str | None, Field(description="From this date or phrase on; default: 7 days before now.")] = None,
        until: Until = None,
        now: Now = None,
        source: Source = None,
        speaker: Speaker = None,
        conversation: Conversation = None,
        limit: Annotated[int, Field(ge=1, le=500, description="How many passages at most.")] = 50,
    ) -> dict[str, Any]:
        """What was written or said in a time window, newest first, grouped by file or conversation.
        Equal to `evosearch recent --json`."""

        def run():
            from .context import recent as recent_passages
            from .context import reference_time, time_range

            reference = reference_time(now)
            since_t, until_t = time_range(since, until, reference)
            return recent_passages(
                index.store(), now=reference, since=since_t, until=until_t, source=source, speaker=speaker, conversation=conversation, limit=limit
            )

        return await call(run)

    async def status() -> dict[str, Any]:
        """What is indexed: sources, segments, streams, time span, model, location. Equal to `evosearch status --json`."""
        def run():
            return index.store().latest().stats()  # the newest version: a watch may have written since

        return await call(run)

    tools = [
        _strict(Tool.from_function(fn, title=title, annotations=READ_ONLY, structured_output=True))
        for fn, title in ((search, "Search notes and chats"), (show, "Read around a passage"), (recent, "Recent passages"), (status, "Index status"))
    ]
    return MCPServer("evosearch", instructions=INSTRUCTIONS, version=__version__, tools=tools, log_level="WARNING")


def client_config(db: str | None) -> dict:
    """The snippet MCP clients take (Claude Desktop's claude_desktop_config.json, Cursor's mcp.json, ...)
    to start this installation's server over stdio."""
    import shutil
    import sys
    from pathlib import Path

    from .config import db_uri

    script = Path(sys.executable).parent / "evosearch"
    if script.exists():
        command, args = str(script), ["mcp"]
    elif shutil.which("evosearch"):
        command, args = shutil.which("evosearch"), ["mcp"]
    else:
        command, args = sys.executable, ["-m", "evosearch", "mcp"]
    return {"mcpServers": {"evosearch": {"command": command, "args": args, "env": {"EVOSEARCH_DB": db_uri(db)}}}}
