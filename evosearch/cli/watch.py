from __future__ import annotations

import signal
import sys
import threading
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import EvosearchError
from ..options import DbOption, QuietOption
from ..output import info, reports_errors, stderr, warn, watch_report_line, watch_status_line


class ServiceKind(str, Enum):
    systemd = "systemd"
    launchd = "launchd"


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
        Optional[list[Path]],
        typer.Argument(help="Folders to watch. Default: every folder indexed so far.", show_default=False, metavar="FOLDER..."),
    ] = None,
    db: DbOption = None,
    quiet: QuietOption = False,
    log: Annotated[
        Optional[Path], typer.Option("--log", help="Append what happens to FILE (for a background service).", metavar="FILE")
    ] = None,
    print_service: Annotated[
        Optional[ServiceKind],
        typer.Option(
            "--print-service",
            help="Print a systemd user unit or a launchd agent that runs this `watch` (same folders, index, log and model), then exit.",
            show_default=False,
            metavar="systemd|launchd",
        ),
    ] = None,
) -> None:
    """Keep the index current as files change (Ctrl-C or SIGTERM to stop).

    On start it takes in what changed while it was not running, then indexes each change
    through the same path as `index`: grown files resume from their memory snapshot, edits
    re-encode from the first changed segment, renames keep their vectors. Bursts of saves
    are debounced. `ask` and `status` keep working meanwhile; a second writer is refused.
    """
    if print_service is not None:
        from ..service import watch_service

        # not through Rich: the file's bytes as they are, never wrapped or styled, ready to redirect
        sys.stdout.write(watch_service(print_service.value, paths or [], db, log))
        return
    from ..api import open_index
    from ..indexer import indexed_roots
    from ..watch import check_folders
    from ..watch import watch as run_watch

    stop = threading.Event()
    log_line = _logger(log)

    def on_signal(signum, frame):
        stop.set()  # the loop finishes the batch in hand, then returns

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if paths:
        check_folders(paths)  # before the index is created
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
        live = stderr.status("starting") if (not quiet and stderr.is_terminal) else None

        def on_update(state) -> None:
            if state.reconciles != last_reconciles[0]:
                last_reconciles[0] = state.reconciles
                line = watch_report_line(state)
                if log_line:
                    log_line(line)
                if not quiet:
                    info(line)
            if live is not None:
                live.update(watch_status_line(state))

        if not quiet:
            info(f"watching {', '.join(str(r) for r in roots)} → {store.uri} (Ctrl-C to stop)")
        if live is not None:
            live.start()
        try:
            run_watch(roots, store, encoder, stop, on_warn, on_update)
        finally:
            if live is not None:
                live.stop()
        if not quiet:
            stderr.print("stopped; the index is up to date with every change seen")
