"""`evosearch watch`: keep the index current as files change, through the same path as `index`.

File events only say *that* something changed; what to re-encode is decided by the indexer,
exactly as for `index` (hash comparison, resume from snapshots, rename detection). Events are
debounced per path: a burst of saves, or an editor's atomic save (write a temp file, rename it
over the original), settles into one change, and one reconcile covers every path that settled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .encoder import Encoder
from .indexer import IndexReport, index_paths
from .store import Store

DEBOUNCE_S = 0.5  # quiet time after a path's last event before it is indexed
POLL_S = 0.05


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


@dataclass
class WatchState:
    """What the CLI shows: updated by the loop, read by the display."""

    roots: list[str]
    queued: int = 0
    events_seen: int = 0
    reconciles: int = 0
    last_indexed: str | None = None
    last_at: float | None = None
    errors: list[str] = field(default_factory=list)
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


# What a service started outside this shell must still see to watch the same index with the same model.
SERVICE_ENV_VARS = ("EVOSEARCH_HOME", "EVOSEARCH_MODEL", "EVOSEARCH_ENCODER")
SERVICE_KINDS = ("systemd", "launchd")
SYSTEMD_UNIT_PATH = "~/.config/systemd/user/evosearch-watch.service"
LAUNCHD_AGENT_LABEL = "org.evosearch.watch"


def service_file(kind: str, argv: list[str], env: dict[str, str]) -> str:
    """A systemd user unit (kind "systemd") or a launchd agent ("launchd") that runs argv with env
    set, starting with a comment that says where to save it and how to start it."""
    env = {"HF_HUB_OFFLINE": "1", **env}  # the model is bundled: never wait on the network at login
    if kind == "systemd":
        environment = "".join(f"Environment={systemd_word(f'{k}={v}', exec_line=False)}\n" for k, v in env.items())
        return (
            f"# {SYSTEMD_UNIT_PATH}\n"
            "# then: systemctl --user daemon-reload && systemctl --user enable --now evosearch-watch\n"
            "[Unit]\nDescription=evosearch background indexer\n\n"
            f"[Service]\nExecStart={' '.join(systemd_word(a) for a in argv)}\n{environment}Restart=on-failure\n\n"
            "[Install]\nWantedBy=default.target\n"
        )
    if kind == "launchd":
        import plistlib

        agent = {"Label": LAUNCHD_AGENT_LABEL, "ProgramArguments": argv, "EnvironmentVariables": env, "RunAtLoad": True, "KeepAlive": True}
        xml = plistlib.dumps(agent).decode()  # escapes &, < and > as XML needs
        declaration, rest = xml.split("\n", 1)
        where = f"~/Library/LaunchAgents/{LAUNCHD_AGENT_LABEL}.plist"
        return f"{declaration}\n<!-- {where}\n     then: launchctl load {where} -->\n{rest}"
    raise ValueError(f"unknown service kind {kind!r}; one of {', '.join(SERVICE_KINDS)}")


# Characters systemd reads specially inside a word: quotes, the escape itself, whitespace (which
# would end the word unquoted) and control characters (a raw newline would end the line).
_SYSTEMD_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def systemd_word(value: str, exec_line: bool = True) -> str:
    """value as one word of a unit file line, read back by systemd as exactly value: '%' doubled
    (specifiers are expanded everywhere), '$' doubled on ExecStart= (variables are expanded
    there, not in Environment=), and double-quoted with C escapes when it holds anything a bare
    word cannot (systemd.syntax(7), systemd.service(5) "Command lines")."""
    value = value.replace("%", "%%")
    if exec_line:
        value = value.replace("$", "$$")
    if value and not any(c.isspace() or c in "\\\"'" or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return value
    escaped = "".join(_SYSTEMD_ESCAPES.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in value)
    return f'"{escaped}"'
