"""Reading mail with each header parsed once (mail._ParsedHeaders) against the email package's default,
which parses a header again on every read. One process, the two parsers alternating.

    python benchmarks/mail_parse.py [--n 4000] [--rounds 3]

Writes --n synthetic messages (benchmarks/mail_folder.py's generator) as a folder of .eml files, reads
the folder with read_source --rounds times with each parser, alternating, and prints the median
seconds of each, their ratio, and whether the two gave the same streams.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mail_folder import write  # noqa: E402

from evosearch.sources import mail  # noqa: E402
from evosearch.sources.detect import read_source  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=4000)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    parsers = {"default headers": BytesParser(policy=policy.default), "each header parsed once": mail._PARSER}
    with tempfile.TemporaryDirectory() as tmp:
        folder, _ = write(a.n, Path(tmp))
        times: dict[str, list[float]] = {name: [] for name in parsers}
        streams = {}
        for _ in range(a.rounds):
            for name, parser in parsers.items():
                mail._PARSER = parser
                t = time.perf_counter()
                streams[name] = read_source(folder, print)
                times[name].append(time.perf_counter() - t)
        same = [(s.stream_id, [(u.text, u.time, u.speaker, u.message_id) for u in s.units]) for s in streams["default headers"]] == [
            (s.stream_id, [(u.text, u.time, u.speaker, u.message_id) for u in s.units]) for s in streams["each header parsed once"]
        ]
    base, new = (statistics.median(times[name]) for name in parsers)
    print(f"{a.n} messages as .eml files, {a.rounds} rounds alternating (median seconds):")
    for name in parsers:
        print(f"  {name:24s} {statistics.median(times[name]):7.2f}")
    print(f"  speed-up {base / new:.2f}x; same streams: {same}")


if __name__ == "__main__":
    main()
