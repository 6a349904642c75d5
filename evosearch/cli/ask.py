from __future__ import annotations

import json as jsonlib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import EvosearchError, QueryError
from ..options import DbOption, JsonOption, LimitOption, NowOption, SinceOption, UntilOption
from ..output import print_json, print_results, reports_errors, stderr
from .recent import ConversationOption, SpeakerOption


def _read_queries(path: Path) -> list[tuple[int, str | None, str | None, QueryError | None]]:
    """(line number, query, now, error) per non-empty line: one query per line, or JSON Lines
    with "query" and an optional "now". A line that is not a query carries its error instead,
    so one bad line does not stop the batch."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise QueryError(f"{path}: cannot read the query file ({e})", "pass a UTF-8 text file, one query per line") from e
    queries = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                item = jsonlib.loads(line)
                queries.append((n, str(item["query"]), item.get("now"), None))
            except (ValueError, KeyError, TypeError) as e:
                error = QueryError(f"{path}:{n}: not a query object ({e})", 'write {"query": "...", "now": "2026-11-20"} or a plain line')
                queries.append((n, None, None, error))
        else:
            queries.append((n, line, None, None))
    return queries


@reports_errors
def ask(
    query: Annotated[Optional[str], typer.Argument(help="What to look for, in plain words.", show_default=False, metavar="QUERY")] = None,
    limit: LimitOption = 10,
    json: JsonOption = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show how each score was built.")] = False,
    since: SinceOption = None,
    until: UntilOption = None,
    source: Annotated[
        Optional[str], typer.Option("--source", help="Only sources whose path (or file name) matches this glob.", metavar="GLOB")
    ] = None,
    speaker: SpeakerOption = None,
    conversation: ConversationOption = None,
    timeline: Annotated[bool, typer.Option("--timeline", help="After the hits, chart when the best matches were written.")] = False,
    now: NowOption = None,
    queries: Annotated[
        Optional[Path], typer.Option("--queries", help="Answer every query in FILE (lines or JSONL); prints JSON Lines.", metavar="FILE")
    ] = None,
    db: DbOption = None,
) -> None:
    """Find the passages that answer QUERY, best first.

    Time phrases in the query ("last week", "in March", "since Monday") rank passages from
    that window first; words like "latest" or "originally" favour the newest or oldest match.
    Exits 1 when nothing matches, as grep does.
    """
    from ..api import open_index
    from ..context import reference_time, time_range
    from ..search import ask as run_query
    from ..timephrases import parse_when

    if (query is None) == (queries is None):
        raise typer.BadParameter("give a QUERY or --queries FILE (one of them)")
    reference = reference_time(now)
    since_t, until_t = time_range(since, until, reference)
    store, encoder = open_index(db)

    def answer(text: str, at: datetime) -> dict:
        return run_query(
            store, encoder, text, now=at, limit=limit, since=since_t, until=until_t, source=source,
            speaker=speaker, conversation=conversation, timeline=timeline,
        )

    if queries is not None:
        failed = 0
        for n, text, query_now, error in _read_queries(queries):
            try:
                if error is not None:
                    raise error
                print_json(answer(text, parse_when(query_now, reference) if query_now else reference))
            except EvosearchError as e:  # an error record in its place; the other lines are still answered
                failed += 1
                print_json({"line": n, "query": text, "error": e.message, "hint": e.hint})
        if failed:
            stderr.print(f"[red]error:[/] {failed} line{'s' * (failed != 1)} of {queries} could not be answered; see the error records")
            raise typer.Exit(1)
        return
    result = answer(query, reference)
    if json:
        print_json(result)
    else:
        print_results(result, explain)
        if timeline:
            from ..output_context import print_timeline

            print_timeline(result["timeline"], result["window"])
    if not result["results"]:
        raise typer.Exit(1)
