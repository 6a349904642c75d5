from __future__ import annotations

from typing import Annotated

import typer

from ..options import DbOption, JsonOption
from ..output import print_json, reports_errors


@reports_errors
def show(
    ref: Annotated[str, typer.Argument(metavar="REF", help="A passage ref, as `ask` prints it (PATH@N, or PATH#CONVERSATION@N for a chat).", show_default=False)],
    around: Annotated[int, typer.Option("--around", "-a", min=0, metavar="N", help="How many segments (or chat segments) to show before and after it.")] = 2,
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show a passage and the passages around it in its file or conversation, in order, with times and speakers."""
    from ..config import db_uri
    from ..context import show as show_passage
    from ..store import open_for_search

    shown = show_passage(open_for_search(db_uri(db)), ref, around)
    if json:
        print_json(shown)
    else:
        from ..output_context import print_show

        print_show(shown)
