from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..options import DbOption
from ..output import reports_errors

DEFAULT_HTTP_PORT = 8765


@reports_errors
def mcp(
    http: Annotated[
        Optional[int],
        typer.Option(
            "--http",
            flag_value=DEFAULT_HTTP_PORT,
            is_flag=False,
            metavar="[PORT]",
            help=f"Serve streamable HTTP on 127.0.0.1:PORT/mcp (PORT defaults to {DEFAULT_HTTP_PORT}) instead of stdio.",
        ),
    ] = None,
    print_config: Annotated[bool, typer.Option("--print-config", help="Print the JSON snippet MCP clients take to start this server, and exit.")] = False,
    db: DbOption = None,
) -> None:
    """Serve the index to AI agents over the Model Context Protocol (stdio by default), read-only.

    Tools: search (like ask), show, recent and status; each returns what the command's --json prints.
    """
    if print_config:
        from ..mcp_server import client_config

        import json

        print(json.dumps(client_config(db), indent=2))
        return
    from ..config import db_uri
    from ..mcp_server import build_server

    db_uri(db)  # a bad --db is one line now, not an error on every call
    server = build_server(db)
    if http is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=http)
