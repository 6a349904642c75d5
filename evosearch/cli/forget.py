from __future__ import annotations

from ..options import DbOption, PathsArgument, QuietOption
from ..output import info, plural, reports_errors


@reports_errors
def forget(paths: PathsArgument, db: DbOption = None, quiet: QuietOption = False) -> None:
    """Remove sources (a file, or everything under a folder) and their vectors from the index.

    The files themselves are not touched. A later `index` of the folder adds them back."""
    from ..api import forget as forget_sources

    removed = forget_sources(paths, db)
    if not quiet:
        info(f"forgot {plural(removed, 'source')}")
