"""`evosearch index`: files -> streams -> segments -> encoder -> store, incrementally.

What gets (re)encoded is decided by comparing each stream's new segment hashes with the
stored ones, position by position. The first mismatch is where encoding restarts, from
the latest memory snapshot at or before it. This one rule covers a new file, an appended
file (mismatch at the old end), an edited file (mismatch at the first changed segment)
and a run killed halfway (mismatch where the stored rows stop). An encoder that reads
each segment before the next (encoder.reads_ahead) restarts one segment earlier.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .config import SNAPSHOT_EVERY
from .encode import StreamJob, encode_streams
from .encoder import Encoder, context_turns, reads_ahead
from .errors import EvosearchError, SourceError
from .segment import SEGMENTATION, Segment, reads_ahead_along, segment_stream, turn_context
from .sources.detect import companion_files, read_source
from .sources.walk import absolute_path, iter_sources, open_source_file
from .store import (
    CONTEXT,
    NO_LINE,
    SEGMENTS,
    SNAPSHOTS,
    STALE_HASH,
    SourceRecord,
    Store,
    microseconds_of,
    segment_row,
    snapshot_row,
    write_fragments,
)

# Files are read and segmented in groups, so memory stays bounded whatever the corpus size.
GROUP_SEGMENTS = 4096
# Rows are written in batches: fewer, larger LanceDB fragments.
WRITE_ROWS = 512
# The mtime stored for a mail folder with a message that could not be read: no real mtime equals it,
# so each run looks at the folder again.
UNREAD_MTIME = -1.0


class IndexProgress:
    """Hooks the CLI overrides to draw progress; the core only calls them."""

    def files_found(self, total: int) -> None: ...
    def file_done(self, path: str) -> None: ...
    def segments_planned(self, count: int, all_read: bool) -> None:
        """count more segments are to be encoded; all_read: every file is read, so the total is known."""

    def encoder_starting(self) -> None:
        """The encoder's first call of the run is under way: it loads the model, which the first
        run on a machine builds (the CPU model, once)."""

    def encoder_ready(self) -> None:
        """The first call returned; segments_done follows after every encoder call."""

    def segments_done(self, count: int) -> None: ...
    def stop(self) -> None: ...


@dataclass
class IndexReport:
    indexed: int = 0  # files (re)encoded, fully or from a changed point
    unchanged: int = 0
    skipped: int = 0  # unreadable or unsupported; warned
    removed: int = 0  # gone from an indexed folder
    renamed: int = 0  # moved or renamed with unchanged content: vectors re-used, nothing encoded
    segments_encoded: int = 0
    segments_reused: int = 0
    seconds: float = 0.0
    preparing_seconds: float = 0.0  # of seconds, waiting for the encoder's first call (loading or building the model)

    @property
    def segments_per_s(self) -> float:
        """Encoding speed over the run, the model's preparation left out."""
        busy = self.seconds - self.preparing_seconds
        return self.segments_encoded / busy if busy > 0 else 0.0

    @property
    def ok(self) -> bool:
        """False only when nothing could be indexed (the request failed)."""
        return self.indexed + self.unchanged + self.removed > 0 or self.skipped == 0


@dataclass
class _FilePlan:
    """What one changed file needs. Nothing stored is deleted or overwritten while planning, so a
    run killed before the new rows exist leaves the old ones searchable (issue 17, item 4)."""

    record: SourceRecord  # written once all its rows are (its hash says "fully indexed")
    known: SourceRecord | None  # the source row stored before this run
    jobs: list[StreamJob]
    replace_from: dict[str, int] = field(default_factory=dict)  # stream -> first stored position re-encoded
    tails: dict[str, int] = field(default_factory=dict)  # stream -> where its stored rows must end, once rewritten
    gone: set[str] = field(default_factory=set)  # streams no longer in the file: deleted once the file is done
    amended: bool = False  # stored rows changed while planning (a title, lines, a time, a shrunk stream's tail)


@dataclass
class _PendingFile:
    plan: _FilePlan
    open_jobs: int


@dataclass
class WrittenStreams:
    """What a fragment writer (ray_index.RayWriter) reports for some jobs of a group, each written whole."""

    jobs: list[int]  # indices in the jobs it was given
    segments: int  # segment rows written
    fragments: dict[str, list]  # table name -> lance fragments, not yet committed


def keeps_snapshot(position: int, count: int) -> bool:
    """Whether the memory after segment position of a stream of count segments is stored.
    The second-to-last snapshot matters most: an appended chat usually changes its last segment."""
    return position >= count - 2 or (position + 1) % SNAPSHOT_EVERY == 0


def write_stream_fragments(jobs: list[StreamJob], encoder: Encoder, targets: dict) -> tuple[int, dict[str, list]]:
    """A worker's half of `index --ray`: encode jobs (keys as Indexer._write_group_elsewhere makes
    them) and write their segment and snapshot rows as fragments of targets' tables (table name ->
    store.FragmentTarget), for the index's writer to commit. Returns the rows written and the fragments."""
    segment_rows, snapshot_rows = [], []
    turns = context_turns(encoder) if CONTEXT in targets[SEGMENTS].schema.names else 0
    for out in encode_streams(jobs, encoder):
        stream, window, count, before = out.job.key
        i = before + out.position - out.job.start
        segment_rows.append(segment_row(stream, window[i], out.position, out.embedding, turn_context(window, i, turns) if turns else None))
        if keeps_snapshot(out.position, count):
            snapshot_rows.append(snapshot_row(stream.stream_id, out.position, out.memory))
    written = {SEGMENTS: segment_rows, SNAPSHOTS: snapshot_rows}
    return len(segment_rows), {name: write_fragments(targets[name], rows) for name, rows in written.items()}


def _file_hash(path: Path, companions: list[Path]) -> tuple[str, bool]:
    """(the file's sha256, with its companion files' names and bytes after its own (none: the file's
    alone), after the segmentation that cuts it (segment.SEGMENTATION); whether every part could be
    read). A mail folder's hash is its messages' alone; one of them unreadable is left out of it
    (its mailbox is read without it, with a warning)."""
    h = hashlib.sha256()
    folder = path.is_dir()
    if not folder:
        _hash_file(h, path)  # the source itself: any error is the caller's
    complete = True
    for part in companions:
        h.update(b"\0" + part.name.encode() + b"\0")
        try:
            _hash_file(h, part)
        except FileNotFoundError:
            pass  # removed since it was listed: the thread is read without it
        except (OSError, SourceError):
            if not folder:
                raise
            complete = False
    return f"{SEGMENTATION}:{h.hexdigest()}", complete


def _hash_file(h, path: Path) -> None:
    with open_source_file(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def _source_stat(path: Path, companions: list[Path]) -> tuple[int, float]:
    """(size, mtime) of a source and the files read with it: their sizes summed, the latest mtime,
    so that a companion edited, added or removed changes what the next run compares. For a mail
    folder, the folders holding its messages count too: their mtime changes when a file is added,
    removed or renamed in them."""
    stat = path.stat()
    size, mtime = stat.st_size, stat.st_mtime
    folders = {part.parent for part in companions} - {path} if path.is_dir() else set()
    for part in [*companions, *sorted(folders)]:
        try:
            part_stat = part.stat()
        except FileNotFoundError:  # removed since it was listed: the hash or the read will see the thread as it is
            continue
        except OSError:  # unreadable: _file_hash says so
            continue
        size, mtime = size + (0 if part in folders else part_stat.st_size), max(mtime, part_stat.st_mtime)
    return size, mtime


def _first_change(stored: list[tuple[int, str]], segments: list[Segment]) -> int:
    """The first position whose stored segment is missing or differs (len(segments) if none)."""
    for i, seg in enumerate(segments):
        if i >= len(stored) or stored[i] != (i, seg.content_hash):
            return i
    return len(segments)


def _changed_runs(stored, now: list[tuple], key: Callable) -> list[tuple[int, int, object]]:
    """(first, last, key) for each run of consecutive positions where the stored pairs (an array of
    rows in position order) differ from now's and key(stored, now) is the same all along."""
    runs: list[list] = []  # [first, last, key]
    for position, (was, is_) in enumerate(zip(map(tuple, stored[: len(now)].tolist()), now)):
        if was == is_:
            continue
        k = key(was, is_)
        if runs and runs[-1][1] == position - 1 and runs[-1][2] == k:
            runs[-1][1] = position
        else:
            runs.append([position, position, k])
    return [tuple(run) for run in runs]


ROW_BY_ROW = "row by row"


def _line_shift(was: tuple[int, int], now: tuple[int, int]):
    """What rows moved alike share: the lines they moved by; ROW_BY_ROW for rows without lines, or gaining them."""
    return ROW_BY_ROW if NO_LINE in was or NO_LINE in now else (now[0] - was[0], now[1] - was[1])


class Indexer:
    def __init__(
        self, store: Store, encoder: Encoder, warn: Callable[[str], None], progress: IndexProgress | None = None, writer=None
    ):
        self.store = store
        # None: streams encoded and rows written here; ray_index.RayWriter: encoded and written as
        # fragments by Ray workers, committed here (_write_group_elsewhere)
        self.writer = writer
        self.encoder = encoder
        self.progress = progress or IndexProgress()
        self.report = IndexReport()
        self.warn = warn
        self._encoder_waited = False  # encoder_starting/ready are reported once a run

    def run(self, paths: list[Path]) -> IndexReport:
        started = time.monotonic()
        roots = [absolute_path(Path(p)) for p in paths]
        sources = list(iter_sources(roots, self.warn))  # (path, a mail folder's members)
        self.progress.files_found(len(sources))
        known = self.store.sources()
        self._stored, self._stored_by_path = self.store.stored_segments()
        self._recheck = self._repair_duplicates()
        self._touched: list[SourceRecord] = []  # same content, new mtime
        walked = {str(p) for p, _ in sources}
        # Sources whose file vanished, by content hash: a new file with that hash is a rename.
        self._vanished = {r.hash: r for p, r in known.items() if p not in walked and not Path(p).exists()}
        group: list[_FilePlan] = []
        planned = 0
        for path, members in sources:
            plan = self._plan_file(path, members, known.get(str(path)))
            if plan is not None:
                group.append(plan)
                planned += sum(len(job.texts) for job in plan.jobs)
            if planned >= GROUP_SEGMENTS:
                self._encode_group(group, all_read=False)
                group, planned = [], 0
        self._encode_group(group, all_read=True)
        self.store.put_sources(self._touched)
        self._remove_missing(roots, walked, self.store.sources())
        self._remember_roots(roots)
        self.store.finish_writes()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _repair_duplicates(self) -> set[str]:
        """Remove rows stored twice for one (stream, position) or path, and return the paths they
        belong to. Without this a run would call those files unchanged (same size and mtime) and
        every passage would be found twice for good. The paths are then planned like edited files:
        the one row kept per position is compared with the file, and re-encoded where it differs."""
        streams = self._stored.duplicated
        sources = self.store.duplicated_source_paths()
        if not streams and not sources:
            return set()
        removed = self.store.remove_duplicates(streams, sources)
        self.warn(
            f"the index held {removed} segments stored twice (two writers at once, or a run killed while replacing rows); "
            f"kept one of each and re-checking {len(streams)} streams against their files"
        )
        self._stored, self._stored_by_path = self.store.stored_segments()
        return sources | {path for path, sids in self._stored_by_path.items() if sids & streams}

    # ---- planning -------------------------------------------------------------------------

    def _plan_file(self, path: Path, members: list[Path] | None, known: SourceRecord | None) -> _FilePlan | None:
        """None when the file (or mail folder, with its members) needs no encoding; else what to encode, replace and drop."""
        try:
            companions = companion_files(path) if members is None else members
            size, mtime = _source_stat(path, companions)
            recheck = str(path) in self._recheck  # its rows were repaired: compare them with the file
            cut_alike = known is not None and known.hash.startswith(f"{SEGMENTATION}:")  # else cut before an upgrade
            if known and known.size == size and known.mtime == mtime and cut_alike and not recheck:
                self._unchanged(path)
                return None
            digest, complete = _file_hash(path, companions)
            if not complete:
                mtime = UNREAD_MTIME  # compared again next run, so the message is read once it can be
            if known and known.hash == digest and self._streams_complete(known) and not recheck:
                self._touched.append(SourceRecord(**{**known.__dict__, "mtime": mtime}))
                self._unchanged(path)
                return None
            streams = read_source(path, self.warn, members)
            if known is None and digest in self._vanished and self._move_if_same(path, size, mtime, digest, streams):
                return None
        except SourceError as e:
            self.warn(e.message + (f" — {e.hint}" if e.hint else ""))
            self.report.skipped += 1
            self.progress.file_done(str(path))
            return None
        except FileNotFoundError:  # deleted or moved since the walk listed it: nothing to fix
            self.warn(f"{path}: gone before it could be read (deleted or moved during the run)")
            self.report.skipped += 1
            self.progress.file_done(str(path))
            return None
        except OSError as e:
            self.warn(f"{path}: cannot read ({e.strerror or e}) — check permissions")
            self.report.skipped += 1
            self.progress.file_done(str(path))
            return None
        segmented = [(stream, segment_stream(stream)) for stream in streams]
        record = SourceRecord(
            path=str(path),
            size=size,
            mtime=mtime,
            hash=digest,
            format=streams[0].format if streams else "?",
            stream_ids=[s.stream_id for s in streams],
            segment_count=sum(len(segments) for _, segments in segmented),
        )
        live = set(record.stream_ids)
        gone = set(self._stored_by_path.get(str(path), ())) | set(known.stream_ids if known else ())
        plan = _FilePlan(record=record, known=known, jobs=[], gone=gone - live)
        for sid in plan.gone:
            self._stored.pop(sid, None)
        for stream, segments in segmented:
            self._plan_stream(stream, segments, plan)
        if plan.jobs or plan.gone or plan.amended:
            self.report.indexed += 1
        else:  # read again (new bytes, or cut before an upgrade) but every stored row still holds
            self.report.unchanged += 1
        return plan

    def _move_if_same(self, path: Path, size: int, mtime: float, digest: str, streams) -> bool:
        """A renamed file whose segments are unchanged (same text and times) takes over the old
        file's vectors and snapshots; True when it did. New rows first, then the new source row,
        then the old source: a kill in between leaves rows the next run recognises as complete."""
        old = self._vanished[digest]
        moves = []
        for stream in streams:
            old_id = old.path + stream.stream_id[len(str(path)) :]
            segments = segment_stream(stream)
            if self._stored.get(old_id) != [(i, seg.content_hash) for i, seg in enumerate(segments)]:
                return False  # e.g. the date in the file name changed: re-encode
            moves.append((old_id, stream, len(segments)))
        for old_id, stream, _ in moves:
            self.store.copy_stream(old_id, stream.stream_id, str(path), stream.title)
        self.store.put_sources(
            [
                SourceRecord(
                    str(path), size, mtime, digest, old.format, [m[1].stream_id for m in moves], sum(m[2] for m in moves)
                )
            ]
        )
        self.store.delete_source(old)
        del self._vanished[digest]
        self.report.renamed += 1
        self.progress.file_done(str(path))
        return True

    def _streams_complete(self, known: SourceRecord) -> bool:
        stored = sum(len(self._stored.get(sid, ())) for sid in known.stream_ids)
        return stored == known.segment_count

    def _unchanged(self, path: Path) -> None:
        self.report.unchanged += 1
        self.progress.file_done(str(path))

    def _plan_stream(self, stream, segments: list[Segment], plan: _FilePlan) -> None:
        stored = self._stored.get(stream.stream_id, [])
        if stored and self._stored.titles.get(stream.stream_id, stream.title) != stream.title:
            self.store.retitle_stream(stream.stream_id, stream.title)  # re-encoded rows get it as they are written
            plan.amended = True
        kept = self._plan_encoding(stream, segments, stored, plan)
        self.report.segments_reused += kept
        self._refresh_kept(stream.stream_id, segments[:kept], plan)

    def _plan_encoding(self, stream, segments: list[Segment], stored: list[tuple[int, str]], plan: _FilePlan) -> int:
        """Plan what of a stream to encode again; returns how many of its first stored rows stay as they are."""
        change = _first_change(stored, segments)
        if change == len(segments) and len(stored) == len(segments):
            return change
        if reads_ahead(self.encoder) and change > 0:
            change -= 1  # the segment before the change was read before what changed: grown, edited or cut
        if change == len(segments):
            # The stream shrank: drop its stale tail now. What stays is a prefix that matches the
            # file, so a kill after this leaves nothing wrong, only the tail gone a little early.
            self.store.delete_streams_from([stream.stream_id], change)
            plan.amended = True
            return change
        snapshot = self.store.latest_snapshot(stream.stream_id, change - 1) if change > 0 else None
        start, memory = (snapshot[0] + 1, snapshot[1]) if snapshot else (0, self.encoder.empty_memory(1)[0])
        stored_end = stored[-1][0] + 1 if stored else 0
        if stored_end > start:  # stored rows to overwrite, not delete: see _encode_group
            plan.replace_from[stream.stream_id] = start
            if stored_end > len(segments):
                plan.tails[stream.stream_id] = len(segments)
        to_encode = segments[start:]
        speakers, sections = [s.speakers for s in to_encode], [s.opens_section for s in to_encode]
        ahead = reads_ahead_along(speakers, sections) if reads_ahead(self.encoder) else None
        plan.jobs.append(StreamJob(key=(stream, segments), texts=[s.text for s in to_encode], start=start, memory=memory, ahead=ahead))
        return start

    def _refresh_kept(self, stream_id: str, kept: list[Segment], plan: _FilePlan) -> None:
        """Write into the stored rows kept as they are (kept: their segments now) what is no part of a
        segment's hash: its lines (a blank line added above a passage moves it) and a note's time
        taken from the file's modification time (Segment.timed_by_file). A run of rows moved by the
        same number of lines, or given the same time, is one update."""
        lines = [(NO_LINE if s.line_start is None else s.line_start, NO_LINE if s.line_end is None else s.line_end) for s in kept]
        for first, last, shift in _changed_runs(self._stored.lines(stream_id), lines, _line_shift):
            plan.amended = True
            if shift == ROW_BY_ROW:
                for position in range(first, last + 1):
                    self.store.set_lines(stream_id, position, tuple(None if n == NO_LINE else n for n in lines[position]))
            else:
                self.store.move_lines(stream_id, first, last, shift)
        times = [(microseconds_of(s.time),) for s in kept]
        stored = self._stored.times(stream_id)[:, None]
        for first, last, _ in _changed_runs(stored, times, lambda was, now: now):
            plan.amended = True
            self.store.set_times(stream_id, first, last, (kept[first].time, kept[first].time_end))

    # ---- encoding and writing --------------------------------------------------------------

    def _encode_group(self, group: list[_FilePlan], all_read: bool) -> None:
        """Encode a group's jobs and write their rows. Stored rows are replaced in place: first the
        files' source rows lose their hash and the rows to re-encode are marked (Store.mark_replacing),
        then each new row overwrites its old one in the commit that writes it, and only once a stream
        is written are the positions past its new end dropped; the gone streams of a file go once the
        file is written, just before its source row. A kill at any point leaves one row per
        position, old or new, all searchable, and a next run that re-encodes what is not new."""
        pending: dict[int, _PendingFile] = {}
        owner: dict[int, int] = {}
        jobs = []
        replace_from: dict[str, int] = {}
        for n, plan in enumerate(group):
            pending[n] = _PendingFile(plan, len(plan.jobs))
            replace_from.update(plan.replace_from)
            for job in plan.jobs:
                owner[id(job)] = n
                jobs.append(job)
        # A source row keeps its hash while its rows are mixed, and a file edited back to that
        # content would pass as unchanged (its row count can match too): so the hash goes first.
        self.store.put_sources([_stale(p.known) for p in group if p.replace_from and p.known and p.known.hash != STALE_HASH])
        self.store.mark_replacing(replace_from)
        self.progress.segments_planned(sum(len(j.texts) for j in jobs), all_read)
        segment_rows, snapshot_rows, finished, tails = [], [], [], {}

        def flush():
            if any(row["stream_id"] in replace_from for row in segment_rows):
                self.store.replace_segments(segment_rows)
            else:  # only new streams: a plain append, no lookup of existing ids
                self.store.add_segments(segment_rows)
            self.store.add_snapshots(snapshot_rows)
            for n in finished:
                tails.update(dict.fromkeys(pending[n].plan.gone, 0))
            self.store.delete_stream_tails(tails)
            self.store.put_sources([pending[n].plan.record for n in finished])
            segment_rows.clear(), snapshot_rows.clear(), finished.clear(), tails.clear()
            self.store.index_vectors()  # in steps as rows arrive: no build covers a whole large first run

        for n, p in pending.items():  # files with nothing to encode (only removals) are complete now
            if p.open_jobs == 0:
                finished.append(n)
                self.progress.file_done(p.plan.record.path)
        waiting_since = None
        if jobs and not self._encoder_waited:
            self._encoder_waited = True
            self.progress.encoder_starting()
            waiting_since = time.monotonic()
        if self.writer is not None:
            self._write_group_elsewhere(jobs, owner, pending, finished, replace_from, waiting_since)
            return
        in_call = 0
        turns = self._context_turns()
        for out in encode_streams(jobs, self.encoder):
            if waiting_since is not None:
                self.report.preparing_seconds = time.monotonic() - waiting_since
                waiting_since = None
                self.progress.encoder_ready()
            in_call += 1
            if out.batch_end:
                self.progress.segments_done(in_call)
                in_call = 0
            stream, segments = out.job.key
            context = turn_context(segments, out.position, turns) if turns else None
            segment_rows.append(segment_row(stream, segments[out.position], out.position, out.embedding, context))
            if keeps_snapshot(out.position, len(segments)):
                snapshot_rows.append((stream.stream_id, out.position, out.memory))
            self.report.segments_encoded += 1
            if out.last:
                n = owner[id(out.job)]
                if stream.stream_id in pending[n].plan.tails:
                    tails[stream.stream_id] = pending[n].plan.tails[stream.stream_id]
                pending[n].open_jobs -= 1
                if pending[n].open_jobs == 0:
                    finished.append(n)
                    self.progress.file_done(pending[n].plan.record.path)  # encoded; written at the next flush
            if len(segment_rows) >= WRITE_ROWS:
                flush()
        flush()

    def _write_group_elsewhere(self, jobs, owner, pending, finished, replace_from, waiting_since) -> None:
        """`index --ray`: the writer's workers encode the group's streams and write their rows as
        fragments; here they become rows in one commit per table, then the replaced rows and the
        gone streams are dropped and the source rows written, in the plain path's order. A kill
        before the commits leaves fragment files that no version holds; one between them leaves
        rows the next run checks against the files: a position then held by both its old and its
        new row is repaired (_repair_duplicates) and the stream's rest re-encoded."""
        targets = {name: self.store.fragment_target(name) for name in (SEGMENTS, SNAPSHOTS)}
        fragments: dict[str, list] = {name: [] for name in targets}
        turns = self._context_turns()
        for written in self.writer([_portable(job, turns) for job in jobs], targets):
            if waiting_since is not None:
                self.report.preparing_seconds = time.monotonic() - waiting_since
                waiting_since = None
                self.progress.encoder_ready()
            self.progress.segments_done(written.segments)
            self.report.segments_encoded += written.segments
            for name, written_fragments in written.fragments.items():
                fragments[name].extend(written_fragments)
            for k in written.jobs:
                n = owner[id(jobs[k])]
                pending[n].open_jobs -= 1
                if pending[n].open_jobs == 0:
                    finished.append(n)
                    self.progress.file_done(pending[n].plan.record.path)  # encoded; committed with the group
        for name, table_fragments in fragments.items():
            self.store.commit_fragments(name, table_fragments)
        self.store.delete_replaced(replace_from)
        self.store.delete_stream_tails({sid: 0 for n in finished for sid in pending[n].plan.gone})
        self.store.put_sources([pending[n].plan.record for n in finished])
        self.store.index_vectors()

    def _context_turns(self) -> int:
        """The turns before each chat turn its row holds: the encoder's, where the index has the
        column (api.open_index creates it for such an encoder; a store opened without it gets none)."""
        return context_turns(self.encoder) if self.store.holds_context else 0

    def _remember_roots(self, roots: list[Path]) -> None:
        """Folders indexed so far: what `watch` watches by default."""
        known = set(indexed_roots(self.store))
        folders = known | {str(r) for r in roots if r.is_dir()}
        if folders != known:
            self.store.set_meta("roots", json.dumps(sorted(folders)))

    def _remove_missing(self, roots: list[Path], seen: set[str], known: dict[str, SourceRecord]) -> None:
        """Sources under an indexed folder that the walk no longer yields (deleted or now ignored)."""
        folders = [str(r) + os.sep for r in roots if r.is_dir()]
        for path, record in known.items():
            # a mail folder is a source under its own path: it may be the root itself
            if path not in seen and any(path.startswith(f) or path + os.sep == f for f in folders):
                self.store.delete_source(record)
                self.report.removed += 1


def _portable(job: StreamJob, turns: int) -> StreamJob:
    """The job as a worker gets it (write_stream_fragments): the stream without its units, the
    segments from job.start on after the `turns` before it (their context), the stream's segment
    count, and how many segments precede job.start in that window."""
    stream, segments = job.key
    before = min(turns, job.start)
    return dataclasses.replace(job, key=(dataclasses.replace(stream, units=[]), segments[job.start - before :], len(segments), before))


def _stale(record: SourceRecord) -> SourceRecord:
    return SourceRecord(**{**record.__dict__, "hash": STALE_HASH})


def indexed_roots(store: Store) -> list[str]:
    return json.loads(store.meta.get("roots", "[]"))


def check_paths_exist(paths: list[Path]) -> None:
    """EvosearchError naming the first path that does not exist. `index` checks before it opens
    (and so creates) the index: a mistyped folder used to leave an empty index and exit 0."""
    if not paths:
        raise EvosearchError("nothing to index", "pass one or more files or folders: `evosearch index ~/notes`")
    for path in paths:
        given = Path(path).expanduser()
        if os.path.lexists(given) and not given.exists():
            raise EvosearchError(f"{path}: a broken link or a symlink loop; nothing was indexed", "repair or remove the link")
        if not given.exists():
            raise EvosearchError(f"{path}: no such file or folder; nothing was indexed", "check the path")
        if not (given.is_file() or given.is_dir()):  # a FIFO would block the read; a socket has nothing to read
            raise EvosearchError(f"{path}: not a regular file or folder; nothing was indexed", "pass files or folders")


def index_paths(
    paths: list[Path], store: Store, encoder: Encoder, warn: Callable[[str], None], progress: IndexProgress | None = None, writer=None
) -> IndexReport:
    """Index files and folders into store; see the module docstring for what is re-encoded.
    writer encodes and writes the planned streams elsewhere (ray_index.RayWriter for `index --ray`)."""
    check_paths_exist(paths)
    return Indexer(store, encoder, warn, progress, writer).run(paths)


def forget_paths(store: Store, paths: list[Path]) -> int:
    """Remove the sources at paths (a file, or everything under a folder) and their vectors; the
    number removed. Every path is checked before anything is deleted, so one that matches nothing
    indexed changes nothing. The store must be open for writing (it holds the writer lock)."""
    if not paths:
        raise EvosearchError("nothing to forget", "pass files or folders: `evosearch forget ~/notes/old`")
    known = store.sources()
    chosen: dict[str, SourceRecord] = {}
    for path in paths:
        target = str(absolute_path(Path(path)))
        matches = [r for p, r in known.items() if p == target or p.startswith(target.rstrip(os.sep) + os.sep)]
        if not matches:
            mailbox = next((p for p in known if Path(p).is_dir() and target.startswith(p.rstrip(os.sep) + os.sep)), None)
            if mailbox is not None:  # a message file of a mail folder, which is indexed as one source
                raise EvosearchError(
                    f"{path} is a message of the mailbox {mailbox}, indexed as one source; nothing was forgotten",
                    f"delete the file or list it in {mailbox}/.evosearchignore, then run `evosearch index` again; or forget {mailbox}",
                )
            raise EvosearchError(
                f"nothing indexed at {path}; nothing was forgotten", "see `evosearch status --sources` for what is indexed"
            )
        chosen.update((r.path, r) for r in matches)
    for record in chosen.values():
        store.delete_source(record)
    store.finish_writes()
    return len(chosen)
