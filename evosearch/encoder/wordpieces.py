"""Counting the word pieces MiniLM reads, so document segments fit what the encoder sees.

Documents are packed to 200 pieces against a 256-piece encoder window. Counted as 1.3 pieces
a word, technical text (identifiers, hashes, ARNs, numbers) came out 6% of segments over the
window, their tails in full-text search but not in the vector (AWS CLI examples, see
tests/test_segment.py). The tokenizer is Rust, so counting costs little next to encoding.
"""

from __future__ import annotations

import functools


@functools.cache
def _tokenizer():
    from tokenizers import Tokenizer

    from .common import base_model_dir

    tokenizer = Tokenizer.from_file(str(base_model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_wordpieces(texts: list[str]) -> list[int]:
    """Word pieces of each text, without the [CLS]/[SEP] the encoder adds."""
    if not texts:
        return []
    return [len(e.ids) for e in _tokenizer().encode_batch(texts, add_special_tokens=False)]
