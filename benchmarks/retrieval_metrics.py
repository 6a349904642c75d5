"""Turn-level retrieval metrics for LoCoMo-style benchmarks (gold = evidence turn ids).

A ranking is either a flat list of message ids (one per retrieved turn) or a list of lists
(one per retrieved passage, each holding the ids of the messages it covers, in order). Recall@k
looks at the first k *distinct* message ids in rank order: a passage that covers three messages
spends three of the k, so packing several turns into one result earns no free recall.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

CATEGORY_NAMES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
KS = (5, 10)


def first_k_distinct(ranked_message_ids: Sequence[str] | Sequence[Sequence[str]], k: int) -> list[str]:
    """The first k distinct message ids, flattening passages in rank order."""
    seen: list[str] = []
    known: set[str] = set()
    for item in ranked_message_ids:
        ids = (item,) if isinstance(item, str) else item
        for message_id in ids:
            if message_id in known:
                continue
            if len(seen) == k:
                return seen
            known.add(message_id)
            seen.append(message_id)
    return seen


def turn_recall_at_k(ranked_message_ids: list[list[str]] | list[str], gold: set[str], k: int) -> float:
    """|gold ∩ first k distinct ids| / |gold|; a question with no gold is an error, not a zero."""
    if not gold:
        raise ValueError("no gold message ids: such a question should be skipped, not scored")
    top = set(first_k_distinct(ranked_message_ids, k))
    return len(set(gold) & top) / len(set(gold))


def score_row(category: int, ranked_message_ids: list[list[str]] | list[str], gold: Iterable[str], ks: Sequence[int] = KS) -> dict:
    """One scored question: `{"category", "r@5", "r@10"}`, ready for `summarise`."""
    gold_set = set(gold)
    row: dict = {"category": category}
    for k in ks:
        row[f"r@{k}"] = turn_recall_at_k(ranked_message_ids, gold_set, k)
    return row


def summarise(rows: Iterable[Mapping], ks: Sequence[int] = KS) -> dict:
    """Mean recall overall and per category, as percentages.

    Each row has `category` (1-4) and either `r@K` values (see `score_row`) or `ranked` (the
    ranking) and `gold` (the evidence ids), from which they are computed. Returns
    `{"overall": {"n", "r@5", "r@10"}, "multi-hop": {...}, "temporal": {...}, ...}`; a category
    with no rows is left out.
    """
    groups: dict[str, list[Mapping]] = {"overall": []}
    for row in rows:
        if not all(f"r@{k}" in row for k in ks):
            row = {**row, **score_row(row["category"], row["ranked"], row["gold"], ks)}
        groups["overall"].append(row)
        name = CATEGORY_NAMES.get(int(row["category"]), str(row["category"]))
        groups.setdefault(name, []).append(row)
    summary: dict = {}
    for name in ["overall", *CATEGORY_NAMES.values(), *sorted(set(groups) - {"overall", *CATEGORY_NAMES.values()})]:
        members = groups.get(name)
        if not members:
            continue
        summary[name] = {"n": len(members)}
        for k in ks:
            summary[name][f"r@{k}"] = 100.0 * sum(r[f"r@{k}"] for r in members) / len(members)
    return summary


def format_table(results: Mapping[str, Mapping]) -> str:
    """A markdown table: method, R@5, R@10, then R@10 per category; `results` maps method -> summary."""
    categories = list(CATEGORY_NAMES.values())
    header = ["method", "n", "R@5", "R@10", *(f"R@10 {c}" for c in categories)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, summary in results.items():
        overall = summary["overall"]
        cells = [method, str(overall["n"]), f"{overall['r@5']:.1f}", f"{overall['r@10']:.1f}"]
        cells += [f"{summary[c]['r@10']:.1f}" if c in summary else "-" for c in categories]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(title: str, rows: dict, categories: list, extra: dict | None = None) -> str:
    """rows: name -> [(category, r@5, r@10)] per question; printed as overall R@5/R@10 and R@10 per category
    (plus an `extra` column, e.g. session-level recall, when given)."""
    names = [str(CATEGORY_NAMES.get(c, c))[:12] for c in categories]
    head = f"{title:<30} {'R@5':>6} {'R@10':>6} " + " ".join(f"{n:>12}" for n in names) + (f" {'sess@10':>8}" if extra else "")
    lines = [head, "-" * len(head)]
    for name, scored in rows.items():
        r5 = 100 * sum(s[1] for s in scored) / len(scored)
        r10 = 100 * sum(s[2] for s in scored) / len(scored)
        per = []
        for c in categories:
            vals = [s[2] for s in scored if s[0] == c]
            per.append(f"{100 * sum(vals) / len(vals):>12.1f}" if vals else f"{'-':>12}")
        tail = f" {extra[name]:>8.1f}" if extra else ""
        lines.append(f"{name:<30} {r5:>6.1f} {r10:>6.1f} " + " ".join(per) + tail)
    n = len(next(iter(rows.values())))
    return "\n".join(lines) + f"\n(category columns are R@10; {n} questions)"


# ---- where memory has to help ------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOPWORDS = frozenset(
    "what when where which who whom whose why how does did do is are was were has have had the a an of to in on for with at by "
    "from about and or but not that this these those it its they them their his her he she you your my our be been being as into "
    "than then there here would could should will can may might after before during since until while some any more most other "
    "such only own same so very just also ever never yet still one two first last like kind".split()
)
CONTEXT_REACH = 8  # segments before the evidence that count as "earlier": what a 32-slot queue of 4 latents per segment spans


def key_words(text: str, speakers: Iterable[str] = ()) -> set[str]:
    """A question's content words: 4+ letters, not a stopword, not a speaker's name."""
    names = {s.lower() for s in speakers}
    return {w for w in (m.lower().strip("'-") for m in _WORD.findall(text)) if len(w) >= 4 and w not in _STOPWORDS and w not in names}


def needs_earlier_context(question: str, segments: Sequence[str], evidence: Sequence[int], speakers: Iterable[str] = ()) -> bool:
    """True where no evidence segment shares a content word with the question but one of the
    CONTEXT_REACH segments before the first evidence does: the question's subject was named
    earlier in the stream, so only what the stream said before can tie the evidence to it."""
    key = key_words(question, speakers)
    if not key or not evidence:
        return False
    words = lambda n: {m.lower().strip("'-") for m in _WORD.findall(segments[n])}  # noqa: E731
    if any(key & words(n) for n in evidence):
        return False
    first = min(evidence)
    return any(key & words(n) for n in range(max(0, first - CONTEXT_REACH), first))
