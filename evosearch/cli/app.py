"""The `evosearch` command. Keep imports here light: `--help` and completion must not load torch or lancedb."""

from __future__ import annotations

import os

# numpy's OpenBLAS with one thread: numpy's products here are tiny (the memory read in `index`, and
# a query in `ask` before the first `index` has cached the ONNX model), where a second BLAS thread
# gains nothing on an idle CPU (query encoding 16.6-17.9 ms against 17.7-18.3) and, with `index`
# or `watch` busy on the other cores, turns 23 ms into 114 (threads waiting on each other). Set
# before numpy loads; MiniLM on a CPU runs in ONNX Runtime's own threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer  # noqa: E402

from . import ask, forget, index, mcp, recent, show, status, train, watch  # noqa: E402

app = typer.Typer(
    name="evosearch",
    help="Search your own notes, documents and chats by meaning and by time.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)
app.command("index")(index.index)
app.command("ask")(ask.ask)
app.command("status")(status.status)
app.command("forget")(forget.forget)
app.command("watch")(watch.watch)
app.command("train")(train.train)
app.command("show")(show.show)
app.command("recent")(recent.recent)
app.command("mcp")(mcp.mcp)


def main() -> None:
    # Files evosearch writes (the index's tables, the lock, a --log) are the user's alone: lance
    # creates its files with the default mode, 0644 under the usual umask.
    os.umask(0o077)
    app()


if __name__ == "__main__":
    main()
