"""The process heap (glibc malloc) while LanceDB builds and compacts: keep what it retains small.

LanceDB's and ONNX Runtime's worker threads allocate from their own malloc arenas (glibc makes up
to 8 per core), and memory freed inside an arena mostly stays with the process: after each vector
index build the resident size stayed higher. Both functions do nothing off glibc (macOS, musl).
"""

from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h
WRITER_ARENAS = 2


def _glibc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def limit_malloc_arenas() -> None:
    """At most WRITER_ARENAS malloc arenas for this process, unless MALLOC_ARENA_MAX says
    otherwise. Call it before the threads start (opening an index to write does): arenas made
    earlier stay. benchmarks/malloc_arenas.py measures what it saves and costs."""
    libc = _glibc()
    if libc is not None and "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(M_ARENA_MAX, WRITER_ARENAS)


def return_freed_memory() -> None:
    """Give the heap that LanceDB's index builders freed back to the system: after a 100k-row
    vector index build, RSS stayed 213 MB above where it started, 71 MB after this."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
