"""The malloc arena limit that writers set (evosearch/heap.py)."""

from __future__ import annotations

from evosearch import heap


class FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("trim", pad))
        return 1


def test_writers_limit_malloc_arenas_unless_the_user_chose(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(heap, "_glibc", lambda: libc)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    heap.limit_malloc_arenas()
    assert libc.calls == [(heap.M_ARENA_MAX, heap.WRITER_ARENAS)]
    monkeypatch.setenv("MALLOC_ARENA_MAX", "16")  # glibc honours the user's own setting
    heap.limit_malloc_arenas()
    assert libc.calls == [(heap.M_ARENA_MAX, heap.WRITER_ARENAS)]


def test_off_glibc_nothing_happens(monkeypatch):
    monkeypatch.setattr(heap, "_glibc", lambda: None)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    heap.limit_malloc_arenas()
    heap.return_freed_memory()


def test_opening_an_index_to_write_limits_arenas_and_searching_does_not(tmp_path, monkeypatch):
    from evosearch import api

    calls = []
    monkeypatch.setattr(api, "limit_malloc_arenas", lambda: calls.append("limit"))
    monkeypatch.setenv("EVOSEARCH_ENCODER", "hashing")
    api.open_index(str(tmp_path / "db"), write=True)
    assert calls == ["limit"]
    api.open_index(str(tmp_path / "db"))
    assert calls == ["limit"]
