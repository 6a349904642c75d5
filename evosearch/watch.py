"""`evosearch watch`: keep the index current as files change, through the same path as `index`.

File events only say *that* something changed; what to re-encode is decided by the indexer,
exactly as for `index` (hash comparison, resume from snapshots, rename detection). Events are
debounced per path: a burst of saves, or an editor's atomic save (write a temp file, rename it
over the original), settles into one change, and one reconcile covers every path that settled.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .encoder import Encoder
from .errors import EvosearchError
from .indexer import IndexReport, index_paths
from .store import Store

DEBOUNCE_S = 0.5  # quiet time after a path's last event before it is indexed
POLL_S = 0.05
ERRORS_KEPT = 100  # a watch runs for months: it keeps the newest warnings and counts the rest


class ChangeQueue:
    """Paths with their last event time; thread-safe (watchdog calls from its own thread)."""

    def __init__(self, debounce_s: float = DEBOUNCE_S):
        self.debounce_s = debounce_s
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.events_seen = 0

    def add(self, path: str) -> None:
        with self._lock:
            self._last[path] = time.monotonic()
            self.events_seen += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._last)

    def pop_settled(self) -> list[str]:
        """Paths quiet for debounce_s, removed from the queue. While any path is still busy,
        nothing is popped: a rename-over arrives as events on two paths, which belong together."""
        now = time.monotonic()
        with self._lock:
            if not self._last or now - max(self._last.values()) < self.debounce_s:
                return []
            settled = list(self._last)
            self._last.clear()
            return settled


def _handler(queue: ChangeQueue):
    from watchdog.events import FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event):
            if event.event_type in ("opened", "closed_no_write"):
                return
            if event.is_directory and event.event_type == "modified":
                return  # a folder's mtime changes with every file event inside it
            queue.add(str(event.src_path))
            dest = getattr(event, "dest_path", "")
            if dest:
                queue.add(str(dest))

    return Handler()


def check_folders(roots: list[Path]) -> None:
    """EvosearchError naming the first of roots that is not a folder."""
    missing = [str(r) for r in roots if not r.expanduser().is_dir()]
    if missing:
        raise EvosearchError(f"not a folder: {missing[0]}", "watch takes folders; check the path")


@dataclass
class WatchState:
    """What the CLI shows: updated by the loop, read by the display."""

    roots: list[str]
    queued: int = 0
    events_seen: int = 0
    reconciles: int = 0
    last_indexed: str | None = None
    last_at: float | None = None
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=ERRORS_KEPT))  # the newest warnings
    error_count: int = 0  # every warning so far
    last_report: IndexReport | None = None


def watch(
    roots: list[Path],
    store: Store,
    encoder: Encoder,
    stop: threading.Event,
    warn: Callable[[str], None],
    on_update: Callable[[WatchState], None] = lambda s: None,
    debounce_s: float = DEBOUNCE_S,
) -> WatchState:
    """Reconcile once (what changed while not watching), then index every settled change until
    `stop` is set. Returns when the batch in hand is written."""
    from watchdog.observers import Observer

    state = WatchState([str(r) for r in roots])

    def reconcile(changed: list[str]) -> None:
        def collect(message: str) -> None:
            state.errors.append(message)
            state.error_count += 1
            warn(message)

        report = index_paths(roots, store, encoder, collect)
        state.reconciles += 1
        state.last_report = report
        if changed:
            state.last_indexed = changed[-1] if len(changed) == 1 else f"{len(changed)} paths"
            state.last_at = time.time()
        on_update(state)

    queue = ChangeQueue(debounce_s)
    observer = Observer()
    handler = _handler(queue)
    for root in roots:
        observer.schedule(handler, str(root), recursive=True)
    observer.start()  # before the first reconcile, so nothing changed during it is missed
    try:
        reconcile([])
        while not stop.is_set():
            settled = queue.pop_settled()
            state.queued, state.events_seen = len(queue), queue.events_seen
            if settled:
                reconcile(settled)
            else:
                on_update(state)
                stop.wait(POLL_S)
    finally:
        observer.stop()
        observer.join(timeout=5)
    return state
