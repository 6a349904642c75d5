"""Convert LoCoMo (locomo10.json) into evosearch's generic chat JSON Lines, plus a question file.

    python benchmarks/locomo_to_jsonl.py [../shared/bench/locomo10.json] OUT_DIR

Writes `OUT_DIR/<sample_id>.jsonl`, one message per line
(`{"id": dia_id, "ts", "speaker", "text", "conversation": sample_id}`), and
`OUT_DIR/questions.jsonl`, one line per question of categories 1-4 that keeps evidence
(`{"sample_id", "question", "category", "evidence": [dia ids], "now"}`).

Each turn is dated by its session ("1:56 pm on 8 May, 2023") plus its index in the session in
seconds, so sorting by `ts` keeps session and turn order. A turn that shares a photo gets the
photo's caption appended: `text + " [shares a photo: " + caption + "]"`.

The data set is read from where it lies (its license does not allow shipping it); nothing
from it is copied into the project.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

DEFAULT_INPUT = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "locomo10.json"
# Categories kept for retrieval (5, adversarial, has no answer in the conversation).
RETRIEVAL_CATEGORIES = (1, 2, 3, 4)
# The totals documented in ../shared/bench/README.md.
EXPECTED = {"conversations": 10, "turns": 5882, "questions": 1535}

_SESSION_KEY = re.compile(r"^session_(\d+)(?:_date_time)?$")
_EVIDENCE_SPLIT = re.compile(r"[;\s]+")


@dataclass
class Turn:
    id: str
    ts: str
    speaker: str
    text: str
    conversation: str

    def to_json(self) -> dict:
        return {"id": self.id, "ts": self.ts, "speaker": self.speaker, "text": self.text, "conversation": self.conversation}


@dataclass
class Question:
    sample_id: str
    question: str
    category: int
    evidence: list[str]
    now: str

    def to_json(self) -> dict:
        return {
            "sample_id": self.sample_id,
            "question": self.question,
            "category": self.category,
            "evidence": self.evidence,
            "now": self.now,
        }


@dataclass
class Conversion:
    turns: dict[str, list[Turn]] = field(default_factory=dict)  # sample_id -> turns in order
    questions: list[Question] = field(default_factory=list)
    sessions: int = 0
    empty_sessions: int = 0
    evidence_split: int = 0  # evidence strings (categories 1-4) that held several ids
    evidence_dropped: int = 0  # ids that match no turn
    questions_without_evidence: int = 0  # of categories 1-4, skipped
    questions_by_category: dict[int, int] = field(default_factory=dict)

    @property
    def turn_count(self) -> int:
        return sum(len(t) for t in self.turns.values())


def parse_session_time(text: str) -> datetime:
    """'1:56 pm on 8 May, 2023' -> 2023-05-08 13:56 (UTC, the data set gives no zone)."""
    return datetime.strptime(" ".join(text.split()), "%I:%M %p on %d %B, %Y").replace(tzinfo=timezone.utc)


def turn_text(turn: dict) -> str:
    text = str(turn.get("text") or "").strip()
    caption = turn.get("blip_caption")
    if isinstance(caption, str) and caption.strip():
        text = f"{text} [shares a photo: {caption.strip()}]"
    return text


def convert_sample(sample: dict, out: Conversion) -> None:
    sample_id = sample["sample_id"]
    conversation = sample["conversation"]
    # Sessions named by their turns or by their date (conv-26 dates sessions 20-35 that have no turns).
    numbers = sorted({int(m.group(1)) for key in conversation if (m := _SESSION_KEY.match(key))})
    turns: list[Turn] = []
    last_session: datetime | None = None
    for number in numbers:
        session = conversation.get(f"session_{number}") or []
        date_text = conversation.get(f"session_{number}_date_time")
        if not session:
            out.empty_sessions += 1
            continue
        if not date_text:
            raise ValueError(f"{sample_id}: session {number} has turns but no date")
        start = parse_session_time(date_text)
        out.sessions += 1
        last_session = start if last_session is None else max(last_session, start)
        for index, turn in enumerate(session):
            ts = start + timedelta(seconds=index)
            turns.append(Turn(turn["dia_id"], ts.isoformat(), turn["speaker"], turn_text(turn), sample_id))
    # `now` is the day after the last session that holds turns.
    assert last_session is not None, sample_id
    now = datetime.combine(last_session.date() + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    out.turns[sample_id] = turns

    known = {t.id for t in turns}
    for qa in sample.get("qa", []):
        category = qa.get("category")
        if category not in RETRIEVAL_CATEGORIES:
            continue
        evidence: list[str] = []
        for entry in qa.get("evidence") or []:
            ids = [i for i in _EVIDENCE_SPLIT.split(str(entry)) if i]
            if len(ids) > 1:
                out.evidence_split += 1
            for dia_id in ids:
                if dia_id not in known:
                    out.evidence_dropped += 1
                elif dia_id not in evidence:
                    evidence.append(dia_id)
        if not evidence:
            out.questions_without_evidence += 1
            continue
        out.questions.append(Question(sample_id, qa["question"], category, evidence, now.isoformat()))
        out.questions_by_category[category] = out.questions_by_category.get(category, 0) + 1


def convert(data: list[dict]) -> Conversion:
    out = Conversion()
    for sample in data:
        convert_sample(sample, out)
    return out


def load(path: Path) -> Conversion:
    with open(path, encoding="utf-8") as f:
        return convert(json.load(f))


def write(conversion: Conversion, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for sample_id, turns in conversion.turns.items():
        with open(out_dir / f"{sample_id}.jsonl", "w", encoding="utf-8") as f:
            for turn in turns:
                f.write(json.dumps(turn.to_json(), ensure_ascii=False) + "\n")
    with open(out_dir / "questions.jsonl", "w", encoding="utf-8") as f:
        for question in conversion.questions:
            f.write(json.dumps(question.to_json(), ensure_ascii=False) + "\n")


def report(conversion: Conversion) -> dict[str, int]:
    counts = {
        "conversations": len(conversion.turns),
        "turns": conversion.turn_count,
        "questions": len(conversion.questions),
    }
    print(f"conversations: {counts['conversations']}")
    print(f"sessions with turns: {conversion.sessions} (dated sessions without turns skipped: {conversion.empty_sessions})")
    print(f"turns: {counts['turns']}")
    by_category = ", ".join(f"{c}: {conversion.questions_by_category.get(c, 0)}" for c in RETRIEVAL_CATEGORIES)
    print(f"questions (categories 1-4 with evidence): {counts['questions']} ({by_category})")
    print(
        f"evidence strings split: {conversion.evidence_split}, ids matching no turn dropped: "
        f"{conversion.evidence_dropped}, questions left without evidence skipped: {conversion.questions_without_evidence}"
    )
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="[INPUT] OUT_DIR", help="locomo10.json (optional) and the output folder")
    args = parser.parse_args(argv)
    if len(args.paths) > 2:
        parser.error("expected [INPUT] OUT_DIR")
    source = Path(args.paths[0]) if len(args.paths) == 2 else DEFAULT_INPUT
    out_dir = Path(args.paths[-1])
    conversion = load(source)
    write(conversion, out_dir)
    counts = report(conversion)
    print(f"written to {out_dir}/")
    mismatches = [f"{k} {counts[k]} != {v}" for k, v in EXPECTED.items() if counts[k] != v]
    if mismatches:
        print("WARNING: differs from the documented totals: " + "; ".join(mismatches), file=sys.stderr)
        return 1
    print("matches the documented totals (10 conversations, 5,882 turns, 1,535 questions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
