"""Does the memory hurt ordinary documents? Section retrieval over documentation on this machine.

    python benchmarks/doc_quality.py [--docs DIR] [--files 150] [--doc-tokens N]

Documents: the AWS CLI's example pages (`awscli/examples/**/*.rst`, shipped with awscli), each
a sequence of sections headed `**Example N: To do something**` followed by an explanation,
a command and its output. The heading's words are removed from the indexed text (an empty
`##` heading marks where the section starts) and become the query ("To create a table with a
global secondary index"), so its section is the known answer. Markdown files with `## headings` are read the same way when --docs points at them.
All files are indexed through the product path twice (the bundled memory; the same weights
with the queue emptied, which is static MiniLM exactly) and searched across the whole corpus.
Printed: Recall@1/@5/@10 (a query is answered when a passage in the top k overlaps its
section's lines) for dense retrieval with memory off and on, and for the hybrid `ask`; then
R@1/R@10 counting only passages that lie at least half inside the section ("inside"), which
gives a passage spanning two sections no credit for the one it only touches.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from quality import MemoryOff, add_doc_tokens, build_index, use_doc_tokens  # noqa: E402

_RST_HEADING = re.compile(r"^\*\*Example \d+: (.+?)\*\*\s*$")
_MD_HEADING = re.compile(r"^#{2,4} (.+?)\s*$")
MIN_QUERY_WORDS = 4


def default_docs() -> Path | None:
    try:
        import awscli

        return Path(awscli.__file__).parent / "examples"
    except ImportError:  # not in this venv: the base Python's site-packages often has it
        found = sorted(Path(sys.base_prefix).glob("lib/python3*/site-packages/awscli/examples"))
        return found[0] if found else None


def write_corpus(source: Path, limit: int, out: Path) -> list[dict]:
    """Copy up to `limit` documents with two or more headed sections, headings emptied; return the queries."""
    queries = []
    files = sorted(p for p in source.rglob("*") if p.suffix in (".rst", ".md") and p.stat().st_size > 3000)
    written = 0
    for path in files:
        if written == limit:
            break
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        heads = [(n, m.group(1)) for n, line in enumerate(lines) if (m := _RST_HEADING.match(line) or _MD_HEADING.match(line))]
        heads = [(n, h) for n, h in heads if len(h.split()) >= MIN_QUERY_WORDS]
        if len(heads) < 2:
            continue
        target = out / f"{path.parent.name}--{path.stem}.md"
        for i, (n, heading) in enumerate(heads):
            end = heads[i + 1][0] - 1 if i + 1 < len(heads) else len(lines)
            queries.append({"query": heading.rstrip(".:"), "path": str(target.resolve()), "start": n + 2, "end": end})
            lines[n] = "##"
        target.write_text("\n".join(lines) + "\n")
        written += 1
    return queries


def hits(rows: list[dict], q: dict, inside: bool = False) -> list[bool]:
    """Whether each passage overlaps the query's section (inside: with at least half of its lines)."""
    out = []
    for r in rows:
        shared = min(r["line_end"], q["end"]) - max(r["line_start"], q["start"]) + 1
        need = (r["line_end"] - r["line_start"] + 2) // 2 if inside else 1
        out.append(r["path"] == q["path"] and shared >= need)
    return out


def recall(found: list[list[bool]], k: int) -> float:
    return 100 * sum(any(h[:k]) for h in found) / max(len(found), 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=default_docs())
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument(
        "--model",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "model",
        help="the model folder whose memory to test: the shipped one (model/, the context read and lexical memory; the default) or trained weights (model/evo-1)",
    )
    add_doc_tokens(parser)
    args = parser.parse_args(argv)
    use_doc_tokens(args.doc_tokens)
    if args.docs is None or not args.docs.exists():
        parser.error("no documentation folder found; pass --docs DIR (rst or md files with headed sections)")
    import torch

    from evosearch.encoder import load_encoder
    from evosearch.search import ask

    torch.set_num_threads(os.cpu_count() or 2)
    os.environ["EVOSEARCH_MODEL"] = str(args.model)
    encoder = load_encoder("minilm")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "docs"
        corpus.mkdir()
        queries = write_corpus(args.docs, args.files, corpus)
        on, _, segments = build_index(corpus, tmp / "on", encoder)
        off_encoder = MemoryOff(encoder)
        off, _, _ = build_index(corpus, tmp / "off", off_encoder)
        ranked = {
            "dense, memory off (= static MiniLM)": [off.vector_search(off_encoder.encode_queries([q["query"]])[0], 10, None) for q in queries],
            "dense, memory on": [on.vector_search(encoder.encode_queries([q["query"]])[0], 10, None) for q in queries],
            "hybrid ask, memory off": [ask(off, off_encoder, q["query"], limit=10)["results"] for q in queries],
            "hybrid ask, memory on": [ask(on, encoder, q["query"], limit=10)["results"] for q in queries],
        }
    print(f"encoder {encoder.model_id}; {len(queries)} queries over {segments} segments of {args.files} documents from {args.docs}")
    print(f"{'method':<38} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'inside R@1':>11} {'R@10':>6}")
    for name, rankings in ranked.items():
        found = [hits(rows, q) for rows, q in zip(rankings, queries)]
        inside = [hits(rows, q, inside=True) for rows, q in zip(rankings, queries)]
        cells = [recall(found, 1), recall(found, 5), recall(found, 10), recall(inside, 1), recall(inside, 10)]
        print(f"{name:<38} {cells[0]:>6.1f} {cells[1]:>6.1f} {cells[2]:>6.1f} {cells[3]:>11.1f} {cells[4]:>6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
