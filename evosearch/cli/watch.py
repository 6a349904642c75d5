from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import EvosearchError
from ..options import DbOption, QuietOption
from ..output import info, reports_errors, stderr, stdout, warn


def _logger(log: Path | None):
    if log is None:
        return None
    handle = log.expanduser().open("a", encoding="utf-8", buffering=1)

    def write(line: str) -> None:
        handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")

    return write


@reports_errors
def watch(
    paths: Annotated[
        Optional[list[Path]], typer.Argument(help="Folders to watch. Default: every folder indexed so far.", show_default=False)
    ] = None,
    db: DbOption = None,
    quiet: QuietOption = False,
    log: Annotated[Optional[Path], typer.Option("--log", help="Append what happens to FILE (for a background service).")] = None,
    print_service: Annotated[
        bool, typer.Option("--print-service", help="Print a systemd user unit and a launchd agent that run `watch`, then exit.")
    ] = False,
) -> None:
    """Keep the index current as files change (Ctrl-C or SIGTERM to stop).

    On start it takes in what changed while it was not running, then indexes each change
    through the same path as `index`: grown files resume from their memory snapshot, edits
    re-encode from the first changed segment, renames keep their vectors. Bursts of saves
    are debounced. `ask` and `status` keep working meanwhile; a second writer is refused.
    """
    if print_service:
        from ..watch import service_files

        exe = shutil.which("evosearch") or str(Path(sys.argv[0]).resolve())
        # --db no longer reads $EVOSEARCH_DB through typer; the service still gets the index it names.
        service_db = db or os.environ.get("EVOSEARCH_DB")
        log_path = str(Path("~/.local/state/evosearch-watch.log").expanduser())
        stdout.print(service_files(exe, log_path, service_db), markup=False, highlight=False)
        return
    from ..api import open_index
    from ..indexer import indexed_roots
    from ..watch import watch as run_watch

    stop = threading.Event()
    log_line = _logger(log)

    def on_signal(signum, frame):
        stop.set()  # the loop finishes the batch in hand, then returns

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def check_folders(roots: list[Path]) -> None:
        missing = [str(r) for r in roots if not r.is_dir()]
        if missing:
            raise EvosearchError(f"not a folder: {missing[0]}", "watch takes folders; check the path")

    if paths:
        check_folders([p.expanduser() for p in paths])  # before the index is created
    store, encoder = open_index(db, write=True, command="watch")  # holds the writer lock until the end
    with store:
        roots = [p.expanduser().resolve() for p in paths] if paths else [Path(r) for r in indexed_roots(store)]
        if not roots:
            raise EvosearchError("nothing to watch: no folder has been indexed yet", "pass folders: `evosearch watch ~/notes`")
        check_folders(roots)

        def on_warn(message: str) -> None:
            if log_line:
                log_line(f"warning: {message}")
            warn(message)

        last_reconciles = [0]

        def on_update(state) -> None:
            if state.reconciles != last_reconciles[0]:
                last_reconciles[0] = state.reconciles
                r = state.last_report
                line = (
                    f"indexed {state.last_indexed or 'startup changes'}: {r.segments_encoded} segments encoded, "
                    f"{r.indexed} changed, {r.renamed} renamed, {r.removed} removed"
                )
                if log_line:
                    log_line(line)
                if not quiet:
                    info(line)

        if not quiet:
            info(f"watching {', '.join(str(r) for r in roots)} → {store.uri} (Ctrl-C to stop)")
        live = stderr.status("starting") if (not quiet and stderr.is_terminal) else None

        def on_update_live(state) -> None:
            on_update(state)
            if live is not None:
                live.update(
                    f"queue {state.queued} · events {state.events_seen} · "
                    f"last indexed {state.last_indexed or '—'} · errors {len(state.errors)}"
                )

        if live is not None:
            live.start()
        try:
            run_watch(roots, store, encoder, stop, on_warn, on_update_live)
        finally:
            if live is not None:
                live.stop()
        if not quiet:
            stderr.print("stopped; the index is up to date with every change seen")
