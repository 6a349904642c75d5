"""What the PDF reader leaves out and joins: running headers, footers and page numbers; words
hyphenated across a line break; a heading alone before its first subsection.

    python benchmarks/pdf_lines.py [PDF ...] [--show]

Default: every PDF under /usr/share/doc. Per file: pages, lines of pypdf's text, lines dropped as
running (sources/pdf._without_running_lines), line-break hyphens joined (_LINE_BREAK_HYPHEN), the
reader's units and the segments they make (segment.segment_stream, where a heading alone joins its
subsection). --show lists every dropped line with its page, which is how a person checks that
nothing of the text itself went.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdfs", nargs="*", type=Path)
    parser.add_argument("--show", action="store_true", help="list every dropped line")
    args = parser.parse_args(argv)
    from pypdf import PdfReader

    from evosearch.segment import segment_stream
    from evosearch.sources.detect import read_source
    from evosearch.sources.pdf import _LINE_BREAK_HYPHEN, _bookmarks, _without_running_lines

    pdfs = args.pdfs or sorted(Path("/usr/share/doc").rglob("*.pdf"))
    print(f"{'file':<40} {'pages':>6} {'lines':>7} {'dropped':>8} {'hyphens':>8} {'units':>6} {'segments':>9}")
    for path in pdfs:
        reader = PdfReader(path)
        texts = {n: (page.extract_text() or "").replace("\r", "") for n, page in enumerate(reader.pages, 1)}
        titles = {title for _, names in _bookmarks(reader, path, lambda _: None) for title in names}
        kept = _without_running_lines(texts, titles)
        dropped = [(n, line) for n in texts for line in _dropped(texts[n], kept[n])]
        hyphens = sum(len(_LINE_BREAK_HYPHEN.findall(text)) for text in kept.values())
        [stream] = read_source(path, lambda _: None)
        lines = sum(len(text.split("\n")) for text in texts.values())
        print(f"{path.name[:40]:<40} {len(texts):>6} {lines:>7} {len(dropped):>8} {hyphens:>8} {len(stream.units):>6} {len(segment_stream(stream)):>9}")
        if args.show:
            for n, line in dropped:
                print(f"    p{n}: {line}")
    return 0


def _dropped(text: str, kept: str) -> list[str]:
    """The lines of text that kept lacks, in order (kept is text with some lines left out)."""
    left = kept.split("\n")
    out, at = [], 0
    for line in text.split("\n"):
        if at < len(left) and left[at] == line:
            at += 1
        else:
            out.append(line)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
