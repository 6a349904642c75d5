"""Options shared by several commands. --db falls back to $EVOSEARCH_DB (in config.db_uri) and --now to $EVOSEARCH_NOW."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

DbOption = Annotated[
    Optional[str],
    typer.Option(
        "--db",
        help="Index location: a folder, or an object-store URI (s3://bucket/evosearch). Default: $EVOSEARCH_DB, else <data dir>/index.",
        show_default=False,
        metavar="URI",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout instead of a table.")]
LimitOption = Annotated[int, typer.Option("--limit", "-n", min=1, help="How many passages to show.", metavar="N")]
SinceOption = Annotated[
    Optional[str],
    typer.Option("--since", help="Only passages from this time on: a date (2026-03-01) or a phrase ('last week').", metavar="WHEN"),
]
UntilOption = Annotated[
    Optional[str],
    typer.Option(
        "--until", help="Only passages before the end of this date or phrase ('yesterday' includes all of yesterday).", metavar="WHEN"
    ),
]
NowOption = Annotated[
    Optional[str],
    typer.Option(
        "--now", envvar="EVOSEARCH_NOW", help="Reference time for relative phrases like 'last week'. Default: now.", metavar="WHEN"
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary; warnings still go to stderr.")]
PathsArgument = Annotated[list[Path], typer.Argument(help="Files and folders.", show_default=False, metavar="PATH...")]
