"""One writer at a time: `index` and `watch` hold a lock file; `ask` and `status` never need it.

The lock is a file created atomically (O_EXCL) holding the owner's pid, host and command.
A lock whose process is gone (same host, pid not alive) is stale and is taken over, so a
killed writer never blocks the next one.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

from .config import home_dir, is_local_uri
from .errors import EvosearchError


class LockedError(EvosearchError):
    """Another evosearch process is writing to this index."""


def lock_path(uri: str) -> Path:
    """Beside a local index; for an object store, in the data dir (one writer per machine)."""
    if is_local_uri(uri):
        local = Path(uri.removeprefix("file://"))
        return local.parent / f".{local.name}.writer.lock"
    return Path(home_dir()) / "locks" / (hashlib.sha1(uri.encode()).hexdigest()[:16] + ".lock")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class WriterLock:
    def __init__(self, uri: str, command: str):
        self.uri = uri
        self.path = lock_path(uri)
        self.command = command
        self._held = False

    def __enter__(self) -> "WriterLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder and (holder.get("host") != socket.gethostname() or _alive(int(holder.get("pid", 0)))):
                    raise LockedError(
                        f"the index at {self.uri} is being written by `evosearch {holder.get('command', '?')}` "
                        f"(pid {holder.get('pid')} on {holder.get('host')})",
                        f"wait for it or stop it; `ask` and `status` work meanwhile. If no such process exists, delete {self.path}",
                    ) from None
                self.path.unlink(missing_ok=True)  # stale: its owner died without cleaning up
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(owner, f)
            self._held = True
            return self
        raise LockedError(f"could not take the writer lock {self.path}", "try again")

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None  # unreadable or half-written: treat as stale

    def __exit__(self, *exc) -> None:
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False
