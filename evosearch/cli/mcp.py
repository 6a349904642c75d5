from __future__ import annotations

import json
from typing import Annotated

import typer

from ..options import DbOption
from ..output import reports_errors

DEFAULT_HTTP_PORT = 8765


@reports_errors
def mcp(
    # Typer cannot give an option an optional value (`--http [PORT]`), so the port is its own option.
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio.")] = False,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, metavar="PORT", help="The port for --http.")] = DEFAULT_HTTP_PORT,
    print_config: Annotated[bool, typer.Option("--print-config", help="Print the JSON snippet MCP clients take to start this server, and exit.")] = False,
    db: DbOption = None,
) -> None:
    """Serve the index to AI agents over the Model Context Protocol (stdio by default), read-only.

    Tools: search (like ask), show, recent and status; each returns what the command's --json prints.
    """
    if print_config:
        from ..mcp_server import client_config

        print(json.dumps(client_config(db), indent=2))
        return
    from ..config import db_uri
    from ..mcp_server import build_server

    db_uri(db)  # a bad --db is one line now, not an error on every call
    server = build_server(db)
    if http:
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run("stdio")
