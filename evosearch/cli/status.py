from __future__ import annotations

from typing import Annotated

import typer

from ..options import DbOption, JsonOption
from ..output import print_json, print_status, reports_errors


@reports_errors
def status(
    db: DbOption = None,
    sources: Annotated[bool, typer.Option("--sources", help="List every indexed source.")] = False,
    json: JsonOption = False,
) -> None:
    """Show what is indexed: sources, segments, streams, time span, model, index location and size."""
    from ..config import db_uri
    from ..store import open_for_search

    store = open_for_search(db_uri(db))
    stats = store.stats()
    if sources:
        stats["source_list"] = [
            {"path": r.path, "format": r.format, "segments": r.segment_count, "streams": len(r.stream_ids)}
            for r in sorted(store.sources().values(), key=lambda r: r.path)
        ]
    if json:
        print_json(stats)
    else:
        print_status(stats)
