"""Everything the CLI shows: results on stdout (Rich or JSON), messages and progress on stderr."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text


stdout = Console(highlight=False, soft_wrap=True)  # never hard-wrap: output is often piped or grepped
stderr = Console(stderr=True, highlight=False, soft_wrap=True)  # a message stays one line

SNIPPET_CHARS = 320
PLAIN_PROGRESS_EVERY_S = 5.0  # without a terminal, a progress line this often
PREPARING_NOTICE_AFTER_S = 1.0  # say the model is being prepared only when the wait shows
# Formats whose hits are passages of a document (shown with their line or page range); every
# other format is a chat, shown by conversation and speaker.
DOCUMENT_FORMATS = ("markdown", "text", "rst", "org", "html", "pdf")
LOCATOR_CHARS = 24  # a longer locator (two message UUIDs) is left to --json
_STOP = set(
    "a an and are as at be by did do does for from had has have how i in is it me my of on or our so that the this to was we were what when where which who why will with you your".split()
)


def warn(message: str) -> None:
    stderr.print(f"[yellow]warning:[/] {escape(message)}")


def info(message: str) -> None:
    stderr.print(message)


def print_json(document) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")


def reports_errors(command):
    """Turn an EvosearchError into one red line plus its hint on stderr and exit 1.
    EVOSEARCH_DEBUG=1 re-raises it with the traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from .errors import EvosearchError

        try:
            return command(*args, **kwargs)
        except EvosearchError as e:
            if os.environ.get("EVOSEARCH_DEBUG"):
                raise
            stderr.print(f"[red]error:[/] {escape(e.message)}")
            if e.hint:
                stderr.print(f"  {escape(e.hint)}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            stderr.print("[red]interrupted[/]; the index stays consistent, run the command again to finish")
            raise typer.Exit(130) from None

    return wrapper


def short_path(path: str) -> str:
    p = Path(path)
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        home = Path.home()
        return "~/" + str(p.relative_to(home)) if p.is_relative_to(home) else path


def short_ref(ref: str) -> str:
    """A ref with its path shortened as paths are printed (relative to here or ~); `show` reads it back."""
    stream_id, _, position = ref.rpartition("@")
    path, sep, conversation = stream_id.partition("#")
    return f"{short_path(path)}{sep}{conversation}@{position}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 file', '2 files' (many: the plural when it is not word + 's')."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def local_time(iso: str | None) -> str:
    """An ISO time as the user's local time, to the minute ('undated' for None)."""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M") if iso else "undated"


def _terms(query: str) -> list[str]:
    return [w for w in re.findall(r"\w+", query.lower()) if w not in _STOP and len(w) > 1]


def _flatten(text: str) -> str:
    """Whitespace collapsed to single spaces, except that a heading keeps its own line."""
    lines, paragraph = [], []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            if paragraph:
                lines.append(" ".join(paragraph))
                paragraph = []
            lines.append(" ".join(line.split()))
        elif line.strip():
            paragraph.append(" ".join(line.split()))
    if paragraph:
        lines.append(" ".join(paragraph))
    return "\n".join(lines)


def snippet(text: str, query: str) -> Text:
    """Up to SNIPPET_CHARS around the first query term, with the terms highlighted; a heading
    stays on its own line."""
    terms = _terms(query)
    flat = _flatten(text)
    first = min((m.start() for t in terms for m in [re.search(rf"\b{re.escape(t)}", flat, re.I)] if m), default=0)
    start = max(0, first - SNIPPET_CHARS // 3)
    piece = ("…" if start else "") + flat[start : start + SNIPPET_CHARS] + ("…" if start + SNIPPET_CHARS < len(flat) else "")
    out = Text(piece)
    for t in terms:
        out.highlight_regex(rf"(?i)\b{re.escape(t)}\w*", "bold yellow")
    return out


def print_indented(text: Text) -> None:
    """A passage's text under its heading, every line of it indented 4 columns."""
    for line in text.split("\n"):
        line.pad_left(4)
        stdout.print(line)


def _explain_line(e: dict) -> str:
    """How search.fuse built the score: the cosine, plus the model's weight x BM25 when the text matched."""
    dense = f"dense #{e['dense_rank']}" if "dense_rank" in e else "not in the dense list"
    line = f"cos {e['dense_similarity']:.3f} ({dense})"
    if "text_rank" in e:
        excess = f" + {e['text_excess_weight']:g} × (bm25 − {e['text_excess_from']:g})" if "text_excess" in e else ""
        line += f" + text #{e['text_rank']}: {e['text_weight']:g} × bm25 {e['bm25']:.2f}{excess} = {e['text_part']:.3f}"
    if "context" in e:
        line += f" + the turns before: {e['context_weight']:g} × (bm25 {e['context_bm25']:.2f} − {e['context_from']:g}) = {e['context']:.3f}"
    if "speaker" in e:
        line += f" + a speaker the question names {e['speaker']:g}"
    if "assistant" in e:
        line += f" − an assistant's turn, for a question about the asker {-e['assistant']:g}"
    if "neighbours" in e:
        line += f" + neighbouring turns {e['neighbours']:.3f}"
    if "section" in e:
        line += f" + the section as its own neighbour {e['section']:.3f}"
    line += f" → {e['fused']:.3f}"
    if "window_boost" in e:
        line += f"; in the time window +{e['window_boost']}"
    if "order_bonus" in e:
        line += f"; order bonus +{e['order_bonus']:.4f}"
    if "closer_look" in e:
        line += f"; its words against the question's +{e['closer_look']:.3f}"
    return line


def append_section(head: Text, passage: dict) -> None:
    """A document passage's section after where it is: "§ Setup › Linux"."""
    if passage.get("section"):
        head.append(f"  § {passage['section']}", style="yellow")


def _hit_heading(r: dict, explain: bool) -> Text:
    """rank, local time, then where: a document's path, line or page range and section; a chat's
    conversation title and speakers, its file after them."""
    head = Text()
    head.append(f"{r['rank']:>2}. ", style="bold")
    head.append(local_time(r["time"]), style="cyan")
    head.append("  ")
    if r["format"] in DOCUMENT_FORMATS:
        head.append(short_path(r["path"]), style="green")
        head.append(f" {r['locator']}", style="dim green")
        append_section(head, r)
    else:
        head.append(r["title"] or Path(r["path"]).name, style="green")
        if r["speaker"]:
            head.append(f"  {r['speaker']}", style="magenta")
        head.append(f"  {short_path(r['path'])}", style="dim")
        if len(r["locator"]) <= LOCATOR_CHARS:
            head.append(f" {r['locator']}", style="dim")
    if explain:
        head.append(f"  {r['score']:.4f}", style="dim")
    return head


def print_results(answer: dict, explain: bool) -> None:
    if answer["window"]:
        w = answer["window"]
        stderr.print(
            f"[dim]time: '{escape(w['phrase'])}' → {local_time(w['start']) if w['start'] else '…'} to "
            f"{local_time(w['end']) if w['end'] else 'now'} (passages inside {'rank first' if w['firm'] else 'gain a boost'})[/]"
        )
    if answer["order"]:
        stderr.print(f"[dim]order: {answer['order']} matches first[/]")
    if not answer["results"]:
        stderr.print("no matching passages")
        return
    for i, r in enumerate(answer["results"]):
        if i:
            stdout.print()
        stdout.print(_hit_heading(r, explain))
        print_indented(snippet(r["text"], answer["search_text"]))
        if explain:
            stdout.print(Text("    " + _explain_line(r["explain"]), style="dim"))
        stdout.print(Text(f"    ref {short_ref(r['ref'])}", style="dim"))  # what `evosearch show` takes
        print_copies(r.get("also") or [])


COPIES_SHOWN = 3


def print_copies(also: list[dict]) -> None:
    """Where else a result's text was found (search.distinct_texts), a few places and a count; each
    place once (a one-line file's segments all sit at L1, so its copies' passages share a place)."""
    places = list(dict.fromkeys(f"{short_path(copy['path'])} {copy['locator']}" for copy in also))
    for place in places[:COPIES_SHOWN]:
        stdout.print(Text(f"    also in {place}", style="dim"))
    if len(places) > COPIES_SHOWN:
        stdout.print(Text(f"    and in {plural(len(places) - COPIES_SHOWN, 'more place')}", style="dim"))


# ---- status -----------------------------------------------------------------------------------


def _size(n: int | None) -> str:
    if n is None:
        return "(remote)"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def print_status(stats: dict) -> None:
    """The `status` table: what IndexReader.stats() returns, times in local time."""
    formats = ", ".join(f"{n} {f}" for f, n in sorted(stats["formats"].items())) or "none"
    first, last = stats["first_time"], stats["last_time"]
    rows = [
        ("index", stats["db"]),
        ("size", _size(stats["size_bytes"])),
        ("model", stats["model"]),
        ("sources", f"{stats['sources']} ({formats})"),
        ("streams", str(stats["streams"])),
        ("segments", str(stats["segments"])),
        ("time span", f"{local_time(first) if first else '—'} → {local_time(last) if last else '—'}"),
    ]
    for key, value in rows:
        stdout.print(f"[bold]{key:>10}[/]  {escape(value)}")
    for s in stats.get("source_list", []):
        stdout.print(f"  {escape(short_path(s['path']))}  [dim]{s['format']}, {plural(s['segments'], 'segment')}[/]")


# ---- index ------------------------------------------------------------------------------------

PREPARING = "preparing the model (the first run on a machine builds the CPU model once, up to a minute)…"


class _Progress:
    """What both renderers share: counts, and the wait for the encoder's first call, which is
    announced once it lasts and left out of the rate."""

    def __init__(self):
        self.files = self.files_total = self.segments = self.planned = 0
        self.all_read = False  # until every file is read, the segments' total is not known
        self.ready_at: float | None = None  # when the encoder's first call returned
        self.since_ready = 0  # segments encoded after that call
        self._notice: threading.Timer | None = None

    def files_found(self, total):
        self.files_total = total

    def file_done(self, path):
        self.files += 1

    def segments_planned(self, count, all_read):
        self.planned += count
        self.all_read = all_read

    def encoder_starting(self):
        self._notice = threading.Timer(PREPARING_NOTICE_AFTER_S, self.preparing)
        self._notice.daemon = True
        self._notice.start()

    def preparing(self): ...

    def encoder_ready(self):
        if self._notice is not None:
            self._notice.cancel()
        self.ready_at = time.monotonic()

    def segments_done(self, count):
        if self.segments and self.ready_at is not None:
            self.since_ready += count
        self.segments += count

    def rate(self) -> str:
        if self.ready_at is None or not self.since_ready:
            return ""
        return f"{self.since_ready / max(time.monotonic() - self.ready_at, 1e-9):.0f} segments/s"

    def stop(self):
        if self._notice is not None:
            self._notice.cancel()


class _Lines(_Progress):
    """Without a terminal: a line every PLAIN_PROGRESS_EVERY_S."""

    def __init__(self):
        super().__init__()
        self.last = time.monotonic()

    def preparing(self):
        info(PREPARING)

    def file_done(self, path):
        super().file_done(path)
        self._maybe_print()

    def segments_done(self, count):
        super().segments_done(count)
        self._maybe_print()

    def _maybe_print(self):
        now = time.monotonic()
        if now - self.last >= PLAIN_PROGRESS_EVERY_S:
            self.last = now
            rate = self.rate()
            total = f"/{self.planned}" if self.all_read else ""
            counts = f"indexing: {self.files}/{self.files_total} files, {self.segments}{total} segments"
            info(counts + (f", {rate}" if rate else ""))


class _Bar(_Progress):
    """On a terminal: a bar for files and one for segments, advanced after every encoder call."""

    def __init__(self):
        super().__init__()
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("{task.description:>8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeRemainingColumn(),
            console=stderr,
            transient=True,
        )
        self.files_task = self.bar.add_task("files", total=None, note="")
        self.segments_task = self.bar.add_task("segments", total=None, note="")

    def files_found(self, total):
        super().files_found(total)
        self.bar.start()
        self.bar.update(self.files_task, total=total)

    def file_done(self, path):
        super().file_done(path)
        self.bar.advance(self.files_task)

    def segments_planned(self, count, all_read):
        super().segments_planned(count, all_read)
        self.bar.update(self.segments_task, total=self.planned if all_read else None)

    def preparing(self):
        self.bar.update(self.segments_task, note=PREPARING)

    def encoder_ready(self):
        super().encoder_ready()
        self.bar.update(self.segments_task, note="")

    def segments_done(self, count):
        super().segments_done(count)
        self.bar.update(self.segments_task, advance=count, note=self.rate())

    def stop(self):
        super().stop()
        self.bar.stop()


class _Silent:
    """--quiet: every hook does nothing."""

    def __getattr__(self, name):
        return lambda *args: None


def index_progress(quiet: bool):
    """The renderer `index` passes to the indexer: a Rich bar on a terminal, a plain line every
    few seconds otherwise, nothing with --quiet."""
    if quiet:
        return _Silent()
    return _Bar() if sys.stderr.isatty() else _Lines()


def index_summary(report, uri: str) -> str:
    """The line `index` ends with, from an IndexReport."""
    encoded = f"{plural(report.segments_encoded, 'segment')} encoded"
    if report.segments_encoded:
        encoded += f" at {report.segments_per_s:.0f} segments/s"
    if report.segments_reused:
        encoded += f", {report.segments_reused} reused"
    others = [
        f"{n} {what}"
        for n, what in (
            (report.unchanged, "unchanged"),
            (report.renamed, "renamed"),
            (report.skipped, "skipped"),
            (report.removed, "removed"),
        )
        if n
    ]
    took = f"{report.seconds:.1f} s"
    if report.preparing_seconds >= PREPARING_NOTICE_AFTER_S:
        took += f" ({report.preparing_seconds:.1f} s of it preparing the model)"
    done = f"indexed {plural(report.indexed, 'file')} ({encoded})" if report.indexed or report.segments_encoded else "nothing new"
    return done + "".join(f", {o}" for o in others) + f" in {took} → {uri}"


# ---- watch ------------------------------------------------------------------------------------


def watch_report_line(state) -> str:
    """One line per reconcile of a WatchState: what the last batch of changes did."""
    r = state.last_report
    return (
        f"indexed {state.last_indexed or 'startup changes'}: {plural(r.segments_encoded, 'segment')} encoded, "
        f"{r.indexed} changed, {r.renamed} renamed, {r.removed} removed"
    )


def watch_status_line(state) -> str:
    """The live line under a watch on a terminal."""
    return (
        f"queue {state.queued} · events {state.events_seen} · "
        f"last indexed {state.last_indexed or '—'} · {plural(state.error_count, 'warning')}"
    )
