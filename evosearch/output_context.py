"""What `show`, `recent` and `ask --timeline` draw: plain text with Rich styles, so it reads the
same with NO_COLOR (every mark is a character, never a colour alone) and fits 80 columns."""

from __future__ import annotations

from rich.text import Text

from .output import append_section, local_time, plural, print_indented, short_path, short_ref, snippet, stderr, stdout

BAR_CHARS = 36  # the longest timeline bar; label, count and marks take the rest of 80 columns
EMPTY_RUN_COLLAPSE = 3  # a run of more empty buckets than this is drawn as one "⋮" line
RECENT_SNIPPET_QUERY = ""  # recent has no query: snippets are the passage's start


def _source_line(path: str, title: str, fmt: str, extra: str = "") -> Text:
    line = Text()
    line.append(short_path(path), style="bold green")
    if fmt not in ("markdown", "text", "rst", "org"):
        line.append(f" [{title}]", style="dim")
    if extra:
        line.append(f"  {extra}", style="dim")
    return line


def _passage_head(p: dict, mark: str = "") -> Text:
    head = Text()
    head.append(mark or "  ", style="bold yellow")
    head.append(local_time(p["time"]), style="cyan")
    head.append(f"  {p['locator']}", style="dim green")
    append_section(head, p)
    if p["speaker"]:
        head.append(f"  {p['speaker']}", style="magenta")
    return head


def print_show(shown: dict) -> None:
    """The passages in stream order, the one asked for marked with ▶ and printed in bold."""
    stdout.print(_source_line(shown["path"], shown["title"], shown["format"], f"{plural(len(shown['passages']), 'passage')} around {short_ref(shown['ref'])}"))
    for p in shown["passages"]:
        stdout.print(_passage_head(p, "▶ " if p["hit"] else ""))
        print_indented(Text(p["text"].strip(), style="bold" if p["hit"] else ""))


def print_recent(answer: dict) -> None:
    """Groups in the order of their newest passage, each passage with its ref."""
    window = f"{local_time(answer['since'])} to {local_time(answer['until']) if answer['until'] else 'now'}"
    stderr.print(f"[dim]{window}: {answer['total']} passages, the newest {answer['shown']} shown[/]")
    if not answer["groups"]:
        stderr.print("nothing written or said in that window")
        return
    for group in answer["groups"]:
        stdout.print(_source_line(group["path"], group["title"], group["format"], plural(len(group["passages"]), "passage")))
        for p in group["passages"]:
            stdout.print(_passage_head(p))
            print_indented(snippet(p["text"], RECENT_SNIPPET_QUERY))
            stdout.print(Text(f"    ref {short_ref(p['ref'])}", style="dim"))


def print_timeline(timeline: dict, window: dict | None) -> None:
    """One line per bucket: its start, a bar as long as its count of top matches, the count, how many
    of the printed results fall in it, and '← window' where the query's time phrase points."""
    buckets = timeline["buckets"]
    stdout.print()
    if not buckets:
        stdout.print(Text(f"timeline: none of the {timeline['matches']} best matches is dated", style="dim"))
        return
    top = max(b["matches"] for b in buckets) or 1
    title = f"when the {timeline['matches']} best matches were written, per {timeline['unit']}"
    if timeline["undated"]:
        title += f" ({timeline['undated']} undated)"
    if window:
        title += f"; '{window['phrase']}' = ← window"
    stdout.print(Text(title, style="bold"))
    i = 0
    while i < len(buckets):
        run = 0
        while i + run < len(buckets) and not buckets[i + run]["matches"] and not buckets[i + run]["in_window"]:
            run += 1
        if run > EMPTY_RUN_COLLAPSE:
            stdout.print(Text(f"{'⋮':>10} │ ({run} {timeline['unit']}s without matches)", style="dim"))
            i += run
            continue
        b = buckets[i]
        bar = "█" * max(1 if b["matches"] else 0, round(b["matches"] / top * BAR_CHARS))
        line = Text()
        line.append(f"{b['label']:>10} │", style="dim")
        line.append(f"{bar:<{BAR_CHARS}}", style="yellow" if b["in_window"] else "blue")
        line.append(f" {b['matches']:>2}")
        if b["shown"]:
            line.append(f" ({b['shown']} shown)", style="bold")
        if b["in_window"]:
            line.append(" ← window", style="bold yellow")
        stdout.print(line)
        i += 1
