from __future__ import annotations

import os

from ..errors import EvosearchError
from ..options import DbOption, PathsArgument, QuietOption
from ..output import info, reports_errors


@reports_errors
def forget(paths: PathsArgument, db: DbOption = None, quiet: QuietOption = False) -> None:
    """Remove sources (a file, or everything under a folder) and their vectors from the index.

    The files themselves are not touched. A later `index` of the folder adds them back."""
    from ..config import default_db_uri
    from ..store import Store

    store = Store.open(db or default_db_uri())
    known = store.sources()
    removed = 0
    for path in paths:
        target = str(path.expanduser().resolve())
        matches = [r for p, r in known.items() if p == target or p.startswith(target + os.sep)]
        if not matches:
            raise EvosearchError(f"nothing indexed at {path}", "see `evosearch status --sources` for what is indexed")
        for record in matches:
            store.delete_source(record)
            removed += 1
    store.finish_writes()
    if not quiet:
        info(f"forgot {removed} source{'s' * (removed != 1)}")
