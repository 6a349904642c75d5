"""Every stored segment's hash, title, lines and time, by stream, in one scan: what an index run compares files against."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from .schema import HASH_WIDTH

SCAN_ROWS = 65_536  # rows per batch when a run reads every stored segment's hash
NO_LINE = -1  # StoredStreams.lines of a row without lines (a chat message)
NO_TIME = int(np.iinfo(np.int64).min)  # StoredStreams.times of a row without a time
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StoredStreams:
    """stream_id -> [(position, content_hash)] in position order, for every stored segment: what a run
    compares each file's segments against. Held as arrays and read in batches, with no Python object per
    segment, so a large index fits in little memory; a stream's list is built when asked for."""

    def __init__(
        self,
        spans: dict[str, tuple[int, int]],
        positions: np.ndarray,
        hashes: np.ndarray,
        duplicated: set[str] | None = None,
        titles: dict[str, str | None] | None = None,
        lines: np.ndarray | None = None,
        times: np.ndarray | None = None,
    ):
        self._spans = spans  # stream_id -> (start, end) in positions and hashes, sorted by (stream, position)
        self._positions = positions
        self._hashes = hashes
        # (line_start, line_end) per row, NO_LINE where null, in the same order. Lines are no part of a
        # segment's hash: a blank line added above a passage moves it without changing what it says.
        self._lines = lines if lines is not None else np.full((len(positions), 2), NO_LINE, np.int32)
        # Each row's time in microseconds since the epoch, NO_TIME where null: a note's time when it is
        # the file's modification time is no part of its hash either (Segment.timed_by_file). Such a
        # segment's time_end is its time (a document's segment never spans two dates): not read.
        self._times = times if times is not None else np.full(len(positions), NO_TIME, np.int64)
        # stream_id -> the title its rows hold (one update writes a new title into all of them). A title
        # is no part of a segment's hash, so a renamed chat is found by this.
        self.titles = titles or {}
        # Streams holding two rows for one position, which only two writers at once could store
        # (the lock prevents it now; older indexes and object stores written from two machines may
        # still hold them). Their lists here repeat those positions, so they never match a file's.
        self.duplicated = duplicated or set()

    @classmethod
    def scan(cls, dataset) -> tuple[StoredStreams, dict[str, set[str]]]:
        import pyarrow as pa
        import pyarrow.compute as pc

        codes: dict[str, int] = {}  # stream_id -> its number, in order of first appearance
        by_path: dict[str, set[str]] = {}
        parts: list[tuple[np.ndarray, ...]] = []
        titles: dict[str, str | None] = {}
        columns = ["stream_id", "path", "title", "position", "content_hash", "line_start", "line_end", "time"]
        for batch in dataset.to_batches(columns=columns, batch_size=SCAN_ROWS):
            streams = pc.dictionary_encode(batch.column("stream_id"))
            names = streams.dictionary.to_pylist()
            to_code = np.array([codes.setdefault(sid, len(codes)) for sid in names], dtype=np.int32)
            pairs = pa.table({"stream_id": batch.column("stream_id"), "path": batch.column("path")}).group_by(["stream_id", "path"])
            for sid, path in zip(*pairs.aggregate([]).columns):
                by_path.setdefault(path.as_py(), set()).add(sid.as_py())
            index = streams.indices.to_numpy()
            first = np.empty(len(streams.dictionary), np.int64)  # each stream's first row here: its title is in all its rows
            first[index[::-1]] = np.arange(len(index) - 1, -1, -1)
            titles.update(zip(names, batch.column("title").take(pa.array(first)).to_pylist()))
            positions = batch.column("position").to_numpy().astype(np.int32)
            lines = np.stack([pc.fill_null(batch.column(k), NO_LINE).to_numpy().astype(np.int32) for k in ("line_start", "line_end")], axis=1)
            times = microseconds(batch.column("time"))
            parts.append((to_code[index], positions, hash_array(batch.column("content_hash")), lines, times))
        if not parts:
            return cls({}, np.zeros(0, np.int32), np.zeros(0, f"S{HASH_WIDTH}")), by_path
        stream, positions, hashes, lines, times = (np.concatenate(column) for column in zip(*parts))
        del parts
        order = np.lexsort((positions, stream))
        stream, positions, hashes, lines, times = stream[order], positions[order], hashes[order], lines[order], times[order]
        starts = np.flatnonzero(np.diff(stream, prepend=-1))
        ends = np.append(starts[1:], len(stream))
        names = list(codes)
        spans = {names[stream[a]]: (int(a), int(b)) for a, b in zip(starts, ends)}
        repeated = (np.diff(stream) == 0) & (np.diff(positions) == 0)
        duplicated = {names[c] for c in np.unique(stream[1:][repeated])}
        return cls(spans, positions, hashes, duplicated, titles, lines, times), by_path

    def get(self, stream_id: str, default=None):
        span = self._spans.get(stream_id)
        if span is None:
            return default
        a, b = span
        return list(zip(self._positions[a:b].tolist(), (h.decode() for h in self._hashes[a:b])))

    def lines(self, stream_id: str) -> np.ndarray:
        """(line_start, line_end) of a stream's stored rows in position order, NO_LINE where null."""
        a, b = self._spans.get(stream_id, (0, 0))
        return self._lines[a:b]

    def times(self, stream_id: str) -> np.ndarray:
        """The time of a stream's stored rows in position order, as microseconds(), NO_TIME where null."""
        a, b = self._spans.get(stream_id, (0, 0))
        return self._times[a:b]

    def pop(self, stream_id: str, default=None) -> None:
        self._spans.pop(stream_id, default)

    def __len__(self) -> int:
        return len(self._spans)


def microseconds(column) -> np.ndarray:
    """A timestamp column as microseconds since the epoch (int64), NO_TIME where null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.fill_null(pc.cast(column, pa.timestamp("us", tz="UTC")).cast(pa.int64()), NO_TIME).to_numpy()


def microseconds_of(moment) -> int:
    """A datetime (timezone-aware) as microseconds() gives it, NO_TIME for None."""
    return NO_TIME if moment is None else (moment - EPOCH) // timedelta(microseconds=1)


def hash_array(column) -> np.ndarray:
    """A string column of sha1 hex digests as fixed-width bytes (no Python object per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        fixed = pc.cast(column, pa.binary(HASH_WIDTH))
    except pa.ArrowInvalid:  # a digest of another width (evosearch writes none): cut to the width
        return np.array([(h or "").encode() for h in column.to_pylist()], dtype=f"S{HASH_WIDTH}")
    data = np.frombuffer(fixed.buffers()[1], dtype=f"S{HASH_WIDTH}")
    return data[fixed.offset : fixed.offset + len(fixed)].copy()


