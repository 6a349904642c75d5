from __future__ import annotations

from ..options import DbOption, PathsArgument, QuietOption
from ..output import info, reports_errors


@reports_errors
def forget(paths: PathsArgument, db: DbOption = None, quiet: QuietOption = False) -> None:
    """Remove sources (a file, or everything under a folder) and their vectors from the index.

    The files themselves are not touched. A later `index` of the folder adds them back."""
    from ..config import db_uri
    from ..indexer import forget_paths
    from ..store import Store

    with Store.open(db_uri(db), write=True, command="forget") as store:  # holds the writer lock
        removed = forget_paths(store, paths)
    if not quiet:
        info(f"forgot {removed} source{'s' * (removed != 1)}")
