"""Small builders shared by the indexing and CLI tests."""

import json
from pathlib import Path

import numpy as np

from evosearch.encoder.hashing import HashingEncoder
from evosearch.store import Store


class ReadsAhead(HashingEncoder):
    """The hashing encoder, reading ahead: records what each segment was read before."""

    reads_ahead = True

    def __init__(self):
        super().__init__()
        self.seen: dict[str, str | None] = {}

    def encode(self, texts, memory, following=None):
        self.seen.update(zip(texts, following))
        return super().encode(texts, memory)


def damage_one_member(package: bytes, data, max_size: int) -> bytes:
    """A zip package (Word, EPUB...) with one member, drawn by hypothesis `data`, replaced by random
    bytes or cut in half: the damaged files a reader must refuse with one line."""
    import io
    import zipfile

    from hypothesis import strategies as st

    with zipfile.ZipFile(io.BytesIO(package)) as src:
        members = {i.filename: src.read(i) for i in src.infolist()}
    victim = data.draw(st.sampled_from(sorted(members)))
    members[victim] = data.draw(st.one_of(st.binary(max_size=max_size), st.just(members[victim][: len(members[victim]) // 2])))
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return raw.getvalue()


def write_chat(path: Path, messages: list[tuple[str, str, str, str]], conversation: str = "team") -> None:
    """messages: (id, ts, speaker, text)."""
    path.write_text(
        "".join(json.dumps({"id": i, "ts": ts, "speaker": s, "text": t, "conversation": conversation}) + "\n" for i, ts, s, t in messages)
    )


def chat_messages(n: int, start: int = 0) -> list[tuple[str, str, str, str]]:
    topics = ["the launch moves to Thursday", "vendor Acme is dropped", "we picked SQLite over Postgres", "the shed roof costs 400 euros"]
    return [
        (f"m{i:03d}", f"2026-11-{1 + i // 10:02d}T{10 + i % 10:02d}:00:00+00:00", "Ana" if i % 2 else "Ben", f"message {i}: {topics[i % 4]}")
        for i in range(start, start + n)
    ]


def make_notes(root: Path) -> Path:
    notes = root / "notes"
    notes.mkdir(parents=True)
    (notes / "2026-11-02.md").write_text("# Monday\n\nDecided to use SQLite for the side project.\n\nPostgres felt heavy.\n")
    (notes / "2026-11-09.md").write_text("# Planning\n\nThe trip moves to December.\n\nBook the train on Friday.\n")
    (notes / "ideas.md").write_text("---\ndate: 2026-10-20\n---\n# Ideas\n\nA garden shed with a green roof.\n")
    write_chat(notes / "team.jsonl", chat_messages(30))
    return notes


def index_dump(db: str) -> dict[str, tuple]:
    """id -> (content_hash, rounded vector, title, lines, times, section): what must be equal between two
    ways of building an index. Titles, lines and a note's file time are no part of the hash, so a run must
    keep them right itself."""
    rows = Store.open(db).table("segments").to_arrow().to_pylist()
    return {
        r["id"]: (
            r["content_hash"], tuple(np.round(r["vector"], 4)), r["title"], r["line_start"], r["line_end"], r["time"], r["time_end"], r.get("section")
        )
        for r in rows
    }
