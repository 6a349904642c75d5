from __future__ import annotations

from typing import Annotated

import typer

from ..options import DbOption, JsonOption
from ..output import print_json, reports_errors, short_path, stdout


def _size(n: int | None) -> str:
    if n is None:
        return "(remote)"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@reports_errors
def status(
    db: DbOption = None,
    sources: Annotated[bool, typer.Option("--sources", help="List every indexed source.")] = False,
    json: JsonOption = False,
) -> None:
    """Show what is indexed: sources, segments, streams, time span, model, index location and size."""
    from ..config import db_uri
    from ..store import open_for_search

    store = open_for_search(db_uri(db))
    stats = store.stats()
    if sources:
        stats["source_list"] = [
            {"path": r.path, "format": r.format, "segments": r.segment_count, "streams": len(r.stream_ids)}
            for r in sorted(store.sources().values(), key=lambda r: r.path)
        ]
    if json:
        print_json(stats)
        return
    formats = ", ".join(f"{n} {f}" for f, n in sorted(stats["formats"].items())) or "none"
    rows = [
        ("index", stats["db"]),
        ("size", _size(stats["size_bytes"])),
        ("model", stats["model"]),
        ("sources", f"{stats['sources']} ({formats})"),
        ("streams", str(stats["streams"])),
        ("segments", str(stats["segments"])),
        ("time span", f"{stats['first_time'] or '—'} → {stats['last_time'] or '—'}"),
    ]
    for key, value in rows:
        stdout.print(f"[bold]{key:>10}[/]  {value}")
    for s in stats.get("source_list", []):
        stdout.print(f"  {short_path(s['path'])}  [dim]{s['format']}, {s['segments']} segments[/]")
