"""`ask` on an index in a bucket (moto's S3 server on loopback) next to the same index on local disk.

Counts the S3 requests one `ask` makes (moto's request recorder), cold (a fresh process: open,
load the query encoder, search) and warm (a second query in the same process, after one
before it), and times cold and warm ask on both stores in A B A B order.

  python benchmarks/remote_ask.py --messages 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import chat_messages, write_chat  # noqa: E402
from tests.moto_server import BUCKET, aws_env, make_bucket, start_moto  # noqa: E402

CLI = "import sys; from evosearch.cli.app import main; sys.argv[0] = 'evosearch'; main()"
QUERIES = ["which database did we pick", "when does the launch move", "what does the shed roof cost", "vendor dropped"]

# One process: open the index, ask twice, print the wall time of each ask (open included in the first).
ASK_TWICE = """
import json, sys, time, urllib.request
from evosearch.api import open_index
from evosearch.search import ask
db, endpoint, q1, q2 = sys.argv[1:5]
def rec(action):
    if endpoint != "-":
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/recorder/{action}", method="POST"))
t0 = time.perf_counter()
store, encoder = open_index(db)
ask(store, encoder, q1)
cold = time.perf_counter() - t0
rec("stop-recording"); rec("reset-recording"); rec("start-recording")
t0 = time.perf_counter()
ask(store, encoder, q2)
warm = time.perf_counter() - t0
rec("stop-recording")
print(json.dumps({"cold_s": cold, "warm_s": warm}))
"""


def recorded(endpoint: str) -> dict[str, int]:
    """The recorded requests by kind: LIST, manifest, data file, index file (GET/HEAD/PUT ...)."""
    text = urllib.request.urlopen(f"{endpoint}/moto-api/recorder/download-recording").read().decode()
    kinds = collections.Counter()
    for line in text.splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        url = r.get("url") or ""
        kind = "list" if "list-type=" in url else "manifest" if "/_versions/" in url else "index" if "/_indices/" in url else "data"
        kinds[f"{r['method']} {kind}"] += 1
    kinds["total"] = sum(kinds.values())
    return dict(kinds)


def post(endpoint: str, action: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/recorder/{action}", method="POST"))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="remote-ask-"))
    proc, endpoint = start_moto({"MOTO_ENABLE_RECORDING": "True", "MOTO_RECORDER_FILEPATH": str(work / "recording")})
    try:
        env = {**os.environ, **aws_env(endpoint), "EVOSEARCH_HOME": str(work / "home")}
        make_bucket(endpoint)
        notes = work / "notes"
        notes.mkdir()
        per = 300  # chat_messages dates stay valid up to 300
        for c in range(args.messages // per):
            write_chat(notes / f"c{c}.jsonl", chat_messages(per), conversation=f"c{c}")
        stores = {"local": str(work / "db"), "s3": f"s3://{BUCKET}/bench"}
        for db in stores.values():
            subprocess.run([sys.executable, "-c", CLI, "index", str(notes), "--db", db, "--quiet"], env=env, check=True)
        times = {name: {"cold_s": [], "warm_s": []} for name in stores}
        requests = {}
        for r in range(args.rounds):
            for name, db in stores.items():
                q1, q2 = QUERIES[r % 4], QUERIES[(r + 1) % 4]
                if name == "s3":
                    post(endpoint, "reset-recording")
                    post(endpoint, "start-recording")
                out = subprocess.run(
                    [sys.executable, "-c", ASK_TWICE, db, endpoint if name == "s3" else "-", q1, q2],
                    env=env, check=True, capture_output=True, text=True,
                )
                t = json.loads(out.stdout)
                for k in t:
                    times[name][k].append(t[k])
                if name == "s3":
                    requests.setdefault("warm", []).append(recorded(endpoint))
        # cold request count: a fresh process, recorded from open to the end of its first ask
        post(endpoint, "reset-recording")
        post(endpoint, "start-recording")
        subprocess.run([sys.executable, "-c", CLI, "ask", QUERIES[0], "--db", stores["s3"]], env=env, check=True, capture_output=True)
        post(endpoint, "stop-recording")
        requests["cold (evosearch ask, whole process)"] = recorded(endpoint)
        print(json.dumps({"messages": args.messages, "requests": requests,
                          "median_s": {n: {k: statistics.median(v) for k, v in t.items()} for n, t in times.items()},
                          "runs_s": times}, indent=1))
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
