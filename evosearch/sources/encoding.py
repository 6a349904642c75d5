"""Bytes to text: UTF-8 first, then what else a note or export can be, skipping only binary files.

A file is never dropped for a few bad bytes: a UTF-8 file with damage keeps its good text
(the bad bytes become U+FFFD, counted in one warning), and a note in another encoding
(Latin-1, Windows-1252, Windows-1251, ...) is decoded with the encoding charset-normalizer finds.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import SourceError

# Binary files show a NUL byte early; text in an 8-bit encoding or UTF-8 never holds one.
BINARY_SNIFF_BYTES = 8 * 2**10
# When no encoding fits, text whose UTF-8 reading needs more replacements than this share of its
# characters is taken for binary data rather than damaged text.
MAX_REPLACED_SHARE = 0.1
# A file with at least one valid non-ASCII UTF-8 character per this many invalid sequences is UTF-8
# with damage: 8-bit text almost never holds a valid multi-byte sequence and random bytes hold far
# fewer than this (the noise case in tests/test_sources_detect.py checks the margin).
INVALID_PER_VALID_UTF8 = 4
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
REPLACEMENT = "\ufffd"
# Chosen when charset-normalizer rates it about as well as its first guess (the same coherence,
# chaos at most WESTERN_CHAOS_MARGIN higher): on a few accented letters it cannot tell the
# single-byte Western encodings apart ("Café menu" comes first as Urdu's cp1006, a French and
# German note as Baltic cp1257), and Windows-1252, a superset of Latin-1's printable characters,
# is the one such notes are written in. Cyrillic, Greek and Central European text rate it far
# worse, so their own encodings still win (tests/test_sources_detect.py).
WESTERN_FALLBACK = "cp1252"
WESTERN_CHAOS_MARGIN = 0.1

_IGNORE_HINT = "add it to .evosearchignore to silence this"


def decode_text(where: str, data: bytes, warn: Callable[[str], None], *, utf8_only: bool = False) -> str:
    """data as text. utf8_only: the format is UTF-8 by definition (JSON), so bytes that are not
    valid UTF-8 are damage to replace, never a sign of another encoding. SourceError for binary data."""
    if data.startswith(UTF16_BOMS):  # checked before the NUL test: UTF-16 text is full of NULs
        return _with_replacements(where, data, "utf-16", warn)
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        raise SourceError(f"{where}: binary file, not text", f"evosearch reads text, markdown and chat exports; {_IGNORE_HINT}")
    body = data[len(UTF8_BOM) :] if data.startswith(UTF8_BOM) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    as_utf8 = body.decode("utf-8", errors="replace")
    replaced = as_utf8.count(REPLACEMENT) - body.count(REPLACEMENT.encode())
    mostly_utf8 = replaced <= MAX_REPLACED_SHARE * len(as_utf8)
    if (utf8_only and mostly_utf8) or _valid_utf8_letters(as_utf8, replaced) * INVALID_PER_VALID_UTF8 >= replaced:
        return _with_replacements(where, body, "utf-8", warn)
    encoding = None if utf8_only else _detected_encoding(body)
    if encoding is not None:
        return _with_replacements(where, body, encoding, warn)  # bytes the encoding leaves undefined, if any
    if not mostly_utf8:
        raise SourceError(
            f"{where}: binary file, not text (not UTF-8, and no other text encoding fits)",
            f"if it is text, convert it with iconv -t UTF-8; else {_IGNORE_HINT}",
        )
    return _with_replacements(where, body, "utf-8", warn)


def _with_replacements(where: str, data: bytes, encoding: str, warn: Callable[[str], None]) -> str:
    text = data.decode(encoding, errors="replace")
    if encoding == "utf-16":
        text = text.removeprefix("\ufeff")
    # U+FFFD written in the file itself is text, not a replacement made here.
    replaced = text.count(REPLACEMENT) - data.decode(encoding, errors="ignore").count(REPLACEMENT)
    if replaced:
        name = {"utf-8": "UTF-8", "utf-16": "UTF-16"}.get(encoding, encoding)
        plural = "s" if replaced > 1 else ""
        warn(f"{where}: {replaced} invalid {name} byte sequence{plural} replaced by {REPLACEMENT}; the rest is indexed")
    return text


def _valid_utf8_letters(text: str, replaced: int) -> int:
    """Non-ASCII characters in text (decoded from UTF-8 with `replaced` replacements) that were valid UTF-8."""
    return len(text) - len(text.encode("ascii", errors="ignore")) - replaced


def _detected_encoding(data: bytes) -> str | None:
    """charset-normalizer's best encoding for data (WESTERN_FALLBACK when that rates as well), or None."""
    from charset_normalizer import from_bytes  # only files that are not UTF-8 pay for the import

    results = from_bytes(data)
    best = results.best()
    if best is None:
        return None
    for result in results:
        tied = round(result.coherence, 3) >= round(best.coherence, 3) and result.chaos <= best.chaos + WESTERN_CHAOS_MARGIN
        if tied and WESTERN_FALLBACK in (result.encoding, *result.could_be_from_charset):
            return WESTERN_FALLBACK
    return best.encoding
