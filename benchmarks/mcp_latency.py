"""`evosearch mcp` latency through the SDK's own client over stdio: the handshake, the first call of
each tool (which opens the index and loads the query encoder) and warm calls, against the baseline
an agent without the server pays per question: one `evosearch ask --json` process.

    python benchmarks/mcp_latency.py [--db DIR] [--rounds 3] [--warm 20]

Without --db it indexes examples/ into a temporary folder with the encoder the installation uses
(EVOSEARCH_ENCODER as set; the real MiniLM by default). Each round starts a fresh server process
and, right after it, times a cold CLI `ask`, so both see the same machine load. Prints medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

REPO = Path(__file__).resolve().parents[1]
NOW = "2026-11-20"
QUERIES = ["what did we decide about the shed roof", "the latest launch date", "which database for the pantry app last month",
           "who wired up the email provider", "trip plans", "backups while the app runs"]  # fmt: skip


def evosearch(*args: str) -> list[str]:
    return [sys.executable, "-m", "evosearch", *args]


async def one_server(db: str, warm: int) -> dict[str, float]:
    """Seconds: spawn + initialize, each tool's first call, and the median of `warm` search calls."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "evosearch", "mcp", "--db", db], env=dict(os.environ), cwd=str(REPO))
    t0 = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        out = {"initialize": time.perf_counter() - t0}

        async def timed(name: str, arguments: dict) -> float:
            start = time.perf_counter()
            result = await session.call_tool(name, arguments)
            assert not result.is_error, result.content
            return time.perf_counter() - start

        out["status first"] = await timed("status", {})
        out["search first"] = await timed("search", {"query": QUERIES[0], "now": NOW})
        first = await session.call_tool("search", {"query": QUERIES[1], "now": NOW, "limit": 1})
        out["show first"] = await timed("show", {"ref": first.structured_content["results"][0]["ref"], "around": 2})
        out["recent first"] = await timed("recent", {"now": NOW})
        out["search warm"] = statistics.median([await timed("search", {"query": QUERIES[i % len(QUERIES)], "now": NOW}) for i in range(warm)])
        out["show warm"] = statistics.median([await timed("show", {"ref": first.structured_content["results"][0]["ref"]}) for _ in range(5)])
        out["recent warm"] = statistics.median([await timed("recent", {"now": NOW}) for _ in range(5)])
    return out


def cold_cli_ask(db: str) -> float:
    start = time.perf_counter()
    subprocess.run(evosearch("ask", QUERIES[0], "--now", NOW, "--json", "--db", db), cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="an existing index (default: examples/ indexed into a temporary folder)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp, "index"))
        if not args.db:
            subprocess.run(evosearch("index", "examples", "--db", db, "--quiet"), cwd=REPO, check=True)
        rounds = []
        for _ in range(args.rounds):
            row = anyio.run(one_server, db, args.warm)
            row["cold CLI ask (baseline)"] = cold_cli_ask(db)
            rounds.append(row)
    baseline = statistics.median(r["cold CLI ask (baseline)"] for r in rounds)
    print(f"{'':28} {'median ms':>10} {'x cold CLI ask':>15}   ({args.rounds} servers, {args.warm} warm searches each)")
    for key in rounds[0]:
        value = statistics.median(r[key] for r in rounds)
        print(f"{key:28} {1000 * value:10.1f} {value / baseline:15.3f}")


if __name__ == "__main__":
    main()
