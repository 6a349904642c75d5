"""Errors the user can act on: a message (what went wrong, where) and a hint (what to do)."""


class EvosearchError(Exception):
    """Base error. The CLI prints `message` in red and `hint` below it, then exits 1."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class SourceError(EvosearchError):
    """A file could not be read as any supported source; the run skips it and goes on."""


class StoreError(EvosearchError):
    """The index is missing, unreadable, or was built by an incompatible version."""


class QueryError(EvosearchError):
    """A query, time phrase or query file could not be understood."""
