"""One writer at a time: whatever writes an index (`index`, `watch`, `forget`, the API's
open_index(write=True)) holds its writer lock; `ask` and `status` never need it.

The lock is an advisory kernel lock (flock) on a lock file, held on an open descriptor for the
writer's whole life. The kernel drops it when that descriptor closes, however the process ends
(kill -9 included), so there is no stale lock to detect or take over: a file-exists lock needed
"read the owner, see it dead, delete, create", which two processes could both complete, and both
then wrote every row (issue 17). The holder's pid, host and command are written into the file
only to name it in the refusal; the file itself is left in place (emptied) on release, because
deleting a lock file lets a waiter lock the old inode while a newcomer locks a new one.

Local indexes only: a lock on this machine cannot stop a writer on another machine. For an
object-store URI (s3://, gs://, az://) the lock is a local file keyed by the URI, which keeps two
writers on one machine apart and nothing more; LanceDB's commits stay atomic, but two machines
writing one bucket can still duplicate rows (`index` removes such duplicates when it next runs).
On NFS, Linux maps flock to NFS's own byte-range locks, so clients of one server exclude each other.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import time
from pathlib import Path

from .config import home_dir, is_local_uri, make_private_dir
from .errors import EvosearchError

# A refused writer reads the holder's pid from the file. The holder writes it just after taking
# the lock, so a loser that arrives in between sees an empty file or a dead process's leftovers;
# it re-reads for up to this long before naming the holder as unknown.
HOLDER_WAIT_S = 2.0
HOLDER_POLL_S = 0.01


class LockedError(EvosearchError):
    """Another evosearch process is writing to this index."""


def lock_path(uri: str) -> Path:
    """Beside a local index; for an object store, in the data dir, keyed by the URI (one writer per machine)."""
    if is_local_uri(uri):
        local = Path(uri.removeprefix("file://"))
        return local.parent / f".{local.name}.writer.lock"
    return Path(home_dir()) / "locks" / (hashlib.sha1(uri.encode()).hexdigest()[:16] + ".lock")


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class WriterLock:
    """The writer lock of the index at uri: acquire() or `with`; refused at once (LockedError) while
    another process, or another WriterLock in this one, holds it."""

    def __init__(self, uri: str, command: str):
        self.uri = uri
        self.path = lock_path(uri)
        self.command = command
        self._file = None  # the open lock file while held; closing it releases the lock

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> "WriterLock":
        if self._file is not None:
            return self
        try:
            make_private_dir(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise EvosearchError(
                f"cannot create the writer lock {self.path}: {e.strerror or e}",
                "choose a folder you can write to with --db or $EVOSEARCH_DB",
            ) from None
        lock_file = os.fdopen(fd, "r+", encoding="utf-8")
        deadline = time.monotonic() + HOLDER_WAIT_S
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    lock_file.close()
                    raise EvosearchError(f"cannot lock {self.path}: {e.strerror or e}", "check the folder's file system") from None
            holder = self._holder()
            if holder is not None or time.monotonic() >= deadline:
                lock_file.close()
                raise self._refusal(holder)
            time.sleep(HOLDER_POLL_S)
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command}
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(json.dumps(owner))
        lock_file.flush()
        self._file = lock_file
        return self

    def _holder(self) -> dict | None:
        """The holder named in the file, if it is plausibly the live one: written and, on this
        host, a running pid (a dead pid is a previous holder's leftovers, not yet overwritten)."""
        try:
            holder = json.loads(self.path.read_text(encoding="utf-8") or "null")
            pid = int(holder.get("pid", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            return None
        if holder.get("host") == socket.gethostname() and not _alive(pid):
            return None
        return holder

    def _refusal(self, holder: dict | None) -> LockedError:
        who = (
            f"`evosearch {holder.get('command', '?')}` (pid {holder.get('pid')} on {holder.get('host')})"
            if holder
            else "another process (it has not written its pid yet)"
        )
        return LockedError(
            f"the index at {self.uri} is being written by {who}",
            "wait for it or stop it; `ask` and `status` work meanwhile",
        )

    def release(self) -> None:
        if self._file is None:
            return
        lock_file, self._file = self._file, None
        try:
            lock_file.seek(0)
            lock_file.truncate()  # emptied while still held, so nobody reads a released holder
        except OSError:
            pass
        lock_file.close()  # the kernel releases the lock with the descriptor

    def __enter__(self) -> "WriterLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
