"""Self-supervised samples from a person's own streams: hold a sentence out, ask for its segment.

For a segment, one sentence (5 to 30 words) is cut out of it; the sentence becomes the query
and the segment, without it, the evidence. Whatever the rest of the segment shares with the
sentence is not enough alone in a long stream of similar segments: the segment must also
carry who and what the conversation was about before it, which is what the memory is for.
"""

from __future__ import annotations

import random
import re

from .samples import Query, Sample

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]")
MIN_WORDS, MAX_WORDS = 5, 30
HOLD_OUT_SHARE = 0.5  # of the segments that have a sentence to spare


_SPEAKER = re.compile(r"^[^:\n]{1,40}: ")


def _candidates(text: str) -> list[str]:
    """Sentences of the segment's lines, without the "speaker: " that starts a chat line. What follows
    a line's last full stop counts as a sentence too: chat messages often end without one."""
    sentences = []
    for line in text.split("\n"):
        body = line[m.end() :] if (m := _SPEAKER.match(line)) else line
        found = list(_SENTENCE.finditer(body))
        sentences += [m.group(0).strip() for m in found]
        sentences.append(body[found[-1].end() if found else 0 :].strip())
    return [s for s in sentences if MIN_WORDS <= len(s.split()) <= MAX_WORDS]


def hold_out_sentences(segments: list[str], rng: random.Random, share: float = HOLD_OUT_SHARE) -> Sample:
    """A sample whose queries are sentences cut from some of `segments` (which are rewritten without them)."""
    texts = list(segments)
    queries = []
    for i, text in enumerate(segments):
        candidates = _candidates(text)
        rest_words = len(text.split())
        if not candidates or rng.random() > share:
            continue
        sentence = rng.choice(candidates)
        if rest_words - len(sentence.split()) < MIN_WORDS:
            continue  # nothing would be left to find
        texts[i] = text.replace(sentence, "", 1).replace("  ", " ").strip()
        queries.append(Query(sentence, [i]))
    return Sample(texts, queries)
