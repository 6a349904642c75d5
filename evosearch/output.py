"""Everything the CLI shows: results on stdout (Rich or JSON), messages and progress on stderr."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from .search import TEXT_WEIGHT

stdout = Console(highlight=False, soft_wrap=True)  # never hard-wrap: output is often piped or grepped
stderr = Console(stderr=True, highlight=False, soft_wrap=True)  # a message stays one line

SNIPPET_CHARS = 320
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


def _terms(query: str) -> list[str]:
    return [w for w in re.findall(r"\w+", query.lower()) if w not in _STOP and len(w) > 1]


def snippet(text: str, query: str) -> Text:
    """Up to SNIPPET_CHARS around the first query term, with the terms highlighted."""
    terms = _terms(query)
    flat = " ".join(text.split())
    first = min((m.start() for t in terms for m in [re.search(rf"\b{re.escape(t)}", flat, re.I)] if m), default=0)
    start = max(0, first - SNIPPET_CHARS // 3)
    piece = ("…" if start else "") + flat[start : start + SNIPPET_CHARS] + ("…" if start + SNIPPET_CHARS < len(flat) else "")
    out = Text(piece)
    for t in terms:
        out.highlight_regex(rf"(?i)\b{re.escape(t)}\w*", "bold yellow")
    return out


def _when(iso: str | None) -> str:
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M") if iso else "undated"


def _explain_line(e: dict) -> str:
    """How search.fuse built the score: the cosine, plus TEXT_WEIGHT x BM25 when the text matched."""
    dense = f"dense #{e['dense_rank']}" if "dense_rank" in e else "not in the dense list"
    line = f"cos {e['dense_similarity']:.3f} ({dense})"
    if "text_rank" in e:
        line += f" + text #{e['text_rank']}: {TEXT_WEIGHT:g} × bm25 {e['bm25']:.2f} = {e['text_part']:.3f}"
    line += f" → {e['fused']:.3f}"
    if "window_boost" in e:
        line += f"; in the time window +{e['window_boost']}"
    if "order_bonus" in e:
        line += f"; order bonus +{e['order_bonus']:.4f}"
    return line


def print_results(answer: dict, explain: bool) -> None:
    if answer["window"]:
        w = answer["window"]
        stderr.print(
            f"[dim]time: '{escape(w['phrase'])}' → {_when(w['start']) if w['start'] else '…'} to "
            f"{_when(w['end']) if w['end'] else 'now'} (passages inside rank first)[/]"
        )
    if answer["order"]:
        stderr.print(f"[dim]order: {answer['order']} matches first[/]")
    if not answer["results"]:
        stderr.print("no matching passages")
        return
    for r in answer["results"]:
        head = Text()
        head.append(f"{r['rank']:>2}. ", style="bold")
        head.append(_when(r["time"]), style="cyan")
        head.append("  ")
        head.append(f"{short_path(r['path'])}", style="green")
        head.append(f" {r['locator']}", style="dim green")
        if r["format"] not in ("markdown", "text", "rst", "org"):
            head.append(f" [{r['title']}]", style="dim")
        if r["speaker"]:
            head.append(f"  {r['speaker']}", style="magenta")
        head.append(f"  {r['score']:.4f}", style="dim")
        stdout.print(head)
        body = snippet(r["text"], answer["search_text"])
        body.pad_left(4)
        stdout.print(body)
        if explain:
            stdout.print(Text("    " + _explain_line(r["explain"]), style="dim"))
        from .output_context import short_ref  # `evosearch show` takes it

        stdout.print(Text(f"    ref {short_ref(r['ref'])}", style="dim"))
