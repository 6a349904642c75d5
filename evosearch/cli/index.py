from __future__ import annotations

from typing import Annotated

import typer

from ..options import DbOption, PathsArgument, QuietOption
from ..output import index_progress, index_summary, info, reports_errors, stderr, warn


def help_text() -> str:
    """index's docstring with the formats it reads, listed from the readers' registry."""
    from ..sources.detect import format_names

    documents, chats = format_names()
    return (index.__doc__ or "").replace(
        "notes, documents and chat exports, each recognised by its content.",
        f"notes, documents and chat exports. Files ending in {' '.join(documents)} are read, and each is "
        f"recognised by its content: a note, an HTML page, a PDF or a chat export ({', '.join(chats)}).",
    )


@reports_errors
def index(
    paths: PathsArgument,
    db: DbOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and encode everything again.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Index files and folders: notes, documents and chat exports, each recognised by its content.

    Re-running is incremental: unchanged files are skipped, grown files resume from their
    last memory snapshot, edited files are re-encoded from the first changed segment, and
    files gone from an indexed folder are removed.
    """
    from ..api import open_index
    from ..indexer import check_paths_exist, index_paths

    check_paths_exist(paths)  # before the index is created
    store, encoder = open_index(db, write=True, rebuild=rebuild, command="index")  # holds the writer lock
    with store:
        progress = index_progress(quiet)
        try:
            report = index_paths(paths, store, encoder, warn, progress)
        finally:
            progress.stop()
    if not quiet:
        info(index_summary(report, store.uri))
    if not report.ok:
        stderr.print("[red]error:[/] nothing could be indexed; see the warnings above")
        raise typer.Exit(1)
