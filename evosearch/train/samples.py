"""Training samples: one stream of segments and the queries whose evidence is known.

On disk, JSON Lines, one sample per line (`evosearch train DATA.jsonl`):
    {"segments": [{"text": "...", "ts"?: ..., "speaker"?: "..."}, ...],
     "queries": [{"text": "...", "evidence": [segment indices], "now"?: ...}, ...]}
A segment's `speaker`, when given, is written before its text as "speaker: text", the way
chat segments are indexed, and a person's segment is not read into an assistant's (as `index` reads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EvosearchError
from ..segment import reads_ahead_along


@dataclass
class Query:
    text: str
    evidence: list[int]


@dataclass
class Sample:
    segments: list[str]
    queries: list[Query] = field(default_factory=list)
    # whether segments[i] may be read before segments[i + 1] (segment.reads_ahead_into; None: each may)
    ahead: list[bool] | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "segments": [{"text": t} for t in self.segments],
                "queries": [{"text": q.text, "evidence": q.evidence} for q in self.queries],
            }
        )


def _segment(raw: object) -> tuple[str, list[str]]:
    """A segment's text as it is encoded, and its speakers (none, or one)."""
    if isinstance(raw, str):
        return raw, []
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise ValueError('a segment must be a string or an object with "text"')  # noqa: TRY004 (the loader reports ValueErrors)
    speaker = raw.get("speaker")
    if isinstance(speaker, str) and speaker:
        return f"{speaker}: {raw['text']}", [speaker]
    return raw["text"], []


def parse_sample(line: str) -> Sample:
    """One JSONL line as a Sample; ValueError saying what is wrong."""
    record = json.loads(line)
    if not isinstance(record, dict) or not isinstance(record.get("segments"), list) or not record["segments"]:
        raise ValueError('expected an object with a non-empty "segments" list')
    segments, speakers = zip(*(_segment(s) for s in record["segments"]))
    segments = list(segments)
    queries = []
    for raw in record.get("queries") or []:
        evidence = raw.get("evidence") if isinstance(raw, dict) else None
        if not isinstance(raw.get("text") if isinstance(raw, dict) else None, str) or not isinstance(evidence, list) or not evidence:
            raise ValueError('each query needs "text" and a non-empty "evidence" list')
        if not all(isinstance(i, int) and 0 <= i < len(segments) for i in evidence):
            raise ValueError(f"evidence {evidence} points outside the {len(segments)} segments")
        queries.append(Query(raw["text"], sorted(set(evidence))))
    ahead = reads_ahead_along(speakers) if any(speakers) else None
    return Sample(segments, queries, ahead)


def load_samples(path: Path) -> list[Sample]:
    """Every valid sample of a JSONL file; a file with a bad line is refused with its line number."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise EvosearchError(f"{path}: cannot read training data ({e})", "pass a UTF-8 JSON Lines file") from None
    samples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            samples.append(parse_sample(line))
        except (ValueError, RecursionError, AttributeError) as e:
            raise EvosearchError(
                f"{path}: line {number}: {e}",
                "see `evosearch train --help` for the sample format",
            ) from None
    if not samples:
        raise EvosearchError(
            f"{path}: no training samples",
            "see `evosearch train --help` for the sample format",
        )
    return samples
