from __future__ import annotations

import os
import shutil
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
from ..output import info, reports_errors, stderr, warn


class ServiceKind(str, Enum):
    systemd = "systemd"
    launchd = "launchd"


DEFAULT_SERVICE_LOG = "~/.local/state/evosearch-watch.log"


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
        Optional[ServiceKind],
        typer.Option(
            "--print-service",
            help="Print a systemd user unit or a launchd agent that runs this `watch` (same folders, index, log and model), then exit.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Keep the index current as files change (Ctrl-C or SIGTERM to stop).

    On start it takes in what changed while it was not running, then indexes each change
    through the same path as `index`: grown files resume from their memory snapshot, edits
    re-encode from the first changed segment, renames keep their vectors. Bursts of saves
    are debounced. `ask` and `status` keep working meanwhile; a second writer is refused.
    """
    def check_folders(roots: list[Path]) -> None:
        missing = [str(r) for r in roots if not r.is_dir()]
        if missing:
            raise EvosearchError(f"not a folder: {missing[0]}", "watch takes folders; check the path")

    if print_service is not None:
        _print_service(print_service.value, paths or [], db, log, check_folders)
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


def _print_service(kind: str, paths: list[Path], db: str | None, log: Path | None, check_folders) -> None:
    """The service file on stdout, alone, so it can be redirected into place. It carries what this
    command was given, as absolute paths (a service starts elsewhere, without this shell's environment):
    the folders, the index (--db or $EVOSEARCH_DB, else the default one), the log and the EVOSEARCH_*
    variables that choose the data dir and the model."""
    from ..config import db_uri
    from ..watch import SERVICE_ENV_VARS, service_file

    check_folders([p.expanduser() for p in paths])
    exe = shutil.which("evosearch") or str(Path(sys.argv[0]).resolve())
    folders = [str(p.expanduser().resolve()) for p in paths]
    log_path = os.path.abspath((log or Path(DEFAULT_SERVICE_LOG)).expanduser())
    argv = [exe, "watch", *folders, "--quiet", "--log", log_path, "--db", db_uri(db)]
    env = {name: os.environ[name] for name in SERVICE_ENV_VARS if os.environ.get(name)}
    try:
        text = service_file(kind, argv, env)
    except ValueError as e:  # plistlib refuses control characters, which XML cannot hold
        raise EvosearchError(f"cannot write a {kind} file for these paths: {e}", "rename the folder or pass other paths") from None
    sys.stdout.write(text)  # not through Rich: a file's bytes as they are, never wrapped or styled
