"""How many of `ask`'s places go to copies of a passage ranked above them, with and without folding
copies into the passage they copy (search.distinct_texts), on pages kept twice.

    python benchmarks/copies.py [--docs /usr/share/doc/nodejs/api] [--pages 20]

Pages: the --pages smallest markdown files of DIR over 10 kB that have an .html twin (Node.js's API
docs ship both), indexed with their twins through the product path (the default encoder). Queries:
every `##`-`####` heading of two or more words in the markdown pages (backticks dropped), asked as `ask` asks it (the
heading stays in the text: this counts places, not recall). Per variant, means over the queries:
- copies in the top 10: passages that copy one above them (search.is_copy);
- distinct sections in the top 10: (page, section name) pairs, an HTML page and its markdown twin
  counting as one page;
- rows calls: IndexReader.rows calls per query (the first asks for the 10 rows an answer without
  copies needs), and their time.
And the fold's own time per query (distinct_texts less its rows calls), median.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from quality import build_index  # noqa: E402

from evosearch import search  # noqa: E402

_HEADING = re.compile(r"^#{2,4} (.+?)\s*$")
LIMIT = 10


def pick_pages(docs: Path, pages: int) -> list[Path]:
    twins = [p for p in docs.glob("*.md") if p.with_suffix(".html").exists() and p.stat().st_size > 10_000]
    return sorted(twins, key=lambda p: (p.stat().st_size, p.name))[:pages]


def headings(page: Path) -> list[str]:
    found = [m.group(1).replace("`", "") for line in page.read_text(encoding="utf-8").splitlines() if (m := _HEADING.match(line))]
    return [h for h in found if len(re.findall(r"\w+", h)) >= 2]


def places(shown: list[dict]) -> tuple[int, int]:
    """(copies, distinct sections) among shown rows, best first."""
    seen, copies = [], 0
    for row in shown:
        words = search.words_of(row["text"])
        copies += any(search.is_copy(words, row["path"], w, path) for w, path in seen)
        seen.append((words, row["path"]))
    return copies, len({(Path(r["path"]).stem, r.get("section")) for r in shown})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=Path("/usr/share/doc/nodejs/api"))
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args(argv)
    from evosearch.encoder import load_encoder

    pages = pick_pages(args.docs, args.pages)
    queries = [h for p in pages for h in headings(p)]
    encoder = load_encoder()
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "docs").mkdir()
        for page in pages:
            for twin in (page, page.with_suffix(".html")):
                shutil.copy(twin, tmp / "docs" / twin.name)
        started = time.monotonic()
        store, _, segments = build_index(tmp / "docs", tmp / "db", encoder)
        print(f"{len(pages)} pages and their HTML twins, {segments} segments, indexed in {time.monotonic() - started:.0f} s; {len(queries)} queries\n")
        store = store.latest()
        rows = {"every passage (before folding)": [], "copies folded (shipped)": []}
        calls, fold_seconds, before_rows, after_rows = [], [], [], []
        for query in queries:
            ranked = search.rank(search.gather(store, encoder, query, now=now, limit=LIMIT), LIMIT)
            top = ranked[:LIMIT]
            t = time.perf_counter()
            stored = store.rows([r["_rowid"] for r in top])
            before_rows.append(time.perf_counter() - t)
            rows["every passage (before folding)"].append(places([{**stored[r["_rowid"]], **r} for r in top]))
            timed = []

            def counted(ids, timed=timed):
                t = time.perf_counter()
                out = store.rows(ids)
                timed.append(time.perf_counter() - t)
                return out

            t = time.perf_counter()
            shown = search.distinct_texts(ranked, counted, LIMIT)
            fold_seconds.append(time.perf_counter() - t - sum(timed))
            calls.append(len(timed))
            after_rows.append(sum(timed))
            rows["copies folded (shipped)"].append(places(shown))
    print("| top 10 | copies | distinct sections | rows calls | their time, mean ms |")
    print("|---|---|---|---|---|")
    for (name, got), n_calls, seconds in zip(rows.items(), ("1", f"{statistics.mean(calls):.2f}"), (before_rows, after_rows)):
        c, d = statistics.mean(c for c, _ in got), statistics.mean(s for _, s in got)
        print(f"| {name} | {c:.2f} | {d:.2f} | {n_calls} | {1e3 * statistics.mean(seconds):.1f} |")
    print(f"\nthe fold's own time per query, median: {1e6 * statistics.median(fold_seconds):.0f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
