"""Documents held as bytes, told apart by content: PDF, and the zip-packaged Word, OpenDocument and EPUB.

One dispatch for files (detect.py) and for email attachments (mail.py), so each format has one
reader whichever way its bytes arrive.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from .archive import ZIP_MAGIC
from .base import Stream
from .epub import is_epub, read_epub
from .html import looks_like_html, read_html
from .odt import is_odt, read_odt
from .pdf import PDF_MAGIC, read_pdf
from .text import read_document
from .word import is_docx, read_docx

# Documents that are zip packages, told apart by their members:
# (is_format(zipfile) -> bool, read(path, data, mtime, warn) -> list[Stream]).
PACKAGED_FORMATS: list[tuple[Callable[[zipfile.ZipFile], bool], Callable]] = [
    (is_docx, read_docx),
    (is_epub, read_epub),
    (is_odt, read_odt),
]


def read_binary_document(path: Path, data: bytes, mtime: float, warn: Callable[[str], None]) -> list[Stream] | None:
    """A PDF, Word, OpenDocument text or EPUB by its bytes; None for anything else (other zips included)."""
    if data.startswith(PDF_MAGIC):
        return read_pdf(path, data, mtime, warn)
    if data.startswith(ZIP_MAGIC):
        read_packaged = _packaged_format(data)
        if read_packaged is not None:
            return read_packaged(path, data, mtime, warn)
    return None


def read_text_document(path: Path, text: str, mtime: float) -> list[Stream]:
    """Text known to be a page or a note (not a chat export): HTML, else markdown, org, reST or plain text by its suffix."""
    if looks_like_html(path, text):
        return read_html(path, text, mtime)
    return read_document(path, text, mtime)


def _packaged_format(data: bytes) -> Callable | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return None  # read_zip says what is wrong with it
    return next((read for is_format, read in PACKAGED_FORMATS if is_format(archive)), None)
