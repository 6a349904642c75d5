"""PDF documents: the text layer, page by page (read with pypdf: pure Python, no system libraries).

For PDFs a unit's line_start/line_end hold page numbers (1-based), which is what a person
can follow back; `ask` shows them as p3-4.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from ..errors import SourceError
from .base import Stream, Unit
from .dates import dated_or_modified, to_utc

PDF_MAGIC = b"%PDF-"
_HINT = "if it is a scan, run OCR first (e.g. ocrmypdf); or add it to .evosearchignore"


@contextmanager
def _pypdf_logs_to(warn: Callable[[str], None], path: Path):
    """pypdf reports what it repairs ("EOF marker not found") through logging; with no handler
    configured, Python printed those as bare lines on stderr. They become our warnings instead."""

    class ToWarn(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warn(f"{path}: {record.getMessage()} (pypdf read it anyway)")

    logger = logging.getLogger("pypdf")
    handler, propagate = ToWarn(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def read_pdf(path: Path, data: bytes, mtime: float, warn: Callable[[str], None]) -> list[Stream]:
    with _pypdf_logs_to(warn, path):
        return _read_pdf(path, data, mtime, warn)


def _read_pdf(path: Path, data: bytes, mtime: float, warn: Callable[[str], None]) -> list[Stream]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceError(f"{path}: encrypted PDF", "decrypt it first (qpdf --decrypt), or add it to .evosearchignore")
        pages = list(reader.pages)
        info = reader.metadata
    except SourceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise SourceError(
            f"{path}: unreadable PDF ({type(e).__name__}: {str(e)[:80]})", "the file may be truncated; export it again"
        ) from None
    created = None
    try:
        created = info.creation_date if info else None
    except (ValueError, TypeError):  # a malformed date string in the metadata
        created = None
    when, modified = dated_or_modified(to_utc(created) if created else None, mtime)
    units = []
    for number, page in enumerate(pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on odd pages; one bad page must not lose the rest
            warn(f"{path}: page {number}: no text layer could be read ({type(e).__name__}) — skipped")
            continue
        for paragraph in [p for p in text.replace("\r", "").split("\n\n") if p.strip()] or []:
            units.append(Unit(" ".join(paragraph.split()), when, line_start=number, line_end=number))
    if not units:
        raise SourceError(f"{path}: PDF without a text layer", _HINT)
    title = ((info.title if info else None) or "").strip() or path.stem
    return [Stream(str(path), str(path), "pdf", title, units, modified)]
