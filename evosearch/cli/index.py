from __future__ import annotations

import sys
import time
from typing import Annotated

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
    quiet: QuietOption = False,
    ray: Annotated[bool, typer.Option("--ray", help="Encode the streams on a Ray cluster (needs evosearch[ray]).")] = False,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Ray cluster to join ('auto': the local `ray start`). Default: start one here.")
    ] = None,
    ray_workers: Annotated[int | None, typer.Option("--ray-workers", min=1, help="Encoder workers. Default: one per GPU, else per CPU.")] = None,
) -> None:
    """Index files and folders: notes (.md .txt .rst .org) and chat exports (JSONL, ChatGPT).

    Re-running is incremental: unchanged files are skipped, grown files resume from their
    last memory snapshot, edited files are re-encoded from the first changed segment, and
    files gone from an indexed folder are removed.
    """
    from ..api import open_index
    from ..indexer import check_paths_exist, index_paths

    check_paths_exist(paths)  # before the index is created
    if ray or ray_address:  # before LanceDB starts its threads: Ray forks its helpers at init
        from ..ray_index import RayEncode, connect

        connect(ray_address, ray_workers)
    store, encoder = open_index(db, write=True, rebuild=rebuild, command="index")  # holds the writer lock
    with store:
        progress = _progress(quiet)
        try:
            encode = {"encode": RayEncode(encoder.model_id, ray_workers)} if ray or ray_address else {}
            report = index_paths(paths, store, encoder, warn, progress, **encode)
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
