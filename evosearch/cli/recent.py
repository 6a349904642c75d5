from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..options import DbOption, JsonOption, NowOption, UntilOption
from ..output import print_json, reports_errors

SpeakerOption = Annotated[
    Optional[list[str]], typer.Option("--speaker", metavar="NAME", help="Only passages where this person spoke (case-insensitive; repeat for several).")
]
ConversationOption = Annotated[Optional[str], typer.Option("--conversation", metavar="GLOB", help="Only chats whose conversation title matches this glob.")]


@reports_errors
def recent(
    since: Annotated[Optional[str], typer.Option("--since", metavar="WHEN", help="From this date or phrase on ('last week', 2026-11-01). Default: 7 days ago.")] = None,
    until: UntilOption = None,
    source: Annotated[Optional[str], typer.Option("--source", metavar="GLOB", help="Only sources whose path (or file name) matches this glob.")] = None,
    speaker: SpeakerOption = None,
    conversation: ConversationOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, metavar="N", help="How many passages to list at most.")] = 50,
    now: NowOption = None,
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """What was written or said in a time window, newest first, grouped by file or conversation. No query needed."""
    from ..config import db_uri
    from ..context import recent as recent_passages
    from ..context import reference_time, time_range
    from ..store import open_for_search

    reference = reference_time(now)
    since_t, until_t = time_range(since, until, reference)
    answer = recent_passages(
        open_for_search(db_uri(db)), now=reference, since=since_t, until=until_t, source=source, speaker=speaker, conversation=conversation, limit=limit
    )
    if json:
        print_json(answer)
    else:
        from ..output_context import print_recent

        print_recent(answer)
